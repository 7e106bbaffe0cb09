package smtplib

import (
	"context"
	"crypto/tls"
)

// StartTLS switches the session to TLS (RFC 3207, Python's starttls). It
// says EHLO (or HELO) first if the session has not, and returns a
// [*NotSupportedError] when the server does not offer STARTTLS. A reply
// other than 220 to STARTTLS (454 "TLS not available", for example) is
// returned with a [*ResponseError] holding it, and the session goes on
// unencrypted.
//
// On 220 the client shakes hands over the connection with config, or with
// the configuration of [WithTLSConfig] when config is nil, or else with the
// system's roots: the server's certificate is verified for the host the
// client connected to (config's ServerName, when set, overrides it), and
// TLS 1.2 is the oldest version accepted. To trust a private CA, put it in
// config's RootCAs.
//
// Nothing the server sent before the handshake, after its 220, is ever
// read as a reply: such bytes can only be an attacker's injection into the
// clear-text stream (CVE-2011-0411 and its kind), and are discarded. After
// the handshake the client forgets what the server said in clear, as RFC
// 3207 section 4.2 requires and smtplib does: HeloResp, EhloResp,
// ESMTPFeatures and DoesESMTP are reset, so the next command that needs
// them says EHLO again, over TLS.
//
// A failed handshake (an untrusted certificate, a wrong name, a server
// that hangs up) leaves the connection in no state to go on, in clear or
// otherwise: the client is closed and the error is a
// [*ServerDisconnectedError] that wraps the TLS error, as for [DialSSL],
// so errors.As finds a *tls.CertificateVerificationError or an
// x509.HostnameError in it.
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
