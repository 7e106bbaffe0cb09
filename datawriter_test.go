package smtplib

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/internal/textutil"
	"github.com/gosmtplib/smtplib/smtptest"
)

// Tests of the data writer: line ends made CRLF and line-starting periods
// doubled, whatever the cuts between writes, against a reference written
// the obvious way; then end to end, bodies that would end the data early
// and periods right after a read boundary of a streamed body.

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

// TestInjectionDataBody sends bodies that hold, or end with, what would end
// the data early if sent as is. The property of each row: in every mode,
// from a []byte, from an io.Reader that gives one byte at a time (so every
// CR, LF and period falls on a read boundary) and through Data, exactly one
// message arrives, its data is the body with every lone CR and LF made
// CRLF (and a final CRLF added), and nothing in it was read as a command.
func TestInjectionDataBody(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{"lone LF", "a\nb", "a\r\nb\r\n"},
		{"lone CR", "a\rb", "a\r\nb\r\n"},
		{"LF dot LF in the middle", "a\n.\nRSET\nMAIL FROM:<evil@example.com>\n", "a\r\n.\r\nRSET\r\nMAIL FROM:<evil@example.com>\r\n"},
		{"CR dot CR in the middle", "a\r.\rQUIT\r", "a\r\n.\r\nQUIT\r\n"},
		{"CRLF dot CRLF in the middle", "a\r\n.\r\nMAIL FROM:<evil@example.com>\r\nRCPT TO:<x@example.com>\r\nDATA\r\n",
			"a\r\n.\r\nMAIL FROM:<evil@example.com>\r\nRCPT TO:<x@example.com>\r\nDATA\r\n"},
		{"LF dot CRLF", "a\n.\r\nQUIT\r\n", "a\r\n.\r\nQUIT\r\n"},
		{"CR dot LF", "a\r.\nQUIT\n", "a\r\n.\r\nQUIT\r\n"},
		{"CR CR LF dot", "a\r\r\n.\r\nx", "a\r\n\r\n.\r\nx\r\n"},
		{"LF CR dot", "a\n\r.\n\r", "a\r\n\r\n.\r\n\r\n"},
		{"ends in CRLF dot", "a\r\n.", "a\r\n.\r\n"},
		{"ends in LF dot", "a\n.", "a\r\n.\r\n"},
		{"ends in CR dot", "a\r.", "a\r\n.\r\n"},
		{"ends in CRLF dot CR", "a\r\n.\r", "a\r\n.\r\n"},
		{"ends in CRLF dot CRLF", "a\r\n.\r\n", "a\r\n.\r\n"},
		{"only a dot", ".", ".\r\n"},
		{"only dot CRLF", ".\r\n", ".\r\n"},
		{"starts with dot CRLF", ".\r\nQUIT\r\n", ".\r\nQUIT\r\n"},
		{"two dots", "..\r\n..", "..\r\n..\r\n"},
		{"empty", "", "\r\n"},
		{"NUL and high bytes", "a\x00b\xff\r\n\x00.\r\n", "a\x00b\xff\r\n\x00.\r\n"},
		{"a BDAT command in the body", "BDAT 5 LAST\r\nRSET\r\n", "BDAT 5 LAST\r\nRSET\r\n"},
	}
	sources := []struct {
		name string
		send func(c *SMTP, body string) error
	}{
		{"Sendmail []byte", func(c *SMTP, body string) error {
			_, err := c.Sendmail("a@example.com", []string{"b@example.com"}, []byte(body))
			return err
		}},
		{"SendmailReader one byte at a time", func(c *SMTP, body string) error {
			_, err := c.SendmailReader("a@example.com", []string{"b@example.com"},
				iotest.OneByteReader(strings.NewReader(body)))
			return err
		}},
		{"SendmailReader in one read", func(c *SMTP, body string) error {
			_, err := c.SendmailReader("a@example.com", []string{"b@example.com"},
				io.MultiReader(strings.NewReader(body)))
			return err
		}},
		{"Data", func(c *SMTP, body string) error {
			if err := c.EhloOrHeloIfNeeded(); err != nil {
				return err
			}
			if r, err := c.Mail("a@example.com"); err != nil || r.Code != 250 {
				return errors.Join(err, &SenderRefusedError{respErr(r), "a@example.com"})
			}
			if r, err := c.Rcpt("b@example.com"); err != nil || r.Code != 250 {
				return errors.Join(err, &RecipientsRefusedError{Recipients: map[string]Reply{"b@example.com": r}})
			}
			r, err := c.Data([]byte(body))
			if err == nil && r.Code != 250 {
				return &DataError{respErr(r)}
			}
			return err
		}},
	}
	for _, mode := range modes {
		for _, src := range sources {
			for _, tt := range tests {
				t.Run(mode.name+"/"+src.name+"/"+tt.name, func(t *testing.T) {
					srv := smtptest.NewServer(t, smtptest.WithExtensions(mode.ext...))
					c := dialTest(t, srv)

					require.NoError(t, src.send(c, tt.body))
					_, err := c.Quit()
					require.NoError(t, err)
					require.NoError(t, srv.WaitSessions(1, sessionWait))

					msgs := srv.Messages()
					require.Len(t, msgs, 1, "one message")
					assert.Equal(t, tt.want, string(msgs[0].Data), "the body arrived as text")
					chunked := strings.Contains(mode.name, "chunking") && src.name != "Data"
					assert.Equal(t, chunked, msgs[0].Chunked)
					if !msgs[0].Chunked {
						assert.True(t, bytes.HasSuffix(msgs[0].Raw, []byte("\r\n.\r\n")))
						assert.Equal(t, 1, bytes.Count(append([]byte("\r\n"), msgs[0].Raw...), []byte("\r\n.\r\n")),
							"one end of data on the wire")
					}
					cmds := 0
					for _, l := range strings.Split(srv.Transcript(), "\n") {
						if strings.HasPrefix(l, "C: ") && !strings.HasPrefix(l, "C: <") {
							cmds++
						}
					}
					wantCmds := 5 // EHLO, MAIL, RCPT, DATA or BDAT, QUIT
					assert.Equal(t, wantCmds, cmds, "no command came from the body:\n%s", srv.Transcript())
				})
			}
		}
	}
}

