package smtplib

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
)

// ErrOutOfStep is the cause of the [*ServerDisconnectedError] that closes a
// client when the server sent a reply nobody asked for.
var ErrOutOfStep = errors.New("session out of step")

// maxStrayShown bounds how much of the unasked bytes an error shows.
const maxStrayShown = 80

// unaskedError is the error for stray, the bytes already received when a
// command was about to be written. A whole 421 reply is the server
// closing the session (RFC 5321 section 3.8: a server may say so at any
// moment and hang up), reported with its text; anything else puts the
// session out of step.
func unaskedError(stray []byte) error {
	if r, err := readReply(bufio.NewReader(bytes.NewReader(stray)), nil); err == nil && r.Code == 421 {
		return &ServerDisconnectedError{Msg: "the server closed the session", Err: &shutdownError{respErr(r)}}
	}
	return &ServerDisconnectedError{Msg: ErrOutOfStep.Error(), Err: &strayError{stray: stray}}
}

// shutdownError is an unasked 421: its text is the server's reason.
type shutdownError struct{ ResponseError }

func (e *shutdownError) Error() string {
	return fmt.Sprintf("%d %s (unasked)", e.Code, e.Message)
}

// Unwrap returns the reply, so that errors.As finds a [*ResponseError]
// with code 421.
func (e *shutdownError) Unwrap() error { return &e.ResponseError }

// strayError shows the start of the bytes that arrived out of turn.
type strayError struct{ stray []byte }

func (e *strayError) Error() string {
	shown, more := e.stray, ""
	if len(shown) > maxStrayShown {
		shown, more = shown[:maxStrayShown], fmt.Sprintf(" (and %d bytes more)", len(e.stray)-maxStrayShown)
	}
	return fmt.Sprintf("the server sent %s%s unasked, before the next command", pyReprBytes(shown), more)
}

// Is reports whether target is [ErrOutOfStep].
func (e *strayError) Is(target error) bool { return target == ErrOutOfStep }

// unasked reports whether err is checkInStep's report of bytes that
// arrived unasked (a stray reply, or an unasked 421), rather than of a
// connection found closed.
func unasked(err error) bool {
	var stray *strayError
	var shutdown *shutdownError
	return errors.As(err, &stray) || errors.As(err, &shutdown)
}
