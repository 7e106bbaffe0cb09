package smtplib

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

// poolDialer dials srv and counts the connections made.
type poolDialer struct {
	srv   *smtptest.Server
	dials atomic.Int32
}

func (d *poolDialer) dial(ctx context.Context) (*SMTP, error) {
	d.dials.Add(1)
	return DialContext(ctx, d.srv.Host(), d.srv.Port(), WithTimeout(30*time.Second))
}

// closePool closes p and checks that every goroutine of the pool returned.
func closePool(t *testing.T, p *Pool) {
	t.Helper()
	require.NoError(t, p.Close())
	assert.Zero(t, p.running.Load(), "every goroutine of the pool returned")
	p.mu.Lock()
	assert.Zero(t, p.open, "every connection was closed")
	assert.Empty(t, p.free)
	assert.Empty(t, p.conns, "no closed connection is kept")
	p.mu.Unlock()
}

// TestPoolConcurrentCallers has 50 goroutines send three mails each
// through a pool of 4 connections, in every mode: under the race detector
// every mail arrives once, with its own envelope and data, over at most 4
// connections.
func TestPoolConcurrentCallers(t *testing.T) {
	const callers, each = 50, 3
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, smtptest.WithExtensions(mode.ext...))
			d := &poolDialer{srv: srv}
			p := NewPool(d.dial, WithPoolSize(4))
			var wg sync.WaitGroup
			errs := make(chan error, callers*each)
			for i := 0; i < callers; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for j := 0; j < each; j++ {
						r := p.Send(context.Background(), Mail{
							From: fmt.Sprintf("c%d-m%d@example.com", i, j),
							To:   []string{fmt.Sprintf("r%d@example.com", i)},
							Data: []byte(fmt.Sprintf("Subject: %d %d\r\n\r\n.body %d %d\r\n", i, j, i, j)),
						})
						if r.Err != nil {
							errs <- fmt.Errorf("caller %d mail %d: %w", i, j, r.Err)
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				assert.NoError(t, err)
			}
			closePool(t, p)
			assert.LessOrEqual(t, int(d.dials.Load()), 4)
			msgs := srv.Messages()
			require.Len(t, msgs, callers*each)
			seen := map[string]bool{}
			for _, m := range msgs {
				var i, j int
				_, err := fmt.Sscanf(m.From, "c%d-m%d@example.com", &i, &j)
				require.NoError(t, err)
				assert.False(t, seen[m.From], "%s arrived once", m.From)
				seen[m.From] = true
				assert.Equal(t, []string{fmt.Sprintf("r%d@example.com", i)}, m.To)
				assert.Equal(t, fmt.Sprintf("Subject: %d %d\r\n\r\n.body %d %d\r\n", i, j, i, j), string(m.Data))
			}
		})
	}
}

// TestPoolMessagesPerConn checks the limit of mails per connection: seven
// mails over one connection at a time, three per connection, take three
// sessions, none carrying more than three.
func TestPoolMessagesPerConn(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithPipelining())
	d := &poolDialer{srv: srv}
	p := NewPool(d.dial, WithPoolSize(1), WithMaxMessagesPerConn(3))
	for i, m := range batchOf(7) {
		require.NoError(t, p.Send(context.Background(), m).Err, "mail %d", i)
	}
	closePool(t, p)
	assert.Equal(t, int32(3), d.dials.Load())
	require.NoError(t, srv.WaitSessions(3, 5*time.Second))
	for _, s := range srv.Sessions() {
		assert.LessOrEqual(t, strings.Count(s.Transcript, "C: mail from"), 3)
		assert.Contains(t, s.Transcript, "C: quit", "a full connection is closed with QUIT")
	}
	assert.Len(t, srv.Messages(), 7)
}

