package smtplib

import (
	"errors"
	"strconv"
)

// Chunks for BDAT are up to chunkSize bytes: large enough to keep a socket
// busy, small enough that a streamed message costs little memory. At most
// maxOutstanding chunks of a message go unanswered before the client stops
// to read a reply, so that a refusal stops the message early.
const (
	chunkSize      = 1 << 20
	firstChunkSize = 64 << 10 // the chunk that rides with MAIL and RCPT
	maxOutstanding = 16
)

// errStop ends the data of a transaction that failed, or whose connection
// did: the failure is already recorded where it belongs.
var errStop = errors.New("smtplib: transaction stopped")

// chunkSender sends a message with BDAT (RFC 3030): the data writer,
// without dot-stuffing, fills a chunk buffer, and each full buffer goes as
// "BDAT n", the last as "BDAT n LAST". Each chunk is a command of the
// engine like any other; when pipelining, the first chunk rides with MAIL
// and RCPT, and later ones go without waiting for the replies to earlier
// ones.
type chunkSender struct {
	e          *engine
	t          *txn
	envelope   int  // the sequence number of the envelope's last reply
	unresolved bool // the envelope's replies were not read yet
	buf        []byte
	chunks     []int // the sequence numbers of the chunks not known answered
}

// sendChunks sends t's message in chunks, after its envelope.
func (e *engine) sendChunks(t *txn) {
	c := &chunkSender{e: e, t: t, envelope: e.next() - 1, unresolved: e.pipelined()}
	// A short message of known length gets a buffer its size, one of
	// unknown length 64 KiB: a 1 MiB buffer for each small message costs
	// more than sending it. Write grows it to a whole chunk when needed.
	size := 64 << 10
	if t.b.sendSize() >= 0 {
		size = min(chunkSize, t.b.sendSize()+2)
	}
	c.buf = e.s.scratch(&e.s.chunkBuf, size)[:0]
	first := chunkSize
	if c.unresolved {
		first = firstChunkSize
	}
	d := newDataWriter(c, false)
	err := t.b.writeTo(e.s, d, first)
	if err == nil {
		err = d.finish()
	}
	if err == nil {
		err = c.emit(true)
	}
	if err != nil && err != errStop {
		// A failure of the caller's message (its reader, or the context
		// that ended while reading it) leaves the server in the middle of
		// the data, as on the DATA path.
		t.err = e.s.bodyFailed(err)
		e.end(t.err, false)
	}
}

// limit is the size of the chunk being filled.
func (c *chunkSender) limit() int {
	if c.unresolved && len(c.chunks) == 0 {
		// The chunk that rides with the envelope is small: a server that
		// refuses may hang up while a large chunk is on its way. The next
		// is whole, since emit reads the envelope's replies before it goes;
		// body.writeTo's pieces fall on the same boundaries, so that whole
		// chunks go from the caller's slice.
		return firstChunkSize
	}
	return chunkSize
}

// Write gathers normalised data into the chunk buffer, sending each full
// chunk.
func (c *chunkSender) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		limit := c.limit()
		if len(c.buf) >= limit {
			if err := c.emit(false); err != nil {
				return 0, err
			}
			continue
		}
		if len(c.buf) == 0 && len(p) >= limit/2 {
			// Most of a chunk, or more, of the caller's bytes: send it
			// from where it lies rather than copy it (a piece that the
			// data writer cut short by a CR held back for the next write
			// still qualifies). The buffer is set aside, not replaced, so
			// nothing is ever appended to the caller's slice.
			kept := c.buf
			n := min(len(p), limit)
			c.buf = p[:n:n]
			err := c.emit(false)
			c.buf = kept[:0]
			if err != nil {
				return 0, err
			}
			p = p[n:]
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

// emit sends the buffered chunk. Before a second chunk the envelope's
// replies are read, and before each chunk enough replies that at most
// maxOutstanding chunks are unanswered.
func (c *chunkSender) emit(last bool) error {
	e, t := c.e, c.t
	if c.unresolved && len(c.chunks) > 0 {
		c.unresolved = false
		e.await(c.envelope)
	}
	for len(c.chunks) > 0 && (len(c.chunks) >= maxOutstanding || c.chunks[0] < e.answered()) {
		e.await(c.chunks[0])
		c.chunks = c.chunks[1:]
	}
	if e.stopped(t) || !e.inStep() {
		return errStop
	}
	args := strconv.Itoa(len(c.buf))
	if last {
		args += " LAST"
	}
	// A failed chunk write keeps the client open until the replies that
	// are in, the chunk's own included, are read: a server that refuses a
	// chunk with 421 and hangs up while it is still arriving says why.
	hold := true
	err := e.s.putcmd(verbBdat, args, wr{phase: phaseCommand, hold: hold})
	if err == nil {
		if e.s.debuglevel > 0 {
			e.s.debugf("send: %s", pyReprBytes(c.buf))
		}
		err = e.s.write(c.buf, wr{phase: phaseDataBlock, hold: hold})
	}
	if err != nil {
		kind := inChunk
		if last {
			kind = inFinal
		}
		e.writeFailed(err, &inflight{kind: kind, t: t})
		return errStop
	}
	c.buf = c.buf[:0]
	if last {
		e.dataEnded(t)
		e.add(inFinal, t, 0)
		return nil
	}
	c.chunks = append(c.chunks, e.add(inChunk, t, 0))
	if e.stopped(t) {
		return errStop
	}
	return nil
}
