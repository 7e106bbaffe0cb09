package smtplib

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gosmtplib/smtplib/internal/rawsrv"
	"github.com/gosmtplib/smtplib/smtptest"
)

// TestMain fails the package's tests if any goroutine is still running
// when they end: a client whose connection broke must leave nothing
// behind, and neither may the fake servers of the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// robustModes are the server capabilities that change how Sendmail talks:
// a fault or an injected value must give the same outcome in each.
var robustModes = []struct {
	name string
	ext  []string
}{
	{"one at a time", []string{"8BITMIME"}},
	{"pipelining", []string{"8BITMIME", "PIPELINING"}},
	{"chunking", []string{"8BITMIME", "CHUNKING"}},
	{"pipelining and chunking", []string{"8BITMIME", "PIPELINING", "CHUNKING"}},
}

// robustDial connects a client with a fixed EHLO name to an smtptest
// server. The client is closed at the end of the test.
func robustDial(t *testing.T, srv *smtptest.Server, opts ...Option) *SMTP {
	t.Helper()
	opts = append([]Option{WithLocalHostname("client.example"), WithTimeout(testTimeout)}, opts...)
	c, err := Dial(srv.Host(), srv.Port(), opts...)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// newRawServer starts the suite's raw-connection server (internal/rawsrv)
// with handle for every connection: a hostile server, which may write
// anything at any pace.
func newRawServer(t testing.TB, handle func(conn net.Conn)) *rawsrv.Server {
	t.Helper()
	return rawsrv.Start(t, handle)
}

// dialRaw connects a client to a raw server and reads the greeting; the
// client is closed at the end of the test.
func dialRaw(t *testing.T, s *rawsrv.Server, opts ...Option) *SMTP {
	t.Helper()
	opts = append([]Option{WithLocalHostname("client.example"), WithTimeout(testTimeout)}, opts...)
	c, err := Dial("127.0.0.1", s.Port(), opts...)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// countingDialer dials TCP and counts what the client reads from the
// connection and what it writes to it, so that a test bounds the client's
// own traffic rather than anything process-wide.
type countingDialer struct {
	read    atomic.Int64 // bytes read
	writes  atomic.Int64 // calls to Write: groups put on the wire
	written atomic.Int64 // bytes written
}

func (d *countingDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &countedConn{Conn: conn, d: d}, nil
}

type countedConn struct {
	net.Conn
	d *countingDialer
}

func (c *countedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.d.read.Add(int64(n))
	return n, err
}

func (c *countedConn) Write(p []byte) (int, error) {
	c.d.writes.Add(1)
	n, err := c.Conn.Write(p)
	c.d.written.Add(int64(n))
	return n, err
}

// testTimeout is the per-operation timeout of tests that are not about
// timeouts: no operation of theirs should ever reach it, even on a busy
// machine under the race detector, where a short one could be reached by
// a server that is merely slow.
const testTimeout = time.Minute

// notStuck bounds how long a call that a short timeout or a cancelled
// context should end may take: far longer than a busy machine needs, far
// shorter than the minutes of RFC 5321's default timeouts, which a bug
// that ignored the short one would leave in force.
const notStuck = 30 * time.Second

// robustWait bounds the waits for a server's sessions to end: far longer
// than any of them takes, short enough to fail a hung test quickly.
const robustWait = 5 * time.Second
