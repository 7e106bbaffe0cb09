package smtptest_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

// hookLog collects what a message hook saw, for any goroutine.
type hookLog struct {
	mu   sync.Mutex
	msgs []smtptest.Message
	err  error // what the hook returns
}

func (h *hookLog) hook(m smtptest.Message) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.msgs = append(h.msgs, m)
	return h.err
}

func (h *hookLog) seen() []smtptest.Message {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]smtptest.Message(nil), h.msgs...)
}

// serve starts a server with New and runs Serve until the returned cancel
// is called; wait returns Serve's error.
func serve(t *testing.T, opts ...smtptest.Option) (s *smtptest.Server, cancel func(), wait func() error) {
	t.Helper()
	s, err := smtptest.New(opts...)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() { cancel(); s.Close() })
	return s, cancel, func() error { return <-done }
}

func TestServeListenAddr(t *testing.T) {
	s, cancel, wait := serve(t, smtptest.WithListenAddr("127.0.0.1:0"))
	host, port, err := net.SplitHostPort(s.Addr)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", host)
	assert.NotEqual(t, "0", port)
	c := dialGreeted(t, s)
	assert.Equal(t, queued1, c.sendMail("a@example.com", []string{"b@example.com"}, "x\r\n"))

	cancel()
	assert.NoError(t, wait())
	_, err = net.Dial("tcp", s.Addr)
	assert.Error(t, err, "the listener is closed once Serve returns")
	assert.True(t, c.closed(), "and so are the connections")
}

func TestServeImplicitTLS(t *testing.T) {
	s, _, _ := serve(t, smtptest.WithImplicitTLS())
	conn, err := tls.Dial("tcp", s.Addr, s.TLSConfig())
	require.NoError(t, err)
	c := newClient(t, conn)
	assert.Equal(t, banner, c.reply())
	c.cmd("EHLO c")
	assert.Equal(t, queued1, c.sendMail("a@example.com", []string{"b@example.com"}, "x\r\n"))
	assert.True(t, s.Messages()[0].TLS)
}

func TestServeAddressTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	_, err = smtptest.New(smtptest.WithListenAddr(ln.Addr().String()))
	assert.ErrorContains(t, err, "address already in use")

	s := smtptest.NewUnstartedServer(t, smtptest.WithListenAddr(ln.Addr().String()))
	assert.ErrorContains(t, s.Serve(context.Background()), "address already in use", "Serve starts it, and says why it cannot")
}

func TestServeStopsWithClose(t *testing.T) {
	s, _, wait := serve(t)
	s.Close()
	assert.NoError(t, wait())
	assert.NoError(t, s.Serve(context.Background()), "a server closed is done serving")

	never := smtptest.NewUnstartedServer(nil)
	never.Close()
	assert.EqualError(t, never.Serve(context.Background()), "smtptest: Serve on a closed server")
}

func TestServeDropsHalfReceivedMessage(t *testing.T) {
	var h hookLog
	s, cancel, wait := serve(t, smtptest.WithMessageHook(h.hook))
	c := dialGreeted(t, s)
	require.Equal(t, queued1, c.sendMail("a@example.com", []string{"b@example.com"}, "whole\r\n"))
	c.cmd("MAIL FROM:<a@example.com>")
	c.cmd("RCPT TO:<b@example.com>")
	require.Equal(t, dataGo, c.cmd("DATA"))
	c.send("Subject: half\r\n\r\nthe first half")
	cancel()
	require.NoError(t, wait())
	msgs := h.seen()
	require.Len(t, msgs, 1, "only the whole message")
	assert.Equal(t, "whole\r\n", string(msgs[0].Data))
	assert.Len(t, s.Messages(), 1)
}

func TestMessageHook(t *testing.T) {
	var h hookLog
	s := smtptest.NewServer(t, smtptest.WithMessageHook(h.hook), smtptest.WithChunking())
	c := dialGreeted(t, s)
	require.Equal(t, queued1, c.sendMail("a@example.com", []string{"b@example.com", "c@example.com"}, "Subject: x\r\n\r\n..dot\r\n"))
	c.cmd("MAIL FROM:<d@example.com> BODY=8BITMIME")
	c.cmd("RCPT TO:<e@example.com>")
	c.send("BDAT 5 LAST\r\nhello")
	require.Equal(t, "250 2.0.0 Message accepted", c.reply())

	seen := h.seen()
	require.Len(t, seen, 2)
	assert.Equal(t, "00000001", seen[0].ID)
	assert.Equal(t, "a@example.com", seen[0].From)
	assert.Equal(t, []string{"b@example.com", "c@example.com"}, seen[0].To)
	assert.Equal(t, "Subject: x\r\n\r\n.dot\r\n", string(seen[0].Data))
	assert.Equal(t, "client.example", seen[0].Helo)
	assert.Equal(t, c.conn.LocalAddr().String(), seen[0].RemoteAddr)
	assert.Equal(t, "00000002", seen[1].ID)
	assert.Equal(t, []string{"BODY=8BITMIME"}, seen[1].MailOptions)
	assert.True(t, seen[1].Chunked)
	assert.Equal(t, "hello", string(seen[1].Data))
	recorded := s.Messages()
	require.Len(t, recorded, 2, "the hook's messages are recorded too")
	for i, m := range recorded {
		assert.Equal(t, seen[i].ID, m.ID)
		assert.Equal(t, seen[i].Data, m.Data)
	}
}

