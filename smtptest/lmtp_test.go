package smtptest_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

func TestBDAT(t *testing.T) {
	s := smtptest.NewServer(t, smtptest.WithChunking())
	c := dialGreeted(t, s)
	c.run([]step{
		{"MAIL FROM:<a@example.com> BODY=BINARYMIME\r\n", mailOK},
		{"RCPT TO:<b@example.com>\r\n", rcptOK},
		{"BDAT 9\r\n..hello\r\n", "250 2.0.0 9 bytes received"},
		{"bdat 0\r\n", "250 2.0.0 0 bytes received"},
		{"BDAT 8 last\r\n.\r\nend\r\n", "250 2.0.0 Message accepted"},
	})
	msgs := s.Messages()
	require.Len(t, msgs, 1)
	// Chunks are taken as they are: no dot-unstuffing, no end marker.
	assert.Equal(t, "..hello\r\n.\r\nend\r\n", string(msgs[0].Data))
	assert.Equal(t, "..hello\r\n.\r\nend\r\n", string(msgs[0].Raw))
	assert.True(t, msgs[0].Chunked)
	assert.Equal(t, []string{"BODY=BINARYMIME"}, msgs[0].MailOptions)
	assert.Contains(t, s.Transcript(), "C: BDAT 9\nC: <chunk 9 bytes>\nS: 250 2.0.0 9 bytes received\n")
	assert.Contains(t, s.Transcript(), "C: BDAT 8 last\nC: <chunk 8 bytes>\nS: 250 2.0.0 Message accepted\n")
}

func TestBDATPipelined(t *testing.T) {
	s := smtptest.NewServer(t, smtptest.WithChunking(), smtptest.WithPipelining())
	c := dialGreeted(t, s)
	big := strings.Repeat("0123456789", 20000) // larger than the server's read buffer
	c.send("MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nBDAT 200000\r\n" + big + "BDAT 5 LAST\r\nfinal")
	c.run([]step{{"", mailOK}, {"", rcptOK}, {"", "250 2.0.0 200000 bytes received"}, {"", "250 2.0.0 Message accepted"}})
	msgs := s.Messages()
	require.Len(t, msgs, 1)
	assert.Equal(t, big+"final", string(msgs[0].Data))
	// The first writes and the large chunk may arrive in pieces, so only
	// an upper bound holds: greeting, EHLO, and at most three more.
	assert.LessOrEqual(t, s.Sessions()[0].RoundTrips, 5)
}

