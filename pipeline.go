package smtplib

import (
	"strconv"
)

// Chunks for BDAT are up to chunkSize bytes: large enough to keep a socket
// busy, small enough that a streamed message costs little memory. At most
// maxOutstanding chunks go unanswered before the client stops to read a
// reply, so that the server's replies never fill its socket buffer while
// the client is still writing.
const (
	chunkSize      = 1 << 20
	firstChunkSize = 64 << 10 // the chunk that rides with MAIL and RCPT
	maxOutstanding = 16
)

// transactPipelined is transact for a server that offers PIPELINING (RFC
// 2920): MAIL, every RCPT and DATA (or the first BDAT chunk) are written
// together and their replies read afterwards, in order, and judged exactly
// as the one-at-a-time dialogue judges them.
func (s *SMTP) transactPipelined(e *envelope, b *body, chunking bool) (*txn, error) {
	t := &txn{refused: map[string]Reply{}}
	if err := s.checkInStep(); err != nil {
		return nil, err
	}
	s.holdWriteErrors = true
	err := s.putcmd(verbMail, e.mail, false)
	for i := 0; err == nil && i < len(e.rcpts); i++ {
		err = s.putcmd(verbRcpt, e.rcpts[i], false)
	}
	if err == nil && !chunking {
		err = s.putcmd(verbData, "", true)
	}
	s.holdWriteErrors = false
	if err != nil {
		return nil, s.pipelineWriteFailed(t, e, err)
	}
	if chunking {
		c := &chunkSender{s: s, t: t, e: e, pipelined: true, unresolved: true}
		return t, c.send(b)
	}
	if err := s.resolveEnvelope(t, e, dataDrain{s}); err != nil {
		return nil, err
	}
	r, err := s.readReplyPhase(phaseDataInit)
	if err != nil {
		return nil, err
	}
	return t, s.sendData(t, b, r)
}

// pipelineWriteFailed reports a write that failed before the replies to a
// pipelined envelope were read. A server that refuses with 421 and hangs up
// can make the write fail first; its replies, already received, say why,
// so they are read and judged before the write's failure is reported.
func (s *SMTP) pipelineWriteFailed(t *txn, e *envelope, err error) error {
	if we, ok := err.(*writeError); ok {
		if rerr := s.resolveEnvelope(t, e, noDrain{}); rerr != nil {
			return rerr
		}
		return s.disconnected("Server not connected", we.err)
	}
	return err
}

// drainer reads and discards the replies to commands that were pipelined
// after an envelope that failed.
type drainer interface{ drain() }

// noDrain is the drainer when nothing after the envelope reached the
// server.
type noDrain struct{}

func (noDrain) drain() {}

// dataDrain drains the reply to a pipelined DATA. A server that answered
// 354 although no recipient was accepted is sent an empty message, the
// lone "." that ends the data, so that it leaves data mode; no message data
// is sent.
type dataDrain struct{ s *SMTP }

func (d dataDrain) drain() {
	r, err := d.s.readReplyPhase(phaseDataInit)
	if err == nil && r.Code == 354 {
		if d.s.write(phaseDataBlock, []byte(".\r\n"), true) == nil {
			d.s.readReplyPhase(phaseDataTermReply)
		}
	}
}

// resolveEnvelope reads the replies to a pipelined MAIL and its RCPTs and
// judges them as the one-at-a-time dialogue does; after a failure, d
// drains the replies to what was pipelined after the RCPTs before the
// session is reset.
func (s *SMTP) resolveEnvelope(t *txn, e *envelope, d drainer) error {
	r, err := s.readReplyPhase(phaseCommand)
	if err != nil {
		return err
	}
	if r.Code != 250 {
		if r.Code != 421 {
			for range e.rcpts {
				if _, err := s.readReplyPhase(phaseCommand); err != nil {
					break
				}
			}
			if s.getConn() != nil {
				d.drain()
			}
		}
		return s.checkSender(e, r)
	}
	for i := range e.rcpts {
		r, err := s.readReplyPhase(phaseCommand)
		if err != nil {
			return err
		}
		if err := s.noteRecipient(t, e.to[i], r); err != nil {
			return err
		}
	}
	if len(t.refused) == len(e.to) {
		d.drain()
	}
	return s.checkSomeAccepted(t, e)
}

// chunkSender sends a message with BDAT (RFC 3030): the data writer,
// without dot-stuffing, fills a chunk buffer, and each full buffer goes as
// "BDAT n", the last as "BDAT n LAST". When pipelining, the first chunk
// rides with MAIL and RCPT, and later chunks are sent without waiting for
// the replies to earlier ones.
type chunkSender struct {
	s           *SMTP
	t           *txn
	e           *envelope
	pipelined   bool
	unresolved  bool // MAIL and RCPT were sent but their replies not read yet
	buf         []byte
	outstanding int // chunks sent whose replies were not read
}

// sendChunks is the non-pipelined path: the envelope is settled already.
func (s *SMTP) sendChunks(t *txn, b *body, pipelined bool) error {
	c := &chunkSender{s: s, t: t, pipelined: pipelined}
	return c.send(b)
}

