package smtplib

import (
	"context"
	"fmt"
	"strings"
)

// LMTP is a client connection to an LMTP server (RFC 2033): Python's
// smtplib.LMTP. It is an [SMTP] client that greets with LHLO instead of
// EHLO, connects to port 2003 by default, takes a host starting with "/"
// for the path of a Unix socket, and reads one reply per accepted
// recipient after the message data. Every method of [SMTP] works on it;
// [SMTP.Ehlo] sends LHLO and [SMTP.EhloOrHeloIfNeeded] never falls back
// to HELO, which LMTP does not have.
//
// Make one with [NewLMTP] or [DialLMTP]; the zero value has no client.
// The embedded *SMTP may be passed wherever an *SMTP is expected, and its
// Sendmail then behaves as [LMTP.Sendmail] does.
//
// [SMTP.Data] reads only the first of the replies after the data, as
// Python's data does; the others stay unread, and the next command finds
// the session out of step (see [SMTP.DoCmd]). Use [LMTP.DataReplies]
// instead.
type LMTP struct {
	*SMTP
}

// NewLMTP returns an LMTP client that is not connected yet (Python's LMTP()
// with no host); call [SMTP.Connect], which takes a Unix socket path as
// the host.
func NewLMTP(opts ...Option) *LMTP {
	s := New(opts...)
	s.protocol = lmtpProtocol
	return &LMTP{s}
}

// DialLMTP connects to an LMTP server and reads its greeting, as Python's
// LMTP(host, port) does. A host starting with "/" is the path of a Unix
// socket, and port is then ignored; otherwise the connection is TCP, and
// port 0 means 2003 (or the port in "host:port"). A greeting other than
// 220 closes the connection and returns a [*ConnectError]; a failed dial
// returns a [*ServerDisconnectedError] wrapping the network error. On
// error the returned client is nil.
func DialLMTP(host string, port int, opts ...Option) (*LMTP, error) {
	return DialLMTPContext(context.Background(), host, port, opts...)
}

// DialLMTPContext is [DialLMTP] with a context that bounds the dial and
// the greeting.
func DialLMTPContext(ctx context.Context, host string, port int, opts ...Option) (*LMTP, error) {
	l := NewLMTP(opts...)
	if err := l.dialGreet(ctx, host, port); err != nil {
		return nil, err
	}
	return l, nil
}

// Close closes the connection, as [SMTP.Close] does; like it, it does
// nothing on the nil client a failed DialLMTP returns.
func (l *LMTP) Close() error {
	if l == nil {
		return nil
	}
	return l.SMTP.Close()
}

// Sendmail sends msg from the envelope sender from to each of the
// recipients to, as one LMTP transaction, and returns the recipients that
// did not get the message, each with its reply: those refused at RCPT and
// those whose own reply after the data was not 2xx (RFC 2033 section
// 4.2). The map is empty when every recipient got the message. Everything
// [SMTP.Sendmail] says about EHLO (here LHLO), options, PIPELINING,
// CHUNKING and errors before the data holds here too; what differs is the
// end of the transaction.
//
// After the data the server gives one reply per recipient accepted at
// RCPT, in RCPT order, each telling whether the message was delivered to
// that recipient. A refusal there is no error as long as some recipient
// got the message. The errors after the data are:
//   - [*RecipientsRefusedError] when no recipient got the message, whether
//     all were refused at RCPT (as in smtplib; the session is then reset)
//     or some were accepted at RCPT and refused after the data. Its
//     Recipients holds every recipient's reply.
//   - [*LMTPDeliveryError] when the connection was lost, or a reply could
//     not be read, after the whole message was sent and before every reply
//     arrived. It carries the replies that did arrive and the recipients
//     whose fate is unknown, and unwraps to the [*ServerDisconnectedError].
//
// The transaction is over once the replies after the data are read,
// whatever they say (RFC 2033 section 4.2), so no RSET is sent and the
// session is ready for the next transaction; a 421 among the replies
// closes the client. This differs from Python's LMTP, which inherits
// SMTP's sendmail and so reads only the first reply. A recipient given
// twice keeps the reply to its last occurrence in the map.
//
// The other sending calls of [SMTP] (SendmailContext, SendmailReader,
// SendmailReaderContext, SendMessage and SendMessageContext) end the
// transaction in the same way on an LMTP client.
func (l *LMTP) Sendmail(from string, to []string, msg []byte, opts ...SendOption) (map[string]Reply, error) {
	return l.SMTP.Sendmail(from, to, msg, opts...)
}

