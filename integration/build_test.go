package integration

import (
	"bytes"
	"crypto/rand"
	"slices"
	"strings"
	"testing"

	"github.com/gosmtplib/smtplib/email"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// builtMessage builds what a newsletter with a report looks like: a plain
// text and an HTML alternative, an image the HTML shows, and two
// attachments, one of them with a non-ASCII filename.
func builtMessage(t *testing.T, from, to string) *email.Message {
	t.Helper()
	png := make([]byte, 40_000)
	pdf := make([]byte, 300_000)
	_, err := rand.Read(png)
	require.NoError(t, err)
	_, err = rand.Read(pdf)
	require.NoError(t, err)
	copy(png, "\x89PNG\r\n\x1a\n")
	copy(pdf, "%PDF-1.4\n")

	msg := email.NewMessage("Jörg Müller <"+from+">", []string{to}, "Monatsbericht für März", "")
	require.NoError(t, msg.SetContent("Guten Tag,\n\nder Bericht für März liegt bei.\n.\nEin Punkt allein, und:\nFrom here on.\n", ""))
	require.NoError(t, msg.AddAlternative(`<p>Guten Tag,</p><p>der Bericht für März liegt bei.</p><img src="cid:logo@example.com">`, "html"))
	require.NoError(t, msg.AddRelated(png, "image", "png", "<logo@example.com>"))
	require.NoError(t, msg.AddAttachment(pdf, "application", "pdf", "report-2026-03.pdf"))
	require.NoError(t, msg.AddAttachment([]byte("Monat;Umsatz\nMärz;1.234,56 €\n"), "text", "csv", "Übersicht März 2026.csv"))
	return msg
}

// assertSameParts checks that stored, read back with ReadMessage, has the
// tree of sent and every part's type, filename, Content-ID and decoded
// bytes; the body and attachments are the same parts.
func assertSameParts(t *testing.T, sent *email.Message, stored []byte) {
	t.Helper()
	got, err := email.ReadMessage(bytes.NewReader(stored))
	require.NoError(t, err)
	want, have := slices.Collect(sent.Walk()), slices.Collect(got.Walk())
	require.Len(t, have, len(want), "as many parts")
	for i := range want {
		assert.Equal(t, want[i].GetContentType(), have[i].GetContentType(), "part %d", i)
		assert.Equal(t, want[i].GetFilename(), have[i].GetFilename(), "part %d", i)
		assert.Equal(t, want[i].Get("Content-ID"), have[i].Get("Content-ID"), "part %d", i)
		if want[i].IsMultipart() {
			continue
		}
		a, err := want[i].GetContent()
		require.NoError(t, err)
		b, err := have[i].GetContent()
		require.NoError(t, err)
		assert.True(t, bytes.Equal(a, b), "part %d (%s): the decoded bytes are identical", i, want[i].GetContentType())
	}
	html := got.GetBody("html")
	require.NotNil(t, html)
	assert.Equal(t, "text/html", html.GetContentType())
	atts := slices.Collect(got.IterAttachments())
	require.Len(t, atts, 2)
	assert.Equal(t, "Übersicht März 2026.csv", atts[1].GetFilename())
	related := got.GetBody()
	require.NotNil(t, related)
	inline := slices.Collect(related.IterAttachments())
	require.Len(t, inline, 1, "the inline image")
	assert.Equal(t, "<logo@example.com>", inline[0].Get("Content-ID"))
}

// TestServersBuiltMessage sends a built message with SendMessage through
// each SMTP server (Postfix, which checks the login with Dovecot and stores
// into its Maildirs; aiosmtpd) and reads the stored copy back.
func TestServersBuiltMessage(t *testing.T) {
	for _, m := range servers(t) {
		t.Run(m.name, func(t *testing.T) {
			s := m.login(t)
			msg := builtMessage(t, m.user, m.ok[0])
			msg.Set("Bcc", m.ok[1])
			refused, err := s.SendMessage(msg)
			require.NoError(t, err)
			assert.Empty(t, refused)
			_, err = s.Quit()
			require.NoError(t, err)

			sent := msg.Clone()
			sent.Del("Bcc")
			for _, rcpt := range m.ok[:2] {
				stored := m.waitStored(t, rcpt, msg.Get("Message-ID"))
				m.assertStored(t, stored, sent.Bytes())
				if m.lf {
					// Postfix's Maildir keeps LF line ends; the message
					// was sent, and is compared, with CRLF.
					stored = bytes.ReplaceAll(stored, []byte("\n"), []byte("\r\n"))
				}
				assert.NotContains(t, string(stored), "Bcc:")
				assertSameParts(t, msg, stored)
			}
		})
	}
}

// TestDovecotLMTPBuiltMessage delivers a built message into Dovecot's
// Maildir over LMTP and reads it back.
func TestDovecotLMTPBuiltMessage(t *testing.T) {
	d := lmtpServersEnv(t)
	l := d.dial(t, true)
	msg := builtMessage(t, "sender@example.org", d.ok[0])
	refused, err := l.SendMessage(msg)
	require.NoError(t, err)
	assert.Empty(t, refused)
	_, err = l.Quit()
	require.NoError(t, err)
	stored := d.stored(t, d.ok[0], msg.Get("Message-ID"))
	require.Len(t, stored, 1)
	assertLMTPStored(t, stored[0], msg.Bytes(), "sender@example.org")
	assert.True(t, strings.HasPrefix(string(stored[0]), "Return-Path:"))
	assertSameParts(t, msg, stored[0])
}
