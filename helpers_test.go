package smtplib

import (
	"bufio"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/internal/rawsrv"
)

// scriptServer plays a dialogue written as in net/smtp's tests to one
// client, on the suite's raw-connection server (internal/rawsrv): "S:
// text" lines are written (consecutive ones in one write, CRLF added), and
// each "C" line stands for one line the client must send, which is
// recorded. When the script ends the server closes the connection. It
// lets a test compare the client's bytes with the exact lines smtplib
// sends.
type scriptServer struct {
	*rawsrv.Server
	mu  sync.Mutex
	got []string
}

// newScriptServer starts a server that plays script to the first client.
// A script line "S+ text" is written without CRLF, for partial replies.
func newScriptServer(t *testing.T, script string) *scriptServer {
	t.Helper()
	s := &scriptServer{}
	lines := strings.Split(strings.TrimSpace(script), "\n")
	s.Server = rawsrv.StartOnce(t, func(conn net.Conn) { s.play(conn, lines) })
	return s
}

func (s *scriptServer) play(conn net.Conn, lines []string) {
	conn.SetDeadline(time.Now().Add(testTimeout))
	r := bufio.NewReader(conn)
	var out strings.Builder
	flush := func() bool {
		if out.Len() == 0 {
			return true
		}
		_, err := conn.Write([]byte(out.String()))
		out.Reset()
		return err == nil
	}
	for _, l := range lines {
		l = strings.TrimLeft(l, " \t")
		switch {
		case strings.HasPrefix(l, "S: "):
			out.WriteString(l[3:] + "\r\n")
		case strings.HasPrefix(l, "S+ "):
			out.WriteString(l[3:])
		case l == "C" || strings.HasPrefix(l, "C:"):
			if !flush() {
				return
			}
			line, err := r.ReadString('\n')
			if err != nil {
				s.record("<" + err.Error() + ">")
				return
			}
			s.record(line)
		}
	}
	flush()
}

func (s *scriptServer) record(line string) {
	s.mu.Lock()
	s.got = append(s.got, line)
	s.mu.Unlock()
}

// received waits for the dialogue to end and returns the client's lines.
func (s *scriptServer) received() []string {
	s.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

// dialScript connects a client with a fixed EHLO name to the server.
func dialScript(t *testing.T, s *scriptServer, opts ...Option) *SMTP {
	t.Helper()
	opts = append([]Option{WithLocalHostname("client.example"), WithTimeout(testTimeout)}, opts...)
	c := New(opts...)
	_, err := c.Connect("127.0.0.1", s.Port())
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// wire joins expected client lines with CRLF, for comparison with
// received.
func wire(lines ...string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l + "\r\n"
	}
	return out
}
