package smtptest_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

// step is one exchange of a scripted conversation: send (possibly
// nothing), then expect a reply, or the connection's end when want is
// "EOF".
type step struct{ send, want string }

// run plays steps against the server, checking each reply whole.
func (c *client) run(steps []step) {
	c.t.Helper()
	for i, st := range steps {
		if st.send != "" {
			c.send(st.send)
		}
		if st.want == "EOF" {
			assert.True(c.t, c.closed(), "step %d: connection still open", i)
			return
		}
		got, err := c.readReply()
		require.NoError(c.t, err, "step %d (%q): got %q", i, st.send, got)
		assert.Equal(c.t, st.want, got, "step %d (%q)", i, st.send)
	}
}

const (
	banner  = "220 smtptest.example ESMTP smtptest"
	ehloOK  = "250-smtptest.example\n250-8BITMIME\n250-SIZE 33554432\n250-PIPELINING\n250 HELP"
	mailOK  = "250 2.1.0 Ok"
	rcptOK  = "250 2.1.5 Ok"
	dataGo  = "354 End data with <CR><LF>.<CR><LF>"
	queued1 = "250 2.0.0 Ok: queued as 00000001"
)

func TestScriptedReplies(t *testing.T) {
	tests := []struct {
		name     string
		opts     []smtptest.Option
		steps    []step
		messages int
	}{
		{"greeting", []smtptest.Option{smtptest.WithReply("GREETING", "220-first\r\n220 second")},
			[]step{{"", "220-first\n220 second"}, {"NOOP\r\n", "250 2.0.0 Ok"}}, 0},
		{"greeting 554 allows only QUIT", []smtptest.Option{smtptest.WithReply("greeting", "554 5.3.2 No service")},
			[]step{{"", "554 5.3.2 No service"}, {"EHLO c\r\n", "503 5.5.1 Error: no valid greeting, send QUIT"},
				{"QUIT\r\n", "221 2.0.0 Bye"}, {"", "EOF"}}, 0},
		{"greeting 421 closes", []smtptest.Option{smtptest.WithReply("GREETING", "421 4.3.2 Busy")},
			[]step{{"", "421 4.3.2 Busy"}, {"", "EOF"}}, 0},
		{"malformed reply written as given", []smtptest.Option{smtptest.WithReply("NOOP", "25")},
			[]step{{"", banner}, {"NOOP\r\n", "25"}}, 0},
		{"ehlo", []smtptest.Option{smtptest.WithReply("EHLO", "250-x\r\n250 AUTH PLAIN")},
			[]step{{"", banner}, {"EHLO c\r\n", "250-x\n250 AUTH PLAIN"}, {"MAIL FROM:<a@b>\r\n", mailOK}}, 0},
		{"ehlo refused", []smtptest.Option{smtptest.WithReply("ehlo", "550 no")},
			[]step{{"", banner}, {"EHLO c\r\n", "550 no"}, {"MAIL FROM:<a@b>\r\n", "503 5.5.1 Error: send HELO/EHLO first"}}, 0},
		{"mail accepted whatever its syntax", []smtptest.Option{smtptest.WithReply("MAIL", "250 fine")},
			[]step{{"", banner}, {"EHLO c\r\n", ehloOK}, {"MAIL junk\r\n", "250 fine"},
				{"RCPT TO:<r@example.com>\r\n", rcptOK}, {"DATA\r\n", dataGo}, {"x\r\n.\r\n", queued1}}, 1},
		{"rcpt refused", []smtptest.Option{smtptest.WithReply("RCPT", "550 5.1.1 nobody")},
			[]step{{"", banner}, {"EHLO c\r\n", ehloOK}, {"MAIL FROM:<a@b>\r\n", mailOK},
				{"RCPT TO:<r@example.com>\r\n", "550 5.1.1 nobody"}, {"DATA\r\n", "503 5.5.1 Error: need RCPT command"}}, 0},
		{"data refused: no data expected", []smtptest.Option{smtptest.WithReply("DATA", "554 5.5.1 no valid recipients")},
			[]step{{"", banner}, {"EHLO c\r\n", ehloOK}, {"MAIL FROM:<a@b>\r\n", mailOK},
				{"RCPT TO:<r@example.com>\r\n", rcptOK}, {"DATA\r\n", "554 5.5.1 no valid recipients"},
				{"NOOP\r\n", "250 2.0.0 Ok"}}, 0},
		{"data accepted without recipients", []smtptest.Option{smtptest.WithReply("DATA", "354 go")},
			[]step{{"", banner}, {"EHLO c\r\n", ehloOK}, {"DATA\r\n", "354 go"}, {"x\r\n.\r\n", queued1}}, 1},
		{"dot refused", []smtptest.Option{smtptest.WithReply("DOT", "451 4.3.0 later")},
			[]step{{"", banner}, {"EHLO c\r\n", ehloOK}, {"MAIL FROM:<a@b>\r\n", mailOK},
				{"RCPT TO:<r@example.com>\r\n", rcptOK}, {"DATA\r\n", dataGo}, {"x\r\n.\r\n", "451 4.3.0 later"},
				{"MAIL FROM:<a@b>\r\n", mailOK}}, 0},
		{"dot accepted with other text", []smtptest.Option{smtptest.WithReply("DOT", "250 custom")},
			[]step{{"", banner}, {"EHLO c\r\n", ehloOK}, {"MAIL FROM:<a@b>\r\n", mailOK},
				{"RCPT TO:<r@example.com>\r\n", rcptOK}, {"DATA\r\n", dataGo}, {"x\r\n.\r\n", "250 custom"}}, 1},
		{"421 closes", []smtptest.Option{smtptest.WithReply("RCPT", "421 4.4.5 shutting down")},
			[]step{{"", banner}, {"EHLO c\r\n", ehloOK}, {"MAIL FROM:<a@b>\r\n", mailOK},
				{"RCPT TO:<r@example.com>\r\n", "421 4.4.5 shutting down"}, {"", "EOF"}}, 0},
		{"quit refused keeps the session", []smtptest.Option{smtptest.WithReply("QUIT", "500 no")},
			[]step{{"", banner}, {"QUIT\r\n", "500 no"}, {"NOOP\r\n", "250 2.0.0 Ok"}}, 0},
		{"quit with other text closes", []smtptest.Option{smtptest.WithReply("QUIT", "221 ciao")},
			[]step{{"", banner}, {"QUIT\r\n", "221 ciao"}, {"", "EOF"}}, 0},
		{"unknown verb", []smtptest.Option{smtptest.WithReply("XCLIENT", "220 sure")},
			[]step{{"", banner}, {"xclient NAME=x\r\n", "220 sure"}}, 0},
		{"rset", []smtptest.Option{smtptest.WithReply("RSET", "250 flushed")},
			[]step{{"", banner}, {"EHLO c\r\n", ehloOK}, {"MAIL FROM:<a@b>\r\n", mailOK}, {"RSET\r\n", "250 flushed"},
				{"RCPT TO:<r@example.com>\r\n", "503 5.5.1 Error: need MAIL command"}}, 0},
		{"successive replies, then normal", []smtptest.Option{smtptest.WithReplies("NOOP", "250 one", "250 two")},
			[]step{{"", banner}, {"NOOP\r\n", "250 one"}, {"NOOP\r\n", "250 two"}, {"NOOP\r\n", "250 2.0.0 Ok"}}, 0},
		{"successive replies before the fixed one", []smtptest.Option{
			smtptest.WithReplies("NOOP", "250 first"), smtptest.WithReply("NOOP", "250 always")},
			[]step{{"", banner}, {"NOOP\r\n", "250 first"}, {"NOOP\r\n", "250 always"}, {"NOOP\r\n", "250 always"}}, 0},
		{"vrfy", []smtptest.Option{smtptest.WithReply("VRFY", "550 5.1.1 unknown")},
			[]step{{"", banner}, {"VRFY x\r\n", "550 5.1.1 unknown"}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := smtptest.NewServer(t, tt.opts...)
			dial(t, s).run(tt.steps)
			assert.Len(t, s.Messages(), tt.messages)
		})
	}
}

