package smtptest

import (
	"crypto/tls"
	"strconv"
	"strings"
)

// An Option configures a [Server]. Options apply in the order given, so
// WithExtensions followed by WithChunking offers the given lines plus
// CHUNKING, while WithChunking followed by WithExtensions offers only the
// given lines.
type Option func(*Server)

// FaultAction is what a [Fault] does to the connection.
type FaultAction int

const (
	// Drop sends what the server had buffered (and the fault's Reply),
	// then closes the connection at once.
	Drop FaultAction = iota
	// Stall sends the fault's Reply, if any, then neither reads nor
	// writes until the server is closed, as a hung server would. The
	// session ends only with [Server.Close].
	Stall
)

// Fault makes the server misbehave at one point of one session.
type Fault struct {
	// At is where the fault strikes: "GREETING" (before the banner), a
	// verb such as "EHLO", "MAIL", "RCPT", "DATA", "BDAT", "AUTH", "QUIT"
	// or "STARTTLS" (on receipt of the command, before any reply),
	// "DATA_BODY" (after the 354 and the first line of data, before the
	// end of the data), "DOT" (after the whole data, including the final
	// dot or the BDAT LAST chunk, before the reply) or "TLS_HANDSHAKE"
	// (instead of the TLS handshake, after the 220 to STARTTLS or, with
	// implicit TLS, on connection). Case is ignored.
	At string
	// N chooses the occurrence of At that fails, counted over all
	// sessions of the server from 1; 0 means the first.
	N int
	// Action is what happens to the connection.
	Action FaultAction
	// Reply, if not empty, is written first, exactly as given: no CRLF is
	// added, so that a test can send half a line.
	Reply string
}

// WithHostname sets the name the server gives in its greeting and EHLO
// reply.
func WithHostname(name string) Option {
	return func(s *Server) { s.Hostname = name }
}

// WithExtensions replaces the EHLO reply lines after the first with lines,
// exactly as given, so that a test can offer precisely what it needs,
// odd spellings such as "AUTH=LOGIN PLAIN" included. No lines at all
// gives a one-line EHLO reply.
func WithExtensions(lines ...string) Option {
	return func(s *Server) { s.Extensions = append([]string{}, lines...) }
}

// setExtension replaces the line offering the same keyword as line, or
// appends line, starting from the default set if none was chosen.
func (s *Server) setExtension(line string) {
	if s.Extensions == nil {
		s.Extensions = append([]string{}, defaultExtensions...)
	}
	kw := keyword(line)
	for i, l := range s.Extensions {
		if strings.EqualFold(keyword(l), kw) {
			s.Extensions[i] = line
			return
		}
	}
	s.Extensions = append(s.Extensions, line)
}

// WithSize offers "SIZE n" (RFC 1870) and enforces it: a MAIL whose SIZE
// parameter exceeds n, and data longer than n, get 552. Zero offers SIZE
// without a limit.
func WithSize(n int64) Option {
	return func(s *Server) { s.setExtension("SIZE " + strconv.FormatInt(n, 10)) }
}

// WithPipelining offers PIPELINING (RFC 2920). The server reads pipelined
// commands whether or not it offers it.
func WithPipelining() Option {
	return func(s *Server) { s.setExtension("PIPELINING") }
}

// WithChunking offers CHUNKING and accepts BDAT (RFC 3030).
func WithChunking() Option {
	return func(s *Server) { s.setExtension("CHUNKING") }
}

// With8BitMIME offers 8BITMIME (RFC 6152).
func With8BitMIME() Option {
	return func(s *Server) { s.setExtension("8BITMIME") }
}

// WithSMTPUTF8 offers SMTPUTF8 (RFC 6531) and then accepts non-ASCII
// addresses in a transaction whose MAIL has the SMTPUTF8 parameter.
func WithSMTPUTF8() Option {
	return func(s *Server) { s.setExtension("SMTPUTF8") }
}

// WithSTARTTLS offers and implements STARTTLS (RFC 3207) with the
// server's certificate. After the handshake the server forgets the EHLO
// and no longer offers STARTTLS.
func WithSTARTTLS() Option {
	return func(s *Server) { s.setExtension("STARTTLS") }
}

// WithAuth offers "AUTH" with mechs (RFC 4954), checked against the users
// of [WithUsers]. The server implements PLAIN, LOGIN, CRAM-MD5, XOAUTH2
// and OAUTHBEARER; no mechs means the first four (see [WithOAuth] for the
// two that take bearer tokens).
func WithAuth(mechs ...string) Option {
	if len(mechs) == 0 {
		mechs = []string{"PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2"}
	}
	return func(s *Server) { s.setExtension("AUTH " + strings.Join(mechs, " ")) }
}

// WithUsers sets the user names and passwords that AUTH accepts; for
// XOAUTH2 and OAUTHBEARER the password is the bearer token, unless
// [WithOAuth] gives the tokens.
func WithUsers(users map[string]string) Option {
	return func(s *Server) {
		s.Users = make(map[string]string, len(users))
		for u, p := range users {
			s.Users[u] = p
		}
	}
}

