package smtplib

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

// Tests of Sendmail and its twins: the outcomes of a transaction in every
// mode, the exact dialogue and the checks made before anything is written.

// branch is one row of TestSendmailBranches.
type branch struct {
	name      string
	opts      []smtptest.Option
	to        []string
	refused   map[string]Reply
	err       error // the error's type and reply
	closed    bool
	delivered []string // recipients of the one message the server keeps
	reset     bool     // RSET follows the failure
}

// sendmailBranches are the outcomes of a transaction, each with the server
// that gives it.
var sendmailBranches = []branch{
	{name: "all accepted", to: []string{"a@example.com", "b@example.com"},
		refused: map[string]Reply{}, delivered: []string{"a@example.com", "b@example.com"}},
	{name: "one refused", to: []string{"a@example.com", "bad@example.com"},
		opts:    []smtptest.Option{smtptest.WithRefuseRecipient("bad@example.com", "550 5.1.1 no such user")},
		refused: map[string]Reply{"bad@example.com": {550, "5.1.1 no such user"}}, delivered: []string{"a@example.com"}},
	{name: "all refused", to: []string{"bad@example.com", "worse@example.com"},
		opts: []smtptest.Option{smtptest.WithRefuseRecipient("bad@example.com", "550 5.1.1 no such user"),
			smtptest.WithRefuseRecipient("worse@example.com", "450 4.2.0 later")},
		err: &RecipientsRefusedError{Recipients: map[string]Reply{"bad@example.com": {550, "5.1.1 no such user"},
			"worse@example.com": {450, "4.2.0 later"}}}, reset: true},
	{name: "no recipients", to: nil, err: &RecipientsRefusedError{Recipients: map[string]Reply{}}, reset: true},
	{name: "sender refused", to: []string{"a@example.com"},
		opts: []smtptest.Option{smtptest.WithRefuseSender("s@example.com", "553 5.7.1 not you")},
		err:  &SenderRefusedError{respErr(Reply{553, "5.7.1 not you"}), "Sender <s@example.com>"}, reset: true},
	{name: "sender 421", to: []string{"a@example.com"},
		opts: []smtptest.Option{smtptest.WithRefuseSender("s@example.com", "421 4.3.2 shutting down")},
		err:  &SenderRefusedError{respErr(Reply{421, "4.3.2 shutting down"}), "Sender <s@example.com>"}, closed: true},
	{name: "recipient 421", to: []string{"a@example.com", "b@example.com", "c@example.com"},
		opts: []smtptest.Option{smtptest.WithRefuseRecipient("b@example.com", "421 4.3.2 bye")},
		err:  &RecipientsRefusedError{Recipients: map[string]Reply{"b@example.com": {421, "4.3.2 bye"}}}, closed: true},
	{name: "251 is accepted", to: []string{"a@example.com"},
		opts:    []smtptest.Option{smtptest.WithReply("RCPT", "251 2.1.5 will forward")},
		refused: map[string]Reply{}, delivered: []string{"a@example.com"}},
	{name: "data refused", to: []string{"a@example.com"},
		opts: []smtptest.Option{smtptest.WithReply("DATA", "554 5.5.1 no"), smtptest.WithReply("BDAT", "554 5.5.1 no")},
		err:  &DataError{respErr(Reply{554, "5.5.1 no"})}},
	{name: "message refused", to: []string{"a@example.com"},
		opts: []smtptest.Option{smtptest.WithReply("DOT", "552 5.3.4 too big")},
		err:  &DataError{respErr(Reply{552, "5.3.4 too big"})}, reset: true},
	{name: "message 421", to: []string{"a@example.com"},
		opts: []smtptest.Option{smtptest.WithReply("DOT", "421 4.3.0 later")},
		err:  &DataError{respErr(Reply{421, "4.3.0 later"})}, closed: true},
}

// TestSendmailBranches runs each branch in every mode, through Sendmail and
// as a batch of one, with identical results.
func TestSendmailBranches(t *testing.T) {
	for _, mode := range modes {
		for _, batch := range []bool{false, true} {
			for _, tt := range sendmailBranches {
				name := mode.name + "/" + tt.name
				if batch {
					name = "batch/" + name
				}
				t.Run(name, func(t *testing.T) { runSendmailBranch(t, mode.name, mode.ext, batch, tt) })
			}
		}
	}
}