func TestScriptedReplyIsOneWrite(t *testing.T) {
	// A STARTTLS reply with a line smuggled after it, as an attacker
	// injecting a reply would produce; a client must not read it as the
	// reply to its next command.
	s := smtptest.NewServer(t, smtptest.WithSTARTTLS(),
		smtptest.WithReply("STARTTLS", "220 go ahead\r\n250 fake"))
	c := dialGreeted(t, s)
	before := s.Sessions()[0].RoundTrips
	c.send("STARTTLS\r\n")
	assert.Equal(t, "220 go ahead", c.reply())
	assert.Equal(t, "250 fake", c.reply())
	require.NoError(t, c.starttls(s, "localhost"))
	assert.Equal(t, "250 2.0.0 Ok", c.cmd("NOOP"))
	sess := s.Sessions()[0]
	// The scripted reply was one write, then one for NOOP.
	assert.Equal(t, before+2, sess.RoundTrips)
	assert.True(t, sess.TLS)
	assert.Contains(t, sess.Transcript, "C: STARTTLS\nS: 220 go ahead\nS: 250 fake\nC: NOOP\n")
}

func TestRefusals(t *testing.T) {
	s := smtptest.NewServer(t,
		smtptest.WithRefuseSender("spammer@example.com", "550 5.7.1 Sender rejected"),
		smtptest.WithRefuseRecipient("bad@example.com", "550 5.1.1 No such user"),
		smtptest.WithRefuseRecipient("full@example.com", "452 4.2.2 Mailbox full"),
		smtptest.WithRefuseRecipient("down@example.com", "421 4.3.2 Going down"),
	)
	c := dial(t, s)
	c.run([]step{
		{"", banner},
		{"EHLO c\r\n", ehloOK},
		{"MAIL FROM:<Spammer@Example.com>\r\n", "550 5.7.1 Sender rejected"},
		{"RCPT TO:<good@example.com>\r\n", "503 5.5.1 Error: need MAIL command"},
		{"MAIL FROM:<a@example.com>\r\n", mailOK},
		{"RCPT TO:<bad@example.com>\r\n", "550 5.1.1 No such user"},
		{"RCPT TO:<good@example.com>\r\n", rcptOK},
		{"RCPT TO:<full@example.com>\r\n", "452 4.2.2 Mailbox full"},
		{"DATA\r\n", dataGo},
		{"x\r\n.\r\n", queued1},
		{"MAIL FROM:<a@example.com>\r\n", mailOK},
		{"RCPT TO:<down@example.com>\r\n", "421 4.3.2 Going down"},
		{"", "EOF"},
	})
	msgs := s.Messages()
	require.Len(t, msgs, 1)
	assert.Equal(t, []string{"good@example.com"}, msgs[0].To)
}