// WithAuthRequiresTLS makes AUTH fail with "538 5.7.11 Encryption
// required" until TLS is active.
func WithAuthRequiresTLS() Option {
	return func(s *Server) { s.AuthRequiresTLS = true }
}

// WithoutEHLO makes EHLO fail with "502 5.5.2 Error: command not
// recognized", as an old server would, so that clients fall back to HELO.
func WithoutEHLO() Option {
	return func(s *Server) { s.DisableEHLO = true }
}

// WithReply scripts the reply to verb, matched without regard to case
// against a command's first word; "GREETING" is the banner and "DOT" the
// reply at the end of the data (after DATA's final dot or BDAT LAST).
// reply is the raw reply text, lines separated by "\r\n"; the server adds
// the final CRLF and writes it in one write, even if it is malformed.
//
// Afterwards the server acts as if the command had the scripted outcome:
// a 2xx or 3xx reply counts as acceptance (MAIL starts a transaction,
// RCPT adds the recipient, DATA reads the data, STARTTLS starts the
// handshake, AUTH authenticates), 4xx and 5xx as refusal, and any reply
// starting with 421 closes the connection. In LMTP mode a scripted "DOT"
// reply replaces all the per-recipient replies.
func WithReply(verb, reply string) Option {
	return func(s *Server) { s.replies[strings.ToUpper(verb)] = reply }
}

// WithReplies scripts successive replies to successive uses of verb, as
// [WithReply] does for one; once they are used up, the server behaves as
// before.
func WithReplies(verb string, replies ...string) Option {
	return func(s *Server) {
		v := strings.ToUpper(verb)
		s.queued[v] = append(s.queued[v], replies...)
	}
}

// WithRefuseSender makes MAIL FROM addr (compared without regard to case)
// get reply, such as "550 5.7.1 Sender rejected". A reply starting with
// 421 also closes the connection.
func WithRefuseSender(addr, reply string) Option {
	return func(s *Server) { s.refuseSender[strings.ToLower(addr)] = reply }
}

// WithRefuseRecipient makes RCPT TO addr (compared without regard to
// case) get reply, such as "550 5.1.1 No such user". A reply starting
// with 421 also closes the connection.
func WithRefuseRecipient(addr, reply string) Option {
	return func(s *Server) { s.refuseRcpt[strings.ToLower(addr)] = reply }
}

// WithLMTP switches the server to LMTP (RFC 2033).
func WithLMTP() Option {
	return func(s *Server) { s.LMTP = true }
}

// WithLMTPReply switches the server to LMTP and sets the delivery reply
// for rcpt (compared without regard to case) at the end of the data,
// such as "452 4.2.2 Mailbox full". Other recipients get
// "250 2.0.0 <rcpt> delivered".
func WithLMTPReply(rcpt, reply string) Option {
	return func(s *Server) {
		s.LMTP = true
		s.lmtpReplies[strings.ToLower(rcpt)] = reply
	}
}

// WithUnixSocket makes the server listen on a Unix socket at path; Addr is
// then the path. It works for SMTP and LMTP alike.
func WithUnixSocket(path string) Option {
	return func(s *Server) { s.UnixSocket = path }
}

// WithFault adds a fault; several may be given.
func WithFault(f Fault) Option {
	return func(s *Server) { s.faults = append(s.faults, f) }
}

// WithCertificate makes the server use cert for STARTTLS and implicit TLS
// instead of generating one, for example one from [NewCertificate] for
// another name.
func WithCertificate(cert tls.Certificate) Option {
	return func(s *Server) { s.cert = &cert }
}

// WithListenAddr makes the server listen on the TCP address addr, such as
// "127.0.0.1:1025", rather than on a free loopback port (see
// [Server].ListenAddr).
func WithListenAddr(addr string) Option {
	return func(s *Server) { s.ListenAddr = addr }
}

// WithImplicitTLS makes every connection begin with a TLS handshake
// (SMTPS, RFC 8314), as [Server.StartTLS] does, for a server started by
// [New] or [Server.Serve], which return an error where StartTLS fails the
// test.
func WithImplicitTLS() Option {
	return func(s *Server) { s.implicitTLS = true }
}

// WithMessageHook sets [Server].OnMessage: fn sees each message before
// the server accepts it, and can refuse it with an error (451).
func WithMessageHook(fn func(Message) error) Option {
	return func(s *Server) { s.OnMessage = fn }
}

// WithoutRecording makes the server keep nothing of what it sees, so that
// its memory stays flat however long it runs: [Server.Transcript] stays
// empty, [Server.Messages] and [Server.Sessions] return nothing, and
// messages are seen only through [WithMessageHook]. [Server.WaitSessions]
// still counts the sessions that ended.
func WithoutRecording() Option {
	return func(s *Server) { s.noRecording = true }
}

// WithAnyCredentials makes AUTH accept every user name with any password
// or token, whatever [WithUsers] and [WithOAuth] say, as a mail catcher
// does; CRAM-MD5's digest is not checked either. The user name is still
// recorded as the authenticated identity.
func WithAnyCredentials() Option {
	return func(s *Server) { s.anyCredentials = true }
}
