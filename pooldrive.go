package smtplib

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"time"
)

// How a Pool's connections are driven: the caller driving a connection
// begins the waiting mails on it between two replies, reads its replies,
// gives each caller its result as soon as its own are read, and hands the
// connection on when its own result is in; failed connections are
// replaced, and mails they failed to carry sent once more.

// drive drives pc for self's caller: it begins self's mail on it when
// begin says so (after making a connection, when pc is nil), then reads
// the connection's replies, beginning the mails that wait between two,
// until self's result is in; then it hands the connection on and returns
// that result.
func (p *Pool) drive(pc *poolConn, self *poolReq, begin bool) Result {
	if pc == nil {
		if pc = p.connectFor(self, nil); pc == nil {
			return self.res
		}
	} else {
		pc.e.mu.Lock()
	}
	return p.driveLocked(pc, self, begin)
}

// driveLocked is drive with pc's engine locked; it lets the lock go when
// it hands pc on. The lock is let go too while the driver waits for a
// reply, and other callers write their mails then (join).
func (p *Pool) driveLocked(pc *poolConn, self *poolReq, begin bool) Result {
	pc.driver = self
	if begin {
		if err := self.ctx.Err(); err != nil {
			// Its caller gave up before the mail could begin: the
			// connection serves the mails that wait.
			p.answer(self, self, Result{Err: fmt.Errorf("smtplib: not sent: %w", err)})
		} else {
			p.begin(pc, self, false)
		}
	}
	for {
		p.take(pc, self)
		if pc.e.err != nil {
			if pc = p.replace(pc, self); pc == nil {
				return self.res
			}
			pc.driver = self
			continue
		}
		if self.done {
			if p.handOn(pc) {
				return self.res
			}
			// A caller is about to write its mail into pc: let it, and
			// hand pc on with that mail in it.
			pc.e.mu.Unlock()
			runtime.Gosched()
			pc.e.mu.Lock()
			continue
		}
		pc.e.progress()
	}
}

// join writes req's mail into pc's pipeline from req's own goroutine,
// while pc's driver waits for a reply: the mail joins the flight at once.
// pc was chosen, and counted in, under p.mu (joining). req then waits for
// its result, or for pc to drive when its driver hands it on. It reports
// false, with nothing begun, when pc's driver was at work or pc failed:
// the mail then waits in the queue.
func (p *Pool) join(pc *poolConn, req *poolReq) (Result, bool) {
	// Only when the driver waits for a reply is the lock free: otherwise
	// the driver is at work, and will take the mail from the queue.
	ok := pc.e.mu.TryLock()
	if ok {
		if ok = pc.e.err == nil && !pc.e.writing; ok {
			p.begin(pc, req, true)
			pc.e.flushGroup() // the driver, reading, flushes nothing
		}
		pc.e.mu.Unlock()
	}
	p.mu.Lock()
	pc.joining--
	if !ok {
		pc.inflight--
		pc.sent--
	}
	p.mu.Unlock()
	if !ok {
		return Result{}, false
	}
	ev := <-req.ev
	if !ev.drive {
		return ev.res, true
	}
	return p.drive(ev.pc, req, ev.begin), true
}

// connectFor makes a connection in the place self holds, greets and sets
// up its pipeline, and begins on it the mails in again, which a failed
// connection is to send again. On failure it gives them, and self unless
// self has its result, the error, gives up the place and returns nil.
func (p *Pool) connectFor(self *poolReq, again []*poolReq) *poolConn {
	ctx := self.ctx
	if self.done && len(again) > 0 {
		ctx = again[0].ctx
	}
	reqs := again
	if !self.done && !contains(again, self) {
		reqs = append(reqs, self)
	}
	c, err := p.dial(ctx)
	if err == nil {
		if err = c.EhloOrHeloIfNeeded(); err != nil && errors.Is(err, ErrNotSent) && !resent(reqs) {
			// Made, and found closed before its first command: the mails
			// are not sent, and go once more, on another connection.
			c.Close()
			for _, req := range reqs {
				req.resent, req.res = true, Result{Err: err}
			}
			if c, err = p.dial(ctx); err == nil {
				err = c.EhloOrHeloIfNeeded()
			}
		}
	}
	if err != nil {
		if c != nil {
			c.Close()
		}
		for _, req := range reqs {
			res := Result{Err: err}
			if req.resent && req.res.Err != nil {
				// Still not sent, for the reason the first connection
				// gave.
				res.Err = fmt.Errorf("%w; sending it again on a new connection failed: %w", req.res.Err, err)
			}
			p.answer(req, self, res)
		}
		p.lose()
		return nil
	}
	pc := &poolConn{c: c, driver: self}
	pc.ctx, pc.cancel = context.WithCancel(context.Background())
	// Bound once for the connection's life: its context ends only when
	// every caller with a mail in flight has given up, or it is closed.
	c.bind(pc.ctx)
	c.initEngine(&pc.e)
	pc.e.share()
	pc.e.onDone = func(t *txn) { p.done(pc, t) }
	pc.e.mu.Lock() // returned locked, to its driver
	p.mu.Lock()
	p.conns = append(p.conns, pc)
	p.drivenLocked(pc, true)
	p.mu.Unlock()
	for _, req := range again {
		p.begin(pc, req, false)
	}
	return pc
}