// piecesReader gives its pieces one Read each, so that a test chooses
// where the reads of a streamed message end.
type piecesReader struct{ pieces []string }

func (r *piecesReader) Read(p []byte) (int, error) {
	if len(r.pieces) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.pieces[0])
	r.pieces[0] = r.pieces[0][n:]
	if r.pieces[0] == "" {
		r.pieces = r.pieces[1:]
	}
	return n, nil
}

// TestSendmailReaderDotAtReadBoundary streams messages whose reads end
// right before a line-starting period, after every kind of line end, and
// checks the bytes the server got: with DATA the period is doubled,
// whichever read it comes in; with BDAT it goes as it is, in a chunk whose
// size counts it once.
func TestSendmailReaderDotAtReadBoundary(t *testing.T) {
	tests := []struct {
		name   string
		pieces []string
		lines  []string // the message as it goes with BDAT, line by line
	}{
		{"after CRLF", []string{"Subject: s\r\n\r\nfirst\r\n", ".x second\r\n"},
			[]string{"Subject: s", "", "first", ".x second"}},
		{"after CRLF, a bare LF next", []string{"Subject: s\r\n\r\nfirst\r\n", ".x second\n"},
			[]string{"Subject: s", "", "first", ".x second"}},
		{"after a CR, its LF next", []string{"Subject: s\r\n\r\nfirst\r", "\n.x second\r\n"},
			[]string{"Subject: s", "", "first", ".x second"}},
		{"after a bare LF", []string{"Subject: s\r\n\r\nfirst\n", ".x second\r\n"},
			[]string{"Subject: s", "", "first", ".x second"}},
		{"a read of a lone period", []string{"Subject: s\r\n\r\nfirst\r\n", ".", "\r\nlast\r\n"},
			[]string{"Subject: s", "", "first", ".", "last"}},
	}
	for _, tt := range tests {
		for _, chunking := range []bool{false, true} {
			name := tt.name + "/DATA"
			if chunking {
				name = tt.name + "/BDAT"
			}
			t.Run(name, func(t *testing.T) {
				// The envelope, then the data: one "C" for each line the
				// client sends after it.
				script := "S: 220 wire.example ESMTP\nC\nS: 250 wire.example\nC\nS: 250 ok\nC\nS: 250 ok\n"
				want := []string{"ehlo client.example", "mail from:<a@example.com>", "rcpt to:<b@example.com>"}
				if chunking {
					script = strings.Replace(script, "S: 250 wire.example", "S: 250-wire.example\nS: 250 CHUNKING", 1)
					data := strings.Join(tt.lines, "\r\n") + "\r\n"
					want = append(append(want, "BDAT "+strconv.Itoa(len(data))+" LAST"), tt.lines...)
				} else {
					script += "C\nS: 354 go on\n"
					want = append(want, "data")
					for _, l := range tt.lines {
						if strings.HasPrefix(l, ".") {
							l = "." + l
						}
						want = append(want, l)
					}
					want = append(want, ".")
				}
				script += strings.Repeat("C\n", len(want)-strings.Count(script, "C\n")) + "S: 250 queued"
				srv := newScriptServer(t, script)
				c := dialRaw(t, srv)
				pieces := append([]string(nil), tt.pieces...)
				_, err := c.SendmailReader("a@example.com", []string{"b@example.com"}, &piecesReader{pieces})
				require.NoError(t, err)
				c.Close()
				assert.Equal(t, wire(want...), srv.received())
			})
		}
	}
}
