package email

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSetListUnsubscribe(t *testing.T) {
	tests := []struct {
		name, url, mailto string
		want              string // List-Unsubscribe as written
	}{
		{"https only", "https://example.com/u/opaque-1", "", "<https://example.com/u/opaque-1>"},
		{"with an address", "https://example.com/u?id=a%20b&list=news", "unsub@example.com",
			"<https://example.com/u?id=a%20b&list=news>, <mailto:unsub@example.com>"},
		{"with a mailto URL", "HTTPS://example.com/u", "mailto:unsub@example.com?subject=stop",
			"<HTTPS://example.com/u>, <mailto:unsub@example.com?subject=stop>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMessage("news@example.com", []string{"bob@example.org"}, "News", "Hello\n")
			m.Set("List-Unsubscribe", "<mailto:old@example.com>")
			require.NoError(t, m.SetListUnsubscribe(tt.url, tt.mailto))
			h := m.Header()
			assert.Equal(t, []string{tt.want}, h["List-Unsubscribe"], "replaced, not added")
			assert.Equal(t, []string{"List-Unsubscribe=One-Click"}, h["List-Unsubscribe-Post"])
			assert.Contains(t, string(m.Bytes()), "\r\nList-Unsubscribe: "+tt.want+"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n")
		})
	}
}

func TestSetListUnsubscribeRefused(t *testing.T) {
	tests := []struct {
		name, url, mailto, want string
	}{
		{"http", "http://example.com/u", "", "needs an https URL (RFC 8058 section 3.1)"},
		{"mailto alone", "mailto:unsub@example.com", "", "needs an https URL"},
		{"no host", "https:///u", "", "needs an https URL"},
		{"not a URL", "https://exa mple.com/u", "", "must be percent-encoded"},
		{"line break", "https://example.com/u\r\nBcc: x@example.org", "", "must be percent-encoded"},
		{"angle bracket", "https://example.com/u>", "", "must be percent-encoded"},
		{"non-ASCII", "https://example.com/ü", "", "must be percent-encoded"},
		{"bad mailto", "https://example.com/u", "unsub@example.com>, <https://evil.example", "must be percent-encoded"},
		{"mailto without address", "https://example.com/u", "mailto:", "has no address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMessage("news@example.com", []string{"bob@example.org"}, "News", "Hello\n")
			before := m.Bytes()
			err := m.SetListUnsubscribe(tt.url, tt.mailto)
			var me *MessageError
			require.ErrorAs(t, err, &me)
			assert.Contains(t, err.Error(), tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "email: SetListUnsubscribe"))
			assert.True(t, bytes.Equal(before, m.Bytes()), "the message is unchanged")
		})
	}
	var m *Message
	assert.Error(t, m.SetListUnsubscribe("https://example.com/u", ""))
}
