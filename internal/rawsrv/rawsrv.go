// Package rawsrv is the test suite's one raw-connection server: a loopback
// listener that hands each connection to a handler, which may write
// anything, byte for byte and at any pace. Tests that need an SMTP server
// use smtptest; this is for what smtptest will not do on purpose: scripts
// compared byte for byte with Python's smtplib, hostile servers, and
// servers that break the protocol.
//
// It is internal to the module and used only by its tests.
package rawsrv

import (
	"context"
	"net"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// Server is a loopback listener whose connections are handed to a
// handler. Each connection is closed when its handler returns. When the
// test ends, the listener and every connection are closed and the test
// waits for the handlers, so that one blocked in a read or a write ends
// too and no goroutine outlives the test.
type Server struct {
	ln     net.Listener
	once   bool
	handle func(net.Conn)
	accept sync.WaitGroup // the accept loop
	wg     sync.WaitGroup // the handlers
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

// Start listens on 127.0.0.1 and serves every connection with handle.
func Start(t testing.TB, handle func(conn net.Conn)) *Server {
	t.Helper()
	return start(t, handle, false)
}

// StartOnce is Start for one connection: the listener closes once it has
// accepted it, so that a second dial is refused, as by a script server
// that serves one session.
func StartOnce(t testing.TB, handle func(conn net.Conn)) *Server {
	t.Helper()
	return start(t, handle, true)
}

func start(t testing.TB, handle func(net.Conn), once bool) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &Server{ln: ln, once: once, handle: handle, conns: map[net.Conn]struct{}{}}
	s.accept.Add(1)
	go s.serve()
	t.Cleanup(s.Close)
	return s
}

func (s *Server) serve() {
	defer s.accept.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			conn.Close()
			return
		}
		s.conns[conn] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.handle(conn)
			conn.Close()
		}()
		if s.once {
			s.ln.Close()
			return
		}
	}
}

// Port is the port the server listens on.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Addr is the server's address, "127.0.0.1:port".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Wait stops accepting connections and waits for the handlers to return
// on their own, for a test that reads what a handler recorded once the
// client has gone.
func (s *Server) Wait() {
	s.ln.Close()
	s.accept.Wait()
	s.wg.Wait()
}

// Close closes the listener and every connection, and waits for the
// handlers. It is safe to call more than once.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.ln.Close()
	s.accept.Wait()
	s.wg.Wait()
}

// ClosedPort returns a loopback port that nothing listens on: one that was
// just free, for a dial that must be refused.
func ClosedPort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}

// Pipes is a dialer without a network: each DialContext returns one end
// of a net.Pipe and serves the other with the handler in a goroutine. It
// is for fuzzing, where a socket per input costs too much, and for
// testing/synctest, where a goroutine blocked on a socket is not durably
// blocked but one blocked on a pipe is.
type Pipes struct {
	handle func(net.Conn)
	wg     sync.WaitGroup
}

// NewPipes returns a Pipes serving each connection with handle; the
// server's end is closed when handle returns.
func NewPipes(handle func(conn net.Conn)) *Pipes { return &Pipes{handle: handle} }

// DialContext returns the client's end of a new pipe.
func (p *Pipes) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	client, server := net.Pipe()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.handle(server)
		server.Close()
	}()
	return client, nil
}

// Wait waits for the handlers to return.
func (p *Pipes) Wait() { p.wg.Wait() }
