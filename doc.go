// Package smtplib is an SMTP and LMTP client that mirrors Python's smtplib
// name for name: [SMTP] is smtplib.SMTP, [DialSSL] is SMTP_SSL, [LMTP] is
// LMTP, and their methods (Ehlo, HasExtn, Login, StartTLS, Sendmail,
// SendMessage, Quit, ...) behave as the Python documentation says, spelled
// the Go way: (value, error) returns, errors.Is and errors.As, *tls.Config,
// io.Reader and context.Context.
//
//	s, err := smtplib.Dial("mail.example.com", 587)
//	if err != nil { ... }
//	defer s.Close()
//	if _, err := s.StartTLS(nil); err != nil { ... }
//	if _, err := s.Login("user", "password"); err != nil { ... }
//	refused, err := s.Sendmail("me@example.com", []string{"you@example.org"}, msg)
//	s.Quit()
//
// Low-level commands return the server's [Reply]: a refusal (4xx or 5xx)
// is a reply, not an error, as smtplib returns (code, msg). Errors are for
// what smtplib raises. Every error that the server, the connection or the
// session causes satisfies errors.Is(err, [ErrSMTP]), and the
// reply-carrying ones are [*ResponseError]s for errors.As. The caller's own
// mistakes, found before anything is sent, are not ErrSMTPs (they are
// Python's ValueError): [*CommandError] for an argument that cannot go on
// the wire (a CR or LF, a nil message, reader or SASL client, an option in
// the wrong call, a message whose header gives no envelope); nor is a
// failure of the caller's io.Reader, which the error wraps.
//
// The sending calls take smtplib's keyword arguments as [SendOption]s
// ([MailOptions], [RcptOptions], [FromAddr], [ToAddrs]), and every call
// that may wait on the network for long has a ...Context twin (database/sql's
// pattern) that stops, closes the connection and returns a
// [*ServerDisconnectedError] wrapping the context's error when the context
// ends. The zero value of [SMTP] is a client ready to [SMTP.Connect], the
// same as [New]().
//
// # Errors, status codes and retrying
//
// Every error that carries a server reply gives the reply's RFC 3463
// enhanced status code with EnhancedCode ({5, 1, 1} for "550 5.1.1 No such
// user"; zeros when the server sent none) and says with Temporary whether
// the same request may succeed later: true for a 4xx reply, false for 5xx
// and for a reply without a readable code. [Reply] has both methods too,
// for the refusals Sendmail returns in its map.
//
//	error                      when                      typical codes         retry
//	*ConnectError              greeting not 220          421 4.3.2, 554 5.7.1  4xx later; 5xx no
//	*HeloError                 EHLO and HELO refused     421, 501 5.5.2        4xx later; 5xx no
//	*AuthenticationError       AUTH refused              454 4.7.0, 535 5.7.8  4xx later; 5xx: fix the credentials
//	*SenderRefusedError        MAIL refused              451 4.3.0, 552 5.3.4  4xx later; 5xx no
//	*RecipientsRefusedError    every RCPT refused        450 4.2.1, 550 5.1.1  Temporary: every refusal was 4xx
//	*DataError                 DATA or the data refused  451 4.3.0, 554 5.7.1  4xx later; 5xx no
//	*ResponseError             any other refusal         4xx, 5xx              4xx later; 5xx no
//	*ServerDisconnectedError   no reply (connection)     none                  ErrNotSent: yes, on a new connection;
//	                                                                           ErrDeliveryUnknown: it may have gone
//	*LMTPDeliveryError         LMTP replies cut short    per recipient         the Pending recipients: unknown
//	*NotSupportedError         server lacks a feature    none                  no: another server or no option
//	*CommandError              the caller's arguments    none                  no: fix the call; nothing was sent
//
// Every failed send is one of: refused (a reply-carrying error), not sent
// ([ErrNotSent]: the connection failed, or was found closed after sitting
// idle, before the end of the data left), or unknown
// ([ErrDeliveryUnknown]: the connection was lost after it), and
// [ErrOutOfStep] may come with the last two. A refusal of some recipients is no error: Sendmail returns them in its
// map, each [Reply] with its own EnhancedCode and Temporary. The
// per-recipient codes of a [*RecipientsRefusedError] are in its Recipients;
// its own EnhancedCode is the code they all share, if any. A 421 (4.x.x)
// reply also closes the client: retry on a new connection.
//
// [DefaultRetry] puts this table to work, for a [Pool] given [WithRetry]
// and for [RetryBatch]; [OutcomeOf] sorts any send's error into the four
// outcomes, and [WithTrace] and [WithLogger] report every transaction's.
//
// # Standards
//
//   - RFC 5321, SMTP; RFC 1869 and 5321, ESMTP and EHLO
//   - RFC 2033, LMTP, with one reply per recipient after the data
//   - RFC 1870, SIZE; RFC 6152, 8BITMIME; RFC 6531, SMTPUTF8
//   - RFC 2920, PIPELINING; RFC 3030, CHUNKING (BDAT)
//   - RFC 3207, STARTTLS; RFC 8314, implicit TLS
//   - RFC 4954, AUTH, with RFC 4616 PLAIN, LOGIN, RFC 2195 CRAM-MD5,
//     RFC 7677 SCRAM-SHA-256, XOAUTH2, RFC 7628 OAUTHBEARER (OAuth 2.0
//     tokens from golang.org/x/oauth2, [SMTP.LoginOAuth2]), and any
//     github.com/emersion/go-sasl mechanism
//   - RFC 5322 messages and RFC 5890 international domain names (IDNA)
//   - RFC 3463 and RFC 2034, enhanced status codes; RFC 3461, DSN, with
//     RFC 6533's utf-8 addresses; RFC 8689, REQUIRETLS
//
// # Messages
//
// Messages are built and read by the email package
// (github.com/gosmtplib/smtplib/email), as Python's email package sits
// beside smtplib: [SMTP.SendMessage] takes an *email.Message, and a [Mail]
// of [SMTP.SendBatch] carries either bytes or one.
//
// # Differences from Python's smtplib
//
// Each is deliberate, and none changes what the ordinary case does.
//
//   - Message data always has lone CR and lone LF turned into CRLF, for
//     []byte as for text, so no message can end the data early.
//   - PIPELINING and CHUNKING are used when the server offers them (see
//     [WithoutPipelining] and [WithoutChunking]), with the same results and
//     errors as the one-at-a-time dialogue.
//   - Messages of any size stream from an io.Reader ([SMTP.SendmailReader]).
//   - Bulk sending, which smtplib lacks: [SMTP.SendBatch] sends many mails
//     over one connection with their transactions overlapping, and [Pool]
//     spreads concurrent callers' mails over several connections.
//   - LMTP reads one reply per accepted recipient after the data.
//   - TLS verifies the server's certificate and name by default, with TLS
//     1.2 at the least; bytes the server sent before the STARTTLS
//     handshake are discarded. PLAIN, LOGIN, XOAUTH2 and OAUTHBEARER refuse
//     to send credentials in clear text to a host that is not loopback
//     unless [WithInsecureAuth] is given. The debug output never shows
//     credentials.
//   - A CR, LF or NUL in any command argument, address or option, an
//     ESMTP option with a space, and an address that cannot be quoted as
//     one path are refused with a [*CommandError] before anything is
//     written.
//   - Replies follow RFC 5321's grammar (section 4.2): a line that is not
//     three digits (the first 2 to 5, the second 0 to 5) followed by a
//     space, a '-' or the line's end has code -1, and so has a reply whose
//     lines disagree on the code, where smtplib would take Python's int()
//     of the first three bytes and the last line's code. A -1 is never a
//     success: [SMTP.Sendmail] reports it as a refusal and the Dial
//     functions as a [*ConnectError].
//   - A reply the server sent unasked is never taken for the next
//     command's answer: the command finds it, closes the client, and
//     returns an error for which errors.Is(err, [ErrOutOfStep]) holds (an
//     unasked 421 is reported as the server's shutdown, with its text).
//     smtplib reads it as the answer and stays one reply behind. A reply
//     left over after a pipelined transaction's last one means its
//     replies may have been matched to the wrong commands: no mail read
//     since the session was last known in step is reported delivered.
//   - A connection quiet for a millisecond or more is looked at (one
//     non-blocking peek) before the next command: one the server closed
//     meanwhile fails the command without writing it.
//   - Replies are bounded in lines and bytes, not only per line, and every
//     operation has a deadline (RFC 5321's by default, see [WithTimeout]).
//   - Authentication mechanisms are matched without regard to case, and
//     UTF-8 user names and passwords work.
//   - A non-ASCII EHLO name is sent as its IDNA A-label.
//
// A client is not safe for concurrent use; see [SMTP].
package smtplib
