package smtplib

import (
	"errors"
	"os"
	"sync"

	"github.com/gosmtplib/smtplib/email"
)

// The transaction engine. Every mail transaction, whether Sendmail sends it
// alone or SendBatch sends it among others, goes through one queue of
// commands in flight: each command written adds the reply it awaits to the
// queue, and one place (judge) reads each reply, in order, and decides what
// it means for its transaction. The modes differ only in how far the
// writing may run ahead of the reading:
//
//   - without PIPELINING the window is one command: each is answered
//     before the next is written, as smtplib does;
//   - with PIPELINING (RFC 2920) the window is maxInFlight, so MAIL, every
//     RCPT and DATA (or the first BDAT chunk) go as one group;
//   - across transactions too: the next MAIL goes out behind the previous
//     message's end of data, before its reply, so a batch's transactions
//     overlap (Sendmail's one transaction is a batch of one).
//
// DATA still waits for its 354 before the message goes (RFC 2920 section
// 3.1 makes DATA the last command of a group), and a second BDAT chunk
// waits for the envelope's replies, so that a refused envelope costs at
// most the first chunk.

// maxInFlight bounds the replies outstanding while the client writes: the
// server's replies to a pipelined group wait in the socket buffers until
// the client reads them, and a server whose replies filled them would stop
// reading commands (RFC 2920 section 3.2). A hundred short replies are a
// few kilobytes, far below any socket buffer.
const maxInFlight = 100

// awaitKind is what an awaited reply answers.
type awaitKind int

const (
	inMail  awaitKind = iota
	inRcpt            // the recipient is txn.e.to[i]
	inData            // the DATA command: 354 lets the message go
	inChunk           // a BDAT chunk that is not the last
	inFinal           // the end of the data: the final dot or BDAT LAST
	inReset           // a RSET between transactions
	inDrain           // a reply read only to keep the dialogue in step
)

// inflight is one awaited reply.
type inflight struct {
	kind awaitKind
	t    *txn
	i    int
}

// txn is one mail transaction and, once the engine has run, its outcome.
type txn struct {
	from string
	to   []string
	b    *body
	o    *sendOptions
	msg  *email.Message // a message whose header gives from and to, sent as SendMessage sends it
	e    *envelope

	refused  map[string]Reply
	accepted []string
	final    []Reply // the replies after the data: one, or for LMTP one per accepted recipient
	dataGo   bool    // DATA was answered 354 for an envelope that holds
	dataSent bool    // the whole message was handed to the write buffer
	endAt    int64   // where its end of data stands in the bytes written (see streamPos)
	started  bool    // its MAIL was written
	lastSeq  int     // the sequence number of the last reply it awaits
	unknown  bool    // the connection was lost after the end of the data left, before every reply after it
	done     bool    // every reply of the transaction was read
	written  bool    // every command of it that will be written was
	err      error   // why the transaction failed, once it has

	// Room for the usual case, one recipient and one reply after the data,
	// so that it needs no allocation of its own.
	finalBuf    [1]Reply
	acceptedBuf [1]string

	tr *txnTrace // its record, when the client is traced (trace.go)
}

// engine runs transactions over one client: for one call of Sendmail or
// SendBatch, or, for a connection of a [Pool], for the connection's life,
// transactions joining it as they come.
type engine struct {
	s        *SMTP
	window   int  // replies that may be outstanding before one is read
	chunking bool // the message goes in BDAT chunks (RFC 3030)
	queue    []inflight
	head     int    // queue[head:] are the replies not read yet
	base     int    // the sequence number of queue[0]
	synced   int    // replies numbered below it were read while the session was known in step
	txs      []*txn // the transactions begun, but for those told done to onDone
	// onDone, when set, is given each transaction once its outcome is
	// known, in the order they were begun, and the transaction is then
	// forgotten: a pool connection tells each caller as soon as its own
	// replies are read.
	onDone func(t *txn)
	rset   bool // a RSET is owed before the next transaction, or at the end
	// For a shared engine (see share): mu guards the engine, reading and
	// writing say that a goroutine waits for a reply or writes a
	// transaction, and wake (a channel, closed and made anew) wakes those
	// waiting for either to end.
	mu                       sync.Mutex
	wake                     chan struct{}
	shared, reading, writing bool
	// dataRefused is the reply to a DATA that was not answered 354: the
	// server still holds that envelope, so a transaction after it starts
	// with RSET, or, after a 421, never starts. Sendmail's one transaction
	// leaves it be, as smtplib does.
	dataRefused *Reply
	err         error // the connection's failure, once it has one
}

