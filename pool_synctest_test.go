package smtplib

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/internal/rawsrv"
)

// The pool's timers and hand-offs, tested under testing/synctest: the
// clock is fake and moves only when every goroutine is blocked, so a test
// can put a connection's idle timer exactly before or after a reuse, and
// synctest.Wait tells when the pool has done all it can.

// pipeServer is a minimal SMTP server over pipes (no extensions, so one
// command at a time). It records each session's senders and QUIT; while
// stall is set it holds its reply to the end of data until stall is
// closed, and when noopReply is set it answers NOOP once that is closed.
// When gate is set, every session holds its reply to the end of data
// until gate is closed; when muteQuit is set, QUIT gets no reply.
type pipeServer struct {
	mu        sync.Mutex
	sessions  int
	quits     int
	from      []string
	stall     chan struct{}
	noopReply chan struct{}
	gate      chan struct{}
	muteQuit  bool
}

func (ps *pipeServer) holdData() chan struct{} {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.stall = make(chan struct{})
	return ps.stall
}

func (ps *pipeServer) counts() (sessions, quits int, from []string) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return ps.sessions, ps.quits, append([]string(nil), ps.from...)
}

func (ps *pipeServer) serve(conn net.Conn) {
	ps.mu.Lock()
	ps.sessions++
	ps.mu.Unlock()
	r := bufio.NewReader(conn)
	say := func(s string) bool { _, err := conn.Write([]byte(s)); return err == nil }
	if !say("220 mx.example\r\n") {
		return
	}
	inData := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.TrimRight(line, "\r\n")
		reply := "250 ok\r\n"
		switch lower := strings.ToLower(cmd); {
		case inData && cmd != ".":
			continue
		case inData:
			inData = false
			ps.mu.Lock()
			stall := ps.stall
			ps.stall = nil
			ps.mu.Unlock()
			if stall != nil {
				<-stall
			}
			if ps.gate != nil {
				<-ps.gate
			}
			reply = "250 queued\r\n"
		case strings.HasPrefix(lower, "mail from:"):
			ps.mu.Lock()
			ps.from = append(ps.from, strings.Trim(cmd[len("mail from:"):], "<>"))
			ps.mu.Unlock()
		case lower == "data":
			reply, inData = "354 go on\r\n", true
		case lower == "noop" && ps.noopReply != nil:
			<-ps.noopReply
		case lower == "quit":
			ps.mu.Lock()
			ps.quits++
			ps.mu.Unlock()
			if ps.muteQuit {
				io.Copy(io.Discard, conn) // until the client closes
				return
			}
			say("221 bye\r\n")
			return
		}
		if !say(reply) {
			return
		}
	}
}

// dialer returns a Pool's dial function over pipes to ps.
func (ps *pipeServer) dialer() (*rawsrv.Pipes, func(ctx context.Context) (*SMTP, error)) {
	pipes := rawsrv.NewPipes(ps.serve)
	return pipes, func(ctx context.Context) (*SMTP, error) {
		return DialContext(ctx, "mx.example", 25, WithDialer(pipes),
			WithLocalHostname("client.example"), WithTimeout(10*time.Minute))
	}
}

// TestPoolIdleTimerRestarts checks the idle timeout against reuse: a
// connection used again before its timer fires is closed only a whole
// idle timeout after that use, and so is one that was busy when its timer
// fired.
func TestPoolIdleTimerRestarts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ps := &pipeServer{}
		pipes, dial := ps.dialer()
		p := NewPool(dial, WithPoolSize(1), WithIdleTimeout(30*time.Second))
		mails := batchOf(4)
		quitsAt := func(want int, when string) {
			t.Helper()
			synctest.Wait()
			_, quits, _ := ps.counts()
			assert.Equal(t, want, quits, when)
		}

		require.NoError(t, p.Send(context.Background(), mails[0]).Err) // t=0: the timer is set for t=30
		time.Sleep(20 * time.Second)
		require.NoError(t, p.Send(context.Background(), mails[1]).Err) // t=20: idle again from here
		time.Sleep(15 * time.Second)
		quitsAt(0, "t=35: used at t=20, the connection stays open")
		time.Sleep(20 * time.Second)
		quitsAt(1, "t=55: idle since t=20, the connection is closed")

		// A connection whose timer fires while it carries a mail.
		require.NoError(t, p.Send(context.Background(), mails[2]).Err) // t=55: a new connection, timer for t=85
		stall := ps.holdData()
		res := make(chan Result, 1)
		go func() { res <- p.Send(context.Background(), mails[3]) }()
		time.Sleep(40 * time.Second)
		quitsAt(1, "t=95: the timer fired at t=85 while a mail was in flight")
		close(stall)
		require.NoError(t, (<-res).Err) // t=95: free again
		time.Sleep(25 * time.Second)
		quitsAt(1, "t=120: free since t=95")
		time.Sleep(10 * time.Second)
		quitsAt(2, "t=130: idle for 35 s, closed")

		closePool(t, p)
		pipes.Wait()
		sessions, _, from := ps.counts()
		assert.Equal(t, 2, sessions)
		assert.Equal(t, []string{"m0@example.com", "m1@example.com", "m2@example.com", "m3@example.com"}, from)
	})
}