// runSendmailBranch runs one row of TestSendmailBranches.
func runSendmailBranch(t *testing.T, mode string, ext []string, batch bool, tt branch) {
	const msg = "Subject: test\r\n\r\n.leading dot\nbare LF\r\n"
	const sent = "Subject: test\r\n\r\n.leading dot\r\nbare LF\r\n"
	opts := append([]smtptest.Option{smtptest.WithExtensions(ext...)}, tt.opts...)
	srv := smtptest.NewServer(t, opts...)
	c := dialTest(t, srv)
	var refused map[string]Reply
	var err error
	if batch {
		results, berr := c.SendBatch(context.Background(), []Mail{{From: "Sender <s@example.com>", To: tt.to, Data: []byte(msg)}})
		require.Len(t, results, 1)
		refused, err = results[0].Refused, results[0].Err
		assert.Equal(t, tt.closed, berr != nil, "the batch reports the end of the connection: %v", berr)
	} else {
		refused, err = c.Sendmail("Sender <s@example.com>", tt.to, []byte(msg))
	}
	if tt.err != nil {
		require.Error(t, err)
		assert.Equal(t, tt.err, err)
		assert.Nil(t, refused)
	} else {
		require.NoError(t, err)
		assert.Equal(t, tt.refused, refused)
	}
	assert.Equal(t, tt.closed, c.conn == nil, "closed")
	if !tt.closed {
		r, err := c.Noop()
		require.NoError(t, err, "the session goes on")
		assert.Equal(t, 250, r.Code)
		c.Quit()
	}
	require.NoError(t, srv.WaitSessions(1, 5*time.Second))
	msgs := srv.Messages()
	if tt.delivered == nil {
		assert.Empty(t, msgs)
	} else {
		require.Len(t, msgs, 1)
		assert.Equal(t, "s@example.com", msgs[0].From)
		assert.Equal(t, tt.delivered, msgs[0].To)
		assert.Equal(t, sent, string(msgs[0].Data))
		assert.Contains(t, msgs[0].MailOptions, "size=39", "len(msg), as smtplib declares bytes")
		assert.Equal(t, strings.Contains(mode, "chunking"), msgs[0].Chunked)
	}
	transcript := srv.Transcript()
	// A refused BDAT is a refused message, which is followed by RSET; a
	// refused DATA is not, as in smtplib, unless another mail follows
	// (TestSendBatchRefusedMidBatch): a batch of one is Sendmail.
	reset := tt.reset || tt.name == "data refused" && strings.Contains(mode, "chunking")
	assert.Equal(t, reset, strings.Contains(transcript, "C: rset"), transcript)
	if tt.err != nil && !strings.Contains(tt.name, "message") && !strings.Contains(mode, "chunking") {
		assert.NotContains(t, transcript, "C: <data", "no message data after a failed envelope")
	}
}

// TestSendmailOneRecipientRefusedForNow refuses one recipient of two with
// a plain 450, without an enhanced code, first or second, in every mode:
// Sendmail succeeds, the refused map holds that recipient's reply alone,
// a temporary one, and the mail goes to the other.
func TestSendmailOneRecipientRefusedForNow(t *testing.T) {
	for _, mode := range modes {
		for _, to := range [][]string{{"busy@example.com", "ok@example.com"}, {"ok@example.com", "busy@example.com"}} {
			t.Run(mode.name+"/"+to[0], func(t *testing.T) {
				srv := smtptest.NewServer(t, smtptest.WithExtensions(mode.ext...),
					smtptest.WithRefuseRecipient("busy@example.com", "450 mailbox busy"))
				c := dialTest(t, srv)

				refused, err := c.Sendmail("a@example.com", to, []byte("Subject: x\r\n\r\nbody\r\n"))

				require.NoError(t, err)
				assert.Equal(t, map[string]Reply{"busy@example.com": {450, "mailbox busy"}}, refused)
				r := refused["busy@example.com"]
				assert.True(t, r.Temporary())
				assert.Equal(t, [3]int{}, r.EnhancedCode(), "none was given")
				msgs := srv.Messages()
				require.Len(t, msgs, 1)
				assert.Equal(t, []string{"ok@example.com"}, msgs[0].To)
			})
		}
	}
}

func TestSendmailWire(t *testing.T) {
	// The exact dialogue smtplib has with a server that offers SIZE.
	srv := newScriptServer(t, `
		S: 220 hi
		C
		S: 250-hi
		S: 250 SIZE 100
		C
		S: 250 ok
		C
		S: 550 no
		C
		S: 250 ok
		C
		S: 354 go
		C
		C
		S: 250 queued`)
	c := dialRaw(t, srv)
	refused, err := c.Sendmail("a@example.com", []string{"x@example.com", "y@example.com"},
		[]byte("hi\n"), MailOptions("BODY=8BITMIME"), RcptOptions("NOTIFY=NEVER"))
	require.NoError(t, err)
	assert.Equal(t, map[string]Reply{"x@example.com": {550, "no"}}, refused)
	assert.Equal(t, wire("ehlo client.example", "mail from:<a@example.com> size=3 BODY=8BITMIME",
		"rcpt to:<x@example.com> NOTIFY=NEVER", "rcpt to:<y@example.com> NOTIFY=NEVER", "data", "hi", "."),
		srv.received())
}

