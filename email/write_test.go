package email

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReader checks what Reader gives: the message without its mbox line,
// without Bcc and Resent-Bcc when asked, read in small pieces across the
// header and the body, and the size of that in CRLF form.
func TestReader(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		edit    func(m *Message)
		dropBcc bool
		want    string
	}{
		{"drops Bcc and Resent-Bcc, any case", "From x Mon\nbcc: a\n b\nTo: c\nRESENT-BCC: d\n\nbody\n", nil, true, "To: c\n\nbody\n"},
		{"keeps them when not asked", "From x Mon\nbcc: a\nTo: c\n\nbody\n", nil, false, "bcc: a\nTo: c\n\nbody\n"},
		{"no separator", "To: c", nil, true, "To: c"},
		{"body set on a message without separator", "To: c", func(m *Message) { m.SetBody([]byte("b")) }, true, "To: c\r\n\r\nb"},
		{"only Bcc", "Bcc: x\r\n\r\nb", nil, true, "\r\nb"},
		{"lone CR and LF counted as CRLF", "A: b\r\n\r\nx\ry\nz\r", nil, true, "A: b\r\n\r\nx\ry\nz\r"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := mustRead(t, tc.in)
			if tc.edit != nil {
				tc.edit(m)
			}
			r, size := m.Reader(tc.dropBcc)
			sr := r.(*segReader)
			assert.Equal(t, len(tc.want), sr.Len())
			crlf := strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(tc.want, "\r\n", "\n"), "\r", "\n"), "\n", "\r\n")
			assert.Equal(t, int64(len(crlf)), size, "the size in CRLF form")
			var buf bytes.Buffer
			// Small reads cross the header/body boundary.
			p := make([]byte, 3)
			for {
				n, err := r.Read(p)
				buf.Write(p[:n])
				if err != nil {
					break
				}
			}
			assert.Equal(t, tc.want, buf.String())
			assert.Equal(t, 0, sr.Len())
		})
	}
	var nilMsg *Message
	r, size := nilMsg.Reader(true)
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.Empty(t, b)
	assert.Zero(t, size)
}

// TestReaderOfBuiltMessage: a built message is read as WriteTo writes it,
// less its Bcc, and its size is exact.
func TestReaderOfBuiltMessage(t *testing.T) {
	m := NewMessage("a@example.com", []string{"b@example.org"}, "s", "Hi.\n")
	m.Set("Bcc", "c@example.net")
	require.NoError(t, m.AddAttachment(bytes.Repeat([]byte{0, 0xff}, 10_000), "application", "octet-stream", "x.bin"))
	r, size := m.Reader(true)
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	want := m.Clone()
	want.Del("Bcc")
	assert.Equal(t, string(want.Bytes()), string(got))
	assert.Equal(t, int64(len(got)), size, "built messages are CRLF already")
}

// TestCrlfLen checks the SIZE arithmetic on line ends split between parts.
func TestCrlfLen(t *testing.T) {
	tests := []struct {
		parts []string
		want  int64
	}{
		{nil, 0},
		{[]string{"a\r\nb"}, 4},
		{[]string{"a\nb\n"}, 6},
		{[]string{"a\rb\r"}, 6},
		{[]string{"a\r", "\nb"}, 4},
		{[]string{"a\r", "b"}, 4},
		{[]string{"\r\r\n\n"}, 6},
	}
	for _, tt := range tests {
		var parts [][]byte
		for _, p := range tt.parts {
			parts = append(parts, []byte(p))
		}
		assert.Equal(t, tt.want, crlfLen(parts...), "%q", tt.parts)
	}
}
