package smtplib

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readEML(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "messages", name))
	require.NoError(t, err)
	return data
}

func emlFiles(t testing.TB) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", "messages", "*.eml"))
	require.NoError(t, err)
	require.NotEmpty(t, names)
	for i, n := range names {
		names[i] = filepath.Base(n)
	}
	return names
}

func mustRead(t testing.TB, s string) *Message {
	t.Helper()
	m, err := ReadMessage(strings.NewReader(s))
	require.NoError(t, err)
	return m
}

func TestReadMessageRoundTrip(t *testing.T) {
	for _, name := range emlFiles(t) {
		t.Run(name, func(t *testing.T) {
			data := readEML(t, name)
			// A reader that returns one byte at a time exercises the
			// line assembly across reads.
			m, err := ReadMessage(iotest.OneByteReader(bytes.NewReader(data)))
			require.NoError(t, err)
			var buf bytes.Buffer
			n, err := m.WriteTo(&buf)
			require.NoError(t, err)
			assert.Equal(t, int64(len(data)), n)
			assert.Equal(t, string(data), buf.String())
			assert.Equal(t, data, m.Bytes())
			assert.Equal(t, data, m.Clone().Bytes())
		})
	}
}

// TestGetMatchesNetMail checks the unfolded values against net/mail on
// every sample it can parse.
func TestGetMatchesNetMail(t *testing.T) {
	for _, name := range emlFiles(t) {
		t.Run(name, func(t *testing.T) {
			data := readEML(t, name)
			want, err := mail.ReadMessage(bytes.NewReader(data))
			if err != nil {
				t.Skipf("net/mail rejects it: %v", err)
			}
			m, err := ReadMessage(bytes.NewReader(data))
			require.NoError(t, err)
			for k, vs := range want.Header {
				if strings.ContainsAny(k, " \t") {
					continue // net/mail keeps "Name :" as a different name
				}
				assert.Equal(t, vs, m.Values(k), k)
			}
			wantBody, err := io.ReadAll(want.Body)
			require.NoError(t, err)
			assert.Equal(t, wantBody, orNil(m.Body()))
		})
	}
}

func orNil(b []byte) []byte {
	if len(b) == 0 {
		return []byte{}
	}
	return b
}

