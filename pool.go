package smtplib

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
// for [WithIdleTimeout] is closed. A mail that a connection failed to
// carry ([ErrNotSent]: the connection was found closed after sitting idle,
// the server shut it down, or it was lost before the mail's end of data
// left) is sent once more, on a new connection, before its caller gets a
// result; a mail refused, or whose delivery is unknown, never is. A Pool
// is safe for use by many goroutines; [Pool.Close] ends it, and returns
// once every connection is closed.
type Pool struct {
	dial func(ctx context.Context) (*SMTP, error)
	cfg  poolConfig

	mu     sync.Mutex
	free   []*poolConn // connections with nothing to send; the last was used last
	open   int         // connections open or being dialled, free or not
	queue  []*poolReq  // mails waiting for a connection
	closed bool
	busy   map[*poolConn]struct{} // connections sending, for CloseContext to abort
	// closing bounds the QUITs of connections given back after Close:
	// CloseContext's context, or Background.
	closing context.Context
	hurried bool // CloseContext's context ended: no connection sends again
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
	// resent is set once the mail was sent again after a connection
	// failed to carry it: it is never sent a third time.
	resent bool
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
// closed with QUIT, and Close returns once that is done. The QUITs go out
// at once, one goroutine a connection, so a server that does not answer
// them holds Close for one timeout of the clients, not one each. Calling
// it again does nothing.
func (p *Pool) Close() error {
	return p.CloseContext(context.Background())
}

// CloseContext is [Pool.Close] for a caller in a hurry: when ctx ends
// before Close is done, every connection still open is closed at once,
// without waiting for its QUIT, and a mail still being sent is given up
// (its [Result] says how far it got: not sent, or delivery unknown).
// It returns ctx's error then, and nil otherwise.
func (p *Pool) CloseContext(ctx context.Context) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed, p.closing = true, ctx
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
	var quits sync.WaitGroup
	for _, pc := range free {
		quits.Add(1)
		go func() {
			defer quits.Done()
			quit(ctx, pc.c)
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
	// connection still sending is closed under its sender, whose send
	// then ends at once.
	p.mu.Lock()
	p.hurried = true
	for pc := range p.busy {
		pc.c.Close()
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
	results, pc, _ := p.sendOn(pc, live, self)
	if pc == nil {
		// The connection failed. The mails it failed to carry go once
		// more, on a new connection in its place.
		var again []*poolReq
		for i, req := range live {
			if errors.Is(results[i].Err, ErrNotSent) && !req.resent && req.ctx.Err() == nil {
				req.resent = true
				again = append(again, req)
			} else {
				answer(req, results[i])
			}
		}
		if len(again) == 0 {
			p.lose()
			return own
		}
		first := make([]error, len(again))
		for i, req := range again {
			first[i] = results[slices.Index(live, req)].Err
		}
		live = again
		var dialErr error
		results, pc, dialErr = p.sendOn(nil, again, self)
		if dialErr != nil {
			// The mails are still not sent, for the reason the first
			// connection gave.
			for i := range results {
				results[i].Err = fmt.Errorf("%w; sending it again on a new connection failed: %w", first[i], dialErr)
			}
		}
		if pc == nil {
			p.lose()
		}
	}
	// The connection is given back before the callers are answered, so
	// that a caller sending its next mail finds it free.
	if pc != nil {
		p.giveBack(pc)
	}
	for i, req := range live {
		answer(req, results[i])
	}
	return own
}

// sendOn sends reqs over pc as one batch, dialling a connection first if
// pc is nil, and returns their results in order and the connection, or
// nil once it failed (closed) or could not be made; dialErr is the dial's
// failure, which every result then carries. While it sends, the
// connection is one CloseContext may abort.
func (p *Pool) sendOn(pc *poolConn, reqs []*poolReq, self *poolReq) (results []Result, _ *poolConn, dialErr error) {
	ctx, cancel := batchContext(reqs)
	defer cancel()
	if pc == nil {
		c, err := p.dial(ctx)
		if err != nil {
			results := make([]Result, len(reqs))
			for i := range results {
				results[i].Err = err
			}
			return results, nil, err
		}
		pc = &poolConn{c: c}
	}
	if !p.track(pc, true) {
		// CloseContext has given up on the pool's connections: this one
		// sends nothing, and its mails are not sent.
		pc.c.Close()
	}
	mails := self.mails[:]
	if len(reqs) > 1 || reqs[0] != self {
		mails = make([]Mail, len(reqs))
	}
	for i, req := range reqs {
		mails[i] = req.m
	}
	results, err := pc.c.SendBatch(ctx, mails)
	p.track(pc, false)
	pc.sent += len(reqs)
	if err != nil {
		pc.c.Close()
		return results, nil, nil
	}
	return results, pc, nil
}

// track adds pc to the connections sending, or removes it; it reports
// false when the pool was closed in a hurry (CloseContext's context
// ended), so that a connection being added must not send.
func (p *Pool) track(pc *poolConn, sending bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !sending {
		delete(p.busy, pc)
		return true
	}
	if p.hurried {
		return false
	}
	if p.busy == nil {
		p.busy = map[*poolConn]struct{}{}
	}
	p.busy[pc] = struct{}{}
	return true
}

// giveBack returns pc, which has just carried mails, to the pool, or
// retires it after its share.
func (p *Pool) giveBack(pc *poolConn) {
	if p.cfg.perConn > 0 && pc.sent >= p.cfg.perConn {
		p.retire(pc)
		return
	}
	p.release(pc)
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
		ctx := p.closing
		p.mu.Unlock()
		quit(ctx, pc.c)
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
