package smtptest_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

func TestSessionTranscriptAndMessage(t *testing.T) {
	s := smtptest.NewServer(t)
	c := dial(t, s)
	c.reply()
	c.cmd("ehlo client.example")
	c.cmd("mail FROM:<alice@example.com> BODY=8BITMIME size=42")
	c.cmd("rcpt TO:<bob@example.com> NOTIFY=NEVER")
	c.cmd("rcpt TO:<carol@example.com>")
	c.cmd("data")
	c.send("Subject: hi\r\n\r\n..dotted\r\nplain\r\n.\r\n")
	c.reply()
	c.cmd("quit")
	require.True(t, c.closed())
	require.NoError(t, s.WaitSessions(1, ioTimeout))

	want := `S: 220 smtptest.example ESMTP smtptest
C: ehlo client.example
S: 250-smtptest.example
S: 250-8BITMIME
S: 250-SIZE 33554432
S: 250-PIPELINING
S: 250 HELP
C: mail FROM:<alice@example.com> BODY=8BITMIME size=42
S: 250 2.1.0 Ok
C: rcpt TO:<bob@example.com> NOTIFY=NEVER
S: 250 2.1.5 Ok
C: rcpt TO:<carol@example.com>
S: 250 2.1.5 Ok
C: data
S: 354 End data with <CR><LF>.<CR><LF>
C: <data 35 bytes>
S: 250 2.0.0 Ok: queued as 00000001
C: quit
S: 221 2.0.0 Bye
`
	assert.Equal(t, want, s.Transcript())

	msgs := s.Messages()
	require.Len(t, msgs, 1)
	m := msgs[0]
	assert.Equal(t, "00000001", m.ID)
	assert.Equal(t, "alice@example.com", m.From)
	assert.Equal(t, []string{"BODY=8BITMIME", "size=42"}, m.MailOptions)
	assert.Equal(t, []string{"bob@example.com", "carol@example.com"}, m.To)
	assert.Equal(t, [][]string{{"NOTIFY=NEVER"}, nil}, m.RcptOptions)
	assert.Equal(t, "Subject: hi\r\n\r\n.dotted\r\nplain\r\n", string(m.Data))
	assert.Equal(t, "Subject: hi\r\n\r\n..dotted\r\nplain\r\n.\r\n", string(m.Raw))
	assert.False(t, m.Chunked)
	assert.False(t, m.TLS)
	assert.Equal(t, "", m.AuthUser)
	assert.Equal(t, "client.example", m.Helo)

	sessions := s.Sessions()
	require.Len(t, sessions, 1)
	assert.Equal(t, want, sessions[0].Transcript)
	assert.True(t, sessions[0].Ended)
	assert.Equal(t, "client.example", sessions[0].Helo)
	// Greeting, EHLO, MAIL, RCPT, RCPT, DATA, dot, QUIT: one at a time.
	assert.Equal(t, 8, sessions[0].RoundTrips)
}

func TestDefaultReplies(t *testing.T) {
	tests := []struct {
		name, cmd, want string
	}{
		{"helo", "HELO client.example", "250 smtptest.example"},
		{"helo without name", "HELO", "501 5.5.4 Syntax: HELO hostname"},
		{"ehlo without name", "EHLO", "501 5.5.4 Syntax: EHLO hostname"},
		{"rset", "RSET", "250 2.0.0 Ok"},
		{"rset with argument", "RSET x", "501 5.5.4 Syntax: RSET"},
		{"noop", "NOOP", "250 2.0.0 Ok"},
		{"noop with argument", "noop whatever", "250 2.0.0 Ok"},
		{"vrfy", "VRFY bob@example.com", "252 2.0.0 bob@example.com"},
		{"vrfy without argument", "VRFY", "501 5.5.4 Syntax: VRFY address"},
		{"expn", "EXPN list", "502 5.5.2 Error: command not recognized"},
		{"help", "HELP", "214 2.0.0 smtptest: see RFC 5321"},
		{"unknown verb", "XYZZY", "502 5.5.2 Error: command not recognized"},
		{"lhlo in smtp", "LHLO client", "502 5.5.2 Error: command not recognized"},
		{"empty line", "", "500 5.5.2 Error: bad syntax"},
		{"rcpt before mail", "RCPT TO:<b@example.com>", "503 5.5.1 Error: need MAIL command"},
		{"data before mail", "DATA", "503 5.5.1 Error: need RCPT command"},
		{"data with argument", "DATA x", "501 5.5.4 Syntax: DATA"},
		{"starttls not offered", "STARTTLS", "502 5.5.2 Error: command not recognized"},
		{"auth not offered", "AUTH PLAIN", "503 5.5.1 Error: authentication not enabled"},
		{"bdat not offered", "BDAT 0 LAST", "502 5.5.2 Error: command not recognized"},
	}
	s := smtptest.NewServer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dialGreeted(t, s)
			assert.Equal(t, tt.want, c.cmd(tt.cmd))
			// The session goes on normally afterwards.
			assert.Equal(t, "250 2.0.0 Ok", c.cmd("NOOP"))
		})
	}
}