func TestMessageSamples(t *testing.T) {
	tests := []struct {
		file     string
		get      map[string]string
		values   map[string][]string
		absent   []string
		fields   int
		body     string
		unixFrom string
	}{
		{
			file: "folded_headers.eml",
			get: map[string]string{
				"to":                   "first@example.org, second@example.org, third@example.org",
				"SUBJECT":              "This subject is folded over three lines",
				"X-Empty":              "",
				"X-Blank-Continuation": "start  end",
				"X-Lower-Case":         "kept as written",
			},
			values: map[string][]string{"received": {
				"from a by b; Mon, 1 Jan 2024 00:00:00 +0000",
				"from c by d; Mon, 1 Jan 2024 00:00:01 +0000",
				"from e by f; Mon, 1 Jan 2024 00:00:02 +0000",
			}},
			fields: 10,
			body:   "Body after folded headers.\r\n",
		},
		{
			file:   "rfc2047_subject.eml",
			get:    map[string]string{"Subject": "=?UTF-8?B?R3LDvMOfZSBhdXMgTcO8bmNoZW4=?= =?UTF-8?Q?_und_mehr?="},
			fields: 7,
			body:   "Grüße aus München.\n",
		},
		{
			file:   "resent.eml",
			get:    map[string]string{"Resent-Date": "Thu, 16 May 2024 10:00:00 +0000", "resent-bcc": "hidden-resent@example.org"},
			fields: 11,
			body:   "Original body.\r\n",
		},
		{
			file:   "bcc.eml",
			get:    map[string]string{"Bcc": "secret1@example.org, secret2@example.org", "Sender": "secretary@example.com"},
			fields: 6,
			body:   "Body.\r\n",
		},
		{file: "no_body.eml", get: map[string]string{"Subject": "Nothing below"}, fields: 3},
		{file: "no_separator.eml", get: map[string]string{"Subject": "Headers only"}, fields: 3},
		{file: "no_final_newline.eml", get: map[string]string{"Subject": "The input ends mid-line"}, fields: 2},
		{
			file:     "mbox_from_line.eml",
			get:      map[string]string{"From": "alice@example.com"},
			fields:   3,
			body:     ">From here on, the body.\n",
			unixFrom: "From alice@example.com Tue May 14 09:12:44 2024",
		},
		{
			file:   "obsolete_space_before_colon.eml",
			get:    map[string]string{"From": "a@example.com", "To": "b@example.org", "Bcc": "hidden@example.org"},
			fields: 4,
			body:   "Body.\r\n",
		},
		{
			file:   "utf8_headers.eml",
			get:    map[string]string{"To": "用户@例子.广告", "Subject": "Grüße 👋"},
			fields: 5,
			body:   "Ünïcödé body.\r\n",
		},
		{
			file:   "mixed_line_endings.eml",
			get:    map[string]string{"Subject": "mixed endings", "To": "b@example.org"},
			fields: 3,
			body:   "Body\nwith\r\nboth\r",
		},
		{file: "body_only.eml", absent: []string{"From"}, body: "No header at all, the first line is empty.\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			m, err := ReadMessage(bytes.NewReader(readEML(t, tc.file)))
			require.NoError(t, err)
			for k, v := range tc.get {
				assert.True(t, m.Has(k), k)
				assert.Equal(t, v, m.Get(k), k)
			}
			for k, v := range tc.values {
				assert.Equal(t, v, m.Values(k), k)
				assert.Equal(t, v, m.GetAll(k), k)
			}
			for _, k := range tc.absent {
				assert.False(t, m.Has(k), k)
				assert.Empty(t, m.Get(k), k)
				assert.Nil(t, m.Values(k), k)
			}
			assert.Len(t, m.Fields(), tc.fields)
			assert.Equal(t, tc.body, string(m.Body()))
			got, err := io.ReadAll(m.BodyReader())
			require.NoError(t, err)
			assert.Equal(t, tc.body, string(got))
			assert.Equal(t, tc.unixFrom, m.UnixFrom())
		})
	}
}

