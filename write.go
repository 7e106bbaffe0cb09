package smtplib

import (
	"net"
	"time"
)

// How bytes reach the connection: every write says how it behaves (a wr)
// rather than a field flipped on the client and flipped back. The one
// thing noted on the transport is the phase of the write under way
// (writing), since the buffered writer hands bytes on without arguments.

// wr is how one write behaves, passed with the write rather than set on
// the client: the timeout phase its deadline comes from, whether the
// buffer is flushed, whether a failure leaves the client open (hold: the
// replies already received to a pipelined group may say why the server
// hung up, so they are read first), and whether the debug output hides
// the command's arguments (credentials).
type wr struct {
	phase  phase
	flush  bool
	hold   bool
	redact bool
	enc    string // the command encoding to check in; "": CommandEncoding
}

// wrCommand writes a command on its own: flushed, and closing the client
// if it fails.
var wrCommand = wr{phase: phaseCommand, flush: true}

// deadlineReader sets the read deadline, the phase's timeout from then,
// before the first read from the connection of each reply: a reply that
// is already buffered (the second and later replies of a pipelined group)
// costs no deadline, and one that arrives in pieces is bounded as a
// whole from its first read.
type deadlineReader struct {
	conn     net.Conn
	s        *SMTP
	phase    phase
	fresh    bool      // a reply has begun: the next read from conn sets its deadline
	lastRead time.Time // when bytes last arrived, for checkIdle
}

func (r *deadlineReader) Read(p []byte) (int, error) {
	if r.fresh {
		r.fresh = false
		r.s.renewDeadline(r.conn.SetReadDeadline, r.phase)
	}
	n, err := r.conn.Read(p)
	if n > 0 {
		r.lastRead = time.Now()
	}
	return n, err
}

// writing notes w's phase on the transport, for the deadlines of the bytes
// the buffered writer hands on while w goes out.
func (s *SMTP) writing(w wr) { s.dw.phase = w.phase }

// deadlineWriter renews the write deadline before each write to the
// connection, so the timeout bounds each write of a long message rather
// than the whole of it. Its phase is that of the write under way, which
// every write passes in its wr.
type deadlineWriter struct {
	conn    net.Conn
	s       *SMTP
	phase   phase
	written int64 // bytes the connection took, for telling what reached the server
}

func (w *deadlineWriter) Write(p []byte) (int, error) {
	w.s.renewDeadline(w.conn.SetWriteDeadline, w.phase)
	n, err := w.conn.Write(p)
	w.written += int64(n)
	return n, err
}

// streamPos is the position in the bytes written to the connection
// that the write buffer's end stands at: once dw.written reaches it,
// everything buffered so far has left the client.
func (s *SMTP) streamPos() int64 { return s.dw.written + int64(s.bw.Buffered()) }

// write puts b on the wire as w says. A failure closes the client, unless
// w holds it back as a *writeError.
func (s *SMTP) write(b []byte, w wr) error {
	if s.getConn() == nil {
		return notConnected()
	}
	s.writing(w)
	_, err := s.bw.Write(b)
	return s.afterWrite(err, w)
}

// flush sends what is buffered, as w says.
func (s *SMTP) flush(w wr) error {
	if s.getConn() == nil {
		return notConnected()
	}
	s.writing(w)
	return s.afterWrite(s.bw.Flush(), w)
}

// afterWrite flushes when w says so and turns a failure of the buffered
// writes into the client's error: the client is closed, unless w holds
// write errors back.
func (s *SMTP) afterWrite(err error, w wr) error {
	if err == nil && w.flush {
		err = s.bw.Flush()
	}
	if err != nil {
		if w.hold {
			return &writeError{err}
		}
		return s.disconnected("Server not connected", err)
	}
	return nil
}

// writeError is a failed write that left the client open, for a pipelined
// group whose replies may still say why the server hung up.
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }
