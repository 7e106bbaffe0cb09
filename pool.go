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
}

// WithPoolSize sets how many connections a [Pool] keeps open at most (4
// by default). Values below 1 mean 1.
func WithPoolSize(n int) PoolOption {
	return func(c *poolConfig) { c.size = max(n, 1) }
}

// WithMaxMessagesPerConn makes a [Pool] replace a connection after it has
// carried n mails: providers cap the messages of a session, 100 is common.
// Zero, the default, means no limit.
func WithMaxMessagesPerConn(n int) PoolOption {
	return func(c *poolConfig) { c.perConn = max(n, 0) }
}

// WithIdleTimeout makes a [Pool] close a connection (with QUIT) that has
// had nothing to send for d (30 seconds by default), well inside the 5
// minutes after which RFC 5321 section 4.5.3.2.7 lets a server give up on
// an idle client.
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

// maxPoolBatch bounds the mails one connection takes from the queue at a
// time, so that a long queue is shared among the connections.
const maxPoolBatch = 256

// Pool sends mails for concurrent callers over up to a given number of
// connections, each made by the dial function given to [NewPool].
//
// A caller that finds a connection free sends its mail itself, on its own
// goroutine, as a one-mail [SMTP.SendBatch]: the pool adds no hand-off
// between goroutines. Callers that find every connection busy wait in a
// queue; the connection that becomes free next takes the queued mails
// together (up to 256) and sends them as one SendBatch, so that with
// PIPELINING they share its round trips. The caller of the first of them
// sends the batch, and gives the others their results.
//
// A connection is replaced when the server answered 421, when it was lost
// or a context ended it, and after [WithMaxMessagesPerConn] mails; one idle
// for [WithIdleTimeout] is closed. A Pool is safe for use by many
// goroutines; [Pool.Close] ends it, and returns once every connection is
// closed.
type Pool struct {
	dial func(ctx context.Context) (*SMTP, error)
	cfg  poolConfig

	mu     sync.Mutex
	free   []*poolConn // connections with nothing to send; the last was used last
	open   int         // connections open or being dialled, free or not
	queue  []*poolReq  // mails waiting for a connection
	closed bool
	// wg counts connections in use (by a caller, or being closed): Close
	// waits for them.
	wg      sync.WaitGroup
	running atomic.Int32 // goroutines of the pool closing a connection, for the tests
}

// poolConn is one of the pool's connections.
type poolConn struct {
	c     *SMTP
	sent  int         // mails it has carried
	last  time.Time   // when it last became free
	timer *time.Timer // closes it once idle; nil until it is first free
	armed bool        // the timer is set
	free  bool        // it is in Pool.free
}

// poolReq is one caller's mail and where its result goes.
type poolReq struct {
	ctx context.Context
	m   Mail
	res chan Result
	// lead is given to the first mail of a batch taken from the queue: a
	// connection (nil: a free place for one, to dial) and the batch, which
	// that mail's caller sends.
	lead chan poolLead
	// For a mail sent alone: its batch and the list SendBatch takes,
	// without allocations of their own.
	alone [1]*poolReq
	mails [1]Mail
}

type poolLead struct {
	pc    *poolConn
	batch []*poolReq
}

// NewPool returns a pool that makes its connections with dial, which must
// return a client ready to send: greeted, and after StartTLS and Login if
// the caller needs them. No connection is made before the first
// [Pool.Send].
func NewPool(dial func(ctx context.Context) (*SMTP, error), opts ...PoolOption) *Pool {
	cfg := poolConfig{size: 4, idle: 30 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	return &Pool{dial: dial, cfg: cfg}
}

// Send sends m over one of the pool's connections and returns its
// [Result], as [SMTP.SendBatch] reports it. A ctx that ends while m waits
// for a connection returns at once with an error wrapping ctx.Err(), and m
// is not sent; once a connection has taken m, ctx bounds the sending only
// when m is sent alone or every mail sent with it was given up, and Send
// waits for the result, which says what became of m.
func (p *Pool) Send(ctx context.Context, m Mail) Result {
	req := &poolReq{ctx: ctx, m: m}
	req.alone[0] = req
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
		p.mu.Unlock()
		return p.deliver(pc, req.alone[:], req)
	case p.open < p.cfg.size:
		p.open++
		p.wg.Add(1)
		p.mu.Unlock()
		return p.deliver(nil, req.alone[:], req)
	}
	req.res = make(chan Result, 1)
	req.lead = make(chan poolLead, 1)
	p.queue = append(p.queue, req)
	p.mu.Unlock()
	select {
	case r := <-req.res:
		return r
	case l := <-req.lead:
		return p.deliver(l.pc, l.batch, req)
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
	// A connection has taken m: its result will come, or the batch to send.
	select {
	case r := <-req.res:
		return r
	case l := <-req.lead:
		return p.deliver(l.pc, l.batch, req)
	}
}

// Close closes the pool: mails still waiting for a connection get
// [ErrPoolClosed], mails being sent are finished, every connection is
// closed with QUIT, and Close returns once that is done. Calling it again
// does nothing.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	waiting, free := p.queue, p.free
	p.queue, p.free = nil, nil
	p.open -= len(free)
	for _, pc := range free {
		pc.free = false
		pc.timer.Stop() // one that fires anyway finds the pool closed
	}
	p.mu.Unlock()
	for _, req := range waiting {
		req.res <- Result{Err: ErrPoolClosed}
	}
	for _, pc := range free {
		pc.c.Quit()
		pc.c.Close()
	}
	p.wg.Wait()
	return nil
}