// TestPoolReplacesConnection checks that a connection that got 421, or was
// lost, is replaced: the next mail goes over a new one. A mail the lost
// connection never carried to its end of data is sent again on the new
// one; a refused mail and one whose delivery is unknown are not.
func TestPoolReplacesConnection(t *testing.T) {
	tests := []struct {
		name    string
		opt     smtptest.Option
		unknown bool
		resent  bool
	}{
		{name: "421", opt: smtptest.WithRefuseSender("m0@example.com", "421 4.3.2 shutting down")},
		{name: "dropped after the end of the data", opt: smtptest.WithFault(smtptest.Fault{At: "DOT"}), unknown: true},
		{name: "dropped at MAIL", opt: smtptest.WithFault(smtptest.Fault{At: "MAIL"}), resent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, smtptest.WithPipelining(), tt.opt)
			d := &poolDialer{srv: srv}
			p := NewPool(d.dial, WithPoolSize(1))
			mails := batchOf(2)
			r := p.Send(context.Background(), mails[0])
			want := []string{"m1@example.com"}
			if tt.resent {
				require.NoError(t, r.Err, "sent again on a new connection")
				want = []string{"m0@example.com", "m1@example.com"}
			} else {
				require.Error(t, r.Err)
				assert.Equal(t, tt.unknown, errors.Is(r.Err, ErrDeliveryUnknown), "%v", r.Err)
				assert.NotErrorIs(t, r.Err, ErrNotSent)
			}
			r = p.Send(context.Background(), mails[1])
			require.NoError(t, r.Err)
			assert.Equal(t, 250, r.Reply.Code)
			closePool(t, p)
			assert.Equal(t, int32(2), d.dials.Load())
			assert.Equal(t, want, deliveredFrom(srv))
		})
	}
}

// TestPoolDialFails checks that a failing dial is each waiting mail's
// error, and that the pool dials again for the next mail.
func TestPoolDialFails(t *testing.T) {
	srv := smtptest.NewServer(t)
	refused := errors.New("no route to the test server")
	var calls atomic.Int32
	p := NewPool(func(ctx context.Context) (*SMTP, error) {
		if calls.Add(1) == 1 {
			return nil, refused
		}
		return DialContext(ctx, srv.Host(), srv.Port(), WithTimeout(10*time.Second))
	}, WithPoolSize(1))
	mails := batchOf(2)
	r := p.Send(context.Background(), mails[0])
	assert.ErrorIs(t, r.Err, refused)
	r = p.Send(context.Background(), mails[1])
	assert.NoError(t, r.Err)
	closePool(t, p)
	assert.Equal(t, []string{"m1@example.com"}, deliveredFrom(srv))
}

// TestPoolCancelWaitingCaller fills the pool's only connection (its dial
// is held) and cancels a second caller that waits for it: that caller
// returns with its context's error, and its mail is never sent.
func TestPoolCancelWaitingCaller(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithPipelining())
	dialing := make(chan struct{})
	release := make(chan struct{})
	p := NewPool(func(ctx context.Context) (*SMTP, error) {
		close(dialing)
		<-release
		return DialContext(ctx, srv.Host(), srv.Port(), WithTimeout(10*time.Second))
	}, WithPoolSize(1))
	mails := batchOf(2)
	first := make(chan Result, 1)
	go func() { first <- p.Send(context.Background(), mails[0]) }()
	<-dialing // the only connection is busy with the first mail

	ctx, cancel := context.WithCancel(context.Background())
	second := make(chan Result, 1)
	go func() { second <- p.Send(ctx, mails[1]) }()
	cancel()
	r := <-second
	assert.ErrorIs(t, r.Err, context.Canceled)

	close(release)
	assert.NoError(t, (<-first).Err)
	closePool(t, p)
	assert.Equal(t, []string{"m0@example.com"}, deliveredFrom(srv), "the cancelled mail was not sent")
}

// TestPoolIdleTimeout checks that a connection with nothing to send is
// closed with QUIT, and that its place in the pool is freed.
func TestPoolIdleTimeout(t *testing.T) {
	srv := smtptest.NewServer(t)
	d := &poolDialer{srv: srv}
	p := NewPool(d.dial, WithPoolSize(2), WithIdleTimeout(20*time.Millisecond))
	require.NoError(t, p.Send(context.Background(), batchOf(1)[0]).Err)
	// The session ends only when the pool closes the idle connection.
	require.NoError(t, srv.WaitSessions(1, 10*time.Second))
	assert.Contains(t, srv.Sessions()[0].Transcript, "C: quit")
	// Its place is free again; a new mail dials another.
	require.NoError(t, p.Send(context.Background(), batchOf(1)[0]).Err)
	closePool(t, p)
	assert.Equal(t, int32(2), d.dials.Load())
}

