package smtplib

import (
	"context"
	"strings"
	"testing"

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
			srv := smtptest.NewServer(t, smtptest.With8BitMIME(), smtptest.WithExtensions("DSN"))
			c := dialTest(t, srv)
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
			srv := smtptest.NewServer(t, smtptest.WithAuth("PLAIN"))
			c := dialTest(t, srv)
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
