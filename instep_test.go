package smtplib

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

// Tests of the check that the session is in step: bytes the server sent
// unasked are found before the next command, which is then not written.

// TestOutOfTurnReplies has the server send bytes nobody asked for, in the
// same write as a reply it owed, at each point of a session. The next
// command that waits for a reply must find them, close the client without
// writing itself, and say that the session is out of step, instead of
// taking the stray reply for its own answer (issue 13: MAIL "succeeded"
// with the stray 250 and the server's real 550 went to the command after).
func TestOutOfTurnReplies(t *testing.T) {
	msg := []byte("Subject: x\r\n\r\nbody\r\n")
	tests := []struct {
		name     string
		opts     []smtptest.Option
		first    func(c *SMTP) error // a step that succeeds, if any
		unsent   string              // the verb the check keeps off the wire
		shutdown bool                // the stray bytes are a 421
	}{
		{name: "after the greeting",
			opts:   []smtptest.Option{smtptest.WithReply("GREETING", "220 mx.example\r\n250 stray")},
			unsent: "ehlo"},
		{name: "after EHLO",
			opts:   []smtptest.Option{smtptest.WithReply("EHLO", "250-mx.example\r\n250 8BITMIME\r\n250 stray")},
			unsent: "mail"},
		{name: "after RCPT",
			opts:   []smtptest.Option{smtptest.WithExtensions(), smtptest.WithReply("RCPT", "250 ok\r\n550 stray")},
			unsent: "data"},
		{name: "after RCPT, before a BDAT chunk",
			opts:   []smtptest.Option{smtptest.WithExtensions("CHUNKING"), smtptest.WithReply("RCPT", "250 ok\r\n550 stray")},
			unsent: "bdat"},
		{name: "after the 354, before the data",
			opts:   []smtptest.Option{smtptest.WithExtensions(), smtptest.WithReply("DATA", "354 go on\r\n250 early")},
			unsent: "<data"},
		{name: "after a reply with code -1",
			opts: []smtptest.Option{smtptest.WithReplies("NOOP", "abc-def\r\n250 rest of it")},
			first: func(c *SMTP) error {
				r, err := c.Noop()
				if err == nil && r.Code != -1 {
					return errors.New("NOOP's reply should have code -1, not " + r.String())
				}
				return err
			},
			unsent: "mail"},
		{name: "an unasked 421 after EHLO",
			opts: []smtptest.Option{smtptest.WithReply("EHLO",
				"250-mx.example\r\n250 8BITMIME\r\n421 4.3.2 System shutting down")},
			unsent: "mail", shutdown: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, tt.opts...)
			c := dialTest(t, srv)
			if tt.first != nil {
				require.NoError(t, tt.first(c))
			}
			before := strings.Count(strings.ToLower(srv.Transcript()), "c: "+tt.unsent)

			_, err := c.Sendmail("s@example.com", []string{"r@example.com"}, msg)

			require.Error(t, err)
			assert.ErrorIs(t, err, ErrSMTP)
			var sd *ServerDisconnectedError
			assert.ErrorAs(t, err, &sd, "the client is closed, as after any lost connection")
			var re *ResponseError
			if tt.shutdown {
				assert.NotErrorIs(t, err, ErrOutOfStep)
				require.ErrorAs(t, err, &re, "the 421 is the cause")
				assert.Equal(t, 421, re.Code)
				assert.Equal(t, "4.3.2 System shutting down", re.Message)
				assert.Contains(t, err.Error(), "421 4.3.2 System shutting down")
			} else {
				assert.ErrorIs(t, err, ErrOutOfStep)
				assert.Contains(t, err.Error(), "out of step")
				assert.False(t, errors.As(err, &re), "no reply of the server is the command's answer: %v", err)
			}
			assert.Nil(t, c.getConn(), "the client is closed")
			_, err = c.Noop()
			assert.ErrorIs(t, err, errConnClosed)
			c.Close()
			srv.Close()
			assert.Equal(t, before, strings.Count(strings.ToLower(srv.Transcript()), "c: "+tt.unsent),
				"%s is not written once the session is out of step:\n%s", tt.unsent, srv.Transcript())
		})
	}
}

// TestOutOfTurnLowLevel checks the low-level commands: DoCmd and the verbs
// built on it find stray bytes as Sendmail does, while PutCmd and
// GetReply, with which a caller pipelines by hand, leave them alone.
func TestOutOfTurnLowLevel(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithReplies("NOOP", "250 one\r\n250 two"))
	c := dialTest(t, srv)

	require.NoError(t, c.PutCmd("noop", ""))
	r, err := c.GetReply()
	require.NoError(t, err)
	assert.Equal(t, Reply{250, "one"}, r)
	r, err = c.GetReply()
	require.NoError(t, err, "a reply read by hand is the caller's to take")
	assert.Equal(t, Reply{250, "two"}, r)

	r, err = c.Noop()
	require.NoError(t, err, "the session is in step again")
	assert.Equal(t, 250, r.Code)

	srv2 := smtptest.NewServer(t, smtptest.WithReplies("NOOP", "250 one\r\n250 two"))
	c2 := dialTest(t, srv2)
	_, err = c2.Noop()
	require.NoError(t, err)
	_, err = c2.Rset()
	assert.ErrorIs(t, err, ErrOutOfStep)
	assert.Contains(t, err.Error(), `b'250 two\r\n'`, "the error shows what arrived")

	// A long stray is shown in part.
	srv3 := smtptest.NewServer(t, smtptest.WithReplies("NOOP", "250 one\r\n250-"+strings.Repeat("s", 200)+"\r\n250 end"))
	c3 := dialTest(t, srv3)
	_, err = c3.Noop()
	require.NoError(t, err)
	_, err = c3.Rset()
	assert.ErrorIs(t, err, ErrOutOfStep)
	assert.Contains(t, err.Error(), `b'250-`+strings.Repeat("s", 76)+`' (and 135 bytes more) unasked`)
}