// TestPoolClosed checks Send after Close, and that Close is idempotent.
func TestPoolClosed(t *testing.T) {
	srv := smtptest.NewServer(t)
	d := &poolDialer{srv: srv}
	p := NewPool(d.dial)
	closePool(t, p)
	assert.ErrorIs(t, p.Send(context.Background(), batchOf(1)[0]).Err, ErrPoolClosed)
	assert.NoError(t, p.Close())
	assert.Zero(t, d.dials.Load())
}

// TestPoolIdleConnectionClosed has the server close the pool's idle
// connection, silently or after a 421, in every mode: the next mail is
// not lost (it used to fail, and under CHUNKING as "delivery unknown"),
// but sent again, once, on a new connection.
func TestPoolIdleConnectionClosed(t *testing.T) {
	for _, mode := range modes {
		for _, way := range idleWays {
			t.Run(mode.name+"/"+way.name, func(t *testing.T) {
				configure, closeNow, closed := idleClose(way.with421)
				ws := newFlightServer(t, mode.ext, configure)
				var dials atomic.Int32
				p := NewPool(func(ctx context.Context) (*SMTP, error) {
					dials.Add(1)
					return DialContext(ctx, "127.0.0.1", ws.Port(), WithTimeout(testTimeout), probeAlways())
				}, WithPoolSize(1))
				mails := batchOf(2)
				r := p.Send(context.Background(), mails[0])
				require.NoError(t, r.Err)
				close(closeNow)
				<-closed

				r = p.Send(context.Background(), mails[1])
				require.NoError(t, r.Err, "sent again on a new connection")
				assert.Equal(t, "2.0.0 Ok: queued as WIRE1", r.Reply.Message, "the new session's first mail")
				closePool(t, p)
				assert.Equal(t, int32(2), dials.Load())
				assert.Equal(t, []string{"m0@example.com", "m1@example.com"}, ws.received())
			})
		}
	}
}

// TestPoolResendsOnce checks what the pool sends again: a mail refused
// (here a 421 to MAIL, the server's own answer) is not sent again; a mail
// whose connection is found closed is sent again once, and when the new
// connection fails too, or cannot be made, its result says it was not
// sent, with both reasons.
func TestPoolResendsOnce(t *testing.T) {
	ws := newFlightServer(t, []string{"PIPELINING", "CHUNKING"}, func(ws *flightServer) {
		ws.replies = func(verb string, n int) []string {
			if verb == "MAIL" {
				return []string{"421 4.3.2 going down"}
			}
			return nil
		}
	})
	var dials atomic.Int32
	p := NewPool(func(ctx context.Context) (*SMTP, error) {
		dials.Add(1)
		return DialContext(ctx, "127.0.0.1", ws.Port(), WithTimeout(testTimeout))
	}, WithPoolSize(1))
	r := p.Send(context.Background(), batchOf(1)[0])
	var refused *SenderRefusedError
	require.ErrorAs(t, r.Err, &refused, "a 421 to MAIL is the server's answer")
	assert.Equal(t, int32(1), dials.Load(), "a refused mail is not sent again")
	closePool(t, p)

	refusing := errors.New("dial refused")
	for _, redial := range []string{"closed again", "refused"} {
		t.Run(redial, func(t *testing.T) {
			var dials atomic.Int32
			p := NewPool(func(ctx context.Context) (*SMTP, error) {
				if dials.Add(1) > 1 && redial == "refused" {
					return nil, refusing
				}
				c, err := DialContext(ctx, "127.0.0.1", ws.Port(), WithTimeout(testTimeout))
				if err == nil {
					c.Close() // found closed when the mail goes
				}
				return c, err
			}, WithPoolSize(1))
			r := p.Send(context.Background(), batchOf(1)[0])
			assert.ErrorIs(t, r.Err, ErrNotSent)
			assert.Equal(t, int32(2), dials.Load(), "one dial for the mail, one to send it again")
			if redial == "refused" {
				assert.ErrorIs(t, r.Err, refusing, "the second connection could not be made")
			}
			closePool(t, p)
		})
	}
}
