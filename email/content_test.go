package email

// Reading messages that other programs wrote: parts, odd structures,
// where the body starts, and parts that stay tied to their message.

import (
	"iter"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/internal/textutil"
)

// parts collects IterParts, and attachments IterAttachments, for tests
// that index them.
func partsOf(m *Message) []*Message       { return slices.Collect(m.IterParts()) }
func attachmentsOf(m *Message) []*Message { return slices.Collect(m.IterAttachments()) }

// A message sent by another program: its parts are read as Python reads
// them, and it is written back byte for byte, also after its parts were
// taken apart; an attachment added to it joins its parts.
func TestReadMultipart(t *testing.T) {
	const raw = "From: a@example.com\n" +
		"Content-Type: multipart/mixed; boundary=\"XX\"\n" +
		"\n" +
		"This is a preamble.\n" +
		"--XX  \n" +
		"Content-Type: multipart/alternative; boundary=YY\n" +
		"\n" +
		"--YY\n" +
		"Content-Type: text/plain; charset=iso-8859-1\n" +
		"Content-Transfer-Encoding: quoted-printable\n" +
		"\n" +
		"Gr=FC=DFe, soft=\n" +
		"break =ZZ\n" +
		"--YY\n" +
		"Content-Type: text/html; charset=windows-1252\n" +
		"\n" +
		"<p>\x80 5</p>\n" +
		"--YY--\n" +
		"--XX\n" +
		"Content-Type: application/octet-stream; name=\"fallback.bin\"\n" +
		"Content-Transfer-Encoding: base64\n" +
		"\n" +
		"AAEC\n" +
		"Aw!=\n" +
		"--XX\n" +
		"Content-Disposition: attachment;\n" +
		" filename*0*=iso-8859-1''%E9t%E9;\n" +
		" filename*1=\".txt\"\n" +
		"\n" +
		"summer\n" +
		"--XX\n" +
		"Content-Type: text/plain\n" +
		"Content-Disposition: attachment; filename=\"=?utf-8?q?r=C3=A9sum=C3=A9.txt?=\"\n" +
		"\n" +
		"cv\n" +
		"--XX--\n" +
		"epilogue\n"
	m, err := ReadMessage(strings.NewReader(raw))
	require.NoError(t, err)
	require.True(t, m.IsMultipart())
	assert.Equal(t, raw, string(m.Bytes()), "byte for byte after IterParts")
	assert.Equal(t, "multipart/mixed\n  multipart/alternative\n    text/plain\n    text/html\n  application/octet-stream\n  text/plain\n  text/plain\n", shape(m))

	plain, err := m.GetBody("plain").GetContent()
	require.NoError(t, err)
	assert.Equal(t, "Grüße, softbreak =ZZ", string(plain), "latin-1 to UTF-8, lenient quoted-printable")
	html, err := m.GetBody().GetContent()
	require.NoError(t, err)
	assert.Equal(t, "<p>€ 5</p>", string(html), "windows-1252 to UTF-8")

	atts := attachmentsOf(m)
	require.Len(t, atts, 3)
	assert.Equal(t, "fallback.bin", atts[0].GetFilename(), "the name parameter of Content-Type")
	c, err := atts[0].GetContent()
	require.NoError(t, err)
	assert.Equal(t, []byte{0, 1, 2, 3}, c, "junk in base64 is skipped")
	assert.Equal(t, "été.txt", atts[1].GetFilename(), "RFC 2231 continuations and charset")
	assert.Equal(t, "résumé.txt", atts[2].GetFilename(), "an encoded-word, as some mailers write")

	require.NoError(t, m.AddAttachment([]byte("new"), "text", "plain", "new.txt"))
	out := string(m.Bytes())
	// Changed, the message is written as Python's generator writes it under
	// policy.SMTP: CRLF throughout, the 8-bit HTML re-encoded; the 7-bit
	// parts keep their bytes otherwise.
	crlf := strings.ReplaceAll(raw, "\n", "\r\n")
	htmlAt := strings.Index(crlf, "<p>\x80")
	assert.True(t, strings.HasPrefix(out, crlf[:htmlAt-len("\r\n")]), "the parts before the 8-bit one stay as they were")
	assert.Contains(t, out, crlf[strings.Index(crlf, "--YY--"):strings.Index(crlf, "--XX--")], "the parts after it stay as they were")
	assertWireCRLF(t, []byte(out))
	assert.True(t, textutil.IsASCII(out), "the message is 7-bit")
	again := reread(t, m)
	assert.Equal(t, "quoted-printable", again.GetBody().Get("Content-Transfer-Encoding"), "windows-1252 text becomes quoted-printable, as in Python")
	html, err = again.GetBody().GetContent()
	require.NoError(t, err)
	assert.Equal(t, "<p>€ 5</p>", string(html), "the same text")
	atts = attachmentsOf(again)
	require.Len(t, atts, 4)
	c, err = atts[3].GetContent()
	require.NoError(t, err)
	assert.Equal(t, "new", string(c))
	assert.True(t, strings.HasSuffix(out, "--XX--\r\nepilogue\r\n"), "the epilogue stays: %q", out[len(out)-40:])
}