// initEngine sets up e, which the caller allocated (with the transaction
// and a first queue, in one allocation for a single mail), and sets its
// window for what the server offers, after EHLO.
func (s *SMTP) initEngine(e *engine) {
	*e = engine{s: s, window: 1, queue: e.queue[:0]}
	if s.DoesESMTP && s.HasExtn("pipelining") && !s.cfg.noPipelining {
		e.window = maxInFlight
	}
	e.chunking = s.DoesESMTP && s.HasExtn("chunking") && !s.cfg.noChunking
}

// pipelined reports whether writes run ahead of replies; a failed write
// then keeps the client open until the replies already received are read.
func (e *engine) pipelined() bool { return e.window > 1 }

// next is the sequence number the next queued reply gets; answered is how
// many have been read.
func (e *engine) next() int     { return e.base + len(e.queue) }
func (e *engine) answered() int { return e.base + e.head }
func (e *engine) pending() int  { return len(e.queue) - e.head }

// run sends the transactions in order. Each one's outcome is left in it;
// e.err tells whether the connection survived.
func (e *engine) run(txs []*txn) {
	for _, t := range txs {
		e.begin(t)
	}
	e.settle()
	e.checkLeftover()
	for _, t := range txs {
		if t.err == nil && !t.done && e.err != nil {
			t.err = e.err
		}
	}
	if e.rset && e.err == nil {
		e.s.rsetQuietly()
	}
}

// begin starts t: its envelope is built and checked, and its commands
// written as far as the window and its replies allow.
func (e *engine) begin(t *txn) {
	e.claimWriting()
	defer e.releaseWriting()
	e.txs = append(e.txs, t)
	if e.s.cfg.trace != nil {
		e.s.traceBegin(t)
	}
	t.lastSeq = -1
	switch {
	case e.err != nil:
		t.err = e.notReached()
	default:
		if t.msg != nil {
			if t.from, t.to, t.err = e.s.messageEnvelope(t.msg, t.o); t.err != nil {
				break
			}
			r, size := t.msg.Reader(true)
			*t.b = body{r: r, size: int(size)}
		}
		if !e.sign(t) {
			break
		}
		if t.e, t.err = e.s.buildEnvelope(t.from, t.to, t.b, t.o); t.err != nil {
			break
		}
		// CommandEncoding reports the encoding of the transaction under
		// way; it does not steer it.
		e.s.CommandEncoding = t.e.enc
		t.refused = map[string]Reply{}
		t.final, t.accepted = t.finalBuf[:0], t.acceptedBuf[:0]
		e.send(t)
	}
	t.written = true
	e.notify()
}

// checkLeftover looks, once every reply asked for is in, for bytes
// beyond them: a reply nobody asked for means some reply read since the
// session was last known in step may belong to another command than the
// one it was taken for.
func (e *engine) checkLeftover() {
	if e.err == nil && e.pending() == 0 && e.s.br != nil && e.s.br.Buffered() > 0 {
		e.outOfStep(e.s.strayFound())
	}
}

// complete reports whether t's outcome is known: every command of it
// written, and every reply to them read or never to come.
func (e *engine) complete(t *txn) bool {
	return t.written && (e.err != nil || e.answered() > t.lastSeq)
}

// notify gives onDone the transactions whose outcome is known, in order.
// The last reply in is first checked for a stray after it, so that no
// transaction is told delivered on a reply that belongs to another
// command, when that can be known.
func (e *engine) notify() {
	if e.onDone == nil {
		return
	}
	if e.pending() == 0 {
		e.checkLeftover()
	}
	n := 0
	for n < len(e.txs) && e.complete(e.txs[n]) {
		n++
	}
	if n == 0 {
		return
	}
	done := e.txs[:n]
	e.txs = e.txs[n:]
	for _, t := range done {
		if t.err == nil && !t.done && e.err != nil {
			t.err = e.err
		}
		e.onDone(t)
	}
}

// progress sends what is buffered and reads one reply, for a pool
// connection whose driver waits for its own outcome.
func (e *engine) progress() {
	switch {
	case e.err != nil:
	case e.pending() > 0:
		if e.flushGroup() {
			e.step()
		}
	case e.shared && e.writing:
		e.wait() // nothing to read until the caller writing has written
	}
}

// send writes transaction t, as far as its replies allow.
func (e *engine) send(t *txn) {
	if r := e.dataRefused; r != nil {
		e.dataRefused = nil
		if r.Code == 421 {
			e.refuse(nil, *r, nil) // the server has closed the session
			return
		}
		e.rset = true
	}
	if e.rset || e.envelopesOpen() {
		// The server may still hold an earlier transaction that failed
		// before its end of data; the reset makes this one start clean.
		e.rset = false
		e.put(inReset, nil, 0, verbRset, "")
	}
	if e.put(inMail, t, 0, verbMail, t.e.mail) >= 0 {
		t.started = true
	}
	for i := range t.e.rcpts {
		if e.stopped(t) {
			return
		}
		e.put(inRcpt, t, i, verbRcpt, t.e.rcpts[i])
	}
	if e.stopped(t) {
		return
	}
	if e.chunking {
		e.sendChunks(t)
		return
	}
	e.await(e.put(inData, t, 0, verbData, ""))
	if !t.dataGo || e.err != nil {
		return
	}
	if !e.inStep() {
		return
	}
	if err := e.s.writeBody(newDataWriter(nil, true), t.b, wr{phase: phaseDataBlock}); err != nil {
		t.err = err
		e.end(err, false)
		return
	}
	// The final dot waits in the buffer for the next group, or for the
	// reply it awaits.
	e.dataEnded(t)
	e.add(inFinal, t, 0)
}

