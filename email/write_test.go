package email

import (
	"bytes"
	"errors"
	"io"
	"strconv"
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
