package main

import (
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"time"
)

// tlsFirstWait is how long a server may stay silent where its greeting is
// due before send and probe check whether it expects TLS first, as a
// server on port 465 does. A variable so that tests can shorten it.
//
// Silence alone proves nothing: Postfix's postscreen and some tarpits
// wait seconds before greeting on purpose. So after tlsFirstWait the
// command opens a second connection and sends a TLS ClientHello: a server
// that answers with a TLS record speaks TLS first, and the command stops
// at once with errTLSFirst. A server that answers in plain text, or not
// within tlsFirstWait, is left to greet in its own time, within
// --timeout as ever.
var tlsFirstWait = time.Second

// errTLSFirst is what send and probe say of a server that speaks TLS
// where they expected a greeting in plain text.
var errTLSFirst = errors.New("the server seems to expect TLS first: try --tls")

// greetingConn watches the first read of a connection, which waits for
// the server's greeting, for a server that speaks TLS first: one whose
// first byte is a TLS record's, or that stays silent and answers a
// ClientHello on a second connection.
type greetingConn struct {
	net.Conn
	started bool // the first read has begun; only Read touches it

	mu       sync.Mutex
	answered bool // the first read has returned
	tlsFirst bool // the server expects TLS first: the connection is closed
}

// TLS records start with their content type: 0x16 a handshake message,
// 0x15 an alert (RFC 8446 section 5.1). No SMTP reply starts so.
const (
	recordHandshake = 0x16
	recordAlert     = 0x15
)

func (c *greetingConn) Read(p []byte) (int, error) {
	if c.started {
		return c.Conn.Read(p)
	}
	c.started = true
	timer := time.AfterFunc(tlsFirstWait, c.probe)
	n, err := c.Conn.Read(p)
	timer.Stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.answered = true
	if c.tlsFirst {
		return 0, errTLSFirst
	}
	if n > 0 && (p[0] == recordHandshake || p[0] == recordAlert) {
		c.tlsFirst = true
		c.Conn.Close()
		return 0, errTLSFirst
	}
	return n, err
}

// probe runs when the server has been silent for tlsFirstWait: if a
// ClientHello on a second connection gets a TLS answer, the first
// connection is closed, which ends the wait for its greeting.
func (c *greetingConn) probe() {
	if !speaksTLS(c.Conn.RemoteAddr(), tlsFirstWait) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.answered {
		c.tlsFirst = true
		c.Conn.Close()
	}
}

// found reports whether the connection was found to need TLS first.
func (c *greetingConn) found() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tlsFirst
}

// speaksTLS connects to addr, sends a TLS ClientHello and tells whether
// the first byte of the answer, within wait, starts a TLS record. Nothing
// but the hello is sent, so there is nothing to verify.
func speaksTLS(addr net.Addr, wait time.Duration) bool {
	conn, err := net.DialTimeout(addr.Network(), addr.String(), wait)
	if err != nil {
		return false
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(wait)) //nolint:errcheck // a failure shows as a failed handshake
	first := &firstByte{Conn: conn}
	tls.Client(first, &tls.Config{InsecureSkipVerify: true}).Handshake() //nolint:errcheck,gosec // only the answer's first byte matters
	return first.seen && (first.b == recordHandshake || first.b == recordAlert)
}

// firstByte notes the first byte read from a connection.
type firstByte struct {
	net.Conn
	b    byte
	seen bool
}

func (f *firstByte) Read(p []byte) (int, error) {
	n, err := f.Conn.Read(p)
	if n > 0 && !f.seen {
		f.b, f.seen = p[0], true
	}
	return n, err
}
