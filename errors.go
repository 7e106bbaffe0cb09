package smtplib

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
)

// ErrSMTP is Python's SMTPException: errors.Is(err, ErrSMTP) holds for every
// error but the caller's own mistakes and its io.Reader's failures.
var ErrSMTP = errors.New("smtplib: SMTP error")

// smtpErr, embedded, makes errors.Is(err, ErrSMTP) hold for the package's
// error types: their one Is method.
type smtpErr struct{}

// Is reports whether target is [ErrSMTP].
func (smtpErr) Is(target error) bool { return target == ErrSMTP }

// smtpError is a bare SMTPException: a failure that has no reply code and no
// more specific class in smtplib, such as "No suitable authentication method
// found".
type smtpError struct {
	smtpErr
	msg string
}

func (e *smtpError) Error() string { return "smtplib: " + e.msg }

// NotSupportedError reports that the server does not offer the command or
// option asked for (Python's SMTPNotSupportedError).
type NotSupportedError struct {
	smtpErr
	Msg string
}

func (e *NotSupportedError) Error() string { return "smtplib: " + e.Msg }

// ServerDisconnectedError reports that the connection is gone and the
// client closed (Python's SMTPServerDisconnected); Err is the cause.
// [ErrNotSent] or [ErrDeliveryUnknown] holds for it.
type ServerDisconnectedError struct {
	Msg string
	Err error

	afterData bool // lost between the end of the data and its reply
}

func (e *ServerDisconnectedError) Error() string {
	msg := e.Msg
	if e.afterData {
		msg += " after the end of the data (delivery unknown)"
	}
	// smtplib names the cause of every failure but end of file.
	if e.Err != nil && e.Err != io.EOF && !errors.Is(e.Err, errConnClosed) {
		return fmt.Sprintf("smtplib: %s: %v", msg, e.Err)
	}
	return "smtplib: " + msg
}

// Unwrap returns the cause.
func (e *ServerDisconnectedError) Unwrap() error { return e.Err }

// Is reports whether target is [ErrSMTP], and [ErrDeliveryUnknown] or
// [ErrNotSent] as the end of the data had left or not.
func (e *ServerDisconnectedError) Is(target error) bool {
	switch target {
	case ErrSMTP:
		return true
	case ErrDeliveryUnknown:
		return e.afterData
	case ErrNotSent:
		return !e.afterData
	}
	return false
}

// ErrNotSent marks a mail the connection failed to carry before the end of
// its data left: the server cannot have it; send it again.
var ErrNotSent = errors.New("smtplib: not sent: the connection was gone before the end of the data")

// ErrDeliveryUnknown marks a connection lost after the end of the data,
// before its reply: the mail may have been delivered.
var ErrDeliveryUnknown = errors.New("smtplib: delivery unknown: the connection was lost after the end of the data, before the server's reply")

// deliveryUnknown marks err, the loss of the connection after the end of
// the data, as [ErrDeliveryUnknown]. Other failures are returned as they
// are.
func deliveryUnknown(err error) error {
	sd, ok := err.(*ServerDisconnectedError)
	if !ok {
		return err
	}
	c := *sd
	c.afterData = true
	return &c
}

// notSent is the error of a mail of a batch that was never sent because
// the connection had failed with cause before its turn.
func notSent(cause error) error {
	return &ServerDisconnectedError{Msg: "not sent: the connection failed before this mail's turn", Err: cause}
}

// errConnClosed marks a ServerDisconnectedError for a client that has no
// connection (never had one, or it was closed), so that Error does not
// print a cause twice. It wraps net.ErrClosed, so that a call that finds
// the client closed by another goroutine fails as one that was under way.
var errConnClosed = fmt.Errorf("not connected: %w", net.ErrClosed)

// ResponseError is an error reply from the server (Python's
// SMTPResponseException); the more specific errors embed it.
type ResponseError struct {
	smtpErr
	Code    int
	Message string

	// The enhanced status code, read once when the error is made from a
	// reply (parsed); a value made by hand is read at each call.
	enhanced [3]int
	parsed   bool
}

// respErr is the ResponseError of reply r, its enhanced code read once.
func respErr(r Reply) ResponseError {
	return ResponseError{Code: r.Code, Message: r.Message, enhanced: r.EnhancedCode(), parsed: true}
}

// ptr returns a pointer to a copy of v.
func ptr[T any](v T) *T { return &v }