func TestRefusedSender421Closes(t *testing.T) {
	s := smtptest.NewServer(t, smtptest.WithRefuseSender("a@example.com", "421 4.7.0 Try again later"))
	dial(t, s).run([]step{
		{"", banner},
		{"EHLO c\r\n", ehloOK},
		{"MAIL FROM:<a@example.com>\r\n", "421 4.7.0 Try again later"},
		{"", "EOF"},
	})
	assert.Empty(t, s.Messages())
}

func TestSMTPUTF8(t *testing.T) {
	tests := []struct {
		name  string
		opts  []smtptest.Option
		mail  string
		reply string
		rcpt  string
	}{
		{"declared and offered", []smtptest.Option{smtptest.WithSMTPUTF8()},
			"MAIL FROM:<jörg@bücher.example> SMTPUTF8", mailOK, rcptOK},
		{"ASCII sender, declared", []smtptest.Option{smtptest.WithSMTPUTF8()},
			"MAIL FROM:<a@example.com> SMTPUTF8", mailOK, rcptOK},
		{"offered, not declared", []smtptest.Option{smtptest.WithSMTPUTF8()},
			"MAIL FROM:<jörg@example.com>", "553 5.6.7 Must declare SMTPUTF8 to send unicode address", ""},
		{"offered, not declared, ASCII sender", []smtptest.Option{smtptest.WithSMTPUTF8()},
			"MAIL FROM:<a@example.com>", mailOK, "553 5.6.7 Must declare SMTPUTF8 to send unicode address"},
		{"declared, not offered", nil,
			"MAIL FROM:<jörg@example.com> SMTPUTF8", "553 5.6.7 Must declare SMTPUTF8 to send unicode address", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := smtptest.NewServer(t, tt.opts...)
			c := dialGreeted(t, s)
			assert.Equal(t, tt.reply, c.cmd(tt.mail))
			if tt.rcpt != "" {
				assert.Equal(t, tt.rcpt, c.cmd("RCPT TO:<ünïcode@example.com>"))
			}
		})
	}
}

