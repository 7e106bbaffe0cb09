package smtptest

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// DefaultHostname is the name a [Server] gives itself when its Hostname
// field is empty.
const DefaultHostname = "smtptest.example"

// defaultExtensions is what EHLO offers when Server.Extensions is nil: a
// plain submission server without TLS or AUTH, so that a test opts in to
// each feature it exercises.
var defaultExtensions = []string{"8BITMIME", "SIZE 33554432", "PIPELINING", "HELP"}

// Server is a fake SMTP or LMTP server listening on a loopback address or
// a Unix socket, for use in tests. It records every session's transcript
// and every accepted message.
//
// The exported fields other than Addr configure the server. They may be
// changed between [NewUnstartedServer] and [Server.Start], and must not be
// changed afterwards.
type Server struct {
	// Addr is the address the server listens on, "127.0.0.1:port" (or
	// "[::1]:port" where IPv4 loopback is not available), or the socket's
	// path in Unix-socket mode. It is set by Start.
	Addr string

	// Hostname is the name in the greeting and in the first line of the
	// EHLO reply. NewUnstartedServer sets it to [DefaultHostname].
	Hostname string

	// Extensions are the EHLO reply lines after the first, in order. Nil
	// means "8BITMIME", "SIZE 33554432", "PIPELINING", "HELP". The
	// server's behaviour follows what it offers: BDAT needs CHUNKING,
	// STARTTLS needs STARTTLS, AUTH needs an AUTH line, non-ASCII
	// addresses need SMTPUTF8, and a SIZE line with a non-zero limit is
	// enforced.
	Extensions []string

	// LMTP switches to LMTP (RFC 2033): LHLO replaces EHLO and HELO, and
	// the end of the data gets one reply per accepted recipient.
	LMTP bool

	// Users maps user names to passwords (for XOAUTH2, to tokens) for AUTH.
	Users map[string]string

	// AuthRequiresTLS makes AUTH fail with 538 before TLS is active. AUTH
	// is still offered, so that a client's reaction to 538 can be tested.
	AuthRequiresTLS bool

	// DisableEHLO makes EHLO fail with 502, so that clients fall back to
	// HELO.
	DisableEHLO bool

	// UnixSocket, when not empty, is the path of a Unix socket to listen on
	// instead of a loopback TCP port.
	UnixSocket string

	// ListenAddr, when not empty, is the TCP address to listen on instead
	// of a free loopback port: "127.0.0.1:1025", "[::1]:2525", or ":1025"
	// for every interface. Port 0 picks a free port; Addr tells which.
	ListenAddr string

	// OnMessage, when not nil, is called with each message the server is
	// about to accept: after the whole data has arrived, before the final
	// reply. A nil error lets the server accept it; any other error makes
	// the reply "451 4.3.0 Error: queue file write error" (for each
	// recipient, in LMTP mode), as a server that could not store it says,
	// and the message is not recorded. Data that stopped short (a client
	// gone, or the server closed, before the end of the data) never comes
	// here. The function runs on the session's goroutine, so calls for
	// different sessions may run at once, and the session waits for it.
	// It must not modify the message's slices, which the server may keep.
	OnMessage func(Message) error

	t           testing.TB // nil when made by New
	implicitTLS bool

	// Scripted behaviour, keyed by upper-case verb or address. Written by
	// the options only, read under mu because queued replies are consumed.
	replies      map[string]string
	queued       map[string][]string
	refuseSender map[string]string
	refuseRcpt   map[string]string
	lmtpReplies  map[string]string
	faults       []Fault
	// requireTLSOnlyTLS hides REQUIRETLS from sessions not under TLS
	// (WithRequireTLS).
	requireTLSOnlyTLS bool
	// noEnhancedCodes takes the RFC 3463 codes out of the server's own
	// replies (WithoutEnhancedStatusCodes).
	noEnhancedCodes bool
	// noRecording keeps no transcript, message or session history
	// (WithoutRecording).
	noRecording bool
	// anyCredentials makes AUTH accept every user and secret
	// (WithAnyCredentials).
	anyCredentials bool
	// oauthTokens and oauthScope are WithOAuth's: the bearer tokens of
	// XOAUTH2 and OAUTHBEARER by user, and the scope of the error.
	oauthTokens map[string]string
	oauthScope  string
	faultFired  []bool
	faultCounts map[string]int

	certMu    sync.Mutex
	cert      *tls.Certificate
	leaf      *x509.Certificate
	serverTLS *tls.Config

	mu         sync.Mutex
	started    bool
	closed     bool
	ln         net.Listener
	conns      map[net.Conn]struct{}
	wg         sync.WaitGroup
	done       chan struct{} // closed by Close: releases stalled sessions
	sessions   []*sessionRecord
	transcript strings.Builder
	messages   []Message
	ended      int
	endedCh    chan struct{} // closed and replaced whenever a session ends
	queueID    int
	closeOnce  sync.Once
}

