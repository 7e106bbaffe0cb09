package smtplib

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

// Tests of the error types: the hierarchy of smtplib's exceptions, which
// errors say a delivery is unknown after a lost connection, and the text
// of a CommandError, which cannot forge a log line.

func TestErrors(t *testing.T) {
	re := ResponseError{Code: 550, Message: "no"}
	all := []error{
		&NotSupportedError{Msg: "x"},
		&ServerDisconnectedError{Msg: "gone"},
		&re,
		&SenderRefusedError{re, "a@b"},
		&RecipientsRefusedError{Recipients: map[string]Reply{"x@y": {550, "no"}}},
		&DataError{re},
		&ConnectError{re},
		&HeloError{re},
		&AuthenticationError{ResponseError: re},
		&smtpError{msg: "bare"},
	}
	for _, err := range all {
		assert.ErrorIs(t, err, ErrSMTP, "%T", err)
		assert.True(t, strings.HasPrefix(err.Error(), "smtplib: "), err.Error())
	}
	responseFamily := []error{&re, &SenderRefusedError{re, "a@b"}, &DataError{re}, &ConnectError{re}, &HeloError{re}, &AuthenticationError{ResponseError: re}}
	for _, err := range responseFamily {
		var got *ResponseError
		require.ErrorAs(t, err, &got, "%T", err)
		assert.Equal(t, 550, got.Code)
		assert.Equal(t, "no", got.Message)
		assert.Contains(t, err.Error(), "550")
		assert.Contains(t, err.Error(), "no")
	}
	var got *ResponseError
	assert.False(t, errors.As(&RecipientsRefusedError{}, &got), "as in Python, not a response exception")
	assert.False(t, errors.As(&NotSupportedError{}, &got))
	assert.Equal(t, "smtplib: all recipients were refused: a@b: 550 no; c@d: 451 later",
		(&RecipientsRefusedError{Recipients: map[string]Reply{"c@d": {451, "later"}, "a@b": {550, "no"}}}).Error())
	assert.Equal(t, "smtplib: no recipients", (&RecipientsRefusedError{}).Error())
	assert.False(t, re.Temporary())
	assert.Equal(t, Reply{550, "no"}, re.Reply())
	cause := &ServerDisconnectedError{Msg: "Connection unexpectedly closed", Err: syscall.ECONNRESET}
	assert.ErrorIs(t, cause, syscall.ECONNRESET)
	assert.Equal(t, "smtplib: Connection unexpectedly closed: connection reset by peer", cause.Error())
	assert.Equal(t, "250 ok", Reply{250, "ok"}.String())
}

// TestDeliveryUnknown drops the connection at each point of a Sendmail
// transaction, in every mode: errors.Is(err, ErrDeliveryUnknown) holds
// exactly when the whole message had gone out before the drop and no
// reply to it came. With PIPELINING and CHUNKING a small message goes out
// with its envelope, before any reply, so every drop leaves it unknown.
func TestDeliveryUnknown(t *testing.T) {
	for _, mode := range modes {
		chunking := strings.Contains(mode.name, "chunking")
		both := chunking && strings.Contains(mode.name, "pipelining")
		points := []struct {
			name    string
			fault   smtptest.Fault
			unknown bool
		}{
			{"at MAIL", smtptest.Fault{At: "MAIL"}, both},
			{"at the last RCPT", smtptest.Fault{At: "RCPT", N: 2}, both},
			{"at the end of the data (final dot or BDAT LAST)", smtptest.Fault{At: "DOT"}, true},
		}
		if chunking {
			points = append(points, struct {
				name    string
				fault   smtptest.Fault
				unknown bool
			}{"on receipt of BDAT LAST, the chunk sent", smtptest.Fault{At: "BDAT"}, true})
		} else {
			points = append(points, struct {
				name    string
				fault   smtptest.Fault
				unknown bool
			}{"at DATA", smtptest.Fault{At: "DATA"}, false})
		}
		for _, p := range points {
			t.Run(mode.name+"/"+p.name, func(t *testing.T) {
				srv := smtptest.NewServer(t, smtptest.WithExtensions(mode.ext...), smtptest.WithFault(p.fault))
				c := dialTest(t, srv)
				_, err := c.Sendmail("s@example.com", []string{"a@example.com", "b@example.com"}, []byte("Subject: x\r\n\r\nbody\r\n"))
				var sd *ServerDisconnectedError
				require.ErrorAs(t, err, &sd)
				assert.Equal(t, p.unknown, errors.Is(err, ErrDeliveryUnknown), "%v", err)
				assert.ErrorIs(t, err, ErrSMTP)
				if p.unknown {
					assert.Contains(t, err.Error(), "delivery unknown")
				}
				assertClosed(t, c)
			})
		}
	}
}

