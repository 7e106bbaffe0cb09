package email

// Tests of reading and writing messages: the samples in testdata/messages
// written back byte for byte, the values compared with net/mail, the
// errors, and the fuzz test. Editing and building messages are tested in
// message_edit_test.go.

import (
	"bytes"
	"errors"
	"io"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
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

// TestHeaderMatchesNetMail checks the values as sent, unfolded, against
// net/mail on every sample it can parse.
func TestHeaderMatchesNetMail(t *testing.T) {
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
				assert.Equal(t, vs, m.Header()[k], k)
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
				"SUBJECT":              "This subject is folded over three   lines",
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
			file: "rfc2047_subject.eml",
			get: map[string]string{"Subject": "Grüße aus München und mehr", "From": "Jörg Müller <joerg@example.de>",
				"To": "André <andre@example.fr>"},
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

// strictHeader is Header without the fields written with blanks before the
// colon, which net/mail keeps under another name.
func strictHeader(m *Message) mail.Header {
	h := mail.Header{}
	for _, f := range m.fields {
		if name := string(f.name()); bytes.HasPrefix(f.raw, []byte(name+":")) {
			k := textproto.CanonicalMIMEHeaderKey(name)
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

// TestZeroValue: a declared Message is Python's EmailMessage(): empty,
// then built with Set and SetContent as NewMessage's result is.
func TestZeroValue(t *testing.T) {
	var m Message
	assert.Empty(t, m.Bytes())
	assert.Empty(t, m.Get("Subject"))
	assert.Empty(t, m.Fields())
	assert.False(t, m.IsMultipart())
	assert.Equal(t, "text/plain", m.GetContentType())
	assert.Equal(t, []*Message{&m}, slices.Collect(m.Walk()))

	m.Set("Subject", "Grüße")
	require.NoError(t, m.SetContent("Hi.\n", ""))
	assert.Equal(t, "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\nContent-Type: text/plain; charset=utf-8\r\n"+
		"Content-Transfer-Encoding: 7bit\r\nMIME-Version: 1.0\r\n\r\nHi.\r\n", string(m.Bytes()),
		"Python's order: the fields set, then the content's, then MIME-Version")
	assert.Equal(t, "Grüße", m.Get("Subject"))

	var a Message
	require.NoError(t, a.AddAttachment([]byte("x"), "text", "plain", "x.txt"))
	again := reread(t, &a)
	assert.Equal(t, "multipart/mixed", again.GetContentType())
	require.Len(t, attachmentsOf(again), 1)
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