// New starts a server for use outside a test function, such as in an
// example, a TestMain or a program of its own (see [Server.Serve]). The
// caller must call [Server.Close], or Serve, which closes it at the end.
func New(opts ...Option) (*Server, error) {
	s := newServer(nil, opts)
	if err := s.start(); err != nil {
		return nil, err
	}
	return s, nil
}

// NewServer starts a server on 127.0.0.1:0 (or [::1]:0) configured by
// opts, and registers its Close with t.Cleanup. It fails the test if the
// server cannot start.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := NewUnstartedServer(t, opts...)
	s.Start()
	return s
}

// NewUnstartedServer returns a server configured by opts but not yet
// listening, so that the caller can change its fields before calling
// [Server.Start] or [Server.StartTLS]. Its Close is registered with
// t.Cleanup; t may be nil, and then the caller must Close it.
func NewUnstartedServer(t testing.TB, opts ...Option) *Server {
	s := newServer(t, opts)
	if t != nil {
		t.Cleanup(s.Close)
	}
	return s
}

func newServer(t testing.TB, opts []Option) *Server {
	s := &Server{
		Hostname:     DefaultHostname,
		t:            t,
		replies:      map[string]string{},
		queued:       map[string][]string{},
		refuseSender: map[string]string{},
		refuseRcpt:   map[string]string{},
		lmtpReplies:  map[string]string{},
		faultCounts:  map[string]int{},
		conns:        map[net.Conn]struct{}{},
		done:         make(chan struct{}),
		endedCh:      make(chan struct{}),
	}
	for _, opt := range opts {
		opt(s)
	}
	s.faultFired = make([]bool, len(s.faults))
	return s
}

// Start starts the server. It fails the test (or panics, for a server
// made without a testing.TB) if the server cannot listen.
func (s *Server) Start() {
	if s.t != nil {
		s.t.Helper()
	}
	if err := s.start(); err != nil {
		s.fail(err)
	}
}

// StartTLS starts the server with implicit TLS (SMTPS, RFC 8314): every
// connection begins with a TLS handshake using [Server.Certificate].
func (s *Server) StartTLS() {
	if s.t != nil {
		s.t.Helper()
	}
	s.implicitTLS = true
	s.Start()
}

func (s *Server) fail(err error) {
	if s.t != nil {
		s.t.Helper()
		s.t.Fatalf("smtptest: %v", err)
	}
	panic("smtptest: " + err.Error())
}

func (s *Server) start() error {
	s.mu.Lock()
	if s.started || s.closed {
		s.mu.Unlock()
		return errors.New("server already started or closed")
	}
	s.started = true
	s.mu.Unlock()
	if s.Hostname == "" {
		s.Hostname = DefaultHostname
	}
	// Generating the certificate here rather than in the first STARTTLS
	// keeps its cost out of the timings of the client under test.
	if s.implicitTLS || s.offers("STARTTLS") {
		if _, err := s.tlsConfig(); err != nil {
			return err
		}
	}
	ln, err := s.listen()
	if err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return errors.New("server closed while starting")
	}
	s.ln = ln
	s.Addr = ln.Addr().String()
	s.wg.Add(1)
	s.mu.Unlock()
	go s.serve(ln)
	return nil
}

