package smtplib

import (
	"context"
	"crypto/tls"
	"net"
)

// NewSSL returns an implicit-TLS client (Python's SMTP_SSL) that is not
// connected yet.
func NewSSL(opts ...Option) *SMTP {
	s := New(opts...)
	s.implicitTLS = true
	return s
}

// DialSSL connects over implicit TLS (Python's SMTP_SSL), verifying the
// certificate; port 0 means 465.
func DialSSL(host string, port int, opts ...Option) (*SMTP, error) {
	return DialSSLContext(context.Background(), host, port, opts...)
}

// DialSSLContext is [DialSSL] bounded by ctx.
func DialSSLContext(ctx context.Context, host string, port int, opts ...Option) (*SMTP, error) {
	s := NewSSL(opts...)
	if err := s.dialGreet(ctx, host, port); err != nil {
		return nil, err
	}
	return s, nil
}

// tlsConfigFor returns the configuration for a handshake with the client's
// host: cfg (or WithTLSConfig's, or a new one) cloned, with ServerName set
// to the host when the caller left it empty, and TLS 1.2 at the least.
func (s *SMTP) tlsConfigFor(cfg *tls.Config) *tls.Config {
	if cfg == nil {
		cfg = s.cfg.tlsConfig
	}
	if cfg == nil {
		cfg = &tls.Config{}
	} else {
		cfg = cfg.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = s.host
	}
	if cfg.MinVersion < tls.VersionTLS12 {
		cfg.MinVersion = tls.VersionTLS12
	}
	return cfg
}

// handshake runs a client TLS handshake over conn within the command
// timeout and ctx.
func (s *SMTP) handshake(ctx context.Context, conn net.Conn, cfg *tls.Config) (*tls.Conn, error) {
	tc := tls.Client(conn, s.tlsConfigFor(cfg))
	ctx, cancel := context.WithTimeout(ctx, s.cfg.timeoutFor(phaseCommand))
	defer cancel()
	traced := s.tlsTracer(tc)
	err := tc.HandshakeContext(ctx)
	if traced != nil {
		traced(err)
	}
	if err != nil {
		return nil, err
	}
	return tc, nil
}

// TLSConnectionState returns the TLS session's state, and false without
// one.
func (s *SMTP) TLSConnectionState() (tls.ConnectionState, bool) {
	tc, ok := s.getConn().(*tls.Conn)
	if !ok {
		return tls.ConnectionState{}, false
	}
	return tc.ConnectionState(), true
}
