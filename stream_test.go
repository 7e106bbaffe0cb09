package smtplib

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

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
// counts its bytes without keeping them, so that only the client's memory
// is measured.
func discardSink(t *testing.T, ext string) (addr string, received <-chan int64) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	got := make(chan int64, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			got <- -1
			return
		}
		defer conn.Close()
		r := bufio.NewReaderSize(conn, 256<<10)
		w := bufio.NewWriter(conn)
		say := func(s string) { w.WriteString(s + "\r\n"); w.Flush() }
		say("220 sink")
		var n int64
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				got <- n
				return
			}
			cmd := strings.ToUpper(strings.Fields(line + " x")[0])
			switch cmd {
			case "EHLO":
				say("250-sink\r\n250-" + ext + "\r\n250 8BITMIME")
			case "DATA":
				say("354 go")
				for {
					l, err := r.ReadSlice('\n')
					if err != nil && err != bufio.ErrBufferFull {
						got <- n
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
				got <- n
				return
			default:
				say("250 ok")
			}
		}
	}()
	return ln.Addr().String(), got
}

// TestStream256MB sends 256 MiB from a reader and checks that the client
// allocated only a small, fixed amount while doing it: the message is never
// held in memory.
func TestStream256MB(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: streams 256 MiB")
	}
	// 256 MiB, rounded down to whole lines so that no CRLF is added.
	const size = (256 << 20) / 1002 * 1002
	for _, ext := range []string{"X-NONE", "CHUNKING"} {
		t.Run(ext, func(t *testing.T) {
			addr, received := discardSink(t, ext)
			host, port, _ := net.SplitHostPort(addr)
			p, _ := strconv.Atoi(port)
			c, err := Dial(host, p, WithTimeout(30*time.Second))
			require.NoError(t, err)
			defer c.Close()
			_, err = c.Ehlo("")
			require.NoError(t, err)

			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err = c.SendmailReader("a@example.com", []string{"b@example.com"}, newLineReader(size))
			runtime.ReadMemStats(&after)
			require.NoError(t, err)
			_, err = c.Quit()
			require.NoError(t, err)
			assert.EqualValues(t, size, <-received)
			allocated := after.TotalAlloc - before.TotalAlloc
			t.Logf("allocated %d KiB for %d bytes streamed (%s)", allocated>>10, size, ext)
			// The sink allocates nothing per line; the client's buffers
			// (a 1 MiB chunk for BDAT, 32 KiB of read buffer) are the bound.
			assert.Less(t, allocated, uint64(4<<20), "constant memory, whatever the size")
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
