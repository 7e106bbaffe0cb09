package email

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// assertQPLines checks every quoted-printable body under m: no line of it
// is longer than 76 characters, soft line break included (RFC 2045
// section 6.7, rule 5), whatever Python's looser choice of encoding
// measured it against.
func assertQPLines(t *testing.T, m *Message) {
	t.Helper()
	for p := range m.Walk() {
		if p.IsMultipart() || !strings.EqualFold(p.raw("Content-Transfer-Encoding"), "quoted-printable") {
			continue
		}
		for i, line := range strings.Split(string(p.body), "\n") {
			line = strings.TrimSuffix(line, "\r")
			if !assert.LessOrEqual(t, len(line), 76, "quoted-printable line %d: %q", i, line) {
				return
			}
		}
	}
}

// TestQuotedPrintableLineLength: text that comes out quoted-printable,
// built or re-encoded, has lines of at most 76 characters, and decodes to
// what went in, for lines of every length around the limit, with escapes
// and blanks at every place near the cut.
func TestQuotedPrintableLineLength(t *testing.T) {
	rng := rand.New(rand.NewPCG(76, 78))
	pieces := []string{"a", "b", " ", "\t", "=", "é", "ü", ".", "x", "€"}
	for n := 60; n < 240; n++ {
		for k := 0; k < 8; k++ {
			var sb strings.Builder
			for sb.Len() < n {
				p := pieces[rng.IntN(len(pieces))]
				if k < 4 {
					p = pieces[rng.IntN(2)] // mostly ASCII letters, a few escapes
				}
				if rng.IntN(9) == 0 {
					p = "ä"
				}
				sb.WriteString(p)
			}
			text := sb.String() + strings.Repeat(" ", k%3) + "\n" + sb.String()

			enc := qpEncode([]byte(text), qpLineLen, "\r\n")
			for _, line := range strings.Split(string(enc), "\r\n") {
				require.LessOrEqual(t, len(line), 76, "%q", line)
			}
			assert.Equal(t, strings.ReplaceAll(text, "\n", "\r\n"), string(decodeQP(enc)), "%q", text)

			m := NewMessage("a@example.com", nil, "s", "")
			require.NoError(t, m.SetContent(text, ""))
			assertQPLines(t, m)
		}
	}

	// A read Latin-1 part with 8-bit bytes, re-encoded when the message
	// changes.
	long := bytes.Repeat([]byte("Gr\xfc\xdfe "), 40)
	m := mustRead(t, "From: a@example.com\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\n"+string(long)+"\r\n")
	require.NoError(t, m.AddAttachment([]byte("x"), "text", "plain", "x.txt"))
	again := reread(t, m)
	assert.Equal(t, "quoted-printable", partsOf(again)[0].raw("Content-Transfer-Encoding"))
	assertQPLines(t, again)
}
