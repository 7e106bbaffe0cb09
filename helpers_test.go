package smtplib

import (
	"bufio"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// scriptServer is a one-connection server that plays a dialogue written as
// in net/smtp's tests: "S: text" lines are written (consecutive ones in one
// write, CRLF added), and each "C" line stands for one line the client must
// send, which is recorded. When the script ends the server closes the
// connection. It lets a test compare the client's bytes with the exact
// lines smtplib sends.
type scriptServer struct {
	ln   net.Listener
	mu   sync.Mutex
	got  []string
	done chan struct{}
}

// newScriptServer starts a server that plays script to the first client.
// A script line "S+ text" is written without CRLF, for partial replies.
func newScriptServer(t *testing.T, script string) *scriptServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &scriptServer{ln: ln, done: make(chan struct{})}
	t.Cleanup(func() { ln.Close(); <-s.done })
	go s.run(strings.Split(strings.TrimSpace(script), "\n"))
	return s
}

func (s *scriptServer) run(lines []string) {
	defer close(s.done)
	conn, err := s.ln.Accept()
	if err != nil {
		return
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
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
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

// port is the server's port.
func (s *scriptServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// dialScript connects a client with a fixed EHLO name to the server.
func dialScript(t *testing.T, s *scriptServer, opts ...Option) *SMTP {
	t.Helper()
	opts = append([]Option{WithLocalHostname("client.example"), WithTimeout(testTimeout)}, opts...)
	c := New(opts...)
	_, err := c.Connect("127.0.0.1", s.port())
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