func TestEHLOReply(t *testing.T) {
	tests := []struct {
		name string
		opts []smtptest.Option
		want string
	}{
		{"default", nil,
			"250-smtptest.example\n250-8BITMIME\n250-SIZE 33554432\n250-PIPELINING\n250 HELP"},
		{"hostname", []smtptest.Option{smtptest.WithHostname("mx.test")},
			"250-mx.test\n250-8BITMIME\n250-SIZE 33554432\n250-PIPELINING\n250 HELP"},
		{"exact extensions", []smtptest.Option{smtptest.WithExtensions("AUTH=LOGIN PLAIN", "auth login")},
			"250-smtptest.example\n250-AUTH=LOGIN PLAIN\n250 auth login"},
		{"no extensions", []smtptest.Option{smtptest.WithExtensions()},
			"250 smtptest.example"},
		{"size replaces", []smtptest.Option{smtptest.WithSize(1000)},
			"250-smtptest.example\n250-8BITMIME\n250-SIZE 1000\n250-PIPELINING\n250 HELP"},
		{"added in order", []smtptest.Option{smtptest.WithExtensions(), smtptest.WithPipelining(),
			smtptest.WithChunking(), smtptest.With8BitMIME(), smtptest.WithSMTPUTF8(),
			smtptest.WithSTARTTLS(), smtptest.WithAuth("PLAIN", "LOGIN"), smtptest.WithSize(5)},
			"250-smtptest.example\n250-PIPELINING\n250-CHUNKING\n250-8BITMIME\n250-SMTPUTF8\n250-STARTTLS\n250-AUTH PLAIN LOGIN\n250 SIZE 5"},
		{"auth default mechanisms", []smtptest.Option{smtptest.WithExtensions(), smtptest.WithAuth()},
			"250-smtptest.example\n250 AUTH PLAIN LOGIN CRAM-MD5 XOAUTH2"},
		{"extensions replace earlier options", []smtptest.Option{smtptest.WithChunking(), smtptest.WithExtensions("X")},
			"250-smtptest.example\n250 X"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := smtptest.NewServer(t, tt.opts...)
			c := dial(t, s)
			c.reply()
			assert.Equal(t, tt.want, c.cmd("EHLO client.example"))
		})
	}
}

func TestUnstartedServerFields(t *testing.T) {
	s := smtptest.NewUnstartedServer(t)
	assert.Equal(t, smtptest.DefaultHostname, s.Hostname)
	s.Hostname = "fields.test"
	s.Extensions = []string{"ONE", "TWO"}
	s.Start()
	c := dial(t, s)
	assert.Equal(t, "220 fields.test ESMTP smtptest", c.reply())
	assert.Equal(t, "250-fields.test\n250-ONE\n250 TWO", c.cmd("EHLO x"))
	assert.Equal(t, "127.0.0.1", s.Host())
	assert.Equal(t, fmt.Sprintf("127.0.0.1:%d", s.Port()), s.Addr)
	assert.NotZero(t, s.Port())
}

func TestWithoutEHLO(t *testing.T) {
	s := smtptest.NewServer(t, smtptest.WithoutEHLO())
	c := dial(t, s)
	c.reply()
	assert.Equal(t, "502 5.5.2 Error: command not recognized", c.cmd("EHLO client"))
	assert.Equal(t, "503 5.5.1 Error: send HELO/EHLO first", c.cmd("MAIL FROM:<a@example.com>"))
	assert.Equal(t, "250 smtptest.example", c.cmd("HELO client"))
	assert.Equal(t, "250 2.0.0 Ok: queued as 00000001", c.sendMail("a@example.com", []string{"b@example.com"}, "x\r\n"))
	require.Len(t, s.Messages(), 1)
	assert.Equal(t, "client", s.Messages()[0].Helo)
}

