package smtplib

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/internal/rawsrv"
	"github.com/gosmtplib/smtplib/smtptest"
)

// Tests of Sendmail with bodies streamed in constant memory, bodies
// passed from memory without a copy, contexts cancelled at every stage, and
// clients used concurrently.

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

// streamReader is an endless message for SendmailContext: it reports
// when n bytes have been read, then behaves as after does.
type streamReader struct {
	n         int
	read      int
	reached   chan struct{}
	once      sync.Once
	after     func() // called before each read past n
	line      []byte
	ctx       context.Context
	afterDone int // reads begun once ctx was done
}

func newStreamReader(n int, after func()) *streamReader {
	return &streamReader{n: n, reached: make(chan struct{}), after: after,
		line: []byte("Subject: endless\r\n" + strings.Repeat("x", 1000) + "\r\n")}
}

func (r *streamReader) Read(p []byte) (int, error) {
	if r.ctx != nil && r.ctx.Err() != nil {
		r.afterDone++
	}
	if r.read >= r.n {
		r.once.Do(func() { close(r.reached) })
		r.after()
	}
	k := 0
	for k < len(p) && k < 512 {
		p[k] = r.line[(r.read+k)%len(r.line)]
		k++
	}
	r.read += k
	return k, nil
}

// TestContextSendmailCancelMidData cancels SendmailContext from another
// goroutine once the message reader has given 100 KiB, in each mode, with
// readers of each kind. The property of each row: the call reads nothing
// more of the message once the context is done, its error is a
// *ServerDisconnectedError that wraps context.Canceled, the connection is
// closed (the server's session ends and the client's next call finds no
// connection), and no message was delivered.
func TestContextSendmailCancelMidData(t *testing.T) {
	readers := []struct {
		name       string
		regression string
		// make returns the reader for a context.
		make func(ctx context.Context) *streamReader
	}{
		{name: "a reader that blocks until the cancel, then streams", make: func(ctx context.Context) *streamReader {
			return newStreamReader(100<<10, func() { <-ctx.Done() })
		}},
		{name: "a reader that slows to 512 bytes every 10 ms", make: func(ctx context.Context) *streamReader {
			return newStreamReader(100<<10, func() { <-time.After(10 * time.Millisecond) })
		}, regression: "after the cancel the client goes on reading the message into its buffers (64 KiB for DATA, " +
			"a 1 MiB chunk for BDAT) before a write notices the deadline, so a slow reader delays the " +
			"return by seconds to minutes; body.writeTo could check the context before each Read (sendmail.go writeTo)"},
	}
	for _, mode := range modes {
		for _, rd := range readers {
			t.Run(mode.name+"/"+rd.name, func(t *testing.T) {
				srv := smtptest.NewServer(t, smtptest.WithExtensions(mode.ext...))
				c := dialTest(t, srv, WithTimeout(time.Minute))
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				r := rd.make(ctx)
				r.ctx = ctx
				reached := r.reached
				cancelled := make(chan struct{})
				go func() {
					select {
					case <-reached:
						close(cancelled)
						cancel()
					case <-ctx.Done():
					}
				}()

				refused, err := c.SendmailReaderContext(ctx, "a@example.com", []string{"b@example.com"}, r)

				assert.Nil(t, refused)
				select {
				case <-cancelled:
				default:
					t.Fatal("Sendmail returned before the cancel")
				}
				assert.Zero(t, r.afterDone, "no read of the message once the context is done")
				var sd *ServerDisconnectedError
				require.ErrorAs(t, err, &sd)
				assert.ErrorIs(t, err, context.Canceled)
				assertClosed(t, c)
				require.NoError(t, srv.WaitSessions(1, sessionWait), "the connection is closed")
				assert.Empty(t, srv.Messages())
			})
		}
	}
}

