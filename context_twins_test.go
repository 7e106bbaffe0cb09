package smtplib

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

// TestContextTwins stalls the server at a point inside each ...Context
// call and lets the context's deadline pass. The client's own timeout is a
// minute, so only the context can end the call; the property is the
// contract's: the call stops, the client is closed, and the error is a
// *ServerDisconnectedError for which errors.Is finds the context's error.
func TestContextTwins(t *testing.T) {
	msg := []byte("Subject: x\r\n\r\nbody\r\n")
	to := []string{"b@example.com"}
	tests := []struct {
		name  string
		stall string // the smtptest fault point
		call  func(ctx context.Context, c *SMTP) error
	}{
		{"StartTLSContext, the EHLO first", "EHLO", func(ctx context.Context, c *SMTP) error {
			_, err := c.StartTLSContext(ctx, nil)
			return err
		}},
		{"StartTLSContext, the reply to STARTTLS", "STARTTLS", func(ctx context.Context, c *SMTP) error {
			_, err := c.StartTLSContext(ctx, nil)
			return err
		}},
		{"StartTLSContext, the handshake", "TLS_HANDSHAKE", func(ctx context.Context, c *SMTP) error {
			_, err := c.StartTLSContext(ctx, nil)
			return err
		}},
		{"LoginContext, the EHLO first", "EHLO", func(ctx context.Context, c *SMTP) error {
			_, err := c.LoginContext(ctx, "alice", "s3cret")
			return err
		}},
		{"LoginContext, the AUTH round trip", "AUTH", func(ctx context.Context, c *SMTP) error {
			_, err := c.LoginContext(ctx, "alice", "s3cret")
			return err
		}},
		{"AuthContext, the AUTH round trip", "AUTH", func(ctx context.Context, c *SMTP) error {
			if err := c.EhloOrHeloIfNeeded(); err != nil {
				return err
			}
			c.User, c.Password = "alice", "s3cret"
			_, err := c.AuthContext(ctx, "LOGIN", c.AuthLogin(), false)
			return err
		}},
		{"SendmailContext, the reply after the data", "DOT", func(ctx context.Context, c *SMTP) error {
			_, err := c.SendmailContext(ctx, "a@example.com", to, msg)
			return err
		}},
		{"SendmailReaderContext, the reply to MAIL", "MAIL", func(ctx context.Context, c *SMTP) error {
			_, err := c.SendmailReaderContext(ctx, "a@example.com", to, strings.NewReader(string(msg)))
			return err
		}},
		{"SendMessageContext, the EHLO first", "EHLO", func(ctx context.Context, c *SMTP) error {
			_, err := c.SendMessageContext(ctx, mustRead(t, "From: a@example.com\r\nTo: b@example.com\r\n\r\nx\r\n"))
			return err
		}},
		{"SendMessageContext, the reply after the data", "DOT", func(ctx context.Context, c *SMTP) error {
			_, err := c.SendMessageContext(ctx, mustRead(t, "From: a@example.com\r\nTo: b@example.com\r\n\r\nx\r\n"))
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := smtptest.NewServer(t, smtptest.WithSTARTTLS(), smtptest.WithAuth("LOGIN", "PLAIN"),
				smtptest.WithFault(smtptest.Fault{At: tt.stall, Action: smtptest.Stall}))
			c, err := Dial(srv.Host(), srv.Port(), WithTimeout(time.Minute), WithLocalHostname("client.example"))
			require.NoError(t, err)
			t.Cleanup(func() { c.Close() })
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()

			err = tt.call(ctx, c)
			var sd *ServerDisconnectedError
			require.ErrorAs(t, err, &sd)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.ErrorIs(t, err, ErrSMTP)
			assert.Nil(t, c.getConn(), "the client is closed")
		})
	}
}

// TestContextTwinsDone: a context that is already over stops the call
// before it waits for anything, with the same error.
func TestContextTwinsDone(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithAuth("PLAIN"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := dialTest(t, srv)
	_, err := c.SendmailContext(ctx, "a@example.com", []string{"b@example.com"}, []byte("x"))
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, srv.Messages())

	c = dialTest(t, srv)
	_, err = c.LoginContext(ctx, "alice", "s3cret")
	assert.ErrorIs(t, err, context.Canceled)
	var sd *ServerDisconnectedError
	assert.ErrorAs(t, err, &sd)
}