// resent reports whether any of reqs was sent once more already.
func resent(reqs []*poolReq) bool {
	for _, r := range reqs {
		if r.resent {
			return true
		}
	}
	return false
}

func contains(reqs []*poolReq, r *poolReq) bool {
	for _, q := range reqs {
		if q == r {
			return true
		}
	}
	return false
}

// forgetLocked takes pc, whose connection is closed or closing, off the
// list of connections; p.mu is held.
func (p *Pool) forgetLocked(pc *poolConn) {
	if i := slices.Index(p.conns, pc); i >= 0 {
		p.conns = slices.Delete(p.conns, i, i+1)
	}
}

// drivenLocked records pc as having a driver, or not; p.mu is held.
func (p *Pool) drivenLocked(pc *poolConn, driven bool) {
	pc.driven = driven
	if driven && p.hurried {
		// CloseContext has given up on the pool's connections: this one
		// sends nothing, and its mails are not sent.
		pc.c.Close()
	}
}

// begin joins req's mail to pc's pipeline; pc's engine is locked, and
// reserved says that req was counted in pc's mails already (join).
func (p *Pool) begin(pc *poolConn, req *poolReq, reserved bool) {
	req.t = req.t0
	if req.t.msg != nil {
		// The header's envelope adds to the options: each try starts
		// from the caller's.
		o := *req.t0.o
		req.t.o = &o
	}
	pc.reqs = append(pc.reqs, req)
	req.size = max(req.b.size, 0) // a Message's is known once begun: not counted
	pc.bytes += req.size
	p.mu.Lock()
	if !reserved {
		pc.inflight++
		pc.sent++
	}
	pc.live++
	p.mu.Unlock()
	req.stop = nil
	if req.ctx.Done() != nil {
		req.stop = context.AfterFunc(req.ctx, func() { p.gaveUp(pc) })
	}
	pc.e.begin(&req.t)
}

// gaveUp runs when the caller of a mail in flight on pc gives up: when no
// caller with a mail in flight is left, the connection's context ends,
// and with it the connection.
func (p *Pool) gaveUp(pc *poolConn) {
	p.mu.Lock()
	pc.live--
	end := pc.live == 0 && pc.inflight > 0
	p.mu.Unlock()
	if end {
		pc.cancel()
	}
}

// take begins the mails waiting in the pool's queue on pc while it has
// room, as its driver, self, passes between two replies, and until self
// has its result: a mail sent with DATA waits for the server's 354, and
// the driver, whose own result may have come meanwhile, hands on rather
// than go on for others.
func (p *Pool) take(pc *poolConn, self *poolReq) {
	// While a caller writes its own mail (join), the driver reads: that
	// caller may wait for a reply.
	for !self.done && pc.e.err == nil && !pc.e.writing && len(pc.reqs) < poolWindow && pc.bytes < poolWindowBytes {
		p.mu.Lock()
		if len(p.queue) == 0 || p.closed || pc.stale || (p.cfg.perConn > 0 && pc.sent >= p.cfg.perConn) {
			p.mu.Unlock()
			return
		}
		req := p.queue[0]
		p.queue = p.queue[1:]
		p.mu.Unlock()
		if err := req.ctx.Err(); err != nil {
			req.ev <- poolEvent{res: Result{Err: fmt.Errorf("smtplib: not sent: %w", err)}}
			continue
		}
		p.begin(pc, req, false)
	}
}

// done is pc's engine telling that t's outcome is known: its caller gets
// its result, unless the connection failed to carry the mail, which then
// waits to be sent again on a new connection.
func (p *Pool) done(pc *poolConn, t *txn) {
	req := pc.reqs[0]
	pc.reqs = pc.reqs[1:]
	pc.bytes -= req.size
	p.mu.Lock()
	pc.inflight--
	if req.stop == nil || req.stop() {
		pc.live--
	}
	p.mu.Unlock()
	var res Result
	res.Refused, res.Err = pc.e.outcome(t)
	res.Reply, _ = t.finalReply()
	req.conn = pc
	if errors.Is(res.Err, ErrNotSent) && !req.resent && req.ctx.Err() == nil {
		req.resent, req.res = true, res
		pc.resend = append(pc.resend, req)
		return
	}
	p.answer(req, pc.driver, res)
}

