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
// connections, each made by the dial function given to [NewPool]. Mails go
// to idle connections first; mails waiting for a connection are sent
// together: a connection that becomes free takes the mails queued beyond
// what the idle ones take and sends them as one [SMTP.SendBatch], so that
// with PIPELINING they share its round trips.
//
// A connection is replaced when the server answered 421, when it was lost
// or a context ended it, and after [WithMaxMessagesPerConn] mails; one idle
// for [WithIdleTimeout] is closed. A Pool is safe for use by many
// goroutines; [Pool.Close] ends it, and returns once every connection is
// closed and every goroutine of the pool has returned.
type Pool struct {
	dial func(ctx context.Context) (*SMTP, error)
	cfg  poolConfig

	mu      sync.Mutex
	queue   []*poolReq
	workers int // workers started and not yet returned
	idle    int // workers waiting for mail
	closed  bool
	wake    chan struct{} // tells an idle worker that mail is queued
	done    chan struct{} // closed by Close
	wg      sync.WaitGroup
	running atomic.Int32 // the pool's goroutines, for the tests
}

// poolReq is one caller's mail and where its result goes.
type poolReq struct {
	ctx context.Context
	m   Mail
	res chan Result
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
	return &Pool{dial: dial, cfg: cfg, wake: make(chan struct{}, cfg.size), done: make(chan struct{})}
}

// Send sends m over one of the pool's connections and returns its
// [Result], as [SMTP.SendBatch] reports it. A ctx that ends while m waits
// for a connection returns at once with an error wrapping ctx.Err(), and m
// is not sent; once a connection has taken m, ctx bounds the sending only
// when m is sent alone or every mail sent with it was given up, and Send
// waits for the result, which says what became of m.
func (p *Pool) Send(ctx context.Context, m Mail) Result {
	req := &poolReq{ctx: ctx, m: m, res: make(chan Result, 1)}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return Result{Err: ErrPoolClosed}
	}
	p.queue = append(p.queue, req)
	switch {
	case p.idle > 0:
		select {
		case p.wake <- struct{}{}:
		default: // enough wake-ups are pending already
		}
	case p.workers < p.cfg.size:
		p.workers++
		p.wg.Add(1)
		p.running.Add(1)
		go p.worker()
	}
	p.mu.Unlock()
	select {
	case r := <-req.res:
		return r
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
	return <-req.res // a connection has it: its result will come
}

// Close closes the pool: mails still waiting for a connection get
// [ErrPoolClosed], mails being sent are finished, every connection is
// closed with QUIT, and Close returns once all of the pool's goroutines
// have returned. Calling it again does nothing.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	close(p.done)
	waiting := p.queue
	p.queue = nil
	p.mu.Unlock()
	for _, req := range waiting {
		req.res <- Result{Err: ErrPoolClosed}
	}
	p.wg.Wait()
	return nil
}

// worker owns one connection at a time: it takes the queued mail, sends
// it, and replaces the connection when it has to. It returns when the pool
// is closed, or when it has been idle for the idle timeout.
func (p *Pool) worker() {
	defer func() {
		p.running.Add(-1)
		p.wg.Done() // last: Close may return as soon as it runs
	}()
	var c *SMTP
	sent := 0
	defer func() {
		if c != nil {
			c.Quit()
			c.Close()
		}
	}()
	timer := time.NewTimer(p.cfg.idle)
	defer timer.Stop()
	for {
		batch, ok := p.take(c, sent, timer)
		if !ok {
			return
		}
		if c != nil && p.cfg.perConn > 0 && sent >= p.cfg.perConn {
			c.Quit()
			c.Close()
			c, sent = nil, 0
		}
		c = p.deliver(c, batch)
		sent += len(batch)
		if c == nil {
			sent = 0
		}
		timer.Reset(p.cfg.idle)
	}
}

// take waits for queued mail and takes as much as the connection may
// carry; it reports false when the worker should return.
func (p *Pool) take(c *SMTP, sent int, timer *time.Timer) ([]*poolReq, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		if p.closed {
			p.workers--
			return nil, false
		}
		if len(p.queue) > 0 {
			// Leave a mail for each idle worker, which Send has woken:
			// mails spread over idle connections go out at once, while
			// a batch on one connection still costs a round trip per
			// message without CHUNKING. Only what the idle connections
			// cannot take at once is batched here.
			n := min(max(len(p.queue)-p.idle, 1), maxPoolBatch)
			if p.cfg.perConn > 0 {
				left := p.cfg.perConn - sent
				if c == nil || left <= 0 {
					left = p.cfg.perConn
				}
				n = min(n, left)
			}
			batch := append([]*poolReq(nil), p.queue[:n]...)
			p.queue = append(p.queue[:0], p.queue[n:]...)
			return batch, true
		}
		p.idle++
		p.mu.Unlock()
		timedOut := false
		select {
		case <-p.wake:
		case <-p.done:
		case <-timer.C:
			timedOut = true
		}
		p.mu.Lock()
		p.idle--
		if timedOut && len(p.queue) == 0 && !p.closed {
			// Deciding under the lock keeps a Send from counting on a
			// worker that is leaving.
			p.workers--
			return nil, false
		}
		if timedOut {
			timer.Reset(p.cfg.idle)
		}
	}
}

// deliver sends batch over c, dialling first if c is nil, and answers each
// caller. It returns the connection to keep, nil when it failed.
func (p *Pool) deliver(c *SMTP, batch []*poolReq) *SMTP {
	// Mails whose callers gave up while queued are not sent.
	live := batch[:0]
	for _, req := range batch {
		if err := req.ctx.Err(); err != nil {
			req.res <- Result{Err: fmt.Errorf("smtplib: not sent: %w", err)}
			continue
		}
		live = append(live, req)
	}
	if len(live) == 0 {
		return c
	}
	ctx, cancel := batchContext(live)
	defer cancel()
	if c == nil {
		var err error
		if c, err = p.dial(ctx); err != nil {
			for _, req := range live {
				req.res <- Result{Err: err}
			}
			return nil
		}
	}
	mails := make([]Mail, len(live))
	for i, req := range live {
		mails[i] = req.m
	}
	results, err := c.SendBatch(ctx, mails)
	for i, req := range live {
		req.res <- results[i]
	}
	if err != nil {
		c.Close()
		return nil
	}
	return c
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