func (e *ResponseError) Error() string {
	return fmt.Sprintf("smtplib: %d %s", e.Code, e.Message)
}

// Temporary reports whether the reply is a transient (4xx) failure, after
// which the same request may succeed later.
func (e *ResponseError) Temporary() bool { return e.Code >= 400 && e.Code <= 499 }

// Reply returns the code and text as a [Reply].
func (e *ResponseError) Reply() Reply { return Reply{Code: e.Code, Message: e.Message} }

// SenderRefusedError reports that the server refused the envelope sender
// (Python's SMTPSenderRefused).
type SenderRefusedError struct {
	ResponseError
	Sender string
}

func (e *SenderRefusedError) Error() string {
	return fmt.Sprintf("smtplib: sender %s refused: %d %s", e.Sender, e.Code, e.Message)
}

// Unwrap returns the embedded [ResponseError], so that errors.As finds it.
func (e *SenderRefusedError) Unwrap() error { return &e.ResponseError }

// RecipientsRefusedError reports that every recipient was refused (Python's
// SMTPRecipientsRefused), each with its reply.
type RecipientsRefusedError struct {
	smtpErr
	Recipients map[string]Reply
}

func (e *RecipientsRefusedError) Error() string {
	if len(e.Recipients) == 0 {
		return "smtplib: no recipients"
	}
	addrs := make([]string, 0, len(e.Recipients))
	for a := range e.Recipients {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	var b strings.Builder
	b.WriteString("smtplib: all recipients were refused:")
	for i, a := range addrs {
		if i > 0 {
			b.WriteString(";")
		}
		r := e.Recipients[a]
		fmt.Fprintf(&b, " %s: %d %s", a, r.Code, r.Message)
	}
	return b.String()
}

// DataError reports that the server refused the message data, either at the
// DATA command or after the data was sent (Python's SMTPDataError).
type DataError struct{ ResponseError }

func (e *DataError) Error() string {
	return fmt.Sprintf("smtplib: data refused: %d %s", e.Code, e.Message)
}

// Unwrap returns the embedded [ResponseError].
func (e *DataError) Unwrap() error { return &e.ResponseError }

// ConnectError reports a greeting other than 220 (Python's SMTPConnectError).
type ConnectError struct{ ResponseError }

func (e *ConnectError) Error() string {
	return fmt.Sprintf("smtplib: connection refused by greeting: %d %s", e.Code, e.Message)
}

// Unwrap returns the embedded [ResponseError].
func (e *ConnectError) Unwrap() error { return &e.ResponseError }

// HeloError reports that the server refused both EHLO and HELO (Python's
// SMTPHeloError).
type HeloError struct{ ResponseError }

func (e *HeloError) Error() string {
	return fmt.Sprintf("smtplib: HELO refused: %d %s", e.Code, e.Message)
}

// Unwrap returns the embedded [ResponseError].
func (e *HeloError) Unwrap() error { return &e.ResponseError }

// AuthenticationError reports that the server refused the login (Python's
// SMTPAuthenticationError); Status and Scope are those of an OAuth 2.0
// refusal's JSON error (RFC 7628).
type AuthenticationError struct {
	ResponseError
	// Status and Scope are the "status" and "scope" of the JSON error that
	// a server sends before it refuses an OAuth 2.0 token (XOAUTH2 or
	// OAUTHBEARER; RFC 7628 section 3.2.2): "invalid_token", or an HTTP
	// status such as "401", and the scope a token must have. They are
	// empty when the server sent none.
	Status string
	Scope  string
}

func (e *AuthenticationError) Error() string {
	msg := fmt.Sprintf("smtplib: authentication failed: %d %s", e.Code, e.Message)
	if e.Status != "" {
		msg += " (token status " + e.Status
		if e.Scope != "" {
			msg += ", scope " + e.Scope
		}
		msg += ")"
	}
	if hint := authHint(e); hint != "" {
		msg += ": " + hint
	}
	return msg
}

// Unwrap returns the embedded [ResponseError].
func (e *AuthenticationError) Unwrap() error { return &e.ResponseError }

// CommandError reports a call refused for what the caller passed, before
// anything was written (Python's ValueError); it is not an [ErrSMTP].
type CommandError struct {
	Command string // the offending line, with CR, LF and NUL shown escaped
	Reason  string
}

func (e *CommandError) Error() string {
	if e.Command == "" {
		return "smtplib: " + e.Reason
	}
	return fmt.Sprintf("smtplib: %s: %s", e.Reason, e.Command)
}
