package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosmtplib/smtplib"
)

// connFlags are the flags about reaching the server that probe and send
// share.
type connFlags struct {
	implicitTLS bool
	timeout     time.Duration
	cafile      string
	servername  string
	ehlo        string
	debug       bool
}

func (f *connFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&f.implicitTLS, "tls", false, "connect with implicit TLS (SMTPS, port 465 by default)")
	fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "the longest wait for the server at each step")
	fs.StringVar(&f.cafile, "cafile", "", "trust the CA certificates in this PEM `file` instead of the system's")
	fs.StringVar(&f.servername, "servername", "", "the `name` the certificate must be valid for (default: the host)")
	fs.StringVar(&f.ehlo, "ehlo", "", "the `name` to say EHLO with (default: this host's name)")
	fs.BoolVar(&f.debug, "debug", false, "print the SMTP dialogue on stderr (credentials redacted)")
	// swaks's spellings of implicit TLS.
	alias(fs, "tls-on-connect", "tls")
	alias(fs, "tlsc", "tls")
}

// roots returns the pool of --cafile, or nil for the system's roots.
func (f *connFlags) roots() (*x509.CertPool, error) {
	if f.cafile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(f.cafile)
	if err != nil {
		return nil, usageErrorf("--cafile: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, usageErrorf("--cafile: no PEM certificate in %s", f.cafile)
	}
	return pool, nil
}

// splitHostPort splits "host", "host:port", "[v6]:port" or a bare IPv6
// address, with def as the port when none is given.
func splitHostPort(s string, def int) (string, int, error) {
	host, port := s, ""
	if strings.HasPrefix(s, "[") || strings.Count(s, ":") == 1 {
		var err error
		if host, port, err = net.SplitHostPort(s); err != nil {
			return "", 0, usageErrorf("bad server address %q: want HOST or HOST:PORT", s)
		}
	}
	host = strings.Trim(host, "[]")
	if host == "" {
		return "", 0, usageErrorf("bad server address %q: no host", s)
	}
	if port == "" {
		return host, def, nil
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", 0, usageErrorf("bad port %q in %q", port, s)
	}
	return host, n, nil
}

// session is a connection being set up, with what the steps measured.
type session struct {
	*smtplib.SMTP
	addr    string // host:port, for messages
	timeout time.Duration
}

// fail wraps err with the step it happened in.
func (s *session) fail(step string, err error) error {
	return &stepError{step: step, timeout: s.timeout, err: err}
}

// connect dials host:port as f says, with tlsConfig for implicit TLS and
// STARTTLS, and returns the session and the server's greeting. A greeting
// other than 220 is an error, as smtplib's constructor makes it.
//
// The connection is made by d (a new one when nil), which times the dial
// and counts the bytes written (for probe's step times and send's
// progress bar), and, without implicit TLS, watches for a server that
// expects TLS first (see tlsFirstWait).
func (c *cli) connect(f *connFlags, host string, port int, tlsConfig *tls.Config, d *countingDialer) (*session, smtplib.Reply, error) {
	if d == nil {
		d = &countingDialer{now: c.now}
	}
	d.watchGreeting = !f.implicitTLS
	opts := []smtplib.Option{
		smtplib.WithTimeout(f.timeout),
		smtplib.WithTLSConfig(tlsConfig),
		smtplib.WithDebugOutput(c.stderr),
		smtplib.WithDialer(d),
	}
	// The library never lets a password go in clear through a dialer of
	// WithDialer, which might be a proxy to anywhere. This one dials
	// directly, so the library's own rule is kept instead: in clear to a
	// loopback address only, which the dialer enforces for a loopback
	// host.
	if ip := net.ParseIP(host); strings.EqualFold(host, "localhost") || (ip != nil && ip.IsLoopback()) {
		d.loopbackOnly = true
		opts = append(opts, smtplib.WithInsecureAuth())
	}
	if f.ehlo != "" {
		opts = append(opts, smtplib.WithLocalHostname(f.ehlo))
	}
	var client *smtplib.SMTP
	if f.implicitTLS {
		client = smtplib.NewSSL(opts...)
	} else {
		client = smtplib.New(opts...)
	}
	if f.debug {
		client.SetDebugLevel(1)
	}
	s := &session{SMTP: client, addr: net.JoinHostPort(host, strconv.Itoa(port)), timeout: f.timeout}
	r, err := client.Connect(host, port)
	if d.greeting != nil && d.greeting.found() {
		client.Close()
		return nil, smtplib.Reply{}, s.fail("connect to "+s.addr, &tlsError{errTLSFirst})
	}
	if err != nil {
		return nil, r, s.fail("connect to "+s.addr, err)
	}
	if r.Code != 220 {
		client.Close()
		return nil, r, s.fail("connect to "+s.addr, &smtplib.ConnectError{ResponseError: smtplib.ResponseError{Code: r.Code, Message: r.Message}})
	}
	return s, r, nil
}

// countingDialer dials TCP, notes when the connection was made, and
// counts the bytes written on it, for the progress bar. It dials directly,
// so the library still sees a loopback host as loopback.
type countingDialer struct {
	net.Dialer
	now func() time.Time
	// loopbackOnly refuses a connection that does not stay on this
	// machine, for a host name such as "localhost" that should.
	loopbackOnly bool
	// watchGreeting makes the dialer watch the connection's first read
	// for a server that expects TLS first; greeting is that watch.
	watchGreeting bool
	greeting      *greetingConn
	written       atomic.Int64

	mu       sync.Mutex
	dialed   time.Time
	onWrite  func(total int64)
	onWriteM sync.Mutex
}

func (d *countingDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := d.Dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if tcp, ok := conn.RemoteAddr().(*net.TCPAddr); d.loopbackOnly && (!ok || !tcp.IP.IsLoopback()) {
		conn.Close()
		return nil, fmt.Errorf("%s is not a loopback address, though %s should be", conn.RemoteAddr(), addr)
	}
	d.mu.Lock()
	d.dialed = d.now()
	d.mu.Unlock()
	if d.watchGreeting {
		d.greeting = &greetingConn{Conn: conn}
		conn = d.greeting
	}
	return &countingConn{Conn: conn, d: d}, nil
}

// dialedAt returns when the TCP connection was made, or the zero time
// when d is nil or has not dialled.
func (d *countingDialer) dialedAt() time.Time {
	if d == nil {
		return time.Time{}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dialed
}

// watch makes fn see the running total of bytes written from now on. It
// does nothing when d is nil.
func (d *countingDialer) watch(fn func(total int64)) {
	if d == nil {
		return
	}
	d.onWriteM.Lock()
	defer d.onWriteM.Unlock()
	d.written.Store(0)
	d.onWrite = fn
}

type countingConn struct {
	net.Conn
	d *countingDialer
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	total := c.d.written.Add(int64(n))
	c.d.onWriteM.Lock()
	fn := c.d.onWrite
	c.d.onWriteM.Unlock()
	if fn != nil {
		fn(total)
	}
	return n, err
}