func TestMessageHookRefuses(t *testing.T) {
	h := hookLog{err: errors.New("disk full")}
	t.Run("SMTP", func(t *testing.T) {
		s := smtptest.NewServer(t, smtptest.WithMessageHook(h.hook))
		c := dialGreeted(t, s)
		assert.Equal(t, "451 4.3.0 Error: queue file write error", c.sendMail("a@example.com", []string{"b@example.com"}, "x\r\n"))
		assert.Empty(t, s.Messages())
		assert.Equal(t, "250 2.0.0 Ok", c.cmd("NOOP"), "the session goes on")
	})
	t.Run("scripted end of data", func(t *testing.T) {
		s := smtptest.NewServer(t, smtptest.WithMessageHook(h.hook), smtptest.WithReply("DOT", "250 custom"))
		c := dialGreeted(t, s)
		assert.Equal(t, "451 4.3.0 Error: queue file write error", c.sendMail("a@example.com", []string{"b@example.com"}, "x\r\n"))
		assert.Empty(t, s.Messages())
	})
	t.Run("LMTP", func(t *testing.T) {
		s := smtptest.NewServer(t, smtptest.WithMessageHook(h.hook), smtptest.WithLMTPReply("full@example.com", "452 4.2.2 Mailbox full"))
		c := dial(t, s)
		c.reply()
		c.cmd("LHLO c")
		c.run([]step{{"MAIL FROM:<a@example.com>\r\n", mailOK}, {"RCPT TO:<b@example.com>\r\n", rcptOK},
			{"RCPT TO:<full@example.com>\r\n", rcptOK}, {"DATA\r\n", dataGo}, {"x\r\n.\r\n", "451 4.3.0 Error: queue file write error"},
			{"", "452 4.2.2 Mailbox full"}})
		assert.Empty(t, s.Messages())
	})
	assert.Len(t, h.seen(), 3, "the hook saw each message once")
}

func TestWithoutRecording(t *testing.T) {
	var h hookLog
	s := smtptest.NewServer(t, smtptest.WithoutRecording(), smtptest.WithMessageHook(h.hook))
	for range 2 {
		c := dialGreeted(t, s)
		assert.True(t, strings.HasPrefix(c.sendMail("a@example.com", []string{"b@example.com"}, "x\r\n"), "250 2.0.0 Ok: queued as "))
		c.cmd("QUIT")
		require.True(t, c.closed())
	}
	require.NoError(t, s.WaitSessions(2, ioTimeout))
	assert.Len(t, h.seen(), 2)
	assert.Empty(t, s.Messages())
	assert.Empty(t, s.Transcript())
	assert.Empty(t, s.Sessions())
}

func TestWithAnyCredentials(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
	}{
		{"plain", []step{{"AUTH PLAIN " + b64("\x00anyone\x00anything") + "\r\n", authOK}}},
		{"login", []step{{"AUTH LOGIN " + b64("anyone") + "\r\n", askPass}, {b64("x") + "\r\n", authOK}}},
		{"cram-md5", []step{{"AUTH CRAM-MD5\r\n", ""}, {b64("anyone 0123") + "\r\n", authOK}}},
		{"xoauth2", []step{{"AUTH XOAUTH2 " + b64("user=anyone\x01auth=Bearer t\x01\x01") + "\r\n", authOK}}},
		{"oauthbearer", []step{{"AUTH OAUTHBEARER " + b64("n,a=anyone,\x01auth=Bearer t\x01\x01") + "\r\n", authOK}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := smtptest.NewServer(t, smtptest.WithAuth("PLAIN", "LOGIN", "CRAM-MD5", "XOAUTH2", "OAUTHBEARER"),
				smtptest.WithUsers(users), smtptest.WithAnyCredentials())
			c := dialGreeted(t, s)
			for _, st := range tt.steps {
				r := c.cmd(strings.TrimSuffix(st.send, "\r\n"))
				if st.want == "" { // a challenge of the server's making
					assert.True(t, strings.HasPrefix(r, "334 "), r)
					continue
				}
				assert.Equal(t, st.want, r)
			}
			assert.Equal(t, "anyone", s.Sessions()[0].AuthUser)
		})
	}
}