func (s *Server) listen() (net.Listener, error) {
	if s.UnixSocket != "" {
		return net.Listen("unix", s.UnixSocket)
	}
	if s.ListenAddr != "" {
		return net.Listen("tcp", s.ListenAddr)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err == nil {
		return ln, nil
	}
	// Some containers have only IPv6 loopback, as httptest also allows.
	if ln6, err6 := net.Listen("tcp6", "[::1]:0"); err6 == nil {
		return ln6, nil
	}
	return nil, fmt.Errorf("failed to listen on a port: %v", err)
}

// offers tells whether the configured extensions include keyword, without
// regard to session state.
func (s *Server) offers(kw string) bool {
	exts := s.Extensions
	if exts == nil {
		exts = defaultExtensions
	}
	for _, line := range exts {
		if strings.EqualFold(keyword(line), kw) {
			return true
		}
	}
	return false
}

func (s *Server) serve(ln net.Listener) {
	defer s.wg.Done()
	for {
		conn, err := ln.Accept()
		if err != nil {
			// Close makes Accept fail; any other failure also ends the
			// server rather than spinning on a broken listener.
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			conn.Close()
			return
		}
		rec := &sessionRecord{remote: conn.RemoteAddr().String()}
		if !s.noRecording {
			s.sessions = append(s.sessions, rec)
		}
		s.conns[conn] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.handle(conn, rec)
	}
}

func (s *Server) handle(conn net.Conn, rec *sessionRecord) {
	defer s.wg.Done()
	c := newSession(s, conn, rec)
	c.run()
	conn.Close()
	s.mu.Lock()
	delete(s.conns, conn)
	rec.ended = true
	s.ended++
	close(s.endedCh)
	s.endedCh = make(chan struct{})
	s.mu.Unlock()
}

// Close closes the listener and every connection, and waits until every
// goroutine of the server has returned. A stalled session (see [Stall])
// ends here too. Close may be called more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		ln := s.ln
		conns := make([]net.Conn, 0, len(s.conns))
		for c := range s.conns {
			conns = append(conns, c)
		}
		close(s.done)
		s.mu.Unlock()
		if ln != nil {
			ln.Close()
		}
		// Closing the raw connections, not TLS wrappers, because a TLS
		// Close would try to send an alert to a client that may not read.
		for _, c := range conns {
			c.Close()
		}
		s.wg.Wait()
	})
}

// Host returns the host part of Addr, such as "127.0.0.1", or "" in
// Unix-socket mode.
func (s *Server) Host() string {
	if s.UnixSocket != "" {
		return ""
	}
	host, _, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return ""
	}
	return host
}

// Port returns the port of Addr, or 0 in Unix-socket mode or before Start.
func (s *Server) Port() int {
	if s.UnixSocket != "" {
		return 0
	}
	_, port, err := net.SplitHostPort(s.Addr)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(port)
	return n
}

// scripted returns the scripted reply for key (a verb, "GREETING" or
// "DOT"): the next of WithReplies' queue, else WithReply's.
func (s *Server) scripted(key string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q := s.queued[key]; len(q) > 0 {
		s.queued[key] = q[1:]
		return q[0], true
	}
	r, ok := s.replies[key]
	return r, ok
}

// takeFault counts an occurrence of the point at and returns the fault
// set for this occurrence, if any. Occurrences are counted across all
// sessions, so that "the second connection's greeting" can fail.
func (s *Server) takeFault(at string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faultCounts[at]++
	n := s.faultCounts[at]
	for i, f := range s.faults {
		if s.faultFired[i] || !strings.EqualFold(f.At, at) || max(f.N, 1) != n {
			continue
		}
		s.faultFired[i] = true
		return &f
	}
	return nil
}
