package smtplib

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/emersion/go-sasl"
)

// maxChallenges is smtplib's _MAXCHALLENGE: after this many challenges
// (the initial response counting as one) a server still asking is taken to
// be looping.
const maxChallenges = 5

// maxAuthLine is RFC 4954's limit on the AUTH command with an initial
// response: 512 octets with the CRLF, the limit of RFC 5321 section
// 4.5.3.1.4. A longer initial response goes in answer to the server's
// first, empty, challenge instead (RFC 4954 section 4).
const maxAuthLine = 512

// ErrInsecureAuth is [SMTP.Auth] refusing to send a password or token in
// clear text off loopback, with nothing sent (see [WithInsecureAuth]).
var ErrInsecureAuth error = &smtpError{msg: "refusing to send credentials in clear text"}

// authStartError reports a mechanism that failed before anything was sent
// (its Start returned an error). It is an [ErrSMTP] and unwraps to the
// mechanism's error.
type authStartError struct {
	smtpErr
	mech string
	err  error
}

func (e *authStartError) Error() string { return fmt.Sprintf("smtplib: AUTH %s: %v", e.mech, e.err) }
func (e *authStartError) Unwrap() error { return e.err }

// Auth authenticates with the SASL mechanism carried out by authobject, any
// go-sasl client (Python's auth), with smtplib's dialogue: the initial
// response on the AUTH line when initialResponseOK and it fits in 512
// octets; "*" cancels a broken exchange; 235 and 503 are success, other
// replies an [*AuthenticationError]. PLAIN, LOGIN, XOAUTH2 and OAUTHBEARER
// are refused in clear text off loopback ([ErrInsecureAuth]).
func (s *SMTP) Auth(mechanism string, authobject sasl.Client, initialResponseOK bool) (Reply, error) {
	return s.AuthContext(context.Background(), mechanism, authobject, initialResponseOK)
}

// AuthContext is [SMTP.Auth] bounded by ctx.
func (s *SMTP) AuthContext(ctx context.Context, mechanism string, authobject sasl.Client, initialResponseOK bool) (r Reply, err error) {
	if authobject == nil {
		return Reply{}, &CommandError{Reason: "Auth: the sasl.Client is nil"}
	}
	if s.getConn() == nil {
		return Reply{}, notConnected()
	}
	defer s.bind(ctx)()
	name, ir, err := authobject.Start()
	if mechanism == "" {
		mechanism = name
	}
	mechanism = strings.ToUpper(mechanism)
	if s.cfg.trace != nil {
		defer s.authTracer(mechanism)(&r, &err)
	}
	if err != nil {
		return Reply{}, &authStartError{mech: mechanism, err: err}
	}
	if !validMechanism(mechanism) {
		return Reply{}, &CommandError{Command: escapeControls(verbAuth + " " + mechanism),
			Reason: "a SASL mechanism name is 1 to 20 of A-Z, 0-9, '-' and '_' (RFC 4422 section 3.1)"}
	}
	if err := s.checkAuthSecure(mechanism); err != nil {
		return Reply{}, err
	}

	if ir != nil && initialResponseOK && len(verbAuth)+len(mechanism)+2+base64.StdEncoding.EncodedLen(len(ir))+2 <= maxAuthLine {
		enc := base64.StdEncoding.EncodeToString(ir)
		if enc == "" {
			enc = "=" // RFC 4954 section 4: an empty initial response
		}
		r, err = s.sendSecret(verbAuth, mechanism+" "+enc)
		s.authCount = 1
		ir = nil
	} else {
		r, err = s.DoCmd(verbAuth, mechanism)
		s.authCount = 0
	}
	var challenge []byte // the last, for an OAuth mechanism's JSON error
	for err == nil && r.Code == 334 {
		if s.authCount > maxChallenges {
			msg := fmt.Sprintf("Server AUTH mechanism infinite loop. Last response: (%d, %s)",
				r.Code, pyReprBytes([]byte(r.Message)))
			return s.cancelAuth(mechanism, &smtpError{msg: msg}, nil)
		}
		s.authCount++
		var derr error
		challenge, derr = decodeChallenge(r.Message)
		if derr != nil {
			return s.cancelAuth(mechanism, nil,
				fmt.Errorf("the server's challenge %q is not base64: %w", r.Message, derr))
		}
		answer := ir
		if answer != nil {
			// The initial response that did not go on the AUTH line
			// answers the first challenge (RFC 4422 section 5).
			ir = nil
		} else if answer, err = authobject.Next(challenge); err != nil {
			return s.cancelAuth(mechanism, nil, err)
		}
		r, err = s.sendSecret(base64.StdEncoding.EncodeToString(answer), "")
	}
	switch {
	case err != nil:
		return r, err
	case r.Code == 235 || r.Code == 503:
		return r, nil
	}
	return r, newAuthError(r, mechanism, challenge)
}

