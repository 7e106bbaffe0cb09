package smtplib

import (
	"bufio"
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/gosmtplib/smtplib/internal/rawsrv"
	"github.com/gosmtplib/smtplib/smtptest"
)

// The suite's shared fixtures. The servers a test talks to are of two
// kinds: smtptest, the package's fake server, for end-to-end behaviour,
// reached with dialTest; and raw servers (internal/rawsrv), which write
// what the test says byte for byte, reached with dialRaw. A raw server is
// a scriptServer playing a dialogue written as in net/smtp's tests, a
// rawSMTP that speaks just enough SMTP and breaks at one point, or a
// handler of the test's own; on loopback TCP (newRawServer), or over
// pipes (newRawPipes) for tests on testing/synctest's fake clock.

// TestMain fails the package's tests if any goroutine is still running
// when they end: a client whose connection broke must leave nothing
// behind, and neither may the fake servers of the tests.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// modes are the server capabilities that change how Sendmail talks, and
// must not change what it returns. SIZE is offered with a limit above
// every message of the suite.
var modes = []struct {
	name string
	ext  []string
}{
	{"one at a time", []string{"SIZE 100000000", "8BITMIME"}},
	{"pipelining", []string{"SIZE 100000000", "8BITMIME", "PIPELINING"}},
	{"chunking", []string{"SIZE 100000000", "8BITMIME", "CHUNKING"}},
	{"pipelining and chunking", []string{"SIZE 100000000", "8BITMIME", "PIPELINING", "CHUNKING"}},
}

// testTimeout is the per-operation timeout of tests that are not about
// timeouts: no operation of theirs should ever reach it, even on a busy
// machine under the race detector, where a short one could be reached by
// a server that is merely slow.
const testTimeout = time.Minute

// sessionWait bounds the waits for a server's sessions to end: far longer
// than any of them takes, short enough to fail a hung test quickly.
const sessionWait = 5 * time.Second

// WithIdleProbeAfter sets how long a connection must sit idle before the
// client looks at it ahead of its next command (probe.go; idleProbeAfter
// by default), for the conformance test of the external test package: its
// scenarios pause on purpose for half a second where the client must look,
// and a busy machine's incidental pauses between two actions must not
// count as idle, as they would with a millisecond.
func WithIdleProbeAfter(d time.Duration) Option {
	return func(c *config) { c.probeAfter = d }
}