// dataEnded records that t's end of data is in the write buffer, and
// where it stands in the bytes written.
func (e *engine) dataEnded(t *txn) {
	t.dataSent = true
	t.endAt = e.s.streamPos()
}

// dataGone reports whether t's end of data has left the client: handed
// to the connection, so that the server may have read it.
func (e *engine) dataGone(t *txn) bool {
	return t.dataSent && e.s.dw != nil && e.s.dw.written >= t.endAt
}

// lostWith is the error of t when the connection failed with err: the
// delivery is unknown if its end of data had left, and otherwise err,
// which is [ErrNotSent].
func (e *engine) lostWith(t *txn, err error) error {
	if e.dataGone(t) {
		t.unknown = true
		return deliveryUnknown(err)
	}
	return err
}

// notReached is the error of a transaction that the run never began,
// because the connection had failed: the failure itself when it came
// before any transaction began (the connection was found closed), and
// otherwise a "not sent" that names it.
func (e *engine) notReached() error {
	for _, t := range e.txs {
		if t.started {
			return notSent(e.err)
		}
	}
	return e.err
}

// envelopesOpen reports whether a reply other than to an end of data, or
// to a reset, is outstanding: some earlier transaction may yet fail before
// its end of data and leave the server holding it.
func (e *engine) envelopesOpen() bool {
	for _, p := range e.queue[e.head:] {
		if p.kind != inFinal && p.kind != inReset && p.kind != inDrain {
			return true
		}
	}
	return false
}

// inStep reports whether the connection can take the next write. With no
// reply outstanding, it is where a new group starts, and anything already
// received was not asked for: the session is out of step and ends (see
// checkInStep). With replies outstanding, what was received may be theirs.
func (e *engine) inStep() bool {
	if e.err == nil && e.pending() == 0 {
		err := e.s.checkInStep()
		if err == nil {
			// Before a transaction's commands, or a group of them: a
			// connection that sat quiet may have been closed meanwhile.
			// The look may wait a moment: a shared engine's lock goes
			// meanwhile (this caller's writing turn keeps the others off).
			if e.shared {
				e.mu.Unlock()
			}
			err = e.s.checkIdle()
			if e.shared {
				e.mu.Lock()
			}
		}
		if err != nil {
			if unasked(err) {
				e.outOfStep(err)
			} else {
				e.end(err, false)
			}
			return false
		}
		e.synced = e.next()
	}
	return e.err == nil
}

// outOfStep ends the run after bytes nobody asked for were found: the
// server answered some command twice, or out of turn, so any reply read
// since the session was last known in step may have been taken for the
// answer to the wrong command. No transaction with such a reply is
// reported delivered, nor refused: each gets err (out of step, and not
// sent), or, when its end of data had left, err as a delivery unknown.
// Transactions whose every reply came before are left as they are.
func (e *engine) outOfStep(err error) {
	if e.err != nil {
		return
	}
	for _, t := range e.txs {
		if !t.started || t.lastSeq < e.synced {
			continue
		}
		// Every recipient's fate is as unknown as the mail's.
		t.refused, t.final, t.accepted = map[string]Reply{}, nil, t.to[:len(t.to):len(t.to)]
		t.err = e.lostWith(t, err)
	}
	e.end(err, true)
}

// stopped reports whether t can go no further.
func (e *engine) stopped(t *txn) bool { return e.err != nil || t.err != nil }

// put writes a command and queues the reply it awaits, returning that
// reply's sequence number (-1 when nothing was written).
func (e *engine) put(kind awaitKind, t *txn, i int, cmd, args string) int {
	if !e.inStep() {
		return -1
	}
	w := wr{phase: phaseCommand, hold: e.pipelined()}
	if t != nil {
		w.enc = t.e.enc
	}
	if err := e.s.putcmd(cmd, args, w); err != nil {
		e.writeFailed(err, &inflight{kind, t, i})
		return -1
	}
	return e.add(kind, t, i)
}