// sendSecret sends a command carrying credentials, hidden from the debug
// output, and reads its reply.
func (s *SMTP) sendSecret(cmd, args string) (Reply, error) {
	r, err := s.docmd(cmd, args, wr{phase: phaseCommand, flush: true, redact: true}, phaseCommand)
	if ce, ok := err.(*CommandError); ok {
		// Say why without repeating the credentials.
		ce.Command = "<redacted>"
		if cmd == verbAuth {
			ce.Command = cmd + " " + strings.Fields(args)[0] + " <redacted>"
		}
	}
	return r, err
}

// cancelAuth abandons an exchange with "*", reads the server's reply, and
// returns the error for it: loop when the server would not stop (smtplib's
// SMTPException), or else an [authCancelledError] for cause.
func (s *SMTP) cancelAuth(mech string, loop error, cause error) (Reply, error) {
	r, err := s.docmdPhase(phaseCommand, "*", "")
	primary := loop
	if primary == nil {
		primary = &authCancelledError{mech: mech, cause: cause,
			reply: AuthenticationError{ResponseError: respErr(r)}}
	}
	if err != nil {
		// The connection went while cancelling: that is the error. The
		// reason for cancelling is only told, not wrapped, so that no
		// caller takes the session for one that may go on.
		return r, fmt.Errorf("%w (while cancelling AUTH %s: %v)", err, mech, primary)
	}
	return r, primary
}

// authCancelledError reports an exchange that the client cancelled because
// the server's challenge was malformed or the mechanism failed. It unwraps
// to the mechanism's error and to an AuthenticationError with the server's
// reply to the cancellation, so that [SMTP.Login] moves on to its next
// mechanism as after a refusal.
type authCancelledError struct {
	mech  string
	cause error
	reply AuthenticationError
}

func (e *authCancelledError) Error() string {
	return fmt.Sprintf("smtplib: AUTH %s cancelled: %v; server replied %d %s",
		e.mech, e.cause, e.reply.Code, e.reply.Message)
}

func (e *authCancelledError) Unwrap() []error { return []error{e.cause, &e.reply} }

// decodeChallenge decodes a 334 challenge. Line breaks and spaces are
// ignored, as Python's base64.decodebytes ignores them, and a challenge
// without its padding is accepted, since some servers leave it out.
func decodeChallenge(msg string) ([]byte, error) {
	text := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, msg)
	b, err := base64.StdEncoding.DecodeString(text)
	if err != nil && !strings.Contains(text, "=") {
		if raw, rerr := base64.RawStdEncoding.DecodeString(text); rerr == nil {
			return raw, nil
		}
	}
	return b, err
}

