package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/gosmtplib/smtplib"
	"github.com/gosmtplib/smtplib/email"
)

func TestExitCode(t *testing.T) {
	resp := func(code int) smtplib.ResponseError { return smtplib.ResponseError{Code: code, Message: "x"} }
	tests := []struct {
		name string
		err  error
		code int
	}{
		{"nil", nil, exitOK},
		{"usage", usageErrorf("bad"), exitUsage},
		{"caller's bad address", &smtplib.CommandError{Command: "RCPT", Reason: "CR"}, exitUsage},
		{"bad message", &email.MessageError{Reason: "no From"}, exitUsage},
		{"5xx", fmt.Errorf("wrapped: %w", &smtplib.DataError{ResponseError: resp(554)}), exitRefused},
		{"4xx", &smtplib.SenderRefusedError{ResponseError: resp(451)}, exitTempFail},
		{"unreadable reply", &smtplib.ResponseError{Code: -1}, exitRefused},
		{"535", &smtplib.AuthenticationError{ResponseError: resp(535)}, exitRefused},
		{"454 to AUTH", &smtplib.AuthenticationError{ResponseError: resp(454)}, exitTempFail},
		{"all refused for now", &smtplib.RecipientsRefusedError{Recipients: map[string]smtplib.Reply{"a": {Code: 450}}}, exitTempFail},
		{"some refused for good", &refusedError{refused: map[string]smtplib.Reply{"a": {Code: 450}, "b": {Code: 550}}}, exitPartial},
		{"some refused for now", &refusedError{refused: map[string]smtplib.Reply{"a": {Code: 450}}}, exitPartial},
		{"TLS first", &stepError{step: "connect", err: &tlsError{errTLSFirst}}, exitTLS},
		{"lost connection", &smtplib.ServerDisconnectedError{Msg: "gone", Err: io.EOF}, exitTempFail},
		{"timeout", &stepError{step: "EHLO", err: &smtplib.ServerDisconnectedError{Msg: "timed out", Err: os.ErrDeadlineExceeded}}, exitTempFail},
		{"no such host", &smtplib.ServerDisconnectedError{Err: &net.DNSError{Err: "no such host", IsNotFound: true}}, exitRefused},
		{"DNS failing", &smtplib.ServerDisconnectedError{Err: &net.DNSError{Err: "server misbehaving", IsTemporary: true}}, exitTempFail},
		{"unknown CA", &smtplib.ServerDisconnectedError{Err: x509.UnknownAuthorityError{}}, exitTLS},
		{"STARTTLS not offered", &tlsError{&smtplib.NotSupportedError{Msg: "no"}}, exitTLS},
		{"STARTTLS 454", &tlsError{&smtplib.ResponseError{Code: 454}}, exitTLS},
		{"STARTTLS timeout", &tlsError{&smtplib.ServerDisconnectedError{Err: os.ErrDeadlineExceeded}}, exitTempFail},
		{"password in clear", fmt.Errorf("%w: no", smtplib.ErrInsecureAuth), exitTLS},
		{"AUTH not offered", &smtplib.NotSupportedError{Msg: "no AUTH"}, exitRefused},
		{"anything else", errors.New("surprise"), exitTempFail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.code, exitCode(tt.err))
		})
	}
}
