package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gosmtplib/smtplib"
)

// describe returns the one line that tells the user what went wrong.
func describe(err error) string {
	var step *stepError
	if errors.As(err, &step) {
		return step.step + ": " + describeCause(step.err, step.timeout)
	}
	return describeCause(err, 0)
}

func describeCause(err error, timeout time.Duration) string {
	var (
		verify   *verifyError
		certErr  *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		allRef   *smtplib.RecipientsRefusedError
		gone     *smtplib.ServerDisconnectedError
		dnsErr   *net.DNSError
		dial     *net.OpError
		record   tls.RecordHeaderError
	)
	switch {
	case isTimeout(err) && timeout > 0:
		return fmt.Sprintf("no answer within %v (--timeout)", timeout)
	case errors.As(err, &record) && record.RecordHeader[0] >= '0' && record.RecordHeader[0] <= '9':
		// A TLS handshake that got "220 ..." back: --tls to a port that
		// greets in plain text, as swaks's --tls habit gives.
		return fmt.Sprintf("the server answered in plain text (%q), not TLS: drop --tls, "+
			"or use --starttls to switch to TLS after the greeting", clean(string(record.RecordHeader[:])))
	case errors.As(err, &record):
		return "the server's answer is not TLS: " + clean(record.Error())
	case errors.As(err, &allRef):
		return "every recipient was refused"
	case errors.As(err, &verify):
		return clean(verify.Error())
	case errors.As(err, &unknown):
		return "certificate check failed: " + unknown.Error() + " (trust its CA with --cafile)"
	case errors.As(err, &hostname):
		return "certificate check failed: " + clean(hostname.Error()) + " (--servername sets the name to check)"
	case errors.As(err, &invalid):
		return "certificate check failed: " + clean(invalid.Error())
	case errors.As(err, &certErr):
		return "certificate check failed: " + clean(certErr.Err.Error())
	case errors.Is(err, smtplib.ErrInsecureAuth):
		return "refusing to send the password unencrypted: use --starttls or --tls"
	case errors.As(err, &dnsErr):
		return "cannot look up " + clean(dnsErr.Name) + ": " + clean(dnsErr.Err)
	case errors.As(err, &dial) && dial.Op == "dial":
		var sys *os.SyscallError
		if errors.As(dial.Err, &sys) {
			return clean(sys.Err.Error())
		}
		return clean(dial.Err.Error())
	case errors.As(err, &gone) && errors.Is(err, io.EOF):
		return clean(strings.TrimPrefix(err.Error(), "smtplib: ")) + " (the server closed the connection)"
	}
	return clean(strings.TrimPrefix(err.Error(), "smtplib: "))
}

// refusalLines lists the refused recipients of err, one line each, in
// address order.
func refusalLines(err error) []string {
	var (
		refused *refusedError
		allRef  *smtplib.RecipientsRefusedError
		m       map[string]smtplib.Reply
	)
	switch {
	case errors.As(err, &refused):
		m = refused.refused
	case errors.As(err, &allRef):
		m = allRef.Recipients
	default:
		return nil
	}
	addrs := make([]string, 0, len(m))
	for a := range m {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	lines := make([]string, len(addrs))
	for i, a := range addrs {
		shown := clean(a)
		if a == "" { // as an empty group ("undisclosed-recipients:;") gives
			shown = `""`
		}
		lines[i] = fmt.Sprintf("refused %s: %d %s", shown, m[a].Code, clean(m[a].Message))
	}
	return lines
}

// clean makes server text safe for one line of a terminal: line breaks
// become spaces, and control characters and bytes that are not UTF-8
// are shown escaped, since a server's reply is whatever it sent.
func clean(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\n':
			b.WriteByte(' ')
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unicode.IsControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
