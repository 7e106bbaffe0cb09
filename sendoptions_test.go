package smtplib

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

// TestSendOptions checks that each option reaches the wire where smtplib's
// keyword argument would put it, and that the options of several calls add
// up in order.
func TestSendOptions(t *testing.T) {
	msg := mustRead(t, "From: Ann <ann@example.com>\r\nTo: bob@example.com\r\nCc: cat@example.com\r\n\r\nhi\r\n")
	tests := []struct {
		name     string
		send     func(c *SMTP) (map[string]Reply, error)
		wantFrom string
		wantTo   []string
		wantMail []string
		wantRcpt []string
	}{
		{"Sendmail, no option", func(c *SMTP) (map[string]Reply, error) {
			return c.Sendmail("a@example.com", []string{"b@example.com"}, []byte("x\r\n"))
		}, "a@example.com", []string{"b@example.com"}, nil, nil},
		{"Sendmail, options added up", func(c *SMTP) (map[string]Reply, error) {
			return c.Sendmail("a@example.com", []string{"b@example.com"}, []byte("x\r\n"),
				MailOptions("BODY=8BITMIME"), RcptOptions("NOTIFY=NEVER"), MailOptions("RET=HDRS"))
		}, "a@example.com", []string{"b@example.com"}, []string{"BODY=8BITMIME", "RET=HDRS"}, []string{"NOTIFY=NEVER"}},
		{"SendMessage, envelope from the header", func(c *SMTP) (map[string]Reply, error) {
			return c.SendMessage(msg)
		}, "ann@example.com", []string{"bob@example.com", "cat@example.com"}, nil, nil},
		{"SendMessage, FromAddr and ToAddrs", func(c *SMTP) (map[string]Reply, error) {
			return c.SendMessage(msg, FromAddr("bounce@example.com"), ToAddrs("dan@example.com"))
		}, "bounce@example.com", []string{"dan@example.com"}, nil, nil},
		{"SendMessage, FromAddr empty is the null sender", func(c *SMTP) (map[string]Reply, error) {
			return c.SendMessage(msg, FromAddr(""))
		}, "", []string{"bob@example.com", "cat@example.com"}, nil, nil},
		{"SendMessage, options", func(c *SMTP) (map[string]Reply, error) {
			return c.SendMessage(msg, MailOptions("BODY=8BITMIME"), RcptOptions("NOTIFY=NEVER"))
		}, "ann@example.com", []string{"bob@example.com", "cat@example.com"}, []string{"BODY=8BITMIME"}, []string{"NOTIFY=NEVER"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := dialForSend(t, smtptest.With8BitMIME(), smtptest.WithExtensions("DSN"))
			refused, err := tt.send(c)
			require.NoError(t, err)
			assert.Empty(t, refused)
			msgs := srv.Messages()
			require.Len(t, msgs, 1)
			assert.Equal(t, tt.wantFrom, msgs[0].From)
			assert.Equal(t, tt.wantTo, msgs[0].To)
			var mail []string
			for _, o := range msgs[0].MailOptions {
				if !strings.HasPrefix(strings.ToLower(o), "size=") {
					mail = append(mail, o)
				}
			}
			assert.Equal(t, tt.wantMail, mail)
			for _, opts := range msgs[0].RcptOptions {
				if tt.wantRcpt == nil {
					assert.Empty(t, opts)
				} else {
					assert.Equal(t, tt.wantRcpt, opts)
				}
			}
		})
	}
}

// TestSendMessageSize: SendMessage declares the length of the message as it
// goes out, with CRLF line ends (smtplib flattens it with CRLF before
// sendmail declares len(flatmsg)); Sendmail declares len(msg).
func TestSendMessageSize(t *testing.T) {
	lf := "From: a@example.com\nTo: b@example.com\nSubject: nine lines\n\n1\n2\n3\n4\n5\n"
	tests := []struct {
		name string
		send func(c *SMTP) error
		want int
	}{
		{"SendMessage, LF line ends", func(c *SMTP) error {
			_, err := c.SendMessage(mustRead(t, lf))
			return err
		}, len(lf) + strings.Count(lf, "\n")},
		{"SendMessage, CRLF line ends", func(c *SMTP) error {
			_, err := c.SendMessage(mustRead(t, strings.ReplaceAll(lf, "\n", "\r\n")))
			return err
		}, len(lf) + strings.Count(lf, "\n")},
		{"SendMessage, Bcc left out", func(c *SMTP) error {
			_, err := c.SendMessage(mustRead(t, "Bcc: x@example.com\n"+lf))
			return err
		}, len(lf) + strings.Count(lf, "\n")},
		{"Sendmail, bytes as given", func(c *SMTP) error {
			_, err := c.Sendmail("a@example.com", []string{"b@example.com"}, []byte(lf))
			return err
		}, len(lf)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := dialForSend(t, smtptest.WithSize(1<<20))
			require.NoError(t, tt.send(c))
			msgs := srv.Messages()
			require.Len(t, msgs, 1)
			assert.Contains(t, msgs[0].MailOptions, fmt.Sprintf("size=%d", tt.want))
			assert.Len(t, msgs[0].Data, len(lf)+strings.Count(lf, "\n"), "what arrives is the CRLF form")
		})
	}
}