// dialTest connects a client with a fixed EHLO name and testTimeout to an
// smtptest server and reads the greeting; the client is closed at the end
// of the test.
func dialTest(t *testing.T, srv *smtptest.Server, opts ...Option) *SMTP {
	t.Helper()
	opts = append([]Option{WithLocalHostname("client.example"), WithTimeout(testTimeout)}, opts...)
	c, err := Dial(srv.Host(), srv.Port(), opts...)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// rawServer is what dialRaw connects to: a raw server on loopback
// (newRawServer, newScriptServer), or pipes (newRawPipes).
type rawServer interface{ Port() int }

// dialRaw connects a client with a fixed EHLO name and testTimeout to a
// raw server and reads the greeting; the client is closed at the end of
// the test.
func dialRaw(t *testing.T, srv rawServer, opts ...Option) *SMTP {
	t.Helper()
	base := []Option{WithLocalHostname("client.example"), WithTimeout(testTimeout)}
	if p, ok := srv.(rawPipes); ok {
		base = append(base, WithDialer(p.Pipes))
	}
	c, err := Dial("127.0.0.1", srv.Port(), append(base, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// newRawServer starts the suite's raw-connection server on loopback with
// handle for every connection.
func newRawServer(t testing.TB, handle func(conn net.Conn)) *rawsrv.Server {
	t.Helper()
	return rawsrv.Start(t, handle)
}

// rawPipes is a raw server over pipes, for tests under testing/synctest:
// a goroutine blocked on a pipe is durably blocked, one blocked on a
// socket is not, so only over pipes does the fake clock move while the
// client waits for a server.
type rawPipes struct{ *rawsrv.Pipes }

// Port is the port dialRaw names; the pipes ignore it.
func (rawPipes) Port() int { return 25 }

// newRawPipes returns pipes served by handle; at the end of the test they
// wait for their handlers, after the clients are closed.
func newRawPipes(t *testing.T, handle func(conn net.Conn)) rawPipes {
	p := rawPipes{rawsrv.NewPipes(handle)}
	t.Cleanup(p.Wait)
	return p
}

// countingDialer dials TCP (or through inner, when set) and counts what
// the client reads from the connection and what it writes to it, so that
// a test bounds the client's own traffic rather than anything
// process-wide.
type countingDialer struct {
	inner   ContextDialer
	read    atomic.Int64 // bytes read
	writes  atomic.Int64 // calls to Write: groups put on the wire
	written atomic.Int64 // bytes written
}

func (d *countingDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var inner ContextDialer = &net.Dialer{}
	if d.inner != nil {
		inner = d.inner
	}
	conn, err := inner.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &countedConn{Conn: conn, d: d}, nil
}

type countedConn struct {
	net.Conn
	d *countingDialer
}

// SyscallConn gives the socket under the count, so that the client's look
// at an idle connection is the peek it makes on a socket (the look at a
// connection that hides its socket, a read with a short deadline, is a
// best effort, tested on the fake clock in probe_test.go).
func (c *countedConn) SyscallConn() (syscall.RawConn, error) {
	return c.Conn.(syscall.Conn).SyscallConn()
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

// assertClosed checks that a client is closed: its next command fails
// without touching the network.
func assertClosed(t *testing.T, c *SMTP) {
	t.Helper()
	if c == nil {
		return
	}
	_, err := c.Noop()
	var sd *ServerDisconnectedError
	require.ErrorAs(t, err, &sd, "the client is closed")
	assert.Equal(t, "not connected: use Dial or Connect first", sd.Msg)
	assert.Equal(t, "smtplib: not connected: use Dial or Connect first", err.Error())
}

// scriptServer plays a dialogue written as in net/smtp's tests to one
// client: "S: text" lines are written (consecutive ones in one write,
// CRLF added; "S+ text" without CRLF, for partial replies), and each "C"
// line stands for one line the client must send, which is recorded. When
// the script ends the server closes the connection. A test compares the
// client's lines, received, with the exact lines smtplib sends, wire.
type scriptServer struct {
	*rawsrv.Server
	mu  sync.Mutex
	got []string
}

// newScriptServer starts a server that plays script to the first client.
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

// newReplyServer starts a one-connection server that greets, then answers
// each line the client sends with answer's reply (CRLF added), recording
// the lines as newScriptServer does: for a dialogue whose server half
// must be computed, as SCRAM's is. The session ends after a reply
// starting with 221.
func newReplyServer(t *testing.T, answer func(line string) string) *scriptServer {
	t.Helper()
	s := &scriptServer{}
	s.Server = rawsrv.StartOnce(t, func(conn net.Conn) {
		conn.SetDeadline(time.Now().Add(testTimeout))
		if _, err := io.WriteString(conn, "220 wire.example ESMTP\r\n"); err != nil {
			return
		}
		r := bufio.NewReader(conn)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			s.record(line)
			reply := answer(strings.TrimSuffix(line, "\r\n"))
			if _, err := io.WriteString(conn, reply+"\r\n"); err != nil || strings.HasPrefix(reply, "221") {
				return
			}
		}
	})
	return s
}

// replyScript is the script of a server that greets and answers each line
// the client sends with the next of replies (a reply's lines joined by
// CRLF), then hangs up: the server's half of a dialogue, written as a
// list where a table holds many.
func replyScript(replies ...string) string {
	var b strings.Builder
	b.WriteString("S: 220 wire.example ESMTP")
	for _, r := range replies {
		b.WriteString("\nC\nS: " + strings.ReplaceAll(r, "\r\n", "\nS: "))
	}
	return b.String()
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

// wire joins expected client lines with CRLF, for comparison with
// received.
func wire(lines ...string) []string {
	if len(lines) == 0 {
		return nil
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l + "\r\n"
	}
	return out
}

// rawSMTP is a raw server's handler that speaks just enough SMTP for a
// client to send mail (EHLO with ext, MAIL, RCPT, DATA and its data, BDAT
// and its chunk, 220 to STARTTLS, 235 to AUTH, 221 to QUIT, 250 to the
// rest) and breaks at one point of the session as fault says, with
// smtptest's names for the points and actions. It goes where smtptest
// cannot: over pipes, on the fake clock. With misbehave set, the server
// does that at fault.At instead, for the hostile tests.
type rawSMTP struct {
	ext   []string
	fault smtptest.Fault // At "" for none
	// misbehave writes what it likes to w, and says whether the server
	// then goes mute: it reads on and answers nothing more.
	misbehave func(w io.Writer) (mute bool)
	// reached, when set, is closed when the fault strikes, once its
	// reply is written.
	reached chan struct{}

	ctx context.Context // a stall lasts until it is done: the test's context

	mu        sync.Mutex
	seen      map[string]int // the occurrences of each point
	delivered int            // messages accepted
	struck    bool
	after     []string // the verbs the client sent once the fault struck
}

// newRawSMTP returns a rawSMTP offering ext after EHLO, breaking as fault
// says; a stall ends with the test.
func newRawSMTP(t *testing.T, ext []string, fault smtptest.Fault) *rawSMTP {
	return &rawSMTP{ext: ext, fault: fault, ctx: t.Context(), seen: map[string]int{}}
}

// accepted is the number of messages the server accepted.
func (s *rawSMTP) accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.delivered
}

// sentAfter is the verbs, lowercase, the client sent once the fault
// struck, for a session that has ended.
func (s *rawSMTP) sentAfter() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.after
}

// strike carries out the fault if this occurrence of point is its: it
// reports whether the server has answered for itself (handled) and
// whether the session is over (end).
func (s *rawSMTP) strike(point string, out *outbox, conn net.Conn) (handled, end, mute bool) {
	s.mu.Lock()
	s.seen[point]++
	hit := strings.EqualFold(point, s.fault.At) && s.seen[point] == max(s.fault.N, 1)
	if hit {
		s.struck = true
	}
	s.mu.Unlock()
	if !hit {
		return false, false, false
	}
	if s.misbehave != nil {
		out.flush()
		return true, false, s.misbehave(conn)
	}
	out.write(s.fault.Reply)
	out.flush()
	if s.reached != nil {
		close(s.reached)
	}
	if s.fault.Action == smtptest.Stall {
		<-s.ctx.Done()
	}
	return true, true, false
}

func (s *rawSMTP) serve(conn net.Conn) {
	out := newOutbox(conn)
	defer out.close()
	r := bufio.NewReader(conn)
	say := func(lines ...string) { out.write(strings.Join(lines, "\r\n") + "\r\n") }
	mute := false
	// at is strike for the session: false when the server must not answer.
	at := func(point string) (answer, goOn bool) {
		handled, end, m := s.strike(point, out, conn)
		mute = mute || m
		return !handled && !mute, !end
	}
	answer, goOn := at("GREETING")
	if !goOn {
		return
	}
	if answer {
		say("220 raw.example ESMTP")
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
		verb = strings.ToUpper(verb)
		s.mu.Lock()
		if s.struck {
			s.after = append(s.after, strings.ToLower(verb))
		}
		s.mu.Unlock()
		if mute {
			continue
		}
		if answer, goOn = at(verb); !goOn {
			return
		} else if !answer {
			continue
		}
		switch verb {
		case "EHLO":
			lines := []string{"250-raw.example"}
			for _, e := range s.ext {
				lines = append(lines, "250-"+e)
			}
			lines[len(lines)-1] = "250 " + lines[len(lines)-1][4:]
			say(lines...)
		case "DATA":
			say("354 end with <CRLF>.<CRLF>")
			for first := true; ; first = false {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				if first {
					if _, goOn := at("DATA_BODY"); !goOn {
						return
					}
				}
			}
			if !s.dot(at, say) {
				return
			}
		case "BDAT":
			f := strings.Fields(arg)
			n, _ := strconv.ParseInt(f[0], 10, 64)
			if _, err := io.CopyN(io.Discard, r, n); err != nil {
				return
			}
			if len(f) < 2 {
				say("250 2.0.0 chunk ok")
			} else if !s.dot(at, say) {
				return
			}
		case "STARTTLS":
			say("220 2.0.0 ready to start TLS")
			// The handshake is the end: no TLS is spoken here.
			at("TLS_HANDSHAKE")
			return
		case "AUTH":
			say("235 2.7.0 ok")
		case "QUIT":
			say("221 2.0.0 bye")
			return
		default:
			say("250 2.0.0 ok")
		}
	}
}

// dot ends a message's data: the DOT point, then the message is accepted.
func (s *rawSMTP) dot(at func(string) (bool, bool), say func(...string)) (goOn bool) {
	answer, goOn := at("DOT")
	if answer {
		s.mu.Lock()
		s.delivered++
		s.mu.Unlock()
		say("250 2.0.0 queued")
	}
	return goOn
}

// outbox writes a session's replies from a goroutine of its own, so that
// the server goes on reading while they wait for the client: a pipe
// holds nothing, and a client still writing a pipelined group reads no
// reply until it is done.
type outbox struct {
	ch   chan outItem
	done chan struct{}
}

type outItem struct {
	s    string
	sent chan struct{} // closed once everything before it is written
}

func newOutbox(conn net.Conn) *outbox {
	o := &outbox{ch: make(chan outItem, 1024), done: make(chan struct{})}
	go func() {
		defer close(o.done)
		failed := false
		for it := range o.ch {
			if it.sent != nil {
				close(it.sent)
				continue
			}
			if !failed {
				_, err := io.WriteString(conn, it.s)
				failed = err != nil
			}
		}
	}()
	return o
}

func (o *outbox) write(s string) {
	if s != "" {
		o.ch <- outItem{s: s}
	}
}

// flush waits until everything written so far is on the connection (or
// the connection failed).
func (o *outbox) flush() {
	sent := make(chan struct{})
	o.ch <- outItem{sent: sent}
	<-sent
}

func (o *outbox) close() {
	close(o.ch)
	<-o.done
}
