package email

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/mail"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/internal/textutil"
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
			got := again.Get(tc.field)
			if addressFields[strings.ToLower(tc.field)] && strings.HasSuffix(tc.want, "\n") {
				list, err := (&mail.AddressParser{WordDecoder: dec}).ParseList(got)
				require.NoError(t, err, got)
				var sb strings.Builder
				for _, a := range list {
					sb.WriteString(a.Name + "|" + a.Address + "\n")
				}
				assert.Equal(t, tc.want, sb.String())
				return
			}
			s, err := dec.DecodeHeader(got)
			require.NoError(t, err)
			assert.Equal(t, tc.want, s)
		})
	}
}

func TestBoundaryCollision(t *testing.T) {
	m := NewMessage("a@example.com", nil, "s", "")
	require.NoError(t, m.SetContent("placeholder", ""))
	require.NoError(t, m.AddAttachment([]byte("x"), "text", "plain", "x.txt"))
	_, params := parseMediaHeader(m.Get("Content-Type"))
	first := params["boundary"]
	// A text that holds the delimiter line, as an attacker who saw the
	// boundary might write.
	require.NoError(t, partsOf(m)[0].SetContent("before\n--"+first+"--\nafter\n", ""))
	again := reread(t, m)
	_, params = parseMediaHeader(again.Get("Content-Type"))
	assert.NotEqual(t, first, params["boundary"], "a new boundary")
	require.Len(t, partsOf(again), 2)
	got, err := partsOf(again)[0].GetContent()
	require.NoError(t, err)
	assert.Equal(t, "before\r\n--"+first+"--\r\nafter\r\n", string(got))
}

// The reader SendMessage streams gives the same bytes as WriteTo, however
// it is read, and its Len says how many are left.
func TestStreamedMessage(t *testing.T) {
	m := NewMessage("a@example.com", []string{"b@example.org"}, "s", "Hi.\n")
	data := make([]byte, 100_003)
	for i := range data {
		data[i] = byte(i * 7)
	}
	require.NoError(t, m.AddAttachment(data, "application", "octet-stream", "d.bin"))
	require.NoError(t, m.AddAttachment(data[:57], "application", "octet-stream", "one-line.bin"))
	want := m.Bytes()
	for _, size := range []int{1, 2, 77, 78, 79, 155, 4096, 1 << 20} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			r := newSegReader(m.segments(true, false))
			assert.Equal(t, len(want), r.Len())
			var got []byte
			buf := make([]byte, size)
			for {
				n, err := r.Read(buf)
				got = append(got, buf[:n]...)
				assert.Equal(t, len(want)-len(got), r.Len())
				if err == io.EOF {
					break
				}
				require.NoError(t, err)
				require.Positive(t, n)
			}
			assert.Equal(t, string(want), string(got))
		})
	}
	var w bytes.Buffer
	n, err := m.WriteTo(&w)
	require.NoError(t, err)
	assert.Equal(t, int64(len(want)), n)
	body, err := io.ReadAll(m.BodyReader())
	require.NoError(t, err)
	assert.Equal(t, m.Body(), body)
	assert.True(t, bytes.HasSuffix(want, body))
}

// A failing writer stops WriteTo with its error and the count so far.
func TestWriteToError(t *testing.T) {
	m := NewMessage("a@example.com", nil, "s", "Hi.")
	require.NoError(t, m.AddAttachment(make([]byte, 200_000), "application", "octet-stream", ""))
	w := &limitedWriter{left: 1000}
	n, err := m.WriteTo(w)
	assert.ErrorIs(t, err, errFull)
	assert.Equal(t, int64(1000), n)
}

var errFull = errors.New("full")

type limitedWriter struct{ left int }

func (w *limitedWriter) Write(p []byte) (int, error) {
	if len(p) > w.left {
		n := w.left
		w.left = 0
		return n, errFull
	}
	w.left -= len(p)
	return len(p), nil
}

func TestMakeMsgid(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		id := MakeMsgid("", "example.com")
		assert.False(t, seen[id], "unique: %s", id)
		seen[id] = true
		assert.Regexp(t, `^<\d+\.\d+\.\d+@example\.com>$`, id)
	}
	assert.Regexp(t, `^<\d+\.\d+\.\d+\.part1@example\.com>$`, MakeMsgid("part1", "example.com"))
	assert.Regexp(t, `^<\d+\.\d+\.\d+\.abinjected@examplecom>$`, MakeMsgid("a b\r\n<injected>", "example\r\n@com"),
		"blanks, line breaks and specials are left out")
	assert.Regexp(t, `^<[^<>@\s]+@[^<>@\s]+>$`, MakeMsgid("", ""), "the host's name, or localhost")
	for id := range seen {
		_, err := mail.ParseAddress("x " + id) // a msg-id parses as an angle address
		assert.NoError(t, err)
	}
}

func TestFormatDatetime(t *testing.T) {
	zone := time.FixedZone("", -(4*3600 + 30*60))
	tests := []struct {
		t    time.Time
		want string // RFC 5322 section 3.3
	}{
		{time.Date(2026, 3, 5, 7, 8, 9, 0, time.UTC), "Thu, 05 Mar 2026 07:08:09 +0000"},
		{time.Date(1999, 12, 31, 23, 59, 59, 999, zone), "Fri, 31 Dec 1999 23:59:59 -0430"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, FormatDatetime(tc.t))
		back, err := mail.ParseDate(FormatDatetime(tc.t))
		require.NoError(t, err)
		assert.True(t, back.Equal(tc.t.Truncate(time.Second)))
	}
}

func TestFormatParam(t *testing.T) {
	tests := []struct{ name, value string }{
		{"token", "report.pdf"},
		{"quoted", `a "b" \ c; d.txt`},
		{"long ASCII", strings.Repeat("long-name-", 30) + ".txt"},
		{"long ASCII with quotes", strings.Repeat(`q"\`, 60)},
		{"non-ASCII", "Bericht für März.pdf"},
		{"long non-ASCII", strings.Repeat("日本語", 40) + ".pdf"},
		{"tab", "a\tb"},
		{"percent and quote", "100% 'sure'.txt"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := formatMediaHeader(len("Content-Disposition: "), "attachment", []mediaParam{{"filename", tc.value}})
			for _, line := range strings.Split("Content-Disposition: "+v, "\r\n") {
				assert.LessOrEqual(t, len(line), 78, line)
				assert.True(t, textutil.IsASCII(line))
			}
			d, params := parseMediaHeader(strings.ReplaceAll(v, "\r\n", ""))
			assert.Equal(t, "attachment", d)
			assert.Equal(t, tc.value, params["filename"])
			// The standard library's reader agrees.
			_, std, err := mime.ParseMediaType(strings.ReplaceAll(v, "\r\n", ""))
			require.NoError(t, err)
			assert.Equal(t, tc.value, std["filename"])
		})
	}
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