func (c *chunkSender) send(b *body) error {
	// A short message of known length gets a buffer its size, one of
	// unknown length 64 KiB: a 1 MiB buffer for each small message costs
	// more than sending it. Write grows it to a whole chunk when needed.
	size := min(chunkSize, 64<<10)
	if b.size >= 0 {
		size = min(chunkSize, b.size+2)
	}
	c.buf = c.s.scratch(&c.s.chunkBuf, size)[:0]
	d := newDataWriter(c, false)
	err := b.writeTo(c.s, d)
	if err == nil {
		err = d.finish()
	}
	if err == nil {
		err = c.emit(true)
	}
	if err != nil {
		// A failure of the caller's message (its reader, or the context
		// that ended while reading it) leaves the server in the middle of
		// the data, as on the DATA path; the protocol's own errors have
		// been judged already.
		if _, ok := err.(*readError); ok || c.s.ctx != nil && err == c.s.ctx.Err() {
			return c.s.bodyFailed(err)
		}
		return err
	}
	return nil
}

// Write gathers normalised data into the chunk buffer, sending each full
// chunk.
func (c *chunkSender) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		limit := chunkSize
		if c.unresolved {
			// Until the envelope's replies are in, send little: a server
			// that refuses may hang up while a large chunk is on its way.
			limit = firstChunkSize
		}
		if len(c.buf) >= limit {
			if err := c.emit(false); err != nil {
				return 0, err
			}
			continue
		}
		if len(c.buf) == 0 && len(p) > limit {
			// A whole chunk of the caller's bytes: send it from where it
			// lies rather than copy it. The buffer is set aside, not
			// replaced, so nothing is ever appended to the caller's slice.
			kept := c.buf
			c.buf = p[:limit:limit]
			err := c.emit(false)
			c.buf = kept[:0]
			if err != nil {
				return 0, err
			}
			p = p[limit:]
			continue
		}
		if len(c.buf) == cap(c.buf) {
			c.buf = append(make([]byte, 0, chunkSize), c.buf...)
		}
		k := min(limit-len(c.buf), cap(c.buf)-len(c.buf), len(p))
		c.buf = append(c.buf, p[:k]...)
		p = p[k:]
	}
	return n, nil
}

// emit sends the buffered chunk and reads replies as far as the flow
// requires: the envelope's before a second chunk goes out, every reply
// when not pipelining, and enough to keep maxOutstanding.
func (c *chunkSender) emit(last bool) error {
	s := c.s
	if c.unresolved && c.outstanding > 0 {
		if err := c.resolve(); err != nil {
			return err
		}
	}
	if c.outstanding == 0 && !c.unresolved {
		// Every command so far is answered: this chunk starts a group.
		if err := s.checkInStep(); err != nil {
			return err
		}
	}
	args := strconv.Itoa(len(c.buf))
	if last {
		args += " LAST"
	}
	s.holdWriteErrors = c.pipelined
	err := s.putcmd(verbBdat, args, false)
	if err == nil {
		if s.debuglevel > 0 {
			s.debugf("send: %s", pyReprBytes(c.buf))
		}
		err = s.write(phaseDataBlock, c.buf, last || !c.pipelined)
	}
	s.holdWriteErrors = false
	if we, ok := err.(*writeError); ok {
		return c.writeFailed(we)
	} else if err != nil {
		return err
	}
	c.buf = c.buf[:0]
	c.outstanding++
	if last {
		if c.unresolved {
			if err := c.resolve(); err != nil {
				return err
			}
		}
		for c.outstanding > 1 {
			if err := c.readChunkReply(); err != nil {
				return err
			}
		}
		c.outstanding = 0
		return s.readFinal(c.t, s.finalReplies(c.t))
	}
	if !c.unresolved && (!c.pipelined || c.outstanding >= maxOutstanding) {
		return c.readChunkReply()
	}
	return nil
}

// writeFailed reports a chunk whose write failed while replies were
// outstanding: a server that refused the envelope or an earlier chunk, and
// then hung up, said so in those replies, which are read and judged first.
func (c *chunkSender) writeFailed(we *writeError) error {
	if c.unresolved {
		c.unresolved = false
		if err := c.s.resolveEnvelope(c.t, c.e, c); err != nil {
			return err
		}
	}
	for c.outstanding > 0 {
		if err := c.readChunkReply(); err != nil {
			return err
		}
	}
	return c.s.disconnected("Server not connected", we.err)
}

// resolve reads the pipelined envelope's replies; on failure the replies to
// the chunks already sent are drained.
func (c *chunkSender) resolve() error {
	c.unresolved = false
	if err := c.s.bw.Flush(); err != nil {
		return c.s.disconnected("Server not connected", err)
	}
	return c.s.resolveEnvelope(c.t, c.e, c)
}

// drain discards the replies to the chunks sent for a failed envelope.
func (c *chunkSender) drain() {
	for ; c.outstanding > 0; c.outstanding-- {
		if _, err := c.s.readReplyPhase(phaseDataTermReply); err != nil {
			return
		}
	}
}

// readChunkReply reads the reply to a chunk that was not the last; a
// refusal is the transaction's DataError.
func (c *chunkSender) readChunkReply() error {
	r, err := c.s.readReplyPhase(phaseDataTermReply)
	if err != nil {
		return err
	}
	c.outstanding--
	if r.Code != 250 {
		c.drain()
		return c.failure(r)
	}
	return nil
}

// failure ends a transaction whose data was refused, as Sendmail does after
// a refused DATA: closed on 421, else reset.
func (c *chunkSender) failure(r Reply) error {
	if r.Code == 421 {
		c.s.Close()
	} else {
		c.s.rsetQuietly()
	}
	return &DataError{ResponseError(r)}
}