// TestContextSendmailWaitingForReply lets the context's deadline pass
// while the client waits for a reply the server never sends, at each
// point, in each mode; the client's own timeouts are the RFC's minutes.
// The property of each row: the call returns when the context ends, with
// a *ServerDisconnectedError wrapping context.DeadlineExceeded, and the
// client is closed.
func TestContextSendmailWaitingForReply(t *testing.T) {
	points := []struct {
		name  string
		fault func(chunking bool) smtptest.Fault
	}{
		{"EHLO", func(bool) smtptest.Fault { return smtptest.Fault{At: "EHLO", Action: smtptest.Stall} }},
		{"MAIL", func(bool) smtptest.Fault { return smtptest.Fault{At: "MAIL", Action: smtptest.Stall} }},
		{"RCPT", func(bool) smtptest.Fault { return smtptest.Fault{At: "RCPT", Action: smtptest.Stall} }},
		{"DATA or BDAT", func(chunking bool) smtptest.Fault {
			if chunking {
				return smtptest.Fault{At: "BDAT", Action: smtptest.Stall}
			}
			return smtptest.Fault{At: "DATA", Action: smtptest.Stall}
		}},
		{"the end of the data", func(bool) smtptest.Fault { return smtptest.Fault{At: "DOT", Action: smtptest.Stall} }},
	}
	for _, mode := range modes {
		for _, p := range points {
			t.Run(mode.name+"/"+p.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					h := newRawSMTP(t, mode.ext, p.fault(strings.Contains(mode.name, "chunking")))
					c := dialRaw(t, newRawPipes(t, h.serve), WithTimeout(0))
					ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
					defer cancel()

					start := time.Now()
					refused, err := c.SendmailReaderContext(ctx, "a@example.com", []string{"b@example.com"},
						bytes.NewReader([]byte("Subject: x\r\n\r\nbody\r\n")))

					assert.Equal(t, 300*time.Millisecond, time.Since(start), "ended by the context, not the RFC's minutes")
					assert.Nil(t, refused)
					var sd *ServerDisconnectedError
					require.ErrorAs(t, err, &sd)
					assert.ErrorIs(t, err, context.DeadlineExceeded)
					assertClosed(t, c)
				})
			})
		}
	}
}

// TestContextSendmailCancelledBefore passes a context that has already
// ended: nothing is sent, the error wraps context.Canceled, and the client
// is closed.
func TestContextSendmailCancelledBefore(t *testing.T) {
	srv := smtptest.NewServer(t)
	c := dialTest(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	refused, err := c.SendmailReaderContext(ctx, "a@example.com", []string{"b@example.com"}, strings.NewReader("x\r\n"))

	assert.Nil(t, refused)
	var sd *ServerDisconnectedError
	require.ErrorAs(t, err, &sd)
	assert.ErrorIs(t, err, context.Canceled)
	assertClosed(t, c)
	require.NoError(t, srv.WaitSessions(1, sessionWait))
	assert.NotContains(t, srv.Transcript(), "C: ", "nothing was sent")
}

// TestContextSendmailDoesNotOutliveCall ends the context after a
// successful SendmailContext: the session goes on, as the binding of the
// context to the connection ends with the call.
func TestContextSendmailDoesNotOutliveCall(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, smtptest.WithExtensions(mode.ext...))
			c := dialTest(t, srv)
			ctx, cancel := context.WithCancel(context.Background())
			refused, err := c.SendmailReaderContext(ctx, "a@example.com", []string{"b@example.com"}, strings.NewReader("x\r\n"))
			require.NoError(t, err)
			assert.Empty(t, refused)
			cancel()
			r, err := c.Noop()
			require.NoError(t, err)
			assert.Equal(t, 250, r.Code)
			assert.Len(t, srv.Messages(), 1)
		})
	}
}