// TestPoolCloseWhileSending closes a pool whose only connection carries a
// mail while another mail waits: the waiting caller gets ErrPoolClosed at
// once, Close waits for the mail in flight, which is delivered, and then
// closes the connection with QUIT.
func TestPoolCloseWhileSending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ps := &pipeServer{}
		pipes, dial := ps.dialer()
		p := NewPool(dial, WithPoolSize(1))
		mails := batchOf(2)
		stall := ps.holdData()
		first, second := make(chan Result, 1), make(chan Result, 1)
		go func() { first <- p.Send(context.Background(), mails[0]) }()
		synctest.Wait() // the first mail waits for the server's reply
		go func() { second <- p.Send(context.Background(), mails[1]) }()
		synctest.Wait() // the second waits for the connection
		closed := make(chan error, 1)
		go func() { closed <- p.Close() }()
		synctest.Wait()

		r := <-second
		assert.ErrorIs(t, r.Err, ErrPoolClosed)
		select {
		case <-closed:
			t.Fatal("Close returned while a mail was in flight")
		default:
		}
		close(stall)
		assert.NoError(t, (<-first).Err)
		assert.NoError(t, <-closed)
		pipes.Wait()
		sessions, quits, from := ps.counts()
		assert.Equal(t, 1, sessions)
		assert.Equal(t, 1, quits, "the connection was closed with QUIT")
		assert.Equal(t, []string{"m0@example.com"}, from)
		closePool(t, p)
	})
}

// TestPoolFailedDialHandsOn fails the pool's only dial while two mails
// wait: the first mail gets the dial's error, and the place passes to the
// next mail, whose caller gives up while it dials: that mail is not sent,
// and the place passes on to the last mail, which is.
func TestPoolFailedDialHandsOn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ps := &pipeServer{}
		pipes, dial := ps.dialer()
		refused := errors.New("connection refused")
		gate := make(chan struct{})
		var dials int
		leadCtx, cancelLead := context.WithCancel(context.Background())
		defer cancelLead()
		p := NewPool(func(ctx context.Context) (*SMTP, error) {
			dials++ // the pool's one place dials one at a time
			if dials == 1 {
				<-gate
				return nil, refused
			}
			cancelLead() // the second mail's caller gives up during its dial
			return dial(ctx)
		}, WithPoolSize(1))
		mails := batchOf(3)
		results := make([]chan Result, 3)
		ctxs := []context.Context{context.Background(), leadCtx, context.Background()}
		for i := range results {
			results[i] = make(chan Result, 1)
			go func() { results[i] <- p.Send(ctxs[i], mails[i]) }()
			synctest.Wait() // queued in order
		}
		close(gate)
		assert.ErrorIs(t, (<-results[0]).Err, refused)
		r := <-results[1]
		assert.ErrorIs(t, r.Err, context.Canceled)
		assert.ErrorIs(t, r.Err, ErrNotSent)
		assert.NoError(t, (<-results[2]).Err, "the place passed on")
		closePool(t, p)
		pipes.Wait()
		assert.Equal(t, 3, dials)
		_, _, from := ps.counts()
		assert.Equal(t, []string{"m2@example.com"}, from)
	})
}

// fourOpen has four callers send at once through p, of size 4, while ps
// holds every session's data: each caller dials a connection of its own.
// They all return, and leave four connections free.
func fourOpen(t *testing.T, p *Pool, ps *pipeServer) {
	ps.gate = make(chan struct{})
	var wg sync.WaitGroup
	for _, m := range batchOf(4) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, p.Send(context.Background(), m).Err)
		}()
	}
	synctest.Wait()
	close(ps.gate)
	wg.Wait()
	sessions, _, _ := ps.counts()
	require.Equal(t, 4, sessions)
}

// TestPoolCloseQuitsAtOnce closes a pool of four connections to a server
// that never answers QUIT: the QUITs go out together, so Close takes one
// timeout of the clients, not four (it used to take four, and with the
// default timeouts four times five minutes).
func TestPoolCloseQuitsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ps := &pipeServer{muteQuit: true}
		pipes := rawsrv.NewPipes(ps.serve)
		p := NewPool(func(ctx context.Context) (*SMTP, error) {
			return DialContext(ctx, "mx.example", 25, WithDialer(pipes), WithTimeout(time.Second))
		}, WithPoolSize(4))
		fourOpen(t, p, ps)

		start := time.Now()
		require.NoError(t, p.Close())
		assert.Equal(t, time.Second, time.Since(start), "one timeout, on the fake clock")
		pipes.Wait()
		_, quits, _ := ps.counts()
		assert.Equal(t, 4, quits)
		closePool(t, p)
	})
}

