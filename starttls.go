package smtplib

import (
	"context"
	"crypto/tls"
)

// StartTLS switches the session to TLS (RFC 3207, Python's starttls), after
// EHLO if needed. A server without STARTTLS gives a [*NotSupportedError];
// a reply other than 220 is returned with a [*ResponseError], the session
// going on in clear. The handshake uses config, else [WithTLSConfig]'s, else
// the system's roots, verifying the server's name (TLS 1.2 at least). Bytes
// the server sent before the handshake are discarded, never read as
// replies, and what it said in clear is forgotten, so EHLO is said again.
// A failed handshake closes the client: the error is a
// [*ServerDisconnectedError] wrapping the TLS error.
func (s *SMTP) StartTLS(config *tls.Config) (Reply, error) {
	return s.StartTLSContext(context.Background(), config)
}

// StartTLSContext is [SMTP.StartTLS] bounded by ctx: the EHLO it may say
// first, the STARTTLS command and the handshake. When ctx ends, the
// client is closed and the error is a [*ServerDisconnectedError] that
// wraps ctx.Err().
func (s *SMTP) StartTLSContext(ctx context.Context, config *tls.Config) (Reply, error) {
	if err := s.ehloOrHeloContext(ctx); err != nil {
		return Reply{}, err
	}
	if !s.HasExtn("starttls") {
		return Reply{}, &NotSupportedError{Msg: "STARTTLS extension not supported by server."}
	}
	defer s.bind(ctx)()
	r, err := s.DoCmd(verbStartTLS, "")
	if err != nil {
		return r, err
	}
	if r.Code != 220 {
		return r, ptr(respErr(r))
	}
	// The handshake reads the raw connection, not s.br: whatever the
	// buffer holds past the 220 stays there, and attach drops it.
	tc, err := s.handshake(ctx, s.getConn(), config)
	if err != nil {
		return r, s.disconnected("TLS handshake failed", err)
	}
	s.attach(tc)
	s.isTLS = true
	s.forgetGreeting()
	return r, nil
}