func TestPipeliningRoundTrips(t *testing.T) {
	tests := []struct {
		name  string
		quit  bool // QUIT pipelined after the final dot
		trips int
	}{
		// Greeting, EHLO, the MAIL/RCPT/RCPT/DATA batch, the dot, QUIT.
		{"dot then QUIT", false, 5},
		// QUIT's reply goes out with the dot's.
		{"dot and QUIT together", true, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := smtptest.NewServer(t, smtptest.WithPipelining())
			c := dialGreeted(t, s)
			c.send("MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nRCPT TO:<c@example.com>\r\nDATA\r\n")
			assert.Equal(t, mailOK, c.reply())
			assert.Equal(t, rcptOK, c.reply())
			assert.Equal(t, rcptOK, c.reply())
			assert.Equal(t, dataGo, c.reply())
			if tt.quit {
				c.send("hello\r\n.\r\nQUIT\r\n")
				assert.Equal(t, queued1, c.reply())
				assert.Equal(t, "221 2.0.0 Bye", c.reply())
			} else {
				c.send("hello\r\n.\r\n")
				assert.Equal(t, queued1, c.reply())
				assert.Equal(t, "221 2.0.0 Bye", c.cmd("QUIT"))
			}
			require.True(t, c.closed())
			require.NoError(t, s.WaitSessions(1, ioTimeout))
			assert.Equal(t, tt.trips, s.Sessions()[0].RoundTrips)
			require.Len(t, s.Messages(), 1)
			assert.Equal(t, []string{"b@example.com", "c@example.com"}, s.Messages()[0].To)
		})
	}
}

func TestPipelinedErrorsKeepOrder(t *testing.T) {
	s := smtptest.NewServer(t, smtptest.WithRefuseRecipient("bad@example.com", "550 5.1.1 No such user"))
	c := dialGreeted(t, s)
	c.send("MAIL FROM:<a@example.com>\r\nRCPT TO:<bad@example.com>\r\nDATA\r\nNOOP\r\n")
	assert.Equal(t, mailOK, c.reply())
	assert.Equal(t, "550 5.1.1 No such user", c.reply())
	assert.Equal(t, "503 5.5.1 Error: need RCPT command", c.reply())
	assert.Equal(t, "250 2.0.0 Ok", c.reply())
	// Greeting, EHLO, then one write for the whole batch.
	assert.Equal(t, 3, s.Sessions()[0].RoundTrips)
	assert.True(t, strings.HasSuffix(s.Transcript(), "C: NOOP\nS: 250 2.0.0 Ok\n"))
}
