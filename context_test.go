package smtplib

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

// blockingDialer is a WithDialer dialer that never connects: it reports
// that it was called and waits for its context to end.
type blockingDialer struct{ called chan struct{} }

func (d *blockingDialer) DialContext(ctx context.Context, _, _ string) (net.Conn, error) {
	close(d.called)
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestContextDial ends the context of a Dial function at each point before
// the session is established. The property of each row: the call returns
// a nil client when the context ends (the client's own timeouts are the
// RFC's minutes), and the error is a *ServerDisconnectedError for which
// errors.Is finds the context's error.
func TestContextDial(t *testing.T) {
	type dialFunc func(ctx context.Context, port int, opts ...Option) (any, error)
	dialSMTP := func(ctx context.Context, port int, opts ...Option) (any, error) {
		c, err := DialContext(ctx, "127.0.0.1", port, opts...)
		if c == nil {
			return nil, err
		}
		return c, err
	}
	dialSSL := func(ctx context.Context, port int, opts ...Option) (any, error) {
		c, err := DialSSLContext(ctx, "127.0.0.1", port, opts...)
		if c == nil {
			return nil, err
		}
		return c, err
	}
	dialLMTP := func(ctx context.Context, port int, opts ...Option) (any, error) {
		c, err := DialLMTPContext(ctx, "127.0.0.1", port, opts...)
		if c == nil {
			return nil, err
		}
		return c, err
	}
	// Each row gets a raw server whose handler it chooses, a channel
	// closed once the client is where the row wants it, and ends the
	// context then (cancel) or lets its deadline pass (expire).
	tests := []struct {
		name       string
		dial       dialFunc
		serve      func(conn net.Conn, arrived chan<- struct{})
		dialer     bool          // dial through a blockingDialer
		before     bool          // cancel before calling
		expire     time.Duration // a deadline instead of a cancel
		want       error
		regression string
	}{
		{name: "cancelled before the call", dial: dialSMTP, before: true,
			serve: func(c net.Conn, _ chan<- struct{}) { io.Copy(io.Discard, c) }, want: context.Canceled},
		{name: "cancelled during the dial", dial: dialSMTP, dialer: true, want: context.Canceled},
		{name: "expired during the dial", dial: dialSMTP, dialer: true, expire: 200 * time.Millisecond,
			want: context.DeadlineExceeded},
		{name: "cancelled while waiting for the greeting", dial: dialSMTP,
			serve: func(c net.Conn, arrived chan<- struct{}) { close(arrived); io.Copy(io.Discard, c) },
			want:  context.Canceled},
		{name: "expired while waiting for the greeting", dial: dialSMTP, expire: 200 * time.Millisecond,
			serve: func(c net.Conn, _ chan<- struct{}) { io.Copy(io.Discard, c) }, want: context.DeadlineExceeded},
		{name: "expired during a dripping greeting", dial: dialSMTP, expire: 200 * time.Millisecond,
			serve: func(c net.Conn, _ chan<- struct{}) { drip("220-slow\r\n", 20*time.Millisecond, false)(c) },
			want:  context.DeadlineExceeded,
			regression: "readReply takes the bytes read before the deadline for a whole line, so a greeting cut " +
				"after \"220-slow\\r\\n2\" is a reply with code 2 and Dial returns a ConnectError (reply.go readReply)"},
		{name: "SSL: cancelled during the TLS handshake", dial: dialSSL,
			serve: func(c net.Conn, arrived chan<- struct{}) { close(arrived); io.Copy(io.Discard, c) },
			want:  context.Canceled},
		{name: "SSL: expired during the TLS handshake", dial: dialSSL, expire: 200 * time.Millisecond,
			serve: func(c net.Conn, _ chan<- struct{}) { io.Copy(io.Discard, c) }, want: context.DeadlineExceeded},
		{name: "LMTP: cancelled while waiting for the greeting", dial: dialLMTP,
			serve: func(c net.Conn, arrived chan<- struct{}) { close(arrived); io.Copy(io.Discard, c) },
			want:  context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			arrived := make(chan struct{})
			port := 1 // never dialled: the dialer stands in
			if tt.serve != nil {
				var once sync.Once
				srv := newRawServer(t, func(c net.Conn) {
					once.Do(func() { tt.serve(c, arrived) })
				})
				port = srv.Port()
			}
			opts := []Option{WithLocalHostname("client.example")}
			if tt.dialer {
				d := &blockingDialer{called: make(chan struct{})}
				arrived = d.called
				opts = append(opts, WithDialer(d))
			}
			ctx, cancel := context.WithCancel(context.Background())
			if tt.expire > 0 {
				ctx, cancel = context.WithTimeout(context.Background(), tt.expire)
			}
			defer cancel()
			if tt.before {
				cancel()
			} else if tt.expire == 0 {
				go func() {
					select {
					case <-arrived:
						cancel()
					case <-ctx.Done():
					}
				}()
			}

			start := time.Now()
			c, err := tt.dial(ctx, port, opts...)
			elapsed := time.Since(start)

			assert.Nil(t, c)
			assert.ErrorIs(t, err, tt.want)
			var sd *ServerDisconnectedError
			assert.ErrorAs(t, err, &sd)
			assert.ErrorIs(t, err, ErrSMTP)
			assert.Less(t, elapsed, notStuck)
		})
	}
}

