package email

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// shape writes the tree of content types of m, one part a line, indented.
func shape(m *Message) string {
	var sb strings.Builder
	var walk func(p *Message, depth int)
	walk = func(p *Message, depth int) {
		sb.WriteString(strings.Repeat("  ", depth) + p.GetContentType() + "\n")
		for sub := range p.IterParts() {
			walk(sub, depth+1)
		}
	}
	walk(m, 0)
	return sb.String()
}

// reread writes m and reads it back.
func reread(t *testing.T, m *Message) *Message {
	t.Helper()
	again, err := ReadMessage(bytes.NewReader(m.Bytes()))
	require.NoError(t, err)
	return again
}

func TestBuildStructure(t *testing.T) {
	img, doc := []byte("\x89PNG\r\n"), []byte("%PDF-1.4 \x00\xff")
	tests := []struct {
		name  string
		build func(m *Message) error
		want  string // the tree RFC 2046 and Python's documentation give for these calls
	}{
		{"no content", func(m *Message) error { return nil }, "text/plain\n"},
		{"text", func(m *Message) error { return m.SetContent("Hi.", "") }, "text/plain\n"},
		{"alternative", func(m *Message) error {
			return errors.Join(m.SetContent("Hi.", ""), m.AddAlternative("<p>Hi.</p>", "html"))
		}, "multipart/alternative\n  text/plain\n  text/html\n"},
		{"related around the HTML", func(m *Message) error {
			return errors.Join(m.SetContent("Hi.", ""), m.AddAlternative("<p>Hi.</p>", "html"), m.AddRelated(img, "image", "png", "<i@x>"))
		}, "multipart/alternative\n  text/plain\n  multipart/related\n    text/html\n    image/png\n"},
		{"mixed around the rest", func(m *Message) error {
			return errors.Join(m.SetContent("Hi.", ""), m.AddAlternative("<p>Hi.</p>", "html"),
				m.AddRelated(img, "image", "png", "<i@x>"), m.AddAttachment(doc, "application", "pdf", "a.pdf"),
				m.AddAttachment(doc, "application", "pdf", "b.pdf"))
		}, "multipart/mixed\n  multipart/alternative\n    text/plain\n    multipart/related\n      text/html\n      image/png\n  application/pdf\n  application/pdf\n"},
		{"attachment first, then the body goes into it", func(m *Message) error {
			return errors.Join(m.SetContent("Hi.", ""), m.AddAttachment(doc, "application", "pdf", "a.pdf"),
				m.AddAlternative("<p>Hi.</p>", "html"), m.AddRelated(img, "image", "png", "<i@x>"))
		}, "multipart/mixed\n  multipart/alternative\n    text/plain\n    multipart/related\n      text/html\n      image/png\n  application/pdf\n"},
		{"attachment without content", func(m *Message) error {
			return m.AddAttachment(doc, "application", "pdf", "a.pdf")
		}, "multipart/mixed\n  application/pdf\n"},
		{"second image joins the related part", func(m *Message) error {
			return errors.Join(m.SetContent("<img>", "html"), m.AddRelated(img, "image", "png", "a@x"), m.AddRelated(img, "image", "gif", "b@x"))
		}, "multipart/related\n  text/html\n  image/png\n  image/gif\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMessage("a@example.com", []string{"b@example.org"}, "s", "")
			require.NoError(t, tc.build(m))
			assert.Equal(t, tc.want, shape(m), "as built")
			assert.Equal(t, tc.want, shape(reread(t, m)), "as read back")
			assert.Equal(t, []string{"1.0"}, m.Values("MIME-Version"))
			assertWireClean(t, m.Bytes())
			assertQPLines(t, m)
			for p := range m.IterParts() {
				assert.False(t, p.Has("MIME-Version"), "parts have no MIME-Version")
			}
		})
	}
}