func TestSequence(t *testing.T) {
	s := smtptest.NewServer(t)
	c := dialGreeted(t, s)
	assert.Equal(t, "503 5.5.1 Error: need RCPT command", c.cmd("DATA"))
	assert.Equal(t, "250 2.1.0 Ok", c.cmd("MAIL FROM:<>"))
	assert.Equal(t, "503 5.5.1 Error: nested MAIL command", c.cmd("MAIL FROM:<a@example.com>"))
	assert.Equal(t, "503 5.5.1 Error: need RCPT command", c.cmd("DATA"))
	assert.Equal(t, "250 2.0.0 Ok", c.cmd("RSET"))
	assert.Equal(t, "503 5.5.1 Error: need MAIL command", c.cmd("RCPT TO:<b@example.com>"))
	assert.Equal(t, "250 2.1.0 Ok", c.cmd("MAIL FROM:<a@example.com>"))
	assert.Equal(t, "250 2.1.5 Ok", c.cmd("RCPT TO:<b@example.com>"))
	// A new EHLO aborts the transaction (RFC 5321 section 4.1.4).
	c.cmd("EHLO again")
	assert.Equal(t, "503 5.5.1 Error: need RCPT command", c.cmd("DATA"))
	assert.Empty(t, s.Messages())
}

func TestAddressParsing(t *testing.T) {
	tests := []struct {
		name, arg, reply, addr string
		params                 []string
	}{
		{"plain", "FROM:<a@example.com>", "250 2.1.0 Ok", "a@example.com", nil},
		{"lower case", "from:<a@example.com>", "250 2.1.0 Ok", "a@example.com", nil},
		{"space after colon", "FROM: <a@example.com>", "250 2.1.0 Ok", "a@example.com", nil},
		{"null sender", "FROM:<>", "250 2.1.0 Ok", "", nil},
		{"parameters", "FROM:<a@example.com> SIZE=10  BODY=8BITMIME", "250 2.1.0 Ok", "a@example.com", []string{"SIZE=10", "BODY=8BITMIME"}},
		{"quoted bracket and space", `FROM:<"x> y"@example.com> SIZE=1`, "250 2.1.0 Ok", `"x> y"@example.com`, []string{"SIZE=1"}},
		{"quoted escape", `FROM:<"a\"> b"@example.com>`, "250 2.1.0 Ok", `"a\"> b"@example.com`, nil},
		{"source route", "FROM:<@relay.example,@r2.example:a@example.com>", "250 2.1.0 Ok", "a@example.com", nil},
		{"no brackets", "FROM:a@example.com", "501 5.5.4 Syntax: MAIL FROM:<address>", "", nil},
		{"unclosed", "FROM:<a@example.com", "501 5.5.4 Syntax: MAIL FROM:<address>", "", nil},
		{"junk after bracket", "FROM:<a@example.com>x", "501 5.5.4 Syntax: MAIL FROM:<address>", "", nil},
		{"wrong keyword", "TO:<a@example.com>", "501 5.5.4 Syntax: MAIL FROM:<address>", "", nil},
		{"bad size", "FROM:<a@example.com> SIZE=big", "501 5.5.4 Bad SIZE parameter", "", nil},
		{"non-ASCII without SMTPUTF8", "FROM:<jörg@example.com>", "553 5.6.7 Must declare SMTPUTF8 to send unicode address", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := smtptest.NewServer(t)
			c := dialGreeted(t, s)
			require.Equal(t, tt.reply, c.cmd("MAIL "+tt.arg))
			if !strings.HasPrefix(tt.reply, "250") {
				return
			}
			require.Equal(t, "250 2.1.5 Ok", c.cmd("RCPT TO:<r@example.com>"))
			c.cmd("DATA")
			c.send(".\r\n")
			require.Equal(t, "250 2.0.0 Ok: queued as 00000001", c.reply())
			msgs := s.Messages()
			require.Len(t, msgs, 1)
			assert.Equal(t, tt.addr, msgs[0].From)
			assert.Equal(t, tt.params, msgs[0].MailOptions)
			assert.Empty(t, msgs[0].Data)
			assert.Equal(t, ".\r\n", string(msgs[0].Raw))
		})
	}
}

func TestRcptSyntax(t *testing.T) {
	s := smtptest.NewServer(t)
	c := dialGreeted(t, s)
	c.cmd("MAIL FROM:<a@example.com>")
	assert.Equal(t, "501 5.5.4 Syntax: RCPT TO:<address>", c.cmd("RCPT TO:<>"))
	assert.Equal(t, "501 5.5.4 Syntax: RCPT TO:<address>", c.cmd("RCPT FROM:<b@example.com>"))
	assert.Equal(t, "553 5.6.7 Must declare SMTPUTF8 to send unicode address", c.cmd("RCPT TO:<ü@example.com>"))
	assert.Equal(t, "250 2.1.5 Ok", c.cmd("RCPT TO:<Postmaster>"))
}

