package smtplib

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/gosmtplib/smtplib/internal/rawsrv"
	"github.com/gosmtplib/smtplib/smtptest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lineReader produces n bytes of message: a header, then lines of text,
// with no allocation per read.
type lineReader struct {
	left int64
	line []byte
	off  int
}

func newLineReader(n int64) *lineReader {
	return &lineReader{left: n, line: []byte(strings.Repeat("0123456789", 100) + "\r\n")}
}

func (r *lineReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && r.left > 0 {
		k := copy(p[n:min(len(p), n+int(min(r.left, int64(len(r.line)-r.off))))], r.line[r.off:])
		n += k
		r.left -= int64(k)
		r.off = (r.off + k) % len(r.line)
	}
	return n, nil
}

// discardSink is a server that accepts one message by DATA or BDAT and
// counts its bytes without keeping them. smtptest keeps what it receives
// and refuses messages over 64 MiB, so the sink is a raw server's handler.
func discardSink(t *testing.T, ext string) (srv *rawsrv.Server, received <-chan int64) {
	got := make(chan int64, 1)
	srv = newRawServer(t, func(conn net.Conn) {
		r := bufio.NewReaderSize(conn, 256<<10)
		w := bufio.NewWriter(conn)
		say := func(s string) { w.WriteString(s + "\r\n"); w.Flush() }
		say("220 sink")
		var n int64
		defer func() { got <- n }()
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			switch strings.ToUpper(strings.Fields(line + " x")[0]) {
			case "EHLO":
				say("250-sink\r\n250-" + ext + "\r\n250 8BITMIME")
			case "DATA":
				say("354 go")
				for {
					l, err := r.ReadSlice('\n')
					if err != nil && err != bufio.ErrBufferFull {
						return
					}
					if string(l) == ".\r\n" {
						break
					}
					n += int64(len(l))
				}
				say("250 ok")
			case "BDAT":
				size, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
				k, _ := io.CopyN(io.Discard, r, size)
				n += k
				say("250 ok")
			case "QUIT":
				say("221 bye")
				return
			default:
				say("250 ok")
			}
		}
	})
	return srv, got
}

// heldReader wraps the message reader of a streamed send and records, at
// each read, how far the bytes given to the client are ahead of the bytes
// it has written to the connection: what the client holds of the message.
type heldReader struct {
	r       io.Reader
	given   int64
	written *atomic.Int64
	maxHeld int64
}

func (h *heldReader) Read(p []byte) (int, error) {
	h.maxHeld = max(h.maxHeld, h.given-h.written.Load())
	n, err := h.r.Read(p)
	h.given += int64(n)
	return n, err
}

// TestStream256MB sends 256 MiB from a reader and checks that the client
// never holds more than its fixed buffers of it: what it has taken from
// the reader and not yet written to the connection stays under 2 MiB (a
// 1 MiB BDAT chunk, the 64 KiB write buffer, a 32 KiB read piece), so the
// message is never held in memory.
func TestStream256MB(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: streams 256 MiB")
	}
	// 256 MiB, rounded down to whole lines so that no CRLF is added.
	const size = (256 << 20) / 1002 * 1002
	for _, ext := range []string{"X-NONE", "CHUNKING"} {
		t.Run(ext, func(t *testing.T) {
			srv, received := discardSink(t, ext)
			d := &countingDialer{}
			c, err := Dial("127.0.0.1", srv.Port(), WithTimeout(30*time.Second), WithDialer(d))
			require.NoError(t, err)
			defer c.Close()
			_, err = c.Ehlo("")
			require.NoError(t, err)

			r := &heldReader{r: newLineReader(size), written: &d.written}
			_, err = c.SendmailReader("a@example.com", []string{"b@example.com"}, r)
			require.NoError(t, err)
			_, err = c.Quit()
			require.NoError(t, err)
			assert.EqualValues(t, size, <-received)
			assert.EqualValues(t, size, r.given)
			t.Logf("held at most %d KiB of %d bytes streamed (%s)", r.maxHeld>>10, size, ext)
			assert.Less(t, r.maxHeld, int64(2<<20), "constant memory, whatever the size")
		})
	}
}

// BenchmarkSendmail sends a 1 KB message per iteration over one connection
// to an in-process smtptest server on loopback.
func BenchmarkSendmail(b *testing.B) {
	msg := bytes.Repeat([]byte("Subject: bench\r\n\r\n"+strings.Repeat("x", 60)+"\r\n"), 1024/80)
	for _, mode := range modes {
		b.Run(mode.name, func(b *testing.B) {
			srv := smtptest.NewServer(b, smtptest.WithExtensions(mode.ext...))
			c, err := Dial(srv.Host(), srv.Port())
			require.NoError(b, err)
			defer c.Close()
			to := []string{"b@example.com"}
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := c.Sendmail("a@example.com", to, msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// sliceRecorder records where each slice written to it lies.
type sliceRecorder struct{ writes [][]byte }

func (r *sliceRecorder) Write(p []byte) (int, error) {
	r.writes = append(r.writes, p)
	return len(p), nil
}

// TestBodyFromMemoryNotCopied checks that a clean message in memory goes
// from the caller's slice to the data writer's destination without a copy,
// for DATA (with periods to double) and BDAT alike: every slice passed on
// lies inside the caller's message, except the doubled periods and the
// final ".\r\n".
func TestBodyFromMemoryNotCopied(t *testing.T) {
	line := "a line of a message, with its CRLF\r\n"
	msg := []byte(strings.Repeat(line, 3*chunkSize/len(line)) + ".a leading period\r\n" + strings.Repeat(line, 1000))
	inside := func(p []byte) bool {
		start := uintptr(unsafe.Pointer(unsafe.SliceData(msg)))
		at := uintptr(unsafe.Pointer(unsafe.SliceData(p)))
		return at >= start && at+uintptr(len(p)) <= start+uintptr(len(msg))
	}
	for _, stuff := range []bool{true, false} {
		rec := &sliceRecorder{}
		d := newDataWriter(rec, stuff)
		b := &body{b: msg, size: len(msg)}
		require.NoError(t, b.writeTo(&SMTP{}, d, firstChunkSize))
		require.NoError(t, d.finish())
		copied, total := 0, 0
		for _, p := range rec.writes {
			total += len(p)
			if !inside(p) {
				copied += len(p)
			}
		}
		assert.Equal(t, len(msg), total-copied, "stuff=%v: the whole message passed on from where it lies", stuff)
		if stuff {
			assert.Equal(t, len(".")+len(".\r\n"), copied, "only the doubled period and the terminator are new bytes")
		} else {
			assert.Zero(t, copied)
		}
	}
}