// TestPoolCloseContext gives Close less time than the QUITs need, and
// then also less than a mail in flight needs: CloseContext returns when
// its context ends, with its error, every connection closed, and the mail
// in flight reported unknown (its data had gone).
func TestPoolCloseContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ps := &pipeServer{muteQuit: true}
		pipes := rawsrv.NewPipes(ps.serve)
		p := NewPool(func(ctx context.Context) (*SMTP, error) {
			return DialContext(ctx, "mx.example", 25, WithDialer(pipes), WithTimeout(time.Hour))
		}, WithPoolSize(4))
		fourOpen(t, p, ps)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		assert.ErrorIs(t, p.CloseContext(ctx), context.DeadlineExceeded)
		assert.Equal(t, 100*time.Millisecond, time.Since(start))
		pipes.Wait()
		closePool(t, p)

		ps = &pipeServer{}
		pipes = rawsrv.NewPipes(ps.serve)
		p = NewPool(func(ctx context.Context) (*SMTP, error) {
			return DialContext(ctx, "mx.example", 25, WithDialer(pipes), WithTimeout(time.Hour))
		}, WithPoolSize(1))
		stall := ps.holdData()
		defer close(stall)
		sent := make(chan Result, 1)
		go func() { sent <- p.Send(context.Background(), batchOf(1)[0]) }()
		synctest.Wait() // the mail waits for the server's reply to its data
		ctx, cancel = context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		assert.ErrorIs(t, p.CloseContext(ctx), context.DeadlineExceeded)
		r := <-sent
		assert.ErrorIs(t, r.Err, ErrDeliveryUnknown, "%v", r.Err)
		closePool(t, p)
	})
}

// delayServer answers over pipes as a server one round trip away: each
// reply leaves rtt after the command it answers arrived, in order, as a
// server behind a network would be seen. It offers ext after EHLO and
// counts the mails whose data arrived.
type delayServer struct {
	rtt   time.Duration
	ext   []string
	mu    sync.Mutex
	mails int
}

// delayedReplies writes each text given to say on conn a round trip rtt
// after it was said, in order, while the caller reads on: a server one
// round trip away, on the fake clock. done waits for the last to go.
func delayedReplies(conn net.Conn, rtt time.Duration) (say func(text string), done func()) {
	type reply struct {
		due  time.Time
		text string
	}
	replies := make(chan reply, 1024)
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for r := range replies {
			time.Sleep(time.Until(r.due))
			if _, err := conn.Write([]byte(r.text)); err != nil {
				for range replies {
				}
				return
			}
		}
	}()
	say = func(text string) { replies <- reply{time.Now().Add(rtt), text} }
	return say, func() { close(replies); <-sent }
}

func (d *delayServer) serve(conn net.Conn) {
	say, done := delayedReplies(conn, d.rtt)
	defer done()
	say("220 delay.example\r\n")
	r := bufio.NewReader(conn)
	got := func() {
		d.mu.Lock()
		d.mails++
		d.mu.Unlock()
		say("250 2.0.0 queued\r\n")
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		verb, args, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			text := "250-delay.example\r\n"
			for _, e := range d.ext {
				text += "250-" + e + "\r\n"
			}
			say(text + "250 8BITMIME\r\n")
		case "DATA":
			say("354 go on\r\n")
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
			}
			got()
		case "BDAT":
			f := strings.Fields(args)
			n, _ := strconv.Atoi(f[0])
			if _, err := io.CopyN(io.Discard, r, int64(n)); err != nil {
				return
			}
			if len(f) > 1 {
				got()
			} else {
				say("250 2.0.0 chunk\r\n")
			}
		case "QUIT":
			say("221 bye\r\n")
			return
		default:
			say("250 2.0.0 ok\r\n")
		}
	}
}