// TestNilInputs: a nil message, reader, SASL client or option is the
// caller's mistake, told as a *CommandError naming what was nil, and
// nothing reaches the server.
func TestNilInputs(t *testing.T) {
	to := []string{"b@example.com"}
	tests := []struct {
		name string
		call func(c *SMTP) error
		want string
	}{
		{"SendMessage(nil)", func(c *SMTP) error { _, err := c.SendMessage(nil); return err }, "nil *email.Message"},
		{"SendMessageContext(nil)", func(c *SMTP) error {
			_, err := c.SendMessageContext(context.Background(), nil)
			return err
		}, "nil *email.Message"},
		{"SendmailReader(nil)", func(c *SMTP) error { _, err := c.SendmailReader("a@example.com", to, nil); return err }, "reader is nil"},
		{"SendmailReaderContext(nil)", func(c *SMTP) error {
			_, err := c.SendmailReaderContext(context.Background(), "a@example.com", to, nil)
			return err
		}, "reader is nil"},
		{"Auth with a nil client", func(c *SMTP) error { _, err := c.Auth("PLAIN", nil, true); return err }, "sasl.Client is nil"},
		{"AuthContext with a nil client", func(c *SMTP) error {
			_, err := c.AuthContext(context.Background(), "", nil, false)
			return err
		}, "sasl.Client is nil"},
		{"a nil SendOption", func(c *SMTP) error {
			_, err := c.Sendmail("a@example.com", to, []byte("x"), nil)
			return err
		}, "SendOption is nil"},
		{"FromAddr given to Sendmail", func(c *SMTP) error {
			_, err := c.Sendmail("a@example.com", to, []byte("x"), FromAddr("c@example.com"))
			return err
		}, "FromAddr and ToAddrs are options of SendMessage"},
		{"ToAddrs given to SendmailReader", func(c *SMTP) error {
			_, err := c.SendmailReader("a@example.com", to, strings.NewReader("x"), ToAddrs("c@example.com"))
			return err
		}, "FromAddr and ToAddrs are options of SendMessage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := dialForSend(t, smtptest.WithAuth("PLAIN"))
			require.NoError(t, c.EhloOrHeloIfNeeded())
			before := srv.Transcript()
			err := tt.call(c)
			var ce *CommandError
			require.ErrorAs(t, err, &ce)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotErrorIs(t, err, ErrSMTP, "a caller's mistake")
			assert.Equal(t, before, srv.Transcript(), "nothing may reach the server")
			_, err = c.Noop()
			assert.NoError(t, err, "the session goes on")
		})
	}
}

// TestEmptyMessage: a nil or empty []byte is sent as smtplib sends b"":
// the CRLF that data() adds to a message without one, then the end of
// data.
func TestEmptyMessage(t *testing.T) {
	for _, msg := range [][]byte{nil, {}} {
		srv, c := dialForSend(t)
		_, err := c.Sendmail("a@example.com", []string{"b@example.com"}, msg)
		require.NoError(t, err)
		msgs := srv.Messages()
		require.Len(t, msgs, 1)
		assert.Equal(t, "\r\n", string(msgs[0].Data))
	}
}