// TestContextDialDoesNotOutliveDial checks that the context of DialContext
// bounds the dial and the greeting only: ending it afterwards leaves the
// session usable.
func TestContextDialDoesNotOutliveDial(t *testing.T) {
	srv := smtptest.NewServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	c, err := DialContext(ctx, srv.Host(), srv.Port(), WithLocalHostname("client.example"))
	require.NoError(t, err)
	defer c.Close()
	cancel()
	r, err := c.Noop()
	require.NoError(t, err)
	assert.Equal(t, 250, r.Code)
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
	for _, mode := range robustModes {
		for _, rd := range readers {
			t.Run(mode.name+"/"+rd.name, func(t *testing.T) {
				srv := smtptest.NewServer(t, smtptest.WithExtensions(mode.ext...))
				c := robustDial(t, srv, WithTimeout(time.Minute))
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
				require.NoError(t, srv.WaitSessions(1, robustWait), "the connection is closed")
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
	for _, mode := range robustModes {
		for _, p := range points {
			t.Run(mode.name+"/"+p.name, func(t *testing.T) {
				t.Parallel()
				chunking := strings.Contains(mode.name, "chunking")
				srv := smtptest.NewServer(t, smtptest.WithExtensions(mode.ext...), smtptest.WithFault(p.fault(chunking)))
				c, err := Dial(srv.Host(), srv.Port(), WithLocalHostname("client.example"))
				require.NoError(t, err)
				defer c.Close()
				ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
				defer cancel()

				start := time.Now()
				refused, err := c.SendmailReaderContext(ctx, "a@example.com", []string{"b@example.com"},
					bytes.NewReader([]byte("Subject: x\r\n\r\nbody\r\n")))

				assert.Less(t, time.Since(start), notStuck, "ended by the context, not the RFC's minutes")
				assert.Nil(t, refused)
				var sd *ServerDisconnectedError
				require.ErrorAs(t, err, &sd)
				assert.ErrorIs(t, err, context.DeadlineExceeded)
				assertClosed(t, c)
			})
		}
	}
}

// TestContextSendmailCancelledBefore passes a context that has already
// ended: nothing is sent, the error wraps context.Canceled, and the client
// is closed.
func TestContextSendmailCancelledBefore(t *testing.T) {
	srv := smtptest.NewServer(t)
	c := robustDial(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	refused, err := c.SendmailReaderContext(ctx, "a@example.com", []string{"b@example.com"}, strings.NewReader("x\r\n"))

	assert.Nil(t, refused)
	var sd *ServerDisconnectedError
	require.ErrorAs(t, err, &sd)
	assert.ErrorIs(t, err, context.Canceled)
	assertClosed(t, c)
	require.NoError(t, srv.WaitSessions(1, robustWait))
	assert.NotContains(t, srv.Transcript(), "C: ", "nothing was sent")
}

// TestContextSendmailDoesNotOutliveCall ends the context after a
// successful SendmailContext: the session goes on, as the binding of the
// context to the connection ends with the call.
func TestContextSendmailDoesNotOutliveCall(t *testing.T) {
	for _, mode := range robustModes {
		t.Run(mode.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, smtptest.WithExtensions(mode.ext...))
			c := robustDial(t, srv)
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