// TestConcurrentClients runs 50 clients at once against one server, each
// in its own goroutine with its own *SMTP, each sending three messages in
// one session; the clients take turns at the four modes. The property:
// under the race detector, every message arrives once, intact, with its
// own envelope.
func TestConcurrentClients(t *testing.T) {
	const (
		clients  = 50
		messages = 3
	)
	srv := smtptest.NewServer(t, smtptest.WithExtensions("8BITMIME", "PIPELINING", "CHUNKING", "SIZE 10000000"))
	body := func(i, j int) string {
		return fmt.Sprintf("Subject: client %d message %d\r\n\r\n", i, j) +
			strings.Repeat(fmt.Sprintf(".line of client %d, message %d\n", i, j), 50*(j+1))
	}
	modeOpts := [][]Option{
		{WithoutPipelining(), WithoutChunking()},
		{WithoutChunking()},
		{WithoutPipelining()},
		nil,
	}
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			opts := append([]Option{WithLocalHostname("client.example"), WithTimeout(30 * time.Second)}, modeOpts[i%4]...)
			c, err := Dial(srv.Host(), srv.Port(), opts...)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for j := 0; j < messages; j++ {
				from := fmt.Sprintf("c%d-m%d@example.com", i, j)
				var refused map[string]Reply
				if j%2 == 0 {
					refused, err = c.Sendmail(from, []string{fmt.Sprintf("r%d@example.com", i)}, []byte(body(i, j)))
				} else {
					refused, err = c.SendmailReader(from, []string{fmt.Sprintf("r%d@example.com", i)},
						strings.NewReader(body(i, j)))
				}
				if err == nil && len(refused) > 0 {
					err = fmt.Errorf("refused: %v", refused)
				}
				if err != nil {
					errs <- fmt.Errorf("client %d message %d: %w", i, j, err)
					return
				}
			}
			if _, err := c.Quit(); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	require.NoError(t, srv.WaitSessions(clients, sessionWait))

	msgs := srv.Messages()
	require.Len(t, msgs, clients*messages)
	seen := map[string]bool{}
	for _, m := range msgs {
		var i, j int
		_, err := fmt.Sscanf(m.From, "c%d-m%d@example.com", &i, &j)
		require.NoError(t, err, m.From)
		assert.False(t, seen[m.From], "%s arrived once", m.From)
		seen[m.From] = true
		assert.Equal(t, []string{fmt.Sprintf("r%d@example.com", i)}, m.To)
		want := strings.ReplaceAll(body(i, j), "\n", "\r\n")
		want = strings.ReplaceAll(want, "\r\r\n", "\r\n")
		assert.Equal(t, want, string(m.Data), "message %s intact", m.From)
	}
	assert.Len(t, seen, clients*messages)
}

// failingReader gives n bytes of a message, then fails with err.
type failingReader struct {
	n   int
	err error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, r.err
	}
	k := min(len(p), r.n)
	for i := range p[:k] {
		p[i] = "line\r\n"[i%6]
	}
	r.n -= k
	return k, nil
}

// TestSendmailReaderFails streams a message whose reader fails half way,
// in every mode: the error is the reader's, told as such and not as the
// server's, the client is closed (the server is in the middle of the
// data), and no message arrives.
func TestSendmailReaderFails(t *testing.T) {
	errDisk := errors.New("disk read error")
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, smtptest.WithExtensions(mode.ext...))
			c := dialTest(t, srv)

			refused, err := c.SendmailReader("a@example.com", []string{"b@example.com"},
				&failingReader{n: 100 << 10, err: errDisk})

			assert.Nil(t, refused)
			assert.ErrorIs(t, err, errDisk)
			assert.EqualError(t, err, "smtplib: reading the message: disk read error")
			assert.NotErrorIs(t, err, ErrSMTP, "the reader failed, not the server")
			assertClosed(t, c)
			require.NoError(t, srv.WaitSessions(1, sessionWait))
			assert.Empty(t, srv.Messages())
		})
	}
}

// cancelAfterDialer dials TCP and calls cancel once the client has
// written n bytes, after the write that reached them has returned.
type cancelAfterDialer struct {
	n      int64
	cancel context.CancelFunc
}

func (d cancelAfterDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &cancelAfterConn{Conn: conn, d: d}, nil
}

type cancelAfterConn struct {
	net.Conn
	d       cancelAfterDialer
	written int64
}

func (c *cancelAfterConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if c.written < c.d.n && c.written+int64(n) >= c.d.n {
		c.d.cancel()
	}
	c.written += int64(n)
	return n, err
}

// TestSendmailContextFromMemoryStops ends the context once the first
// chunk of a message of three from memory has been written: the next piece
// is not, and the call fails with the context's error.
func TestSendmailContextFromMemoryStops(t *testing.T) {
	msg := bytes.Repeat([]byte(strings.Repeat("m", 62)+"\r\n"), 3*chunkSize/64)
	srv := smtptest.NewServer(t, smtptest.WithExtensions("CHUNKING"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := dialTest(t, srv, WithDialer(cancelAfterDialer{n: chunkSize, cancel: cancel}))

	_, err := c.SendmailContext(ctx, "a@example.com", []string{"b@example.com"}, msg)

	var sd *ServerDisconnectedError
	require.ErrorAs(t, err, &sd)
	assert.ErrorIs(t, err, context.Canceled)
	assertClosed(t, c)
	require.NoError(t, srv.WaitSessions(1, sessionWait))
	assert.Equal(t, []string{"C: BDAT 1048576"}, bdatLines(srv), "the first chunk went, and no other")
	assert.Empty(t, srv.Messages())
}