func TestBadLines(t *testing.T) {
	tests := []struct {
		name, raw, want, logged string
	}{
		{"bare LF", "NOOP\n", "500 5.5.2 Error: bare <CR> or <LF> or NUL in command", `C: "NOOP\n"`},
		{"bare CR", "NO\rOP\r\n", "500 5.5.2 Error: bare <CR> or <LF> or NUL in command", `C: "NO\rOP\r\n"`},
		{"NUL", "NO\x00OP\r\n", "500 5.5.2 Error: bare <CR> or <LF> or NUL in command", `C: "NO\x00OP\r\n"`},
		{"too long", "NOOP " + strings.Repeat("x", 5000) + "\r\n", "500 5.5.2 Line too long", "C: <line too long: 5007 bytes>"},
		{"far too long", strings.Repeat("x", 300000) + "\r\n", "500 5.5.2 Line too long", "C: <line too long: 300002 bytes>"},
		{"longest allowed", "NOOP " + strings.Repeat("x", 4091) + "\r\n", "250 2.0.0 Ok", "C: NOOP xxx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := smtptest.NewServer(t)
			c := dial(t, s)
			c.reply()
			c.send(tt.raw)
			assert.Equal(t, tt.want, c.reply())
			assert.Equal(t, "250 2.0.0 Ok", c.cmd("NOOP"), "the session goes on")
			assert.Contains(t, s.Transcript(), tt.logged)
		})
	}
}

func TestDataTransparency(t *testing.T) {
	tests := []struct {
		name, wire, data string
	}{
		{"empty", ".\r\n", ""},
		{"stuffed dots", "..\r\n...x\r\n.\r\n", ".\r\n..x\r\n"},
		{"dot inside line", "a.b\r\n a .\r\n.\r\n", "a.b\r\n a .\r\n"},
		{"dot line with text is data", ".x\r\n.\r\n", "x\r\n"},
		{"bare LF kept", "a\nb\r\n.\r\n", "a\nb\r\n"},
		{"dot after bare LF unstuffed", "a\n..b\r\n.\r\n", "a\n.b\r\n"},
		{"no final newline before dot", "abc\r\n.\r\n", "abc\r\n"},
		{"dot LF is not the end", "a\r\n.\n.\r\n", "a\r\n\n"},
		{"8-bit", "caf\xc3\xa9\r\n.\r\n", "caf\xc3\xa9\r\n"},
		{"long line", strings.Repeat("y", 200000) + "\r\n.\r\n", strings.Repeat("y", 200000) + "\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := smtptest.NewServer(t)
			c := dialGreeted(t, s)
			c.cmd("MAIL FROM:<a@example.com>")
			c.cmd("RCPT TO:<b@example.com>")
			require.Equal(t, "354 End data with <CR><LF>.<CR><LF>", c.cmd("DATA"))
			c.send(tt.wire)
			require.Equal(t, "250 2.0.0 Ok: queued as 00000001", c.reply())
			msgs := s.Messages()
			require.Len(t, msgs, 1)
			assert.Equal(t, tt.data, string(msgs[0].Data))
			assert.Equal(t, tt.wire, string(msgs[0].Raw))
			assert.Contains(t, s.Transcript(), fmt.Sprintf("C: <data %d bytes>\n", len(tt.wire)))
		})
	}
}

func TestSize(t *testing.T) {
	s := smtptest.NewServer(t, smtptest.WithSize(100))
	c := dialGreeted(t, s)
	assert.Equal(t, "552 5.3.4 Message size exceeds fixed limit", c.cmd("MAIL FROM:<a@example.com> SIZE=101"))
	assert.Equal(t, "250 2.1.0 Ok", c.cmd("MAIL FROM:<a@example.com> SIZE=100"))
	c.cmd("RCPT TO:<b@example.com>")
	c.cmd("DATA")
	c.send(strings.Repeat("z", 99) + "\r\n.\r\n")
	assert.Equal(t, "552 5.3.4 Message size exceeds fixed limit", c.reply())
	assert.Empty(t, s.Messages())
	// Exactly the limit passes.
	assert.Equal(t, "250 2.0.0 Ok: queued as 00000001", c.sendMail("a@example.com", []string{"b@example.com"}, strings.Repeat("z", 98)+"\r\n"))
	require.Len(t, s.Messages(), 1)
	assert.Len(t, s.Messages()[0].Data, 100)
}