// TestDeliveryUnknownWriteFails checks that a message whose data could not
// all be written is not unknown: the server stopped reading in the middle
// of it, so it never saw the end of the data.
func TestDeliveryUnknownWriteFails(t *testing.T) {
	big := []byte(strings.Repeat("a line of a message larger than the socket buffers\r\n", 1<<19))
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			at := "DATA_BODY"
			if strings.Contains(mode.name, "chunking") {
				at = "BDAT"
			}
			srv := smtptest.NewServer(t, smtptest.WithExtensions(mode.ext...), smtptest.WithFault(smtptest.Fault{At: at}))
			c := dialTest(t, srv)
			_, err := c.Sendmail("s@example.com", []string{"a@example.com"}, big)
			var sd *ServerDisconnectedError
			require.ErrorAs(t, err, &sd)
			assert.False(t, errors.Is(err, ErrDeliveryUnknown), "%v", err)
		})
	}
}

// TestInjectionErrorTextEscaped checks the text of the refusals: a
// CommandError names the offending line with CR, LF and NUL escaped, so
// that logging the error cannot forge log lines either.
func TestInjectionErrorTextEscaped(t *testing.T) {
	tests := []struct {
		name       string
		call       func(c *SMTP) error
		regression string
	}{
		{"PutCmd", func(c *SMTP) error { return c.PutCmd("noop", "x\r\nFORGED: line\x00") }, ""},
		{"Mail sender", func(c *SMTP) error { _, err := c.Mail("a@example.com\r\nFORGED: line"); return err }, ""},
		{"Rcpt option", func(c *SMTP) error { _, err := c.Rcpt("b@example.com", "X=1\r\nFORGED: line"); return err }, ""},
		{"Ehlo name", func(c *SMTP) error { _, err := c.Ehlo("client\r\nFORGED: line"); return err }, ""},
		{"Sendmail recipient", func(c *SMTP) error {
			_, err := c.Sendmail("a@example.com", []string{"b@example.com\nFORGED: line"}, []byte("x"))
			return err
		}, ""},
		{"Auth mechanism", func(c *SMTP) error {
			_, err := c.Auth("PLAIN\r\nFORGED: line", sasl.NewPlainClient("", "u", "p"), true)
			return err
		}, "Auth's CommandError for an invalid mechanism name quotes the name raw (auth.go, the validMechanism check)"},
		{"Auth mechanism named by the object", func(c *SMTP) error {
			_, err := c.Auth("", namedClient{"X\nFORGED: line"}, true)
			return err
		}, "Auth's CommandError for an invalid mechanism name quotes the name raw (auth.go, the validMechanism check)"},
	}
	srv := smtptest.NewServer(t)
	c := dialTest(t, srv)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(c)
			var ce *CommandError
			require.ErrorAs(t, err, &ce)
			assert.NotContains(t, err.Error(), "\r")
			assert.NotContains(t, err.Error(), "\n")
			assert.NotContains(t, err.Error(), "\x00")
			assert.Contains(t, strings.ToUpper(err.Error()), "FORGED: LINE", "the offending value is still shown")
		})
	}
}

// TestErrorsAreErrSMTP: every error the session or the server causes
// satisfies ErrSMTP, as the package doc says; the ones listed in the
// issue did not.
func TestErrorsAreErrSMTP(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithAuth("PLAIN"))
	c := New(WithDialer(redirectDialer{network: "tcp", addr: srv.Addr}), WithTimeout(testTimeout))
	t.Cleanup(func() { c.Close() })
	_, err := c.Connect("mail.example.com", 25)
	require.NoError(t, err)
	require.NoError(t, c.EhloOrHeloIfNeeded())

	_, err = c.Auth("PLAIN", c.AuthPlain(), true)
	assert.ErrorIs(t, err, ErrInsecureAuth)
	assert.ErrorIs(t, err, ErrSMTP, "ErrInsecureAuth")
	assert.Contains(t, err.Error(), "WithDialer")

	failing := sasl.NewExternalClient("")
	_, err = c.Auth("EXTERNAL", startFails{failing}, true)
	assert.ErrorIs(t, err, ErrSMTP, "a mechanism that fails to start")
	assert.ErrorIs(t, err, errStart)

	_, err = New().Connect("127.0.0.1:smtp", 0)
	assert.ErrorIs(t, err, ErrSMTP, "a bad port")
	assert.Contains(t, err.Error(), `nonnumeric port "smtp"`)
}

var errStart = fmt.Errorf("no certificate")

// startFails is a SASL client whose Start fails.
type startFails struct{ sasl.Client }

func (startFails) Start() (string, []byte, error) { return "", nil, errStart }
