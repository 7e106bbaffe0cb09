//go:build go1.25

package smtplib

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
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
