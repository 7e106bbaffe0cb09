package smtplib

import (
	"bytes"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/internal/textutil"
)

// reference is the data writer's specification, written the slow, obvious
// way with smtplib's regular expressions: line ends fixed, then periods
// quoted, then the terminator added.
func reference(in []byte, stuff bool) []byte {
	eol := regexp.MustCompile(`\r\n|\n|\r`)
	out := eol.ReplaceAll(in, []byte("\r\n"))
	if stuff {
		out = regexp.MustCompile(`(?m)^\.`).ReplaceAll(out, []byte(".."))
	}
	if len(out) < 2 || !bytes.HasSuffix(out, crlf) {
		out = append(out, crlf...)
	}
	if stuff {
		out = append(out, ".\r\n"...)
	}
	return out
}

// writeSplit feeds in to a data writer in pieces cut at the given offsets.
func writeSplit(in []byte, stuff bool, cuts ...int) []byte {
	var out bytes.Buffer
	d := newDataWriter(&out, stuff)
	prev := 0
	for _, c := range cuts {
		d.Write(in[prev:c])
		prev = c
	}
	d.Write(in[prev:])
	d.finish()
	return out.Bytes()
}

func TestDataWriter(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "\r\n.\r\n"},
		{"just CRLF", "\r\n", "\r\n.\r\n"},
		{"no final CRLF", "a", "a\r\n.\r\n"},
		{"clean", "a\r\nb\r\n", "a\r\nb\r\n.\r\n"},
		{"lone LF", "a\nb\n", "a\r\nb\r\n.\r\n"},
		{"lone CR", "a\rb\r", "a\r\nb\r\n.\r\n"},
		{"CR CR LF", "a\r\r\nb", "a\r\n\r\nb\r\n.\r\n"},
		{"LF CR", "a\n\rb", "a\r\n\r\nb\r\n.\r\n"},
		{"leading dot", ".a\r\n", "..a\r\n.\r\n"},
		{"dot lines", "a\r\n.\r\n.b\r\n..\r\n", "a\r\n..\r\n..b\r\n...\r\n.\r\n"},
		{"early end with LF", "a\n.\nb", "a\r\n..\r\nb\r\n.\r\n"},
		{"early end with CR", "a\r.\rb", "a\r\n..\r\nb\r\n.\r\n"},
		{"early end CRLF", "a\r\n.\r\nb", "a\r\n..\r\nb\r\n.\r\n"},
		{"dot not at line start", "a.b\r\n", "a.b\r\n.\r\n"},
		{"only a dot", ".", "..\r\n.\r\n"},
		{"NUL and 8-bit pass", "\x00\xff\r\n", "\x00\xff\r\n.\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			require.Equal(t, tt.want, string(reference(in, true)), "the reference agrees")
			assert.Equal(t, tt.want, string(writeSplit(in, true)))
			// Every single cut and every pair of cuts gives the same bytes.
			for i := 0; i <= len(in); i++ {
				assert.Equal(t, tt.want, string(writeSplit(in, true, i)), "cut at %d", i)
				for j := i; j <= len(in); j++ {
					assert.Equal(t, tt.want, string(writeSplit(in, true, i, j)), "cuts at %d,%d", i, j)
				}
			}
		})
	}
}

func TestDataWriterNoStuffing(t *testing.T) {
	in := []byte(".a\n.\r\nb\r")
	assert.Equal(t, ".a\r\n.\r\nb\r\n", string(writeSplit(in, false)))
	for i := 0; i <= len(in); i++ {
		assert.Equal(t, string(reference(in, false)), string(writeSplit(in, false, i)))
	}
}

func TestQuoteData(t *testing.T) {
	// Python: smtplib.quotedata(s), which adds no terminator.
	tests := map[string]string{
		"":               "",
		"a\n.b\r.c\r\n":  "a\r\n..b\r\n..c\r\n",
		".":              "..",
		"x\r":            "x\r\n",
		"no newline":     "no newline",
		"\n\n":           "\r\n\r\n",
		"..\r\n...":      "...\r\n....",
		"a\r\r\n\n\r\r.": "a\r\n\r\n\r\n\r\n\r\n..",
	}
	for in, want := range tests {
		assert.Equal(t, want, QuoteData(in), "%q", in)
	}
}

// FuzzDataWriter checks the one property that matters: whatever the input
// and however it is cut, the output is the reference's, so the data ends
// only at its terminator and unstuffs to the normalised input.
func FuzzDataWriter(f *testing.F) {
	for _, s := range []string{"", ".", "a\n.\nb", "\r.\r", "\r\n.\r\n", "x\r", "..\r\n"} {
		f.Add([]byte(s), uint16(0))
	}
	f.Fuzz(func(t *testing.T, in []byte, cut uint16) {
		c := 0
		if len(in) > 0 {
			c = int(cut) % (len(in) + 1)
		}
		out := writeSplit(in, true, c)
		want := reference(in, true)
		require.Equal(t, want, out)
		// What a server unstuffs is the input with CRLF line ends.
		body := out[:len(out)-3]
		unstuffed := regexp.MustCompile(`(?m)^\.`).ReplaceAll(body, nil)
		assert.Equal(t, reference(in, false), unstuffed)
		assert.False(t, bytes.Contains(out[:len(out)-3], []byte("\r\n.\r\n")), "no early end of data")
	})
}

// TestDataWriterCleanPath drives the path for text whose line ends are all
// CRLF with many such texts, periods at line starts among them, cut in
// two at every place, against the reference.
func TestDataWriterCleanPath(t *testing.T) {
	lines := []string{"", ".", "..", "a", ".b", "c.", "x.y", "\x00"}
	for a := range lines {
		for b := range lines {
			for c := range lines {
				for _, end := range []string{"", "\r\n"} {
					in := []byte(lines[a] + "\r\n" + lines[b] + "\r\n" + lines[c] + end)
					require.True(t, textutil.CleanCRLF(in))
					for _, stuff := range []bool{true, false} {
						want := string(reference(in, stuff))
						for i := 0; i <= len(in); i++ {
							assert.Equal(t, want, string(writeSplit(in, stuff, i)), "%q cut at %d", in, i)
						}
					}
				}
			}
		}
	}
}