// deliver sends batch over pc, dialling first if pc is nil, gives each
// other caller its result and returns self's. The connection then goes
// back to the pool, or is replaced.
func (p *Pool) deliver(pc *poolConn, batch []*poolReq, self *poolReq) Result {
	var own Result
	answer := func(req *poolReq, r Result) {
		if req == self {
			own = r
		} else {
			req.res <- r
		}
	}
	// Mails whose callers gave up while queued are not sent.
	live := batch[:0]
	for _, req := range batch {
		if err := req.ctx.Err(); err != nil {
			answer(req, Result{Err: fmt.Errorf("smtplib: not sent: %w", err)})
			continue
		}
		live = append(live, req)
	}
	if len(live) == 0 {
		if pc == nil {
			p.lose()
		} else {
			p.release(pc)
		}
		return own
	}
	ctx, cancel := batchContext(live)
	defer cancel()
	if pc == nil {
		c, err := p.dial(ctx)
		if err != nil {
			for _, req := range live {
				answer(req, Result{Err: err})
			}
			p.lose()
			return own
		}
		pc = &poolConn{c: c}
	}
	mails := self.mails[:]
	if len(live) > 1 || live[0] != self {
		mails = make([]Mail, len(live))
	}
	for i, req := range live {
		mails[i] = req.m
	}
	results, err := pc.c.SendBatch(ctx, mails)
	pc.sent += len(live)
	switch {
	case err != nil:
		pc.c.Close()
		p.lose()
	case p.cfg.perConn > 0 && pc.sent >= p.cfg.perConn:
		p.retire(pc)
	default:
		p.release(pc)
	}
	// The connection is given back before the callers are answered, so
	// that a caller sending its next mail finds it free.
	for i, req := range live {
		answer(req, results[i])
	}
	return own
}

// take removes the mails a connection that has carried sent mails may
// take from the queue; p.mu is held and the queue is not empty.
func (p *Pool) take(sent int) []*poolReq {
	n := min(len(p.queue), maxPoolBatch)
	if p.cfg.perConn > 0 {
		n = min(n, p.cfg.perConn-sent)
	}
	batch := append([]*poolReq(nil), p.queue[:n]...)
	p.queue = append(p.queue[:0], p.queue[n:]...)
	return batch
}

// release gives pc back: to the first mails waiting, or to the free list.
func (p *Pool) release(pc *poolConn) {
	p.mu.Lock()
	if p.closed {
		p.open--
		p.mu.Unlock()
		pc.c.Quit()
		pc.c.Close()
		p.wg.Done()
		return
	}
	if len(p.queue) > 0 {
		batch := p.take(pc.sent)
		p.mu.Unlock()
		batch[0].lead <- poolLead{pc, batch} // the connection stays in use
		return
	}
	pc.free = true
	pc.last = time.Now()
	p.free = append(p.free, pc)
	if !pc.armed {
		pc.armed = true
		if pc.timer == nil {
			pc.timer = time.AfterFunc(p.cfg.idle, func() { p.expire(pc) })
		} else {
			pc.timer.Reset(p.cfg.idle)
		}
	}
	p.mu.Unlock()
	p.wg.Done()
}

// lose gives up a place whose connection failed or could not be made: the
// first mails waiting, if any, get it to dial a new one.
func (p *Pool) lose() {
	p.mu.Lock()
	if len(p.queue) > 0 && !p.closed {
		batch := p.take(0)
		p.mu.Unlock()
		batch[0].lead <- poolLead{nil, batch}
		return
	}
	p.open--
	p.mu.Unlock()
	p.wg.Done()
}

// retire closes pc, which has carried its share of mails, with QUIT in
// the background, and frees its place for a new connection.
func (p *Pool) retire(pc *poolConn) {
	p.running.Add(1)
	go func() {
		pc.c.Quit()
		pc.c.Close()
		p.running.Add(-1) // before lose, which may let Close return
		p.lose()
	}()
}

// expire runs when pc's idle timer fires: pc is closed if it is still
// free and has been for the idle timeout.
func (p *Pool) expire(pc *poolConn) {
	p.mu.Lock()
	if p.closed || !pc.free {
		pc.armed = false // in use: release sets the timer again
		p.mu.Unlock()
		return
	}
	if left := p.cfg.idle - time.Since(pc.last); left > 0 {
		pc.timer.Reset(left)
		p.mu.Unlock()
		return
	}
	pc.armed, pc.free = false, false
	for i, f := range p.free {
		if f == pc {
			p.free = append(p.free[:i], p.free[i+1:]...)
			break
		}
	}
	p.wg.Add(1) // p.closed is false: Close has not started waiting
	p.running.Add(1)
	p.mu.Unlock()
	pc.c.Quit()
	pc.c.Close()
	p.running.Add(-1) // before lose, which may let Close return
	p.lose()
}

// batchContext is the context of a batch: a mail sent alone is bound by
// its caller's context; mails sent together are stopped only when every
// one of their callers has given up, so that one caller cannot abort the
// others' mail.
func batchContext(reqs []*poolReq) (context.Context, context.CancelFunc) {
	if len(reqs) == 1 {
		return reqs[0].ctx, func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	left := atomic.Int32{}
	left.Store(int32(len(reqs)))
	stops := make([]func() bool, len(reqs))
	for i, req := range reqs {
		stops[i] = context.AfterFunc(req.ctx, func() {
			if left.Add(-1) == 0 {
				cancel()
			}
		})
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel()
	}
}