// answer gives req its result: the driver keeps its own, the others get
// theirs through their channel.
func (p *Pool) answer(req, driver *poolReq, res Result) {
	res.Tries = 1
	if req.resent {
		res.Tries = 2
	}
	req.res, req.done = res, true
	if req != driver {
		req.ev <- poolEvent{res: res}
	}
}

// replace handles the failure of pc's connection: it is closed, and its
// place taken by a new connection when mails are to be sent again on one
// (self's among them, perhaps) or are waiting; replace returns the new
// connection, or nil when self is done and the place was given up.
func (p *Pool) replace(pc *poolConn, self *poolReq) *poolConn {
	pc.c.Close()
	pc.cancel()
	again := pc.resend
	pc.resend = nil
	p.mu.Lock()
	p.drivenLocked(pc, false)
	p.forgetLocked(pc)
	p.mu.Unlock()
	// pc keeps its driver: a caller still joining it finds it failed,
	// and waits for another connection rather than drive this one.
	pc.e.mu.Unlock()
	if len(again) == 0 && self.done {
		p.lose()
		return nil
	}
	return p.connectFor(self, again)
}

// handOn passes pc on once its driver has its result: to the caller whose
// result comes next, when mails are in flight; to the first waiting mail
// when there are none but mails wait; otherwise pc goes back to the free
// list, or is retired after its share of mails.
//
// It is called with pc's engine locked, and lets the lock go; but while a
// caller is joining pc, it keeps the lock and reports false, to be called
// again once that caller has written its mail or gone to the queue.
func (p *Pool) handOn(pc *poolConn) bool {
	if len(pc.reqs) > 0 {
		next := pc.reqs[0]
		pc.driver = next
		pc.e.mu.Unlock()
		next.ev <- poolEvent{pc: pc, drive: true}
		return true
	}
	p.mu.Lock()
	if pc.joining > 0 {
		p.mu.Unlock()
		return false
	}
	pc.driver = nil
	pc.e.mu.Unlock()
	p.drivenLocked(pc, false)
	if pc.ctx.Err() != nil {
		// Its callers all gave up and ended it: not one to reuse.
		p.forgetLocked(pc)
		p.mu.Unlock()
		pc.c.Close()
		p.lose()
		return true
	}
	if (p.cfg.perConn > 0 && pc.sent >= p.cfg.perConn) || pc.stale {
		p.forgetLocked(pc)
		p.mu.Unlock()
		p.retire(pc)
		return true
	}
	if p.closed {
		p.forgetLocked(pc)
		p.open--
		ctx := p.closing
		p.mu.Unlock()
		quit(ctx, pc.c)
		pc.cancel()
		p.wg.Done()
		return true
	}
	if len(p.queue) > 0 {
		req := p.queue[0]
		p.queue = p.queue[1:]
		p.drivenLocked(pc, true)
		p.mu.Unlock()
		req.ev <- poolEvent{pc: pc, drive: true, begin: true}
		return true
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
	return true
}

// lose gives up a place whose connection failed, could not be made or was
// retired: the first mail waiting, if any, gets it to make a new one.
func (p *Pool) lose() {
	p.mu.Lock()
	if len(p.queue) > 0 && !p.closed {
		req := p.queue[0]
		p.queue = p.queue[1:]
		p.mu.Unlock()
		req.ev <- poolEvent{drive: true, begin: true}
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
	go p.quitAndLose(pc)
}

// quitAndLose ends pc's session with QUIT and gives up its place, for a
// goroutine counted in p.running.
func (p *Pool) quitAndLose(pc *poolConn) {
	pc.c.Quit()
	pc.c.Close()
	pc.cancel()
	p.running.Add(-1) // before lose, which may let Close return
	p.lose()
}

// expire runs when pc's idle timer fires: pc is closed if it is still
// free and has been for the idle timeout.
func (p *Pool) expire(pc *poolConn) {
	p.mu.Lock()
	if p.closed || !pc.free {
		pc.armed = false // in use: handOn sets the timer again
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
	p.forgetLocked(pc)
	p.wg.Add(1) // p.closed is false: Close has not started waiting
	p.running.Add(1)
	p.mu.Unlock()
	p.quitAndLose(pc)
}