func TestSendmailAfterHelo(t *testing.T) {
	// Options are dropped for a server that only answered HELO.
	srv := newScriptServer(t, `
		S: 220 hi
		C
		S: 500 what
		C
		S: 250 hello
		C
		S: 250 ok
		C
		S: 250 ok
		C
		S: 354 go
		C
		S: 250 queued`)
	c := dialRaw(t, srv)
	_, err := c.Sendmail("a@example.com", []string{"x@example.com"}, nil, MailOptions("BODY=8BITMIME"), RcptOptions("NOTIFY=NEVER"))
	require.NoError(t, err)
	assert.Equal(t, wire("ehlo client.example", "helo client.example", "mail from:<a@example.com>",
		"rcpt to:<x@example.com>", "data", ""), srv.received()[:6])
}

func TestSendmailChecksEverythingFirst(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithPipelining())
	c := dialTest(t, srv)
	for _, tt := range []struct {
		from    string
		to      []string
		mail    []string
		rcpt    []string
		errType any
	}{
		{"a@example.com", []string{"ok@example.com", "bad\r\n@example.com"}, nil, nil, &CommandError{}},
		{"a@example.com", []string{"ok@example.com"}, []string{"X=1\r\nRSET"}, nil, &CommandError{}},
		{"a@example.com", []string{"ok@example.com"}, nil, []string{"A B"}, &CommandError{}},
		{"a@example.com", []string{"ü@example.com"}, nil, nil, &CommandError{}},
		{"a@example.com", []string{"ok@example.com"}, []string{"SMTPUTF8"}, nil, &NotSupportedError{}},
	} {
		_, err := c.Sendmail(tt.from, tt.to, []byte("x"), MailOptions(tt.mail...), RcptOptions(tt.rcpt...))
		assert.IsType(t, tt.errType, err, "%v", tt)
	}
	c.Quit()
	require.NoError(t, srv.WaitSessions(1, 5*time.Second))
	assert.NotContains(t, srv.Transcript(), "C: mail", "no transaction was started")
}

// TestInjectionSendmailRefusedBeforeWrite does the same for Sendmail and
// SendmailReader in every mode: every address and option is checked before
// the first byte of the transaction, pipelined or not.
func TestInjectionSendmailRefusedBeforeWrite(t *testing.T) {
	const ok = "ok@example.com"
	tests := []struct {
		name              string
		from              string
		to                []string
		mailOpts, rcptOps []string
	}{
		{name: "sender with CRLF", from: "a@example.com\r\nRCPT TO:<x@example.com>", to: []string{ok}},
		{name: "sender with NUL", from: "a@example.com\x00", to: []string{ok}},
		{name: "second recipient with LF", from: ok, to: []string{ok, "b@example.com\nDATA"}},
		{name: "last recipient with CR", from: ok, to: []string{ok, ok, "c@example.com\rRSET"}},
		{name: "recipient that is no path", from: ok, to: []string{ok, "<<a>>"}},
		{name: "mail option with CRLF", from: ok, to: []string{ok}, mailOpts: []string{"BODY=8BITMIME\r\nRSET"}},
		{name: "mail option with a space", from: ok, to: []string{ok}, mailOpts: []string{"BODY=8BITMIME RET=FULL"}},
		{name: "rcpt option with CRLF", from: ok, to: []string{ok}, rcptOps: []string{"NOTIFY=NEVER\r\nDATA"}},
		{name: "rcpt option with NUL", from: ok, to: []string{ok}, rcptOps: []string{"NOTIFY=NEVER\x00"}},
		{name: "rcpt option with a space", from: ok, to: []string{ok}, rcptOps: []string{"NOTIFY=NEVER ORCPT=rfc822;x"}},
	}
	senders := []struct {
		name string
		send func(c *SMTP, from string, to []string, mo, ro []string) (map[string]Reply, error)
	}{
		{"[]byte", func(c *SMTP, from string, to []string, mo, ro []string) (map[string]Reply, error) {
			return c.Sendmail(from, to, []byte("Subject: x\r\n\r\nbody\r\n"), MailOptions(mo...), RcptOptions(ro...))
		}},
		{"io.Reader", func(c *SMTP, from string, to []string, mo, ro []string) (map[string]Reply, error) {
			return c.SendmailReader(from, to, strings.NewReader("Subject: x\r\n\r\nbody\r\n"), MailOptions(mo...), RcptOptions(ro...))
		}},
	}
	for _, mode := range modes {
		for _, snd := range senders {
			for _, tt := range tests {
				t.Run(mode.name+"/"+snd.name+"/"+tt.name, func(t *testing.T) {
					srv := smtptest.NewServer(t, smtptest.WithExtensions(mode.ext...))
					c := dialTest(t, srv)
					_, err := c.Ehlo("")
					require.NoError(t, err)
					before := srv.Transcript()

					refused, err := snd.send(c, tt.from, tt.to, tt.mailOpts, tt.rcptOps)

					assert.Nil(t, refused)
					var ce *CommandError
					require.ErrorAs(t, err, &ce)
					r, err := c.Noop()
					require.NoError(t, err, "the connection stays usable")
					assert.Equal(t, 250, r.Code)
					assert.Equal(t, before+"C: noop\nS: 250 2.0.0 Ok\n", srv.Transcript(), "nothing but the NOOP was written")
				})
			}
		}
	}
}