func TestMessageEdits(t *testing.T) {
	const base = "From: a@example.com\r\nTo: b@example.org\r\nX-A: 1\r\nx-a: 2\r\n\tfolded\r\nSubject: s\r\n\r\nbody\r\n"
	tests := []struct {
		name string
		in   string
		edit func(m *Message)
		want string
	}{
		{
			name: "set replaces the first in place and deletes the rest",
			in:   base,
			edit: func(m *Message) { m.Set("X-A", "new") },
			want: "From: a@example.com\r\nTo: b@example.org\r\nX-A: new\r\nSubject: s\r\n\r\nbody\r\n",
		},
		{
			name: "set appends when absent",
			in:   base,
			edit: func(m *Message) { m.Set("Cc", "c@example.org") },
			want: strings.Replace(base, "\r\n\r\n", "\r\nCc: c@example.org\r\n\r\n", 1),
		},
		{
			name: "add appends after existing fields of that name",
			in:   base,
			edit: func(m *Message) { m.Add("to", "d@example.org") },
			want: strings.Replace(base, "\r\n\r\n", "\r\nto: d@example.org\r\n\r\n", 1),
		},
		{
			name: "del removes every occurrence, any case",
			in:   base,
			edit: func(m *Message) { m.Del("x-A") },
			want: "From: a@example.com\r\nTo: b@example.org\r\nSubject: s\r\n\r\nbody\r\n",
		},
		{
			name: "del of an absent field changes nothing",
			in:   base,
			edit: func(m *Message) { m.Del("Bcc") },
			want: base,
		},
		{
			name: "a name differing by a non-ASCII letter does not match",
			in:   base,
			edit: func(m *Message) { m.Del("X-\u212a") }, // Kelvin sign
			want: base,
		},
		{
			name: "LF-only message gets LF-only fields",
			in:   "From: a\nSubject: s\n\nbody\n",
			edit: func(m *Message) { m.Set("Subject", "t"); m.Add("To", "b") },
			want: "From: a\nSubject: t\nTo: b\n\nbody\n",
		},
		{
			name: "a field after a last line without line ending",
			in:   "Subject: s",
			edit: func(m *Message) { m.Add("To", "b") },
			want: "Subject: s\r\nTo: b\r\n",
		},
		{
			name: "a body for a message with no separator",
			in:   "Subject: s",
			edit: func(m *Message) { m.SetBody([]byte("hello\r\n")) },
			want: "Subject: s\r\n\r\nhello\r\n",
		},
		{
			name: "an emptied body keeps the separator",
			in:   base,
			edit: func(m *Message) { m.SetBody(nil) },
			want: "From: a@example.com\r\nTo: b@example.org\r\nX-A: 1\r\nx-a: 2\r\n\tfolded\r\nSubject: s\r\n\r\n",
		},
		{
			name: "set keeps folds in the value",
			in:   "A: b\r\n\r\n",
			edit: func(m *Message) { m.Set("Subject", "one\r\n two\n\tthree") },
			want: "A: b\r\nSubject: one\r\n two\r\n\tthree\r\n\r\n",
		},
		{
			name: "set cannot inject a field",
			in:   "A: b\r\n\r\n",
			edit: func(m *Message) { m.Set("Subject", "x\r\nBcc: victim@example.org\r\n\r\nbody") },
			want: "A: b\r\nSubject: x  Bcc: victim@example.org    body\r\n\r\n",
		},
		{
			name: "lone CR, lone LF, NUL and a final fold become spaces",
			in:   "A: b\r\n\r\n",
			edit: func(m *Message) { m.Add("X", "a\rb\nc\x00d\r\n") },
			want: "A: b\r\nX: a b c d  \r\n\r\n",
		},
		{
			name: "unix from line removed and set",
			in:   "From x@y Mon\nA: b\n\n",
			edit: func(m *Message) { m.SetUnixFrom(""); m.SetUnixFrom("From z@w Tue\r\nInjected: 1") },
			want: "From z@w Tue\nA: b\n\n",
		},
		{
			name: "unix from that is not one is dropped",
			in:   "From x@y Mon\nA: b\n\n",
			edit: func(m *Message) { m.SetUnixFrom("Subject: x") },
			want: "A: b\n\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := mustRead(t, tc.in)
			orig := m.Clone()
			tc.edit(m)
			assert.Equal(t, tc.want, string(m.Bytes()))
			assert.Equal(t, tc.in, string(orig.Bytes()), "the clone must not change")
			again, err := ReadMessage(bytes.NewReader(m.Bytes()))
			require.NoError(t, err)
			assert.Equal(t, m.Fields(), again.Fields())
		})
	}
}

func TestSetGetRoundTrip(t *testing.T) {
	long := strings.Repeat("word ", 400) + "end"
	tests := []struct {
		name, value, want string
		maxLine           int
	}{
		{"plain", "hello world", "hello world", 0},
		{"blanks trimmed as net/mail does", "  padded  ", "padded", 0},
		{"folded value unfolds", "a\r\n b", "a b", 0},
		{"long value folded at spaces", long, long, maxLineLength},
		{"long value with no space stays long", strings.Repeat("x", 1200), strings.Repeat("x", 1200), 1208},
		{"non-ASCII kept", "Grüße 👋", "Grüße 👋", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := mustRead(t, "A: b\r\n\r\n")
			m.Set("X-Test", tc.value)
			assert.Equal(t, tc.want, m.Get("X-Test"))
			again, err := ReadMessage(bytes.NewReader(m.Bytes()))
			require.NoError(t, err)
			assert.Equal(t, tc.want, again.Get("X-Test"))
			if tc.maxLine > 0 {
				for _, line := range strings.Split(string(m.Bytes()), "\r\n") {
					assert.LessOrEqual(t, len(line), tc.maxLine)
				}
			}
		})
	}
}