// add queues an awaited reply and keeps the window: when it is full, the
// group is flushed and replies are read until half of it is free, so that
// the commands after it go out as a group again rather than one write per
// reply read (a window of one empties).
func (e *engine) add(kind awaitKind, t *txn, i int) int {
	seq := e.next()
	if t != nil {
		t.lastSeq = seq
	}
	e.queue = append(e.queue, inflight{kind, t, i})
	if e.pending() < e.window {
		return seq
	}
	for e.err == nil && e.pending() > e.window/2 {
		if !e.flushGroup() {
			break
		}
		e.step()
	}
	return seq
}

// await reads replies until the one numbered seq is in.
func (e *engine) await(seq int) {
	for e.err == nil && seq >= 0 && e.answered() <= seq {
		if !e.flushGroup() {
			return
		}
		e.step()
	}
}

// settle reads every outstanding reply.
func (e *engine) settle() { e.await(e.next() - 1) }

// flushGroup sends what is buffered before a reply is read, when the read
// would wait: while a reply is already arriving (bytes in the read
// buffer; replies come in order, so they answer a command that has gone),
// the commands written meanwhile wait to go out together with those the
// next replies bring. It reports whether the connection is still up.
func (e *engine) flushGroup() bool {
	if e.s.bw == nil || e.s.bw.Buffered() == 0 {
		return true
	}
	if !(e.shared && e.reading) && e.s.br.Buffered() > 0 {
		// (The read buffer is the reader's: while another goroutine
		// reads, what is buffered goes out, for the reply it waits for
		// may answer it.)
		return true
	}
	if err := e.s.flush(wr{phase: phaseCommand, hold: e.pipelined()}); err != nil {
		e.writeFailed(err, nil)
	}
	return e.err == nil
}

// writeFailed reports a failed write. While replies are outstanding, a
// server that refused with 421 and hung up may be why, and its replies
// are already here: they are read and judged before the write's failure
// is reported, so the caller learns the server's reason. So is a reply to
// the command whose write was cut off (cut), if the server gave one.
func (e *engine) writeFailed(err error, cut *inflight) {
	we, ok := err.(*writeError)
	if !ok {
		e.end(err, false)
		return
	}
	if errors.Is(we.err, os.ErrDeadlineExceeded) {
		// The server stopped reading for a whole timeout: it will not
		// answer within another, and waiting for it would double the
		// timeout the caller set.
		e.end(e.s.disconnected("Server not connected", we.err), true)
		return
	}
	for e.err == nil && e.pending() > 0 {
		e.step()
	}
	if e.err == nil && cut != nil {
		if r, rerr := e.s.readReplyPhase(phaseCommand); rerr == nil {
			e.judge(*cut, r)
		}
	}
	if e.err == nil {
		// What had left before the failure may have reached the server.
		e.end(e.s.disconnected("Server not connected", we.err), true)
	}
}

// readOne reads the oldest outstanding reply and judges it. An LMTP end
// of data stays at the head of the queue until each accepted recipient's
// reply is in, so that the sequence numbers of the commands after it hold.
func (e *engine) readOne() {
	p := e.queue[e.head]
	phase := phaseCommand
	switch p.kind {
	case inData:
		phase = phaseDataInit
	case inChunk, inFinal:
		phase = phaseDataTermReply
	}
	if e.shared {
		// The reply is waited for without the lock, so that other
		// callers write their mails meanwhile.
		e.reading = true
		e.mu.Unlock()
	}
	r, err := e.s.readReplyPhase(phase)
	if e.shared {
		e.mu.Lock()
		e.reading = false
		defer e.signal()
	}
	if err != nil {
		e.end(err, true)
		return
	}
	e.head++
	if more := e.judge(p, r); more && e.err == nil {
		e.head--
		return
	}
	if e.head == len(e.queue) {
		e.base += e.head
		e.queue, e.head = e.queue[:0], 0
	}
	e.notify()
}

// end marks the connection as failed with err, which has closed the client,
// and gives each transaction still awaiting a reply its error: a
// transaction whose end of data had left the client may have been
// delivered (unknown), when the connection was lost rather than shut
// down with 421, after which the server acts on nothing.
func (e *engine) end(err error, lost bool) {
	if e.err != nil {
		return
	}
	e.err = err
	for _, p := range e.queue[e.head:] {
		t := p.t
		if t == nil || t.err != nil || t.done {
			continue
		}
		t.err = err
		if lost {
			t.err = e.lostWith(t, err)
		}
	}
	e.base += len(e.queue)
	e.queue, e.head = e.queue[:0], 0
	e.notify()
}

// outcome is what Sendmail returns for t.
func (e *engine) outcome(t *txn) (map[string]Reply, error) {
	t.o.noteFinal(t)
	refused, err := e.s.proto().outcome(e.s, t)
	if e.s.cfg.trace != nil {
		e.s.traceTxn(t, refused, err)
	}
	return refused, err
}