func TestConcurrentClients(t *testing.T) {
	s := smtptest.NewServer(t, smtptest.WithChunking())
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- concurrentSession(s, i)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	require.NoError(t, s.WaitSessions(n, ioTimeout))
	msgs := s.Messages()
	require.Len(t, msgs, n)
	seen := map[string]bool{}
	for _, m := range msgs {
		assert.Equal(t, "Subject: "+m.From+"\r\n\r\nbody\r\n", string(m.Data))
		seen[m.From] = true
	}
	assert.Len(t, seen, n)
	assert.Len(t, s.Sessions(), n)
	assert.Equal(t, n, strings.Count(s.Transcript(), "S: 221 2.0.0 Bye\n"))
}

// concurrentSession sends one pipelined message without testing.T, so that
// it can run on its own goroutine.
func concurrentSession(s *smtptest.Server, i int) error {
	c, err := rawDial(s)
	if err != nil {
		return err
	}
	defer c.conn.Close()
	from := fmt.Sprintf("sender%d@example.com", i)
	body := "Subject: " + from + "\r\n\r\nbody\r\n"
	script := []struct{ send, want string }{
		{"", "220 "},
		{"EHLO c\r\n", "250-"},
		{fmt.Sprintf("MAIL FROM:<%s>\r\nRCPT TO:<r@example.com>\r\nDATA\r\n", from), "250 2.1.0"},
		{"", "250 2.1.5"},
		{"", "354 "},
		{body + ".\r\n", "250 2.0.0 Ok: queued as "},
		{"QUIT\r\n", "221 "},
	}
	for _, step := range script {
		if step.send != "" {
			if _, err := c.conn.Write([]byte(step.send)); err != nil {
				return err
			}
		}
		r, err := c.readReply()
		if err != nil {
			return err
		}
		if !strings.HasPrefix(r, step.want) {
			return fmt.Errorf("session %d: got %q, want %q", i, r, step.want)
		}
	}
	return nil
}

func TestCloseEndsOpenSessions(t *testing.T) {
	s := smtptest.NewServer(t)
	var clients []*client
	for range 5 {
		c := dialGreeted(t, s)
		c.cmd("MAIL FROM:<a@example.com>")
		clients = append(clients, c)
	}
	// One client in the middle of its data.
	clients[0].cmd("RCPT TO:<b@example.com>")
	clients[0].cmd("DATA")
	clients[0].send("partial line without end")

	closed := make(chan struct{})
	go func() {
		s.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(ioTimeout):
		t.Fatal("Close did not return")
	}
	for _, c := range clients {
		assert.True(t, c.closed())
	}
	for _, sess := range s.Sessions() {
		assert.True(t, sess.Ended)
	}
	assert.Empty(t, s.Messages())
	s.Close() // a second Close is harmless
}

func TestNewWithoutTestingT(t *testing.T) {
	s, err := smtptest.New(smtptest.WithHostname("plain.test"))
	require.NoError(t, err)
	defer s.Close()
	c := dial(t, s)
	assert.Equal(t, "220 plain.test ESMTP smtptest", c.reply())
	assert.Equal(t, "221 2.0.0 Bye", c.cmd("QUIT"))
	assert.NoError(t, s.WaitSessions(1, ioTimeout))
}

func TestWaitSessionsTimeout(t *testing.T) {
	s := smtptest.NewServer(t)
	c := dial(t, s)
	c.reply()
	err := s.WaitSessions(1, time.Millisecond)
	assert.ErrorContains(t, err, "0 of 1 sessions ended")
	c.cmd("QUIT")
	assert.NoError(t, s.WaitSessions(1, ioTimeout))
}

func TestOversizedDataWithoutNewlines(t *testing.T) {
	s := smtptest.NewServer(t, smtptest.WithSize(1000))
	c := dialGreeted(t, s)
	c.cmd("MAIL FROM:<a@example.com>")
	c.cmd("RCPT TO:<b@example.com>")
	c.cmd("DATA")
	// Far beyond the limit and the read buffer, in one line.
	c.send(strings.Repeat("x", 300000) + "\r\n.\r\n")
	assert.Equal(t, "552 5.3.4 Message size exceeds fixed limit", c.reply())
	assert.Empty(t, s.Messages())
	assert.Contains(t, s.Transcript(), "C: <data 300005 bytes>\n")
	assert.Equal(t, "250 2.0.0 Ok", c.cmd("NOOP"))
}
