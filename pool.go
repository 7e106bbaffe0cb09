package smtplib

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// PoolOption configures a [Pool].
type PoolOption func(*poolConfig)

type poolConfig struct {
	size    int
	perConn int
	idle    time.Duration
	pace    *pacer // rate limits and retries (ratelimit.go, retry.go)
}

// WithPoolSize sets how many connections a [Pool] keeps open at most (4
// by default). Values below 1 mean 1.
func WithPoolSize(n int) PoolOption {
	return func(c *poolConfig) { c.size = max(n, 1) }
}

// WithMaxMessagesPerConn makes a [Pool] replace a connection after n mails
// (0, the default: no limit).
func WithMaxMessagesPerConn(n int) PoolOption {
	return func(c *poolConfig) { c.perConn = max(n, 0) }
}

// WithIdleTimeout makes a [Pool] close a connection idle for d (30 seconds
// by default).
func WithIdleTimeout(d time.Duration) PoolOption {
	return func(c *poolConfig) {
		if d > 0 {
			c.idle = d
		}
	}
}

// ErrPoolClosed is the error of [Pool.Send] after [Pool.Close]: the mail
// was not sent.
var ErrPoolClosed = errors.New("smtplib: the pool is closed")

// A connection's pipeline holds at most poolWindow mails, and data of at
// most poolWindowBytes (with the mail that passes it), begun and not
// answered: enough to keep a connection busy across a long round trip,
// little enough that a caller waits behind a window of others at most,
// and that a connection that turns out slow or dead holds few mails.
const (
	poolWindow      = 32
	poolWindowBytes = 4 << 20
)

// Pool sends mails for concurrent callers over up to a given number of
// connections, each a continuous pipeline: a mail joins it behind the data
// already sent, and its caller has its [Result] as soon as its own replies
// are read. A mail not sent ([ErrNotSent]) goes once more on a new
// connection; [WithRateLimit] and [WithRetry] make it a campaign sender.
type Pool struct {
	dial func(ctx context.Context) (*SMTP, error)
	cfg  poolConfig

	mu     sync.Mutex
	free   []*poolConn // connections with nothing in flight; the last was used last
	open   int         // places taken: connections open or being dialled
	queue  []*poolReq  // mails waiting for a connection, in order
	closed bool
	conns  []*poolConn // every connection made and not yet closed, for CloseContext
	// closing bounds the QUITs of connections given back after Close:
	// CloseContext's context, or Background.
	closing context.Context
	hurried bool // CloseContext's context ended: no connection sends again
	// wg counts the places in use (by a driver, or a connection being
	// closed): Close waits for them.
	wg      sync.WaitGroup
	running atomic.Int32 // goroutines of the pool closing a connection, for the tests
}

// poolConn is one of the pool's connections, with the engine that stays
// with it, so that mails join its pipeline as they come.
type poolConn struct {
	c     *SMTP
	e     engine
	reqs  []*poolReq // the mails begun on it and not yet answered, in order
	bytes int        // their data, as far as known
	sent  int        // mails begun on it, under Pool.mu
	// live counts the mails in flight whose callers have not given up;
	// when none is left the connection's context ends, so that callers
	// who all gave up do not wait for it.
	live   int
	ctx    context.Context
	cancel context.CancelFunc
	// Under Pool.mu: inflight counts the mails begun (or about to be, by
	// a caller joining) and not answered; joining the callers writing
	// their mails into it (join).
	inflight, joining int
	// driver is the caller driving the connection, which keeps its own
	// result rather than being sent it; driven says there is one, under
	// Pool.mu.
	driver *poolReq
	driven bool
	// resend holds the mails to send again on a new connection, once
	// this one failed.
	resend []*poolReq
	last   time.Time   // when it last became free
	timer  *time.Timer // closes it once idle; nil until it is first free
	armed  bool        // the timer is set
	free   bool        // it is in Pool.free
	stale  bool        // to be replaced once its mails are in (retry.go), under Pool.mu
}

// poolReq is one caller's mail, its transaction, and where its result or
// the connection to drive reaches it.
type poolReq struct {
	ctx  context.Context
	m    Mail
	ev   chan poolEvent // made when the caller has to wait
	t0   txn            // the transaction as prepared, which each begin starts from
	t    txn
	b    body
	stop func() bool // stops the watch on ctx
	size int         // its data counted in its connection's bytes
	// resent is set once the mail is to be sent again after a connection
	// failed to carry it: it is never sent a third time.
	resent bool
	done   bool
	res    Result
	conn   *poolConn // the connection that answered it last
}

// poolEvent reaches a waiting caller: its result, or a connection to
// drive (pc nil: a place to make a connection in), with its mail to begin
// on it if it has not been yet.
type poolEvent struct {
	res   Result
	pc    *poolConn
	drive bool
	begin bool
}

