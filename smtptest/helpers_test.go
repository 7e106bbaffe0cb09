package smtptest_test

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

// ioTimeout keeps a broken test from hanging; no test waits for it to
// pass when things work.
const ioTimeout = 10 * time.Second

// client is a raw SMTP client: it writes exactly what the test says and
// reads whole replies, so that tests see the server's wire behaviour.
type client struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
}

func dial(t testing.TB, s *smtptest.Server) *client {
	t.Helper()
	network := "tcp"
	if s.UnixSocket != "" {
		network = "unix"
	}
	conn, err := net.Dial(network, s.Addr)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return newClient(t, conn)
}

func newClient(t testing.TB, conn net.Conn) *client {
	require.NoError(t, conn.SetDeadline(time.Now().Add(ioTimeout)))
	return &client{t: t, conn: conn, r: bufio.NewReader(conn)}
}

// dialGreeted connects, reads the banner and sends EHLO.
func dialGreeted(t testing.TB, s *smtptest.Server) *client {
	t.Helper()
	c := dial(t, s)
	require.True(t, strings.HasPrefix(c.reply(), "220 "))
	require.True(t, strings.HasPrefix(c.cmd("EHLO client.example"), "250"))
	return c
}

// readReply reads one reply, its lines joined by "\n".
func (c *client) readReply() (string, error) {
	var lines []string
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			return strings.Join(append(lines, line), "\n"), err
		}
		line = strings.TrimSuffix(line, "\r\n")
		lines = append(lines, line)
		if len(line) < 4 || line[3] != '-' {
			return strings.Join(lines, "\n"), nil
		}
	}
}

// reply reads one reply and fails the test if that is impossible.
func (c *client) reply() string {
	c.t.Helper()
	r, err := c.readReply()
	require.NoError(c.t, err, "reading reply, got %q", r)
	return r
}

// send writes raw bytes.
func (c *client) send(raw string) {
	c.t.Helper()
	_, err := io.WriteString(c.conn, raw)
	require.NoError(c.t, err)
}

// cmd sends one command line and returns the reply.
func (c *client) cmd(line string) string {
	c.t.Helper()
	c.send(line + "\r\n")
	return c.reply()
}

// closed tells whether the server has closed the connection, reading
// what is left first.
func (c *client) closed() bool {
	_, err := io.ReadAll(c.r)
	return err == nil || errors.Is(err, net.ErrClosed) || isReset(err)
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

// starttls upgrades the connection with the server's client config.
func (c *client) starttls(s *smtptest.Server, serverName string) error {
	cfg := s.TLSConfig()
	cfg.ServerName = serverName
	tc := tls.Client(c.conn, cfg)
	if err := tc.Handshake(); err != nil {
		return err
	}
	c.conn = tc
	c.r = bufio.NewReader(tc)
	return nil
}

// sendMail runs a whole transaction one command at a time.
func (c *client) sendMail(from string, to []string, body string) string {
	c.t.Helper()
	require.Equal(c.t, "250 2.1.0 Ok", c.cmd("MAIL FROM:<"+from+">"))
	for _, rcpt := range to {
		require.Equal(c.t, "250 2.1.5 Ok", c.cmd("RCPT TO:<"+rcpt+">"))
	}
	require.Equal(c.t, "354 End data with <CR><LF>.<CR><LF>", c.cmd("DATA"))
	c.send(body + ".\r\n")
	return c.reply()
}

// rawDial connects without a testing.TB, for goroutines other than the
// test's, where require must not be used.
func rawDial(s *smtptest.Server) (*client, error) {
	conn, err := net.Dial("tcp", s.Addr)
	if err != nil {
		return nil, err
	}
	if err := conn.SetDeadline(time.Now().Add(ioTimeout)); err != nil {
		conn.Close()
		return nil, err
	}
	return &client{conn: conn, r: bufio.NewReader(conn)}, nil
}
