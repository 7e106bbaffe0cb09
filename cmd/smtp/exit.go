package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/gosmtplib/smtplib"
	"github.com/gosmtplib/smtplib/email"
)

// Exit statuses, from BSD's sysexits.h, so that a script can tell a
// mistake from a refusal from a failure worth retrying.
const (
	exitOK       = 0
	exitUsage    = 64 // EX_USAGE: the command line or its input is wrong
	exitRefused  = 69 // EX_UNAVAILABLE: refused for good (5xx)
	exitTempFail = 75 // EX_TEMPFAIL: 4xx, a timeout, a lost connection
	exitTLS      = 78 // EX_CONFIG: TLS or the certificate failed
	// exitPartial is past sysexits' range, so that no failure shares it:
	// the message went to some recipients and not to others, so sending
	// it again to all would give those a second copy.
	exitPartial = 79
)

// usageError is a mistake in the command line or in the input it names:
// a missing flag, an unreadable file, a header with a line break.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// stepError says which step of the dialogue failed, and with what
// timeout, so that the message can say "no answer within 30s".
type stepError struct {
	step    string // "connect to host:port", "EHLO", "STARTTLS", ...
	timeout time.Duration
	err     error
}

func (e *stepError) Error() string { return e.step + ": " + e.err.Error() }
func (e *stepError) Unwrap() error { return e.err }

// tlsError is a failure to set up TLS that the library reports as
// something else: STARTTLS not offered or refused, a handshake cut short.
type tlsError struct{ err error }

func (e *tlsError) Error() string { return e.err.Error() }
func (e *tlsError) Unwrap() error { return e.err }

// verifyError is a certificate that probe found not to verify for the
// host; the rest of the probe went on.
type verifyError struct {
	name string
	err  error
}

func (e *verifyError) Error() string {
	return fmt.Sprintf("the certificate does not verify for %s: %v", e.name, e.err)
}
func (e *verifyError) Unwrap() error { return e.err }

// refusedError reports recipients refused while the message went to the
// others (Sendmail's map of refusals, returned without an error).
type refusedError struct {
	refused map[string]smtplib.Reply
	total   int
}

func (e *refusedError) Error() string {
	if e.total == 0 { // the recipients came from the message's header
		return fmt.Sprintf("%d recipients refused; the message was sent to the others", len(e.refused))
	}
	return fmt.Sprintf("%d of %d recipients refused; the message was sent to the others", len(e.refused), e.total)
}

// exitCode maps an error to the exit status its kind calls for.
func exitCode(err error) int {
	var (
		usage   *usageError
		refused *refusedError
		allRef  *smtplib.RecipientsRefusedError
		cmdErr  *smtplib.CommandError
		msgErr  *email.MessageError
		resp    *smtplib.ResponseError
		dnsErr  *net.DNSError
		notSupp *smtplib.NotSupportedError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &usage), errors.As(err, &cmdErr), errors.As(err, &msgErr):
		return exitUsage
	case isTimeout(err):
		return exitTempFail
	case isTLSFailure(err):
		return exitTLS
	case errors.As(err, &refused):
		return exitPartial
	case errors.As(err, &allRef):
		return refusalExit(allRef.Temporary())
	case errors.As(err, &resp):
		return refusalExit(resp.Temporary())
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return exitRefused
	case errors.As(err, &notSupp):
		return exitRefused
	}
	// A lost connection, a refused dial, and anything unforeseen: worth
	// another try later.
	return exitTempFail
}

// refusalExit is 75 for a refusal that is temporary (4xx, every one of
// them for several recipients), else 69.
func refusalExit(temporary bool) int {
	if temporary {
		return exitTempFail
	}
	return exitRefused
}

// isTimeout reports whether err is a deadline that passed.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// isTLSFailure reports whether err comes from TLS or certificate checks.
func isTLSFailure(err error) bool {
	var (
		mine     *tlsError
		verify   *verifyError
		certErr  *tls.CertificateVerificationError
		alert    tls.AlertError
		record   tls.RecordHeaderError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		roots    x509.SystemRootsError
	)
	return errors.As(err, &mine) || errors.As(err, &verify) || errors.As(err, &certErr) ||
		errors.As(err, &alert) || errors.As(err, &record) || errors.As(err, &unknown) ||
		errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &roots) ||
		errors.Is(err, smtplib.ErrInsecureAuth)
}