func TestBuildContentRoundTrip(t *testing.T) {
	m := NewMessage("Jörg <j@example.de>", []string{"b@example.org"}, "Grüße", "")
	img := bytes.Repeat([]byte{0, 1, 2, 0xfe, 0xff, '\r', '\n', '.'}, 100)
	doc := bytes.Repeat([]byte("line\r\n.\r\nFrom x\n"), 50)
	require.NoError(t, m.SetContent("Plain text, naïve.\n.\nFrom here\n", ""))
	require.NoError(t, m.AddAlternative("<p>HTML, naïve.</p>", "html"))
	require.NoError(t, m.AddRelated(img, "image", "png", "logo@example.de"))
	require.NoError(t, m.AddAttachment(doc, "text", "plain", "Übersicht 2026.txt"))
	require.NoError(t, m.AddAttachment(nil, "application", "octet-stream", "empty"))

	for _, msg := range []*Message{m, reread(t, m)} {
		body := msg.GetBody()
		require.NotNil(t, body)
		assert.Equal(t, "multipart/related", body.GetContentType())
		html := msg.GetBody("html")
		require.NotNil(t, html)
		c, err := html.GetContent()
		require.NoError(t, err)
		assert.Equal(t, "<p>HTML, naïve.</p>\r\n", string(c))
		plain := msg.GetBody("plain")
		require.NotNil(t, plain)
		c, err = plain.GetContent()
		require.NoError(t, err)
		assert.Equal(t, "Plain text, naïve.\r\n.\r\nFrom here\r\n", string(c))

		inline := attachmentsOf(body)
		require.Len(t, inline, 1)
		assert.Equal(t, "<logo@example.de>", inline[0].Get("Content-ID"), "angle brackets added")
		c, err = inline[0].GetContent()
		require.NoError(t, err)
		assert.Equal(t, img, c)

		atts := attachmentsOf(msg)
		require.Len(t, atts, 2)
		assert.Equal(t, "Übersicht 2026.txt", atts[0].GetFilename())
		c, err = atts[0].GetContent()
		require.NoError(t, err)
		assert.Equal(t, doc, c, "a text attachment given as bytes keeps its bytes")
		assert.Equal(t, "empty", atts[1].GetFilename())
		c, err = atts[1].GetContent()
		require.NoError(t, err)
		assert.Empty(t, c)

		_, err = msg.GetContent()
		var me *MessageError
		assert.ErrorAs(t, err, &me, "a multipart has no content of its own")
	}
}

