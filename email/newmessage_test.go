package email

import (
	"bytes"
	"net/mail"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/internal/textutil"
)

func TestNewMessage(t *testing.T) {
	tests := []struct {
		name, from   string
		to           []string
		subject      string
		body         string
		wantFrom     string
		wantTo       string
		wantCTE      string
		wantMsgIDEnd string
		wantBody     string
	}{
		{
			name: "ASCII", from: "Alice <alice@example.com>", to: []string{"bob@example.org", "Carol <carol@example.org>"},
			subject: "Hello", body: "line one\nline two\r\nline three",
			wantFrom: "Alice <alice@example.com>", wantTo: "bob@example.org, Carol <carol@example.org>",
			wantCTE: "7bit", wantMsgIDEnd: "@example.com>", wantBody: "line one\r\nline two\r\nline three\r\n",
		},
		{
			name: "non-ASCII subject, names and body", from: "Jörg <joerg@example.de>", to: []string{"André <andre@example.fr>"},
			subject: "Grüße aus München", body: "Grüße\n",
			wantFrom: "=?utf-8?q?J=C3=B6rg?= <joerg@example.de>", wantTo: "=?utf-8?q?Andr=C3=A9?= <andre@example.fr>",
			wantCTE: "base64", wantMsgIDEnd: "@example.de>", wantBody: "Grüße\r\n",
		},
		{
			name: "IDN domain in the Message-ID", from: "müller@bücher.example", to: []string{"x@example.org"},
			subject: "s", body: "b",
			wantFrom: "müller@bücher.example", wantTo: "x@example.org",
			wantCTE: "7bit", wantMsgIDEnd: "@xn--bcher-kva.example>", wantBody: "b\r\n",
		},
		{
			name: "long ASCII line needs quoted-printable", from: "nobody", to: nil,
			subject: "", body: strings.Repeat("x", 1000),
			wantFrom: "nobody", wantCTE: "quoted-printable", wantMsgIDEnd: "@localhost>", wantBody: strings.Repeat("x", 1000) + "\r\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMessage(tc.from, tc.to, tc.subject, tc.body)
			again, err := ReadMessage(bytes.NewReader(m.Bytes()))
			require.NoError(t, err)
			h := again.Header()
			assert.Equal(t, tc.wantFrom, h.Get("From"), "as sent")
			assert.Equal(t, tc.wantTo, h.Get("To"), "as sent")
			assert.Equal(t, tc.to != nil, again.Has("To"))
			assert.Equal(t, tc.subject, again.Get("Subject"), "decoded")
			if tc.from == "Jörg <joerg@example.de>" {
				assert.Equal(t, tc.from, again.Get("From"), "decoded")
			}
			_, err = mail.ParseDate(again.Get("Date"))
			assert.NoError(t, err)
			assert.True(t, strings.HasSuffix(again.Get("Message-ID"), tc.wantMsgIDEnd), again.Get("Message-ID"))
			assert.Equal(t, "1.0", again.Get("MIME-Version"))
			assert.Equal(t, "text/plain; charset=utf-8", again.Get("Content-Type"))
			assert.Equal(t, tc.wantCTE, again.Get("Content-Transfer-Encoding"))
			body, err := again.GetContent()
			require.NoError(t, err)
			assert.Equal(t, tc.wantBody, string(body))
			assert.True(t, textutil.IsASCII(string(m.Bytes())) || !textutil.IsASCII(tc.from+strings.Join(tc.to, "")),
				"the message is ASCII unless an address is not")
			for _, line := range strings.SplitAfter(string(m.Bytes()), "\n") {
				assert.True(t, line == "" || strings.HasSuffix(line, "\r\n") || !strings.Contains(line, "\n"), "%q", line)
				assert.LessOrEqual(t, len(line), maxLineLength+2)
			}
		})
	}
	a, b := NewMessage("a@b", nil, "", ""), NewMessage("a@b", nil, "", "")
	assert.NotEqual(t, a.Get("Message-ID"), b.Get("Message-ID"))
}