// validMechanism reports whether name is a SASL mechanism name as RFC 4422
// section 3.1 defines it, so that nothing else can ride on the AUTH line.
func validMechanism(name string) bool {
	if name == "" || len(name) > 20 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// checkAuthSecure returns ErrInsecureAuth, with the reason, when mechanism
// would send a reusable secret where others could read it.
func (s *SMTP) checkAuthSecure(mechanism string) error {
	switch mechanism {
	case mechPlain, mechLogin, mechXOAuth2, sasl.OAuthBearer:
	default:
		return nil
	}
	if s.isTLS || s.cfg.insecureAuth || s.isLoopback() {
		return nil
	}
	where := fmt.Sprintf("to %s (%s), which is not a loopback address", s.host, s.getConn().RemoteAddr())
	if s.cfg.dialer != nil {
		where = "through the dialer of WithDialer, which may pass it on to any host"
	}
	return fmt.Errorf("%w: AUTH %s would go unencrypted %s; "+
		"call StartTLS first or connect with DialSSL, or allow it with WithInsecureAuth()",
		ErrInsecureAuth, mechanism, where)
}

// isLoopback reports whether the connection stays on this machine: a Unix
// socket, or TCP to a loopback address. A connection made through a
// dialer of WithDialer never counts: its address may be that of a proxy on
// this machine that passes everything on to a server elsewhere.
func (s *SMTP) isLoopback() bool {
	if s.cfg.dialer != nil {
		return false
	}
	switch a := s.getConn().RemoteAddr().(type) {
	case *net.UnixAddr:
		return true
	case *net.TCPAddr:
		return a.IP.IsLoopback()
	}
	return false
}

// Login authenticates with user and password, with the best mechanism both
// sides know (Python's login): LoginWith with initial responses.
func (s *SMTP) Login(user, password string) (Reply, error) {
	return s.loginContext(context.Background(), user, password, true)
}

// LoginContext is [SMTP.Login] bounded by ctx.
func (s *SMTP) LoginContext(ctx context.Context, user, password string) (Reply, error) {
	return s.loginContext(ctx, user, password, true)
}

// LoginWith is [SMTP.Login] with the choice of initialResponseOK: it tries
// CRAM-MD5, PLAIN and LOGIN, as offered, until one succeeds, as smtplib
// does, setting User and Password.
func (s *SMTP) LoginWith(user, password string, initialResponseOK bool) (Reply, error) {
	return s.loginContext(context.Background(), user, password, initialResponseOK)
}

func (s *SMTP) loginContext(ctx context.Context, user, password string, initialResponseOK bool) (Reply, error) {
	advertised, err := s.authOffered(ctx)
	if err != nil {
		return Reply{}, err
	}
	var mechs []string
	for _, m := range []string{mechCramMD5, mechPlain, mechLogin} {
		if containsFold(advertised, m) {
			mechs = append(mechs, m)
		}
	}
	if len(mechs) == 0 {
		return Reply{}, &smtpError{msg: "No suitable authentication method found."}
	}
	s.User, s.Password = user, Secret(password)
	var r Reply
	for _, m := range mechs {
		var client sasl.Client
		switch m {
		case mechCramMD5:
			client = s.AuthCramMD5()
		case mechPlain:
			client = s.AuthPlain()
		default:
			client = s.AuthLogin()
		}
		r, err = s.AuthContext(ctx, m, client, initialResponseOK)
		var authErr *AuthenticationError
		if err == nil || !errors.As(err, &authErr) {
			return r, err
		}
	}
	return r, err
}

// authOffered says EHLO (or HELO) if the session has not, and returns the
// mechanisms of the server's AUTH extension, or a [*NotSupportedError]
// when it has none, as smtplib's login does.
func (s *SMTP) authOffered(ctx context.Context) ([]string, error) {
	if err := s.ehloOrHeloContext(ctx); err != nil {
		return nil, err
	}
	if !s.HasExtn("auth") {
		return nil, &NotSupportedError{Msg: "SMTP AUTH extension not supported by server."}
	}
	return strings.Fields(s.ESMTPFeatures["auth"]), nil
}

// containsFold reports whether list holds s, case ignored.
func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