// TestPoolPipelineAcrossLatency has 8 callers a connection send 10 mails
// each, over one connection and over four, to a server a round trip of
// 2 ms away (on the fake clock):
// the connection is one continuous pipeline, so without CHUNKING each mail
// costs one round trip (its data waits for 354, and the next mail's
// envelope rides with it), and with CHUNKING the 8 callers' mails share
// each flight; no caller waits more than 4 round trips for its result.
// A pool that sent its waiting mails batch after batch paid a round trip
// more for each batch, and its callers waited for whole batches.
func TestPoolPipelineAcrossLatency(t *testing.T) {
	const rtt = 2 * time.Millisecond
	const perConn, each = 8, 10
	tests := []struct {
		name  string
		conns int
		ext   []string
		most  time.Duration // the whole run, setup included
		wait  time.Duration // the 99th percentile of a caller's wait
	}{
		// A mail a round trip; a caller waits for the 7 mails ahead, then
		// 2 round trips for its own.
		{"pipelining", 1, []string{"PIPELINING"}, (perConn*each + 4) * rtt, (perConn + 3) * rtt},
		{"pipelining and chunking", 1, []string{"PIPELINING", "CHUNKING"}, (each + 4) * rtt, 4 * rtt},
		{"4 connections, pipelining", 4, []string{"PIPELINING"}, (perConn*each + 4) * rtt, (perConn + 3) * rtt},
		{"4 connections, pipelining and chunking", 4, []string{"PIPELINING", "CHUNKING"}, (each + 4) * rtt, 4 * rtt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ds := &delayServer{rtt: rtt, ext: tt.ext}
				pipes := rawsrv.NewPipes(ds.serve)
				p := NewPool(func(ctx context.Context) (*SMTP, error) {
					return DialContext(ctx, "delay.example", 25, WithDialer(pipes), WithLocalHostname("c.example"))
				}, WithPoolSize(tt.conns))
				callers := perConn * tt.conns
				var mu sync.Mutex
				var waits []time.Duration
				var wg sync.WaitGroup
				start := time.Now()
				for i := 0; i < callers; i++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for _, m := range batchOf(each) {
							sent := time.Now()
							r := p.Send(context.Background(), m)
							assert.NoError(t, r.Err)
							mu.Lock()
							waits = append(waits, time.Since(sent))
							mu.Unlock()
						}
					}()
				}
				wg.Wait()
				elapsed := time.Since(start)
				closePool(t, p)
				pipes.Wait()
				assert.Equal(t, callers*each, ds.mails)
				perMail := float64(elapsed) / float64(rtt) / float64(perConn*each) // on each connection
				assert.LessOrEqual(t, elapsed, tt.most, "%v for %d mails: %.2f round trips a mail a connection",
					elapsed, callers*each, perMail)
				slices.Sort(waits)
				p99 := waits[len(waits)*99/100]
				assert.LessOrEqual(t, p99, tt.wait, "the 99th percentile of a caller's wait")
				t.Logf("%v in all, %.2f round trips a mail a connection; median wait %v, p99 %v",
					elapsed, perMail, waits[len(waits)/2], p99)
			})
		})
	}
}

// TestPoolSlowConnectionHoldsNothing stalls the reply to a mail on one of
// two connections: the mails sent meanwhile go over the other connection,
// none waits behind the stalled one, and the stalled mail is delivered
// when the server answers.
func TestPoolSlowConnectionHoldsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ps := &pipeServer{}
		pipes, dial := ps.dialer()
		p := NewPool(dial, WithPoolSize(2))
		stall := ps.holdData()
		slow := make(chan Result, 1)
		go func() {
			slow <- p.Send(context.Background(), Mail{From: "slow@example.com", To: []string{"r@example.com"}, Data: []byte("x\r\n")})
		}()
		synctest.Wait() // the first connection waits for the server
		for i, m := range batchOf(10) {
			assert.NoError(t, p.Send(context.Background(), m).Err, "mail %d", i)
		}
		select {
		case <-slow:
			t.Fatal("the stalled mail had its result before the server answered")
		default:
		}
		close(stall)
		assert.NoError(t, (<-slow).Err)
		closePool(t, p)
		pipes.Wait()
		sessions, _, from := ps.counts()
		assert.Equal(t, 2, sessions)
		assert.Len(t, from, 11)
	})
}

// TestPoolCallerGivesUp has the only caller with a mail in flight give up
// while the server holds its reply: the connection, which no one waits
// for any more, is closed at once, the mail's result says so (its data
// had gone: unknown), and the next mail goes over a new connection.
func TestPoolCallerGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ps := &pipeServer{}
		pipes, dial := ps.dialer()
		p := NewPool(dial, WithPoolSize(1))
		stall := ps.holdData()
		ctx, cancel := context.WithCancel(context.Background())
		res := make(chan Result, 1)
		mails := batchOf(2)
		go func() { res <- p.Send(ctx, mails[0]) }()
		synctest.Wait() // the mail waits for the reply to its data
		cancel()
		r := <-res
		assert.ErrorIs(t, r.Err, context.Canceled)
		assert.ErrorIs(t, r.Err, ErrDeliveryUnknown, "its data had gone")
		close(stall)
		assert.NoError(t, p.Send(context.Background(), mails[1]).Err)
		closePool(t, p)
		pipes.Wait()
		sessions, _, from := ps.counts()
		assert.Equal(t, 2, sessions)
		assert.Equal(t, []string{"m0@example.com", "m1@example.com"}, from)
	})
}
