package smtplib

// A pool connection's engine is shared: its driver reads replies while
// other callers write their mails into it, so that a mail joins the
// pipeline at once rather than at the driver's next reply. The engine's
// state is then guarded by mu, which the reader lets go only while it
// waits for a reply (reading), and a transaction is written by one
// goroutine at a time (writing), from its MAIL to its end of data, since
// nothing may come between DATA and its data. A goroutine that needs a
// reply read while another reads waits on wake, which each judged reply
// and each end of a writing closes. (A channel rather than a sync.Cond,
// so that a goroutine waiting on it is durably blocked for
// testing/synctest's fake clock.)

// share makes e a shared engine.
func (e *engine) share() { e.shared = true }

// wait lets e.mu go until the next signal, and takes it back.
func (e *engine) wait() {
	if e.wake == nil {
		e.wake = make(chan struct{})
	}
	ch := e.wake
	e.mu.Unlock()
	<-ch
	e.mu.Lock()
}

// signal wakes every goroutine waiting; e.mu is held.
func (e *engine) signal() {
	if e.wake != nil {
		close(e.wake)
		e.wake = nil
	}
}

// step reads the next reply, or, while another goroutine reads, waits
// until it has judged one.
func (e *engine) step() {
	if e.shared && e.reading {
		e.wait()
		return
	}
	e.readOne()
}

// claimWriting waits until no other goroutine writes a transaction, and
// takes that turn; releaseWriting ends it.
func (e *engine) claimWriting() {
	for e.shared && e.writing {
		e.wait()
	}
	e.writing = true
}

func (e *engine) releaseWriting() {
	e.writing = false
	if e.shared {
		e.signal()
	}
}