// TestZeroValue: a declared SMTP works as New() does: it connects, says
// EHLO (not an empty verb), keeps the extensions, and sends with them.
func TestZeroValue(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithPipelining(), smtptest.WithChunking(), smtptest.WithAuth("PLAIN"))
	var c SMTP
	t.Cleanup(func() { c.Close() })
	r, err := c.Connect(srv.Host(), srv.Port())
	require.NoError(t, err)
	assert.Equal(t, 220, r.Code)
	refused, err := c.Sendmail("a@example.com", []string{"b@example.com"}, []byte("hi\r\n"))
	require.NoError(t, err)
	assert.Empty(t, refused)
	assert.True(t, c.DoesESMTP)
	assert.True(t, c.HasExtn("pipelining"))
	assert.True(t, c.HasExtn("chunking"))
	assert.Contains(t, srv.Transcript(), "C: ehlo ")
	assert.Contains(t, srv.Transcript(), "C: BDAT ", "CHUNKING was used")
	_, err = c.Login("alice", "s3cret")
	assert.ErrorAs(t, err, new(*AuthenticationError), "AUTH went out (the server knows no users)")
	_, err = c.Quit()
	assert.NoError(t, err)

	var unconnected SMTP
	_, err = unconnected.Noop()
	var sd *ServerDisconnectedError
	require.ErrorAs(t, err, &sd)
	assert.Equal(t, "smtplib: not connected: use Dial or Connect first", err.Error())
	assert.Equal(t, SMTPPort, unconnected.defaultPort())
	assert.Equal(t, "ehlo", unconnected.proto().greetVerb)
}

// TestCredentialsNeverPrint: after Login, no fmt verb shows the password,
// whether the client is printed through its pointer or as a value, and
// neither does encoding/json.
func TestCredentialsNeverPrint(t *testing.T) {
	const pass = "pa55-w0rd-s3cret"
	srv := smtptest.NewServer(t, smtptest.WithAuth("PLAIN"), smtptest.WithUsers(map[string]string{"alice": pass}))
	c := dialTest(t, srv)
	_, err := c.Login("alice", pass)
	require.NoError(t, err)
	require.Equal(t, pass, string(c.Password), "the secret itself is still there for the mechanisms")

	// The value is taken through reflect, so that go vet sees no copy of
	// the client's mutex (printing a copied client is what it warns of).
	value := reflect.ValueOf(c).Elem().Interface()
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3v"} {
		for name, x := range map[string]any{"pointer": c, "value": value, "field": c.Password} {
			out := fmt.Sprintf(verb, x)
			assert.NotContains(t, out, pass, "%s of the %s", verb, name)
			assert.NotContains(t, out, fmt.Sprintf("%x", pass), "%s of the %s", verb, name)
		}
	}
	assert.Contains(t, fmt.Sprintf("%+v", c), "Password:<redacted>")
	b, err := json.Marshal(value)
	require.NoError(t, err)
	assert.NotContains(t, string(b), pass)
	assert.Contains(t, string(b), `"Password":"\u003credacted\u003e"`)
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

// TestNewlineWording: a CR or LF anywhere in a command, options included,
// is refused in the words CPython's tests assert, followed by the line as
// smtplib shows it (line breaks escaped), and nothing is sent.
func TestNewlineWording(t *testing.T) {
	const phrase = "smtplib: command and arguments contain prohibited newline characters: "
	tests := []struct {
		name string
		call func(c *SMTP) error
		line string
	}{
		{"PutCmd", func(c *SMTP) error { return c.PutCmd("noop", "x\r\nrset") }, `noop x\r\nrset`},
		{"Mail option", func(c *SMTP) error { _, err := c.Mail("a@example.com", "X=1\r\nRSET"); return err },
			`mail from:<a@example.com> X=1\r\nRSET`},
		{"Rcpt option", func(c *SMTP) error { _, err := c.Rcpt("b@example.com", "NOTIFY=NEVER\n"); return err },
			`rcpt to:<b@example.com> NOTIFY=NEVER\n`},
		{"Sendmail RcptOptions", func(c *SMTP) error {
			_, err := c.Sendmail("a@example.com", []string{"b@example.com"}, []byte("x"), RcptOptions("A=1", "B=2\rC"))
			return err
		}, `rcpt to:<b@example.com> A=1 B=2\rC`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := dialForSend(t)
			require.NoError(t, c.EhloOrHeloIfNeeded())
			before := srv.Transcript()
			err := tt.call(c)
			require.ErrorAs(t, err, new(*CommandError))
			assert.Equal(t, phrase+tt.line, err.Error())
			assert.Equal(t, before, srv.Transcript(), "nothing may reach the server")
		})
	}
}
