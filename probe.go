package smtplib

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// Connections that sat idle. A server closes a connection it finds idle
// (after "421 4.4.2 idle timeout", or silently, as a restart does), and a
// client that writes its next transaction into it learns so only after
// the data: under CHUNKING the whole mail has gone by then, and a lost
// connection after the end of the data is "delivery unknown", though the
// server never read a byte of it. So before a transaction's commands are
// written on a connection that has been quiet for idleProbeAfter, the
// client looks at the socket without blocking: an end of file, a reset,
// or a reply nobody asked for means the connection is gone, and nothing
// is written. The low-level commands do as smtplib does, and find out by
// writing.

// idleProbeAfter is how long a connection must have been quiet (no reply
// read) before a command is preceded by a look at the socket. The look
// costs one system call (a microsecond or two); a client sending mail after
// mail without pause never pays it, and a connection quiet for longer
// than this has given a server time to close it.
const idleProbeAfter = time.Millisecond

// probeReadWait is how long a look at a connection without a socket of
// its own may wait: long enough for the read to be tried, too short to
// matter after a connection sat idle.
const probeReadWait = 100 * time.Microsecond

// probeState is what a look at an idle socket found.
type probeState int

const (
	probeQuiet  probeState = iota // nothing to read: the connection is usable
	probeData                     // bytes arrived unasked
	probeClosed                   // end of file, or the error in err
)

// probeIdle looks at what conn has received: on a socket, with one
// non-blocking peek (MSG_PEEK) under the TLS layer if there is one, which
// consumes nothing; on any other connection, with a read into br that
// may hardly wait.
func probeIdle(conn net.Conn, br interface{ Peek(int) ([]byte, error) }) (probeState, error) {
	raw := conn
	if tc, ok := conn.(*tls.Conn); ok {
		raw = tc.NetConn()
	}
	if sc, ok := raw.(syscall.Conn); ok {
		if st, err, ok := peekSocket(sc); ok {
			return st, err
		}
	}
	// A connection that hides its socket (a wrapper, a proxy's) is read
	// with a deadline just ahead, so that the read is tried once and
	// then gives up: with data or an end of file if they are there, and
	// otherwise with a timeout, which says nothing.
	conn.SetReadDeadline(time.Now().Add(probeReadWait))
	_, err := br.Peek(1)
	switch {
	case err == nil:
		return probeData, nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return probeQuiet, nil
	case err == io.EOF:
		return probeClosed, io.EOF
	}
	return probeClosed, err
}

// checkIdle is called before a command is written with no reply
// outstanding, after the read buffer was found empty. When the connection
// has been quiet for idleProbeAfter it looks at the socket (see
// probeIdle); a connection found closed closes the client and returns a
// [*ServerDisconnectedError] saying so, and bytes found there are read
// into the buffer for checkInStep to judge. The deadline of that read is
// short, since the bytes are already there: TLS may need a moment to have
// a whole record.
func (s *SMTP) checkIdle() error {
	if s.dr == nil || time.Since(s.dr.lastRead) < s.cfg.idleProbe() {
		return nil
	}
	conn := s.getConn()
	if conn == nil {
		return nil
	}
	s.dr.lastRead = time.Now() // one look per quiet spell
	s.dr.fresh = false         // the looks below set their own deadlines
	st, err := probeIdle(conn, s.br)
	switch st {
	case probeClosed:
		if s.debuglevel > 0 {
			s.debugf("idle: the connection was closed by the server")
		}
		return s.disconnected("the server closed the connection while it was idle", err)
	case probeData:
		if s.br.Buffered() == 0 {
			conn.SetReadDeadline(time.Now().Add(min(s.cfg.timeoutFor(phaseCommand), idleReadWait)))
			if _, err := s.br.Peek(1); err != nil && s.br.Buffered() == 0 {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					return nil // TLS records that carried no reply
				}
				return s.disconnected("the server closed the connection while it was idle", err)
			}
		}
		// Whatever else of the reply is on its way is not waited for:
		// the bytes already here are unasked, which is enough.
		return s.strayFound()
	}
	return nil
}

// idleReadWait bounds the read of bytes that a look at an idle socket
// found: they are already there, but a TLS record may come in pieces,
// and what arrived may be TLS's own messages with no reply in them.
const idleReadWait = 500 * time.Millisecond