// DataReplies sends DATA and, when the server answers 354, msg and the
// final ".", then reads the server's reply for each of the accepted
// recipients, in RCPT order. It is the LMTP form of [SMTP.Data], for a
// transaction built with [SMTP.Mail] and [SMTP.Rcpt]: accepted is the
// number of RCPT commands in it that got a 2xx reply, which is how many
// replies the server sends after the data (RFC 2033 section 4.2).
//
// As with Data, a refusal after the data is a Reply, not an error, and
// any answer to DATA other than 354 is returned as a [*DataError]. When
// the connection fails after the data, the replies that arrived are
// returned with the error. An accepted count below 1 is refused with a
// [*CommandError] before anything is sent, since a server must refuse
// DATA without an accepted recipient.
func (l *LMTP) DataReplies(msg []byte, accepted int) ([]Reply, error) {
	if accepted < 1 {
		return nil, &CommandError{Command: verbData,
			Reason: fmt.Sprintf("DataReplies needs at least one accepted recipient, not %d", accepted)}
	}
	return l.dataReplies(msg, accepted)
}

// LMTPDeliveryError reports an LMTP transaction whose replies after the
// data were cut short: the whole message was sent, but the connection was
// lost (or a reply was unreadable) before the server had answered for
// every recipient. The client is closed.
//
// Replies maps every recipient whose outcome is known to its reply: those
// refused at RCPT, and those accepted at RCPT whose reply after the data
// arrived, where 2xx means the message was delivered to them. Pending
// lists, in RCPT order, the recipients accepted at RCPT whose reply never
// came: the server may or may not have delivered to them, so a retry may
// deliver twice. Err is the failure, usually a [*ServerDisconnectedError];
// errors.Is and errors.As see through to it, and errors.Is(err, ErrSMTP)
// holds.
type LMTPDeliveryError struct {
	smtpErr
	Replies map[string]Reply
	Pending []string
	Err     error
}

func (e *LMTPDeliveryError) Error() string {
	cause := "no cause"
	if e.Err != nil {
		cause = strings.TrimPrefix(e.Err.Error(), "smtplib: ")
	}
	return fmt.Sprintf("smtplib: LMTP delivery to %s unknown (%d of %d replies read): %s",
		strings.Join(e.Pending, ", "), len(e.Replies), len(e.Replies)+len(e.Pending), cause)
}

// Unwrap returns Err.
func (e *LMTPDeliveryError) Unwrap() error { return e.Err }

// lmtpOutcome turns a transaction's replies into LMTP's results (see
// LMTP.Sendmail): the outcome of [lmtpProtocol]. Failures before the data are SMTP's, returned as they
// are; so is a failure while the data was being sent, since no reply for
// any recipient can have been given then.
func lmtpOutcome(s *SMTP, t *txn) (map[string]Reply, error) {
	if t.err != nil {
		if !t.unknown {
			return nil, t.err
		}
		replies := make(map[string]Reply, len(t.refused)+len(t.final))
		for rcpt, r := range t.refused {
			replies[rcpt] = r
		}
		for i, r := range t.final {
			replies[t.accepted[i]] = r
		}
		pending := append([]string(nil), t.accepted[len(t.final):]...)
		s.Close()
		return nil, &LMTPDeliveryError{Replies: replies, Pending: pending, Err: t.err}
	}
	delivered := 0
	for i, r := range t.final {
		if r.Code >= 200 && r.Code <= 299 {
			delivered++
		} else {
			t.refused[t.accepted[i]] = r
		}
	}
	if delivered == 0 {
		return nil, &RecipientsRefusedError{Recipients: t.refused}
	}
	return t.refused, nil
}
