package email

import (
	"mime"
	"net/mail"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSetEncodesNonASCII(t *testing.T) {
	dec := new(mime.WordDecoder)
	tests := []struct {
		name, field, value string
		want               string // the value decoded, or the addresses as name|addr lines
	}{
		{"subject", "Subject", "Grüße aus München", "Grüße aus München"},
		{"long subject", "Subject", strings.Repeat("Ünïcödé ", 40) + "end", strings.Repeat("Ünïcödé ", 40) + "end"},
		{"emoji", "Subject", "👋 " + strings.Repeat("x", 100), "👋 " + strings.Repeat("x", 100)},
		{"injection", "Subject", "Grüße\r\nBcc: victim@example.org\r\n\r\nbody", "Grüße Bcc: victim@example.org body"},
		{"lone LF and NUL", "X-Note", "é\nBcc: v@x\x00y", "é Bcc: v@x y"},
		{"display names", "To", "Jörg <j@example.de>, bob@example.org, \"Müller, Hans\" <h@example.de>",
			"Jörg|j@example.de\n|bob@example.org\nMüller, Hans|h@example.de\n"},
		{"ASCII name kept", "From", "Bob Smith <b@example.org>, Zoë <z@example.org>", "Bob Smith|b@example.org\nZoë|z@example.org\n"},
		{"address injection", "Cc", "Zoë <z@example.org>\r\nBcc: victim@example.org", "Zoë <z@example.org> Bcc: victim@example.org"},
		{"group", "To", "Freunde: Zoë Müller <z@example.org>, b@example.org;", "Freunde: Zoë Müller <z@example.org>, b@example.org;"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMessage("a@example.com", nil, "s", "x")
			m.Set(tc.field, tc.value)
			raw := m.Bytes()
			assertWireClean(t, raw)
			again := reread(t, m)
			assert.False(t, again.Has("Bcc"), "no header was injected")
			sent := again.Header().Get(tc.field)
			if addressFields[strings.ToLower(tc.field)] && strings.HasSuffix(tc.want, "\n") {
				// As sent: net/mail reads the encoded display names.
				list, err := (&mail.AddressParser{WordDecoder: dec}).ParseList(sent)
				require.NoError(t, err, sent)
				var sb strings.Builder
				for _, a := range list {
					sb.WriteString(a.Name + "|" + a.Address + "\n")
				}
				assert.Equal(t, tc.want, sb.String())
				return
			}
			s, err := dec.DecodeHeader(sent)
			require.NoError(t, err)
			assert.Equal(t, tc.want, s, "as sent, decoded by mime.WordDecoder")
			assert.Equal(t, tc.want, again.Get(tc.field), "as Get decodes it")
		})
	}
}