func TestSetPanicsOnInvalidName(t *testing.T) {
	for _, name := range []string{"", "Bad Name", "Colon:", "Line\r\nBreak", "Ünicode", "Tab\t"} {
		t.Run(name, func(t *testing.T) {
			m := mustRead(t, "A: b\r\n\r\n")
			assert.PanicsWithValue(t, "smtplib: invalid header field name "+strconv.Quote(name), func() { m.Set(name, "v") })
			assert.Panics(t, func() { m.Add(name, "v") })
			assert.Equal(t, "A: b\r\n\r\n", string(m.Bytes()))
		})
	}
}

func TestReadMessageErrors(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		line   int
		reason string
	}{
		{"empty", "", 0, "empty message"},
		{"NUL in a field", "From: a\x00b\r\n\r\n", 1, "NUL byte in header"},
		{"NUL in a later line", "From: a\r\nTo: b\r\n \x00\r\n\r\n", 3, "NUL byte in header"},
		{"first line a continuation", " folded: x\r\n\r\n", 1, "continuation line with no field before it"},
		{"continuation after mbox line", "From a@b Mon\r\n x\r\n\r\n", 2, "continuation line with no field before it"},
		{"no colon", "From: a\r\nnot a field\r\n\r\n", 2, `not a header field: "not a field"`},
		{"space inside a name", "Bad Name: x\r\n\r\n", 1, `not a header field: "Bad Name: x"`},
		{"empty name", ": x\r\n\r\n", 1, `not a header field: ": x"`},
		{"non-ASCII name", "Sübject: x\r\n\r\n", 1, `not a header field: "Sübject: x"`},
		{"control character in name", "X\x01: y\r\n\r\n", 1, `not a header field: "X\x01: y"`},
		{"mbox line not first", "A: b\r\nFrom x@y Mon\r\n\r\n", 2, `not a header field: "From x@y Mon"`},
		{"lone CR line", "A: b\r\n\r", 2, `not a header field: "\r"`},
		{"line too long", "X: " + strings.Repeat("a", MaxHeaderLineLength) + "\r\n\r\n", 1, "line longer than 65536 bytes"},
		{"header block too long", strings.Repeat("X: "+strings.Repeat("a", 1000)+"\r\n", 1100) + "\r\n", 1044, "header block longer than 1048576 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ReadMessage(strings.NewReader(tc.in))
			require.Error(t, err)
			assert.Nil(t, m)
			var me *MessageError
			require.ErrorAs(t, err, &me)
			assert.Equal(t, tc.line, me.Line)
			assert.Equal(t, tc.reason, me.Reason)
			assert.True(t, strings.HasPrefix(err.Error(), "smtplib: "), err.Error())
		})
	}
}

func TestReadMessageAcceptsLimits(t *testing.T) {
	line := "X: " + strings.Repeat("a", MaxHeaderLineLength-5) + "\r\n"
	require.Len(t, line, MaxHeaderLineLength)
	m, err := ReadMessage(strings.NewReader(line + "\r\nbody"))
	require.NoError(t, err)
	assert.Equal(t, "body", string(m.Body()))
	big := strings.Repeat("a", 4<<20)
	m, err = ReadMessage(strings.NewReader("A: b\r\n\r\n" + big))
	require.NoError(t, err, "the body has no limit")
	assert.Len(t, m.Body(), len(big))
}

func TestReadMessageReaderErrors(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name string
		r    io.Reader
	}{
		{"in the header", io.MultiReader(strings.NewReader("A: b\r\n"), iotest.ErrReader(boom))},
		{"in the body", io.MultiReader(strings.NewReader("A: b\r\n\r\nbo"), iotest.ErrReader(boom))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadMessage(tc.r)
			require.Error(t, err)
			assert.ErrorIs(t, err, boom)
			assert.True(t, strings.HasPrefix(err.Error(), "smtplib: "), err.Error())
		})
	}
}

type failWriter struct{ after int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.after <= 0 {
		return 0, io.ErrShortWrite
	}
	w.after--
	return len(p), nil
}

