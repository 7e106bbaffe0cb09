// Package smtplib is an SMTP and LMTP client that mirrors Python's smtplib
// name for name: [SMTP] is smtplib.SMTP, [DialSSL] is SMTP_SSL, [LMTP] is
// LMTP, and their methods behave as Python's documentation says, spelled the
// Go way: (value, error) returns, errors.Is and errors.As, *tls.Config,
// io.Reader and context.Context. Messages are built and read by the email
// package beside it (github.com/gosmtplib/smtplib/email), as Python's email
// sits beside smtplib.
//
//	s, err := smtplib.Dial("mail.example.com", 587)
//	if err != nil { ... }
//	defer s.Close()
//	if _, err := s.StartTLS(nil); err != nil { ... }
//	if _, err := s.Login("user", "password"); err != nil { ... }
//	refused, err := s.Sendmail("me@example.com", []string{"you@example.org"}, msg)
//	s.Quit()
//
// Low-level commands return the server's [Reply]: a refusal (4xx or 5xx) is
// a reply, not an error, as smtplib returns (code, msg). Every call that may
// wait on the network for long has a ...Context twin (database/sql's
// pattern): when the context ends, the call stops, the client is closed and
// the error is a [*ServerDisconnectedError] wrapping the context's error.
// The zero value of [SMTP] is a client ready to [SMTP.Connect]. A client is
// not safe for concurrent use; [Pool] is.
//
// # Sending mail
//
// Sendmail, SendmailReader, SendMessage, SendBatch and [Pool.Send] share
// one path and one set of rules. EHLO (or HELO) is said first if the
// session has not. Every address and option of a transaction is checked
// before its first command is written: a CR, LF or NUL, an option with a
// space, an address that cannot be one path, or a character that the
// transaction's command encoding cannot carry is a [*CommandError], and a
// feature the server lacks (SMTPUTF8, DSN, REQUIRETLS) a
// [*NotSupportedError]. SIZE is declared when offered and the size is known,
// and BODY=8BITMIME for 8-bit data known before MAIL (RFC 6152) unless a
// BODY option is given. The data has lone CR and LF made CRLF and leading
// periods doubled, so no message can end the data early. PIPELINING (RFC
// 2920) and CHUNKING (RFC 3030) are used when offered, with the results and
// errors of the one-at-a-time dialogue; no data follows a refused envelope.
// Options are [SendOption]s (smtplib's keyword arguments).
//
// A connection quiet for a millisecond or more is looked at, with one
// non-blocking peek, before a transaction's commands: one that the server
// closed meanwhile fails the send, not sent, without a byte written. A 421 reply at any step closes
// the client. A reply nobody asked for closes it too, and no mail read since
// the session was last known in step is reported delivered or refused.
//
// # Errors and outcomes
//
// Every error that the server, the connection or the session causes
// satisfies errors.Is(err, [ErrSMTP]); the caller's own mistakes
// ([*CommandError]: Python's ValueError) and failures of the caller's
// io.Reader do not. Errors that carry a reply embed [ResponseError]: they
// give its RFC 3463 code with EnhancedCode and say with Temporary whether
// the same request may succeed later (4xx). A failed send is refused (a
// reply-carrying error), not sent ([ErrNotSent]: retry on a new
// connection) or unknown ([ErrDeliveryUnknown]: the connection was lost
// after the end of the data); [ErrOutOfStep] may come with the last two.
//
//	error                      when                      retry
//	*ConnectError              greeting not 220          4xx later; 5xx no
//	*HeloError                 EHLO and HELO refused     4xx later; 5xx no
//	*AuthenticationError       AUTH refused              4xx later; 5xx: fix the credentials
//	*SenderRefusedError        MAIL refused              4xx later; 5xx no
//	*RecipientsRefusedError    every RCPT refused        Temporary: every refusal was 4xx
//	*DataError                 DATA or the data refused  4xx later; 5xx no
//	*ServerDisconnectedError   no reply (connection)     ErrNotSent: yes; ErrDeliveryUnknown: it may have gone
//	*LMTPDeliveryError         LMTP replies cut short    the Pending recipients are unknown
//	*NotSupportedError         server lacks a feature    no
//	*CommandError              the caller's arguments    no: fix the call; nothing was sent
//
// A refusal of some recipients is no error: the sending calls return them
// in a map, each [Reply] with its own EnhancedCode and Temporary.
//
// [DefaultRetry] puts this table to work, for a [Pool] given [WithRetry]
// and for [RetryBatch]; [OutcomeOf] sorts any send's error into the four
// outcomes, and [WithTrace] and [WithLogger] report every transaction's.
//
// # Differences from Python's smtplib
//
// Each is deliberate, and none changes the ordinary case: the data's line
// endings are repaired; PIPELINING and CHUNKING are used; messages stream
// from an io.Reader; bulk sending ([SMTP.SendBatch], [Pool]); LMTP reads a
// reply per recipient; TLS verifies the certificate by default, bytes sent
// before the STARTTLS handshake are discarded, and PLAIN, LOGIN, XOAUTH2 and
// OAUTHBEARER are refused in clear text off loopback unless
// [WithInsecureAuth]; the debug output never shows credentials; replies
// follow RFC 5321's grammar (a line that is not three digits, 2-5 then 0-5,
// then a space, '-' or the end has code -1, never a success), are bounded
// in lines and bytes, and are never taken from a reply nobody asked for;
// every operation has RFC 5321's deadline ([WithTimeout]); the command
// encoding is each transaction's own; mechanisms are matched without
// regard to case; a non-ASCII EHLO name is sent as its IDNA A-label.
//
// Standards: RFC 5321 (SMTP), 2033 (LMTP), 1870 (SIZE), 6152 (8BITMIME),
// 6531 (SMTPUTF8), 2920 (PIPELINING), 3030 (CHUNKING), 3207 (STARTTLS),
// 8314 (implicit TLS), 4954 (AUTH) with 4616 PLAIN, LOGIN, 2195 CRAM-MD5,
// 7677 SCRAM-SHA-256, XOAUTH2 and 7628 OAUTHBEARER, 3463 and 2034 (enhanced
// status codes), 3461 and 6533 (DSN), 8689 (REQUIRETLS), 5890 (IDNA),
// 6376 and 8463 (DKIM, RSA and Ed25519), 8058 (one-click unsubscribe).
package smtplib