func TestGetBodyStart(t *testing.T) {
	const raw = "Content-Type: multipart/related; boundary=b; start=\"<root@x>\"\r\n\r\n" +
		"--b\r\nContent-Type: image/png\r\nContent-ID: <img@x>\r\n\r\nx\r\n" +
		"--b\r\nContent-Type: text/html\r\nContent-ID: <root@x>\r\n\r\n<p>\r\n" +
		"--b--\r\n"
	m, err := ReadMessage(strings.NewReader(raw))
	require.NoError(t, err)
	assert.Equal(t, m, m.GetBody(), "related comes first in the preference list")
	html := m.GetBody("html", "plain")
	require.NotNil(t, html)
	assert.Equal(t, "<root@x>", html.Get("Content-ID"), "the start parameter names the root")
	atts := attachmentsOf(m)
	require.Len(t, atts, 1)
	assert.Equal(t, "<img@x>", atts[0].Get("Content-ID"))
	assert.Nil(t, m.GetBody("plain"))
}

func TestPartsAreLive(t *testing.T) {
	m := NewMessage("a@example.com", nil, "s", "")
	require.NoError(t, m.SetContent("Hi.", ""))
	require.NoError(t, m.AddAlternative("<img src=\"cid:i@x\">", "html"))
	// Python's documentation adds the image through the HTML part.
	require.NoError(t, partsOf(m)[1].AddRelated([]byte("png"), "image", "png", "<i@x>"))
	assert.Equal(t, "multipart/alternative\n  text/plain\n  multipart/related\n    text/html\n    image/png\n", shape(reread(t, m)))

	c := m.Clone()
	require.NoError(t, partsOf(c)[0].SetContent("changed", ""))
	got, err := m.GetBody("plain").GetContent()
	require.NoError(t, err)
	assert.Equal(t, "Hi.\r\n", string(got), "a clone's parts are its own")

	m.SetBody([]byte("flat\r\n"))
	assert.False(t, m.IsMultipart(), "SetBody replaces the parts")
	assert.Equal(t, "flat\r\n", string(m.Body()))
}

// TestWalkOrder: Walk yields the message, then each part and the parts
// under it before the next part, as Python's walk() does, for a built
// message and for the same message read back.
func TestWalkOrder(t *testing.T) {
	m := NewMessage("a@example.com", nil, "s", "")
	require.NoError(t, m.SetContent("Hi.", ""))
	require.NoError(t, m.AddAlternative("<p>Hi.</p>", "html"))
	require.NoError(t, m.AddRelated([]byte("png"), "image", "png", "<i@x>"))
	require.NoError(t, m.AddAttachment([]byte("%PDF"), "application", "pdf", "a.pdf"))
	want := []string{"multipart/mixed", "multipart/alternative", "text/plain", "multipart/related",
		"text/html", "image/png", "application/pdf"}
	for _, msg := range []*Message{m, reread(t, m)} {
		var got []string
		for p := range msg.Walk() {
			got = append(got, p.GetContentType())
		}
		assert.Equal(t, want, got)
	}
	walked := slices.Collect(m.Walk())
	assert.Same(t, m, walked[0], "the message itself first")
	assert.Same(t, partsOf(partsOf(m)[0])[1], walked[3], "the parts are the message's own")

	leaf := NewMessage("a@example.com", nil, "s", "text")
	assert.Equal(t, []*Message{leaf}, slices.Collect(leaf.Walk()), "a leaf is walked alone")
	var nilMsg *Message
	assert.Empty(t, slices.Collect(nilMsg.Walk()))
}

// TestIteratorsStopEarly: IterParts, IterAttachments and Walk are
// iter.Seq: a loop that breaks stops them, and each use starts afresh.
func TestIteratorsStopEarly(t *testing.T) {
	m := NewMessage("a@example.com", nil, "s", "Hi.")
	for _, name := range []string{"a.txt", "b.txt", "c.txt"} {
		require.NoError(t, m.AddAttachment([]byte(name), "text", "plain", name))
	}
	for name, seq := range map[string]func() iter.Seq[*Message]{
		"IterParts": m.IterParts, "IterAttachments": m.IterAttachments, "Walk": m.Walk,
	} {
		t.Run(name, func(t *testing.T) {
			all := slices.Collect(seq())
			require.GreaterOrEqual(t, len(all), 3)
			n := 0
			for p := range seq() {
				assert.Same(t, all[n], p)
				n++
				if n == 2 {
					break
				}
			}
			assert.Equal(t, 2, n, "the loop stopped where it broke")
			assert.Equal(t, all, slices.Collect(seq()), "each use starts afresh")
		})
	}
	atts := attachmentsOf(m)
	require.Len(t, atts, 3)
	assert.Equal(t, "a.txt", atts[0].GetFilename(), "the body part is not an attachment")

	var nilMsg *Message
	assert.Empty(t, slices.Collect(nilMsg.IterParts()))
	assert.Empty(t, slices.Collect(nilMsg.IterAttachments()))
}
