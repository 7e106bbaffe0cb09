package email

// Tests of editing the header: Set, Add and Del, and what they store. The
// helper mustRead is in message_test.go.

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/internal/textutil"
)

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
		{"blanks dropped at the start, kept at the end, as Python reads them", "  padded  ", "padded  ", 0},
		{"folded value unfolds", "a\r\n b", "a b", 0},
		{"long value folded at spaces", long, long, maxLineLength},
		{"long value with no space stays long", strings.Repeat("x", 1200), strings.Repeat("x", 1200), 1208},
		{"non-ASCII stored encoded (RFC 2047), read decoded", "Grüße 👋", "Grüße 👋", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := mustRead(t, "A: b\r\n\r\n")
			m.Set("X-Test", tc.value)
			assert.Equal(t, tc.want, m.Get("X-Test"))
			again, err := ReadMessage(bytes.NewReader(m.Bytes()))
			require.NoError(t, err)
			assert.Equal(t, tc.want, again.Get("X-Test"))
			assert.True(t, textutil.IsASCII(again.Header().Get("X-Test")), "stored as ASCII")
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
			assert.PanicsWithValue(t, "email: invalid header field name "+strconv.Quote(name), func() { m.Set(name, "v") })
			assert.Panics(t, func() { m.Add(name, "v") })
			assert.Equal(t, "A: b\r\n\r\n", string(m.Bytes()))
		})
	}
}
