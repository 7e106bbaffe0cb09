package smtplib

import (
	"context"
	"crypto/tls"
)

// StartTLS switches the session to TLS (Python's starttls) with config, or
// [WithTLSConfig]'s, verifying the server's name; what the server said in
// clear is forgotten. A failed handshake closes the client.
func (s *SMTP) StartTLS(config *tls.Config) (Reply, error) {
	return s.StartTLSContext(context.Background(), config)
}

// StartTLSContext is [SMTP.StartTLS] bounded by ctx.
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