// NewPool returns a pool whose connections dial makes, ready to send
// (greeted, after StartTLS and Login as needed).
func NewPool(dial func(ctx context.Context) (*SMTP, error), opts ...PoolOption) *Pool {
	cfg := poolConfig{size: 4, idle: 30 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	return &Pool{dial: dial, cfg: cfg}
}

// Send sends m over one of the pool's connections and returns its [Result];
// ctx ends the wait for a connection, or a connection all of whose callers
// gave up.
func (p *Pool) Send(ctx context.Context, m Mail) Result {
	return p.send(ctx, m)
}

// try sends req's mail once, but for the one resend of a mail not sent.
func (p *Pool) try(req *poolReq) Result {
	ctx := req.ctx
	if err := req.prepare(); err != nil {
		return Result{Err: err}
	}
	p.mu.Lock()
	switch {
	case p.closed:
		p.mu.Unlock()
		return Result{Err: ErrPoolClosed}
	case len(p.free) > 0:
		pc := p.free[len(p.free)-1]
		p.free = p.free[:len(p.free)-1]
		pc.free = false
		p.wg.Add(1)
		p.drivenLocked(pc, true)
		p.mu.Unlock()
		return p.drive(pc, req, true)
	case p.open < p.cfg.size:
		p.open++
		p.wg.Add(1)
		p.mu.Unlock()
		return p.drive(nil, req, true)
	}
	req.ev = make(chan poolEvent, 1)
	if pc := p.roomiestLocked(); pc != nil && len(p.queue) == 0 {
		// Every connection is busy: the mail joins the one with the
		// fewest mails in flight, at once, unless mails wait already,
		// which go first.
		pc.inflight++
		pc.sent++
		pc.joining++
		p.mu.Unlock()
		if res, ok := p.join(pc, req); ok {
			return res
		}
		p.mu.Lock() // pc failed meanwhile: wait for a connection
		if p.closed {
			p.mu.Unlock()
			return Result{Err: ErrPoolClosed}
		}
	}
	p.queue = append(p.queue, req)
	p.mu.Unlock()
	for {
		select {
		case ev := <-req.ev:
			if !ev.drive {
				return ev.res
			}
			return p.drive(ev.pc, req, ev.begin)
		case <-ctx.Done():
		}
		p.mu.Lock()
		for i, q := range p.queue {
			if q == req {
				p.queue = append(p.queue[:i], p.queue[i+1:]...)
				p.mu.Unlock()
				return Result{Err: fmt.Errorf("smtplib: not sent: no connection was free in time: %w", ctx.Err())}
			}
		}
		p.mu.Unlock()
		// A connection has taken m: its result will come, or the
		// connection to drive.
		ctx = context.Background()
	}
}

// roomiestLocked is the connection with a driver and the fewest mails in
// flight, if it has room for another; p.mu is held.
func (p *Pool) roomiestLocked() *poolConn {
	var best *poolConn
	for _, pc := range p.conns {
		if !pc.driven || pc.stale || pc.inflight >= poolWindow || (p.cfg.perConn > 0 && pc.sent >= p.cfg.perConn) {
			continue
		}
		if best == nil || pc.inflight < best.inflight {
			best = pc
		}
	}
	return best
}

// prepare checks the mail and makes its transaction, before it waits for
// a connection.
func (req *poolReq) prepare() error {
	return req.m.txn("Send", &req.t0, &req.b)
}

// Close closes the pool: waiting mails get [ErrPoolClosed], mails in flight
// finish, and every connection gets its QUIT, all at once.
func (p *Pool) Close() error {
	return p.CloseContext(context.Background())
}

// CloseContext is [Pool.Close] bounded by ctx: then every connection is
// closed at once.
func (p *Pool) CloseContext(ctx context.Context) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed, p.closing = true, ctx
	if p.cfg.pace != nil {
		p.cfg.pace.stop() // callers waiting for a turn or a retry stop waiting
	}
	waiting, free := p.queue, p.free
	p.queue, p.free = nil, nil
	p.open -= len(free)
	for _, pc := range free {
		pc.free = false
		pc.timer.Stop() // one that fires anyway finds the pool closed
		p.forgetLocked(pc)
	}
	p.mu.Unlock()
	for _, req := range waiting {
		req.ev <- poolEvent{res: Result{Err: ErrPoolClosed}}
	}
	var quits sync.WaitGroup
	for _, pc := range free {
		quits.Add(1)
		go func() {
			defer quits.Done()
			quit(ctx, pc.c)
			pc.cancel()
		}()
	}
	done := make(chan struct{})
	go func() {
		quits.Wait()
		p.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	// Abort what is left: a QUIT bound to ctx has ended with it, and a
	// connection still sending is closed under its driver, whose reads
	// and writes then fail at once.
	p.mu.Lock()
	p.hurried = true
	for _, pc := range p.conns {
		if pc.driven {
			pc.c.Close()
		}
	}
	p.mu.Unlock()
	<-done
	return ctx.Err()
}

// quit ends c's session with QUIT, bounded by ctx as well as by c's own
// timeout, and closes it.
func quit(ctx context.Context, c *SMTP) {
	stop := c.bind(ctx)
	c.Quit()
	stop()
	c.Close()
}