func TestSendmailSMTPUTF8(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithSMTPUTF8())
	c := dialTest(t, srv)
	refused, err := c.Sendmail("jörg@example.com", []string{"用户@example.com"}, []byte("x\r\n"), MailOptions("SMTPUTF8"))
	require.NoError(t, err)
	assert.Empty(t, refused)
	msgs := srv.Messages()
	require.Len(t, msgs, 1)
	assert.Equal(t, "jörg@example.com", msgs[0].From)
	assert.Equal(t, []string{"用户@example.com"}, msgs[0].To)
	assert.Equal(t, "utf-8", c.CommandEncoding)
}

// TestSendmailBody8BitMIME checks RFC 6152's rule for data known before
// MAIL: 8-bit bytes to a server that offers 8BITMIME go with BODY=8BITMIME,
// unless the caller gave a BODY parameter; 7-bit data, a server without
// 8BITMIME and a stream (sent as the caller says) get none.
func TestSendmailBody8BitMIME(t *testing.T) {
	eight := []byte("Subject: caf\xc3\xa9\r\n\r\ncaf\xc3\xa9\r\n")
	seven := []byte("Subject: cafe\r\n\r\ncafe\r\n")
	tests := []struct {
		name  string
		ext   []string
		send  func(c *SMTP) error
		param string // the BODY parameter expected on MAIL, "" for none
	}{
		{"8-bit bytes", []string{"8BITMIME"}, func(c *SMTP) error {
			_, err := c.Sendmail("s@example.com", []string{"r@example.com"}, eight)
			return err
		}, "BODY=8BITMIME"},
		{"8-bit past the first word", []string{"8BITMIME"}, func(c *SMTP) error {
			_, err := c.Sendmail("s@example.com", []string{"r@example.com"}, append([]byte("Subject: long enough\r\n\r\n"), 0xe9))
			return err
		}, "BODY=8BITMIME"},
		{"the caller's BODY", []string{"8BITMIME"}, func(c *SMTP) error {
			_, err := c.Sendmail("s@example.com", []string{"r@example.com"}, eight, MailOptions("body=7BIT"))
			return err
		}, "body=7BIT"},
		{"7-bit bytes", []string{"8BITMIME"}, func(c *SMTP) error {
			_, err := c.Sendmail("s@example.com", []string{"r@example.com"}, seven)
			return err
		}, ""},
		{"no 8BITMIME", nil, func(c *SMTP) error {
			_, err := c.Sendmail("s@example.com", []string{"r@example.com"}, eight)
			return err
		}, ""},
		{"a stream", []string{"8BITMIME"}, func(c *SMTP) error {
			_, err := c.SendmailReader("s@example.com", []string{"r@example.com"}, bytes.NewReader(eight))
			return err
		}, ""},
		{"a batch", []string{"8BITMIME"}, func(c *SMTP) error {
			rs, err := c.SendBatch(context.Background(), []Mail{{From: "s@example.com", To: []string{"r@example.com"}, Data: eight}})
			if err == nil {
				err = rs[0].Err
			}
			return err
		}, "BODY=8BITMIME"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, smtptest.WithExtensions(tt.ext...))
			c := dialTest(t, srv)
			require.NoError(t, tt.send(c))
			msgs := srv.Messages()
			require.Len(t, msgs, 1)
			var body []string
			for _, o := range msgs[0].MailOptions {
				if strings.HasPrefix(strings.ToLower(o), "body=") {
					body = append(body, o)
				}
			}
			if tt.param == "" {
				assert.Empty(t, body)
			} else {
				assert.Equal(t, []string{tt.param}, body)
			}
		})
	}
}

// TestEmptyMessage: a nil or empty []byte is sent as smtplib sends b"":
// the CRLF that data() adds to a message without one, then the end of
// data.
func TestEmptyMessage(t *testing.T) {
	for _, msg := range [][]byte{nil, {}} {
		srv := smtptest.NewServer(t)
		c := dialTest(t, srv)
		_, err := c.Sendmail("a@example.com", []string{"b@example.com"}, msg)
		require.NoError(t, err)
		msgs := srv.Messages()
		require.Len(t, msgs, 1)
		assert.Equal(t, "\r\n", string(msgs[0].Data))
	}
}
