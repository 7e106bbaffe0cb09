package smtplib

import (
	"context"
	"fmt"
	"strings"
)

// LMTP is a client of an LMTP server (RFC 2033, Python's smtplib.LMTP): SMTP
// with LHLO, port 2003 or a Unix socket, and a reply per recipient after
// the data.
type LMTP struct {
	*SMTP
}

// NewLMTP returns an LMTP client that is not connected yet.
func NewLMTP(opts ...Option) *LMTP {
	s := New(opts...)
	s.protocol = lmtpProtocol
	return &LMTP{s}
}

// DialLMTP connects to an LMTP server (Python's LMTP(host, port)); host may
// be a Unix socket's path, and port 0 means 2003.
func DialLMTP(host string, port int, opts ...Option) (*LMTP, error) {
	return DialLMTPContext(context.Background(), host, port, opts...)
}

// DialLMTPContext is [DialLMTP] bounded by ctx.
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

// Sendmail is [SMTP.Sendmail] for LMTP: the map holds every recipient that
// did not get the message, by its own reply; an [*LMTPDeliveryError] when
// the connection was lost before every reply came.
func (l *LMTP) Sendmail(from string, to []string, msg []byte, opts ...SendOption) (map[string]Reply, error) {
	return l.SMTP.Sendmail(from, to, msg, opts...)
}

// DataReplies is [SMTP.Data] for LMTP: it reads a reply for each of the
// accepted recipients.
func (l *LMTP) DataReplies(msg []byte, accepted int) ([]Reply, error) {
	if accepted < 1 {
		return nil, &CommandError{Command: verbData,
			Reason: fmt.Sprintf("DataReplies needs at least one accepted recipient, not %d", accepted)}
	}
	return l.dataReplies(msg, accepted)
}

// LMTPDeliveryError reports LMTP replies cut short after the data: Replies
// holds the outcomes known, Pending the recipients whose reply never came.
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