func TestBDATErrors(t *testing.T) {
	tests := []struct {
		name  string
		opts  []smtptest.Option
		steps []step
	}{
		{"before MAIL: chunk still read", nil, []step{{"BDAT 6\r\nNOOP\r\n", "503 5.5.1 Error: need MAIL command"},
			{"NOOP\r\n", "250 2.0.0 Ok"}}},
		{"before RCPT", nil, []step{{"MAIL FROM:<a@example.com>\r\n", mailOK},
			{"BDAT 2 LAST\r\nab", "503 5.5.1 Error: need RCPT command"}}},
		{"bad size", nil, []step{{"BDAT x\r\n", "501 5.5.4 Syntax: BDAT count [LAST]"},
			{"BDAT 1 FIRST\r\n", "501 5.5.4 Syntax: BDAT count [LAST]"}, {"BDAT\r\n", "501 5.5.4 Syntax: BDAT count [LAST]"}}},
		{"too big", []smtptest.Option{smtptest.WithSize(5)}, []step{{"MAIL FROM:<a@example.com>\r\n", mailOK},
			{"RCPT TO:<b@example.com>\r\n", rcptOK}, {"BDAT 4\r\nabcd", "250 2.0.0 4 bytes received"},
			{"BDAT 2 LAST\r\nef", "552 5.3.4 Message size exceeds fixed limit"},
			{"BDAT 1 LAST\r\ng", "503 5.5.1 Error: need MAIL command"}}},
		{"DATA after BDAT", nil, []step{{"MAIL FROM:<a@example.com>\r\n", mailOK},
			{"RCPT TO:<b@example.com>\r\n", rcptOK}, {"BDAT 1\r\na", "250 2.0.0 1 bytes received"},
			{"DATA\r\n", "503 5.5.1 Error: DATA after BDAT"}}},
		{"scripted chunk refusal", []smtptest.Option{smtptest.WithReply("BDAT", "451 4.3.0 oops")}, []step{
			{"MAIL FROM:<a@example.com>\r\n", mailOK}, {"RCPT TO:<b@example.com>\r\n", rcptOK},
			{"BDAT 3\r\nabc", "451 4.3.0 oops"}, {"RCPT TO:<b@example.com>\r\n", "503 5.5.1 Error: need MAIL command"}}},
		{"scripted end refusal", []smtptest.Option{smtptest.WithReply("DOT", "554 5.6.0 bad")}, []step{
			{"MAIL FROM:<a@example.com>\r\n", mailOK}, {"RCPT TO:<b@example.com>\r\n", rcptOK},
			{"BDAT 3 LAST\r\nabc", "554 5.6.0 bad"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := smtptest.NewServer(t, append([]smtptest.Option{smtptest.WithChunking()}, tt.opts...)...)
			c := dialGreeted(t, s)
			c.run(tt.steps)
			assert.Empty(t, s.Messages())
		})
	}
}

func TestScriptedBDATAccepts(t *testing.T) {
	s := smtptest.NewServer(t, smtptest.WithChunking(), smtptest.WithReplies("BDAT", "250 one", "250 done"))
	c := dialGreeted(t, s)
	c.run([]step{{"MAIL FROM:<a@example.com>\r\n", mailOK}, {"RCPT TO:<b@example.com>\r\n", rcptOK},
		{"BDAT 3\r\nabc", "250 one"}, {"BDAT 3 LAST\r\ndef", "250 done"}})
	require.Len(t, s.Messages(), 1)
	assert.Equal(t, "abcdef", string(s.Messages()[0].Data))
}

func TestLMTP(t *testing.T) {
	s := smtptest.NewServer(t,
		smtptest.WithLMTPReply("full@example.com", "452 4.2.2 Mailbox full"),
		smtptest.WithRefuseRecipient("nobody@example.com", "550 5.1.1 No such user"),
		smtptest.WithChunking(),
	)
	require.True(t, s.LMTP)
	c := dial(t, s)
	c.run([]step{
		{"", "220 smtptest.example LMTP smtptest"},
		{"EHLO c\r\n", "502 5.5.2 Error: command not recognized"},
		{"HELO c\r\n", "502 5.5.2 Error: command not recognized"},
		{"LHLO c\r\n", "250-smtptest.example\n250-8BITMIME\n250-SIZE 33554432\n250-PIPELINING\n250-HELP\n250 CHUNKING"},
		{"MAIL FROM:<a@example.com>\r\n", mailOK},
		{"RCPT TO:<one@example.com> NOTIFY=NEVER\r\n", rcptOK},
		{"RCPT TO:<nobody@example.com>\r\n", "550 5.1.1 No such user"},
		{"RCPT TO:<Full@example.com>\r\n", rcptOK},
		{"RCPT TO:<two@example.com>\r\n", rcptOK},
		{"DATA\r\n", dataGo},
		{"hello\r\n.\r\n", "250 2.0.0 <one@example.com> delivered"},
		{"", "452 4.2.2 Mailbox full"},
		{"", "250 2.0.0 <two@example.com> delivered"},
		// The same with BDAT.
		{"MAIL FROM:<a@example.com>\r\n", mailOK},
		{"RCPT TO:<full@example.com>\r\n", rcptOK},
		{"RCPT TO:<three@example.com>\r\n", rcptOK},
		{"BDAT 3 LAST\r\nabc", "452 4.2.2 Mailbox full"},
		{"", "250 2.0.0 <three@example.com> delivered"},
	})
	msgs := s.Messages()
	require.Len(t, msgs, 2)
	assert.Equal(t, []string{"one@example.com", "two@example.com"}, msgs[0].To)
	assert.Equal(t, [][]string{{"NOTIFY=NEVER"}, nil}, msgs[0].RcptOptions)
	assert.Equal(t, "hello\r\n", string(msgs[0].Data))
	assert.Equal(t, "c", msgs[0].Helo)
	assert.Equal(t, []string{"three@example.com"}, msgs[1].To)
	assert.True(t, msgs[1].Chunked)
}

func TestLMTPAllRefused(t *testing.T) {
	s := smtptest.NewServer(t, smtptest.WithLMTP(), smtptest.WithSize(4),
		smtptest.WithLMTPReply("x@example.com", "550 5.1.1 gone"))
	c := dial(t, s)
	c.run([]step{
		{"", "220 smtptest.example LMTP smtptest"},
		{"LHLO c\r\n", "250-smtptest.example\n250-8BITMIME\n250-SIZE 4\n250-PIPELINING\n250 HELP"},
		{"MAIL FROM:<a@example.com>\r\n", mailOK},
		{"RCPT TO:<x@example.com>\r\n", rcptOK},
		{"DATA\r\n", dataGo},
		{"ab\r\n.\r\n", "550 5.1.1 gone"},
		{"MAIL FROM:<a@example.com>\r\n", mailOK},
		{"RCPT TO:<y@example.com>\r\n", rcptOK},
		{"RCPT TO:<z@example.com>\r\n", rcptOK},
		{"DATA\r\n", dataGo},
		{"toolong\r\n.\r\n", "552 5.3.4 Message size exceeds fixed limit"},
		{"", "552 5.3.4 Message size exceeds fixed limit"},
	})
	assert.Empty(t, s.Messages())
}

// socketPath returns a short path for a Unix socket: t.TempDir's paths can
// exceed the 108 bytes a socket address allows.
func socketPath(t *testing.T) string {
	dir, err := os.MkdirTemp("", "smtptest")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "s.sock")
}

func TestUnixSocket(t *testing.T) {
	for _, lmtp := range []bool{false, true} {
		name := map[bool]string{false: "smtp", true: "lmtp"}[lmtp]
		t.Run(name, func(t *testing.T) {
			path := socketPath(t)
			opts := []smtptest.Option{smtptest.WithUnixSocket(path)}
			hello, want := "EHLO", "250 2.0.0 Ok: queued as 00000001"
			if lmtp {
				opts = append(opts, smtptest.WithLMTP())
				hello, want = "LHLO", "250 2.0.0 <b@example.com> delivered"
			}
			s := smtptest.NewServer(t, opts...)
			assert.Equal(t, path, s.Addr)
			assert.Equal(t, "", s.Host())
			assert.Equal(t, 0, s.Port())
			c := dial(t, s)
			c.reply()
			require.True(t, strings.HasPrefix(c.cmd(hello+" c"), "250"))
			assert.Equal(t, want, c.sendMail("a@example.com", []string{"b@example.com"}, "x\r\n"))
			require.Len(t, s.Messages(), 1)
			s.Close()
			_, err := os.Stat(path)
			assert.True(t, os.IsNotExist(err), "the socket file is removed")
		})
	}
}