func TestWriteToErrors(t *testing.T) {
	m := mustRead(t, "From x Mon\r\nA: b\r\nC: d\r\n\r\nbody")
	for after := 0; after < 5; after++ {
		_, err := m.WriteTo(&failWriter{after: after})
		assert.ErrorIs(t, err, io.ErrShortWrite, "after %d writes", after)
	}
	_, err := m.WriteTo(&failWriter{after: 5})
	assert.NoError(t, err)
}

func TestCloneIsDeep(t *testing.T) {
	m := mustRead(t, "From x Mon\r\nA: b\r\n\r\nbody")
	c := m.Clone()
	c.Set("A", "changed")
	c.Body()[0] = 'B'
	c.SetUnixFrom("")
	assert.Equal(t, "From x Mon\r\nA: b\r\n\r\nbody", string(m.Bytes()))
	assert.Equal(t, "A: changed\r\n\r\nBody", string(c.Bytes()))
}

func TestMailMessageInterop(t *testing.T) {
	m, err := ReadMessage(bytes.NewReader(readEML(t, "folded_headers.eml")))
	require.NoError(t, err)
	mm := m.MailMessage()
	assert.Equal(t, "This subject is folded over three lines", mm.Header.Get("Subject"))
	assert.Len(t, mm.Header["Received"], 3)
	assert.Equal(t, "kept as written", mm.Header.Get("X-Lower-Case"))
	body, err := io.ReadAll(mm.Body)
	require.NoError(t, err)
	assert.Equal(t, m.Body(), body)

	back, err := FromMailMessage(m.MailMessage())
	require.NoError(t, err)
	assert.Equal(t, m.Header(), back.Header())
	assert.Equal(t, m.Body(), back.Body())
	assert.Equal(t, []string{"From", "Received", "Received", "Received", "Subject", "To", "X-Blank-Continuation", "X-Empty", "X-Lower-Case", "X-Upper-Case"}, back.Fields())
	assert.True(t, strings.HasPrefix(string(back.Bytes()), "From: \"Long, Name\" <long@example.com>\r\nReceived: from a by b;"))

	_, err = FromMailMessage(&mail.Message{Header: mail.Header{"Bad Name": {"x"}}})
	var me *MessageError
	assert.ErrorAs(t, err, &me)

	boom := errors.New("boom")
	_, err = FromMailMessage(&mail.Message{Header: mail.Header{}, Body: iotest.ErrReader(boom)})
	assert.ErrorIs(t, err, boom)

	empty, err := FromMailMessage(&mail.Message{Header: mail.Header{"Injected": {"a\r\nBcc: x"}}})
	require.NoError(t, err)
	assert.Equal(t, "Injected: a  Bcc: x\r\n\r\n", string(empty.Bytes()))
}

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
			wantCTE: "7bit", wantMsgIDEnd: "@example.com>", wantBody: "line one\r\nline two\r\nline three",
		},
		{
			name: "non-ASCII subject, names and body", from: "Jörg <joerg@example.de>", to: []string{"André <andre@example.fr>"},
			subject: "Grüße aus München", body: "Grüße\n",
			wantFrom: "=?utf-8?q?J=C3=B6rg?= <joerg@example.de>", wantTo: "=?utf-8?q?Andr=C3=A9?= <andre@example.fr>",
			wantCTE: "quoted-printable", wantMsgIDEnd: "@example.de>", wantBody: "Grüße\r\n",
		},
		{
			name: "IDN domain in the Message-ID", from: "müller@bücher.example", to: []string{"x@example.org"},
			subject: "s", body: "b",
			wantFrom: "müller@bücher.example", wantTo: "x@example.org",
			wantCTE: "7bit", wantMsgIDEnd: "@xn--bcher-kva.example>", wantBody: "b",
		},
		{
			name: "long ASCII line needs quoted-printable", from: "nobody", to: nil,
			subject: "", body: strings.Repeat("x", 1000),
			wantFrom: "nobody", wantCTE: "quoted-printable", wantMsgIDEnd: "@localhost>", wantBody: strings.Repeat("x", 1000),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMessage(tc.from, tc.to, tc.subject, tc.body)
			again, err := ReadMessage(bytes.NewReader(m.Bytes()))
			require.NoError(t, err)
			assert.Equal(t, tc.wantFrom, again.Get("From"))
			assert.Equal(t, tc.wantTo, again.Get("To"))
			assert.Equal(t, tc.to != nil, again.Has("To"))
			subject, err := new(mime.WordDecoder).DecodeHeader(again.Get("Subject"))
			require.NoError(t, err)
			assert.Equal(t, tc.subject, subject)
			_, err = mail.ParseDate(again.Get("Date"))
			assert.NoError(t, err)
			assert.True(t, strings.HasSuffix(again.Get("Message-ID"), tc.wantMsgIDEnd), again.Get("Message-ID"))
			assert.Equal(t, "1.0", again.Get("MIME-Version"))
			assert.Equal(t, "text/plain; charset=utf-8", again.Get("Content-Type"))
			assert.Equal(t, tc.wantCTE, again.Get("Content-Transfer-Encoding"))
			body := again.Body()
			if tc.wantCTE == "quoted-printable" {
				body, err = io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
				require.NoError(t, err)
			}
			assert.Equal(t, tc.wantBody, string(body))
			assert.True(t, isASCIIText(string(m.Bytes())) || !isASCIIText(tc.from+strings.Join(tc.to, "")),
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

func FuzzMessage(f *testing.F) {
	for _, name := range emlFiles(f) {
		f.Add(readEML(f, name))
	}
	f.Add([]byte("A: b"))
	f.Add([]byte("A: b\r\n \r\n\r\n"))
	f.Add([]byte("From x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ReadMessage(bytes.NewReader(data))
		if err != nil {
			var me *MessageError
			if !errors.As(err, &me) {
				t.Fatalf("error of the wrong type: %v", err)
			}
			return
		}
		out := m.Bytes()
		if !bytes.Equal(out, data) {
			t.Fatalf("write back differs:\n in %q\nout %q", data, out)
		}
		again, err := ReadMessage(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("cannot read back: %v", err)
		}
		if !assert.Equal(t, m.Fields(), again.Fields()) || !assert.Equal(t, m.Header(), again.Header()) ||
			!assert.Equal(t, m.Body(), again.Body()) {
			t.FailNow()
		}
		// Where net/mail reads the message too, the values agree.
		if nm, err := mail.ReadMessage(bytes.NewReader(data)); err == nil {
			if !assert.Equal(t, netMailView(nm.Header), netMailView(strictHeader(m))) {
				t.FailNow()
			}
		}
		// Edits keep the message readable with the same fields.
		c := m.Clone()
		c.Set("Subject", string(data))
		c.Add("X-Fuzz", string(data))
		c.Del("To")
		if !bytes.Equal(m.Bytes(), data) {
			t.Fatal("editing a clone changed the original")
		}
		edited, err := ReadMessage(bytes.NewReader(c.Bytes()))
		if err != nil {
			t.Fatalf("cannot read back an edited message: %v\n%q", err, c.Bytes())
		}
		if !assert.Equal(t, c.Fields(), edited.Fields()) || !assert.Equal(t, c.Values("X-Fuzz"), edited.Values("X-Fuzz")) {
			t.FailNow()
		}
	})
}

// strictHeader is Header without the fields written with blanks before the
// colon, which net/mail keeps under another name.
func strictHeader(m *Message) mail.Header {
	h := mail.Header{}
	for _, f := range m.fields {
		if bytes.HasPrefix(f.raw, []byte(f.name+":")) {
			k := textproto.CanonicalMIMEHeaderKey(f.name)
			h[k] = append(h[k], f.value())
		}
	}
	return h
}

// netMailView drops the names with blanks from a net/mail header.
func netMailView(h mail.Header) mail.Header {
	out := mail.Header{}
	for k, vs := range h {
		if !strings.ContainsAny(k, " \t") {
			out[k] = vs
		}
	}
	return out
}