func TestBuildBadInput(t *testing.T) {
	tests := []struct {
		name  string
		setup func(m *Message) error
		bad   func(m *Message) error
		says  string
	}{
		{"CR LF in a filename", nil, func(m *Message) error {
			return m.AddAttachment([]byte("x"), "text", "plain", "a.txt\r\nBcc: victim@example.org")
		}, "filename"},
		{"LF in a filename", nil, func(m *Message) error { return m.AddAttachment([]byte("x"), "text", "plain", "a\nb") }, "filename"},
		{"NUL in a filename", nil, func(m *Message) error { return m.AddAttachment([]byte("x"), "text", "plain", "a\x00b") }, "filename"},
		{"CR LF in a subtype", nil, func(m *Message) error {
			return m.AddAttachment([]byte("x"), "text", "plain\r\nBcc: victim@example.org", "")
		}, "content type"},
		{"CR LF in a text subtype", nil, func(m *Message) error { return m.SetContent("x", "html\r\nX: y") }, "content type"},
		{"CR LF in an alternative's subtype", nil, func(m *Message) error { return m.AddAlternative("x", "html\nX: y") }, "content type"},
		{"slash in a maintype", nil, func(m *Message) error { return m.AddAttachment(nil, "text/html", "x", "") }, "content type"},
		{"empty maintype", nil, func(m *Message) error { return m.AddAttachment(nil, "", "pdf", "") }, "content type"},
		{"CR LF in a cid", nil, func(m *Message) error {
			return m.AddRelated([]byte("x"), "image", "png", "<a@b>\r\nBcc: victim@example.org")
		}, "content ID"},
		{"non-ASCII cid", nil, func(m *Message) error { return m.AddRelated([]byte("x"), "image", "png", "<bild-ä@x>") }, "not ASCII"},
		{"cid too long", nil, func(m *Message) error {
			return m.AddRelated([]byte("x"), "image", "png", strings.Repeat("x", 990))
		}, "at most"},
		{"subtype too long", nil, func(m *Message) error {
			return m.AddAttachment([]byte("x"), "application", strings.Repeat("x", 128), "")
		}, "content type"},
		{"multipart attachment", nil, func(m *Message) error { return m.AddAttachment(nil, "multipart", "mixed", "") }, "multipart/mixed"},
		{"message attachment", nil, func(m *Message) error { return m.AddAttachment(nil, "Message", "rfc822", "") }, "Message/rfc822"},
		{"multipart related part", nil, func(m *Message) error { return m.AddRelated(nil, "multipart", "related", "") }, "multipart/related"},
		{"SetContent on a multipart", func(m *Message) error { return m.AddAttachment(nil, "application", "pdf", "") },
			func(m *Message) error { return m.SetContent("x", "") }, "multipart/mixed"},
		{"alternative with attachments and no body", func(m *Message) error { return m.AddAttachment(nil, "application", "pdf", "") },
			func(m *Message) error { return m.AddAlternative("x", "html") }, "cannot convert multipart/mixed to multipart/alternative"},
		{"related on an alternative without HTML", func(m *Message) error {
			return errors.Join(m.SetContent("x", ""), m.AddAlternative("y", "plain"))
		}, func(m *Message) error { return m.AddRelated(nil, "image", "png", "") }, "cannot convert multipart/alternative to multipart/related"},
		{"related with attachments and no body", func(m *Message) error { return m.AddAttachment(nil, "application", "pdf", "") },
			func(m *Message) error { return m.AddRelated(nil, "image", "png", "") }, "cannot convert multipart/mixed to multipart/related"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMessage("a@example.com", []string{"b@example.org"}, "s", "")
			if tc.setup != nil {
				require.NoError(t, tc.setup(m))
			}
			before := m.Bytes()
			err := tc.bad(m)
			var me *MessageError
			require.ErrorAs(t, err, &me)
			assert.Contains(t, err.Error(), tc.says)
			assert.True(t, strings.HasPrefix(err.Error(), "email: "), err.Error())
			assert.Equal(t, string(before), string(m.Bytes()), "the message is unchanged")
			assert.False(t, reread(t, m).Has("Bcc"), "no header was injected")
		})
	}
}

func TestBuildNilMessage(t *testing.T) {
	var m *Message
	var me *MessageError
	assert.ErrorAs(t, m.SetContent("x", ""), &me)
	assert.ErrorAs(t, m.AddAlternative("x", ""), &me)
	assert.ErrorAs(t, m.AddRelated(nil, "image", "png", ""), &me)
	assert.ErrorAs(t, m.AddAttachment(nil, "image", "png", ""), &me)
	_, err := m.GetContent()
	assert.ErrorAs(t, err, &me)
	assert.False(t, m.IsMultipart())
	assert.Empty(t, m.GetContentType())
	assert.Empty(t, m.GetFilename())
	assert.Nil(t, m.GetBody())
	assert.Nil(t, partsOf(m))
	assert.Nil(t, attachmentsOf(m))
}

// assertWireCRLF checks that every line of msg ends in CRLF.
func assertWireCRLF(t *testing.T, msg []byte) {
	t.Helper()
	for i, line := range bytes.SplitAfter(msg, []byte("\n")) {
		if len(line) > 0 {
			assert.True(t, bytes.HasSuffix(line, []byte("\r\n")) && bytes.Count(line, []byte("\r")) == 1, "line %d: %q", i, line)
		}
	}
}
