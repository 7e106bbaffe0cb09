package smtplib

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/internal/hostname"
	"github.com/gosmtplib/smtplib/internal/rawsrv"
	"github.com/gosmtplib/smtplib/smtptest"
)

// Tests of the client's connection: dialling and the greeting, the
// per-operation timeout, the one command writer and its checks, and Close
// from another goroutine. Contexts are tested in client_context_test.go.

func TestSplitHostPort(t *testing.T) {
	tests := []struct {
		host     string
		port     int
		wantHost string
		wantPort int
		err      bool
	}{
		{"mail.example.com", 0, "mail.example.com", 0, false},
		{"mail.example.com:587", 0, "mail.example.com", 587, false},
		{"mail.example.com:587", 25, "mail.example.com:587", 25, false},
		{"mail.example.com: 587", 0, "mail.example.com", 587, false},
		{"mail.example.com:smtp", 0, "", 0, true},
		{"::1", 0, "::1", 0, false},
		{"[::1]:2525", 0, "::1", 2525, false},
		{"[::1]", 0, "::1", 0, false},
		{"[::1]:smtp", 0, "", 0, true},
		{"127.0.0.1:", 0, "", 0, true},
	}
	for _, tt := range tests {
		h, p, err := splitHostPort(tt.host, tt.port)
		if tt.err {
			assert.Error(t, err, tt.host)
			continue
		}
		require.NoError(t, err, tt.host)
		assert.Equal(t, tt.wantHost, h, tt.host)
		assert.Equal(t, tt.wantPort, p, tt.host)
	}
}

func TestDialHostPortString(t *testing.T) {
	srv := newScriptServer(t, `
		S: 220 ready
		C
		S: 221 bye`)
	c, err := Dial("127.0.0.1:"+strconv.Itoa(srv.Port()), 0, WithLocalHostname("h.example"))
	require.NoError(t, err)
	_, err = c.Quit()
	require.NoError(t, err)
	assert.Equal(t, wire("quit"), srv.received())
}

func TestDialRefused(t *testing.T) {
	_, err := Dial("127.0.0.1", rawsrv.ClosedPort(t), WithTimeout(testTimeout))
	require.Error(t, err)
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)
	var op *net.OpError
	assert.ErrorAs(t, err, &op)
	var sd *ServerDisconnectedError
	assert.ErrorAs(t, err, &sd)
}

// TestDefaultPorts checks the ports a port of 0 means; the addresses
// dialled are checked in TestSSLDefaultPort and TestDialLMTPAddress.
func TestDefaultPorts(t *testing.T) {
	assert.Equal(t, 25, New().defaultPort())
	assert.Equal(t, 465, NewSSL().defaultPort())
	assert.Equal(t, 2003, NewLMTP().defaultPort())
	assert.Equal(t, []int{25, 465, 2003}, []int{SMTPPort, SMTPSSLPort, LMTPPort})
}

// TestSourceAddress: WithSourceAddress binds the client's end of the
// connection, as smtplib's source_address does, and the debug output
// names it; an address that cannot be had fails the dial.
func TestSourceAddress(t *testing.T) {
	srv := smtptest.NewServer(t)
	source := "127.0.0.1:" + strconv.Itoa(rawsrv.ClosedPort(t))
	var out strings.Builder
	c := New(WithSourceAddress(source), WithDebugOutput(&out), WithLocalHostname("client.example"))
	t.Cleanup(func() { c.Close() })
	c.SetDebugLevel(1)
	_, err := c.Connect(srv.Host(), srv.Port())
	require.NoError(t, err)
	_, err = c.Quit()
	require.NoError(t, err)
	require.NoError(t, srv.WaitSessions(1, sessionWait))
	assert.Equal(t, source, srv.Sessions()[0].RemoteAddr, "the server saw the source address")
	assert.Contains(t, out.String(), fmt.Sprintf("connect: to ('127.0.0.1', %d) '%s'\n", srv.Port(), source))

	_, err = Dial(srv.Host(), srv.Port(), WithSourceAddress("not an address"))
	var sd *ServerDisconnectedError
	require.ErrorAs(t, err, &sd)
	var ae *net.AddrError
	assert.ErrorAs(t, err, &ae)
}

func TestDialBadGreeting(t *testing.T) {
	srv := newScriptServer(t, `
		S: 554-no service
		S: 554 go away
		C`)
	c, err := Dial("127.0.0.1", srv.Port(), WithTimeout(testTimeout))
	var ce *ConnectError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, 554, ce.Code)
	assert.Equal(t, "no service\ngo away", ce.Message)
	var re *ResponseError
	assert.ErrorAs(t, err, &re)
	assert.Nil(t, c, "no client on error")
	assert.Equal(t, []string{"<EOF>"}, srv.received(), "the connection was closed")
}

func TestConnectReturnsGreeting(t *testing.T) {
	srv := newScriptServer(t, `S: 554 busy`)
	c := New(WithTimeout(testTimeout))
	r, err := c.Connect("127.0.0.1", srv.Port())
	require.NoError(t, err)
	assert.Equal(t, Reply{554, "busy"}, r)
	c.Close()
}

func TestTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// A server that accepts and never greets.
		closed := make(chan error, 1)
		srv := newRawPipes(t, func(conn net.Conn) {
			_, err := conn.Read(make([]byte, 1))
			closed <- err
		})
		start := time.Now()
		c, err := Dial("mx.example", 25, WithDialer(srv), WithLocalHostname("client.example"),
			WithTimeout(200*time.Millisecond))
		assert.Equal(t, 200*time.Millisecond, time.Since(start), "given up at the timeout")
		require.Error(t, err)
		assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
		var sd *ServerDisconnectedError
		assert.ErrorAs(t, err, &sd)
		assert.Nil(t, c)
		// The client closed its end: the server reads EOF.
		assert.ErrorIs(t, <-closed, io.EOF)
	})
}

func TestLocalHostname(t *testing.T) {
	srv := newScriptServer(t, `
		S: 220 hi
		C
		S: 250 ok`)
	c := New(WithTimeout(testTimeout))
	_, err := c.Connect("127.0.0.1", srv.Port())
	require.NoError(t, err)
	want := hostname.FQDN()
	if want == "" {
		want = "[127.0.0.1]"
	}
	assert.Equal(t, want, c.LocalHostname)
	_, err = c.Helo("")
	require.NoError(t, err)
	c.Close()
	assert.Equal(t, wire("helo "+want), srv.received())

	assert.Equal(t, "[IPv6:::1]", defaultLocalHostnameNoFQDN(&net.TCPAddr{IP: net.ParseIP("::1")}))
	assert.Equal(t, "[192.0.2.7]", defaultLocalHostnameNoFQDN(&net.TCPAddr{IP: net.ParseIP("192.0.2.7")}))
	assert.Equal(t, "[127.0.0.1]", defaultLocalHostnameNoFQDN(&net.UnixAddr{Name: "/x", Net: "unix"}))
}

func TestPutCmdRefusesLineBreaks(t *testing.T) {
	srv := newScriptServer(t, `
		S: 220 hi
		C
		S: 250 still fine`)
	c := dialRaw(t, srv)
	for _, bad := range []struct{ cmd, args string }{
		{"noop", "a\r\nrset"}, {"noop", "a\nb"}, {"noop", "a\rb"}, {"no\nop", ""}, {"noop", "a\x00b"},
	} {
		err := c.PutCmd(bad.cmd, bad.args)
		var ce *CommandError
		require.ErrorAs(t, err, &ce, "%q", bad)
		assert.NotContains(t, ce.Command, "\n")
		assert.NotContains(t, ce.Command, "\r")
		assert.False(t, errors.Is(err, ErrSMTP), "a caller's mistake, as Python's ValueError")
		_, err = c.DoCmd(bad.cmd, bad.args)
		assert.ErrorAs(t, err, &ce)
	}
	_, err := c.Mail("a@b\r\nRCPT TO:<x@y>")
	assert.IsType(t, &CommandError{}, err)
	_, err = c.Rcpt("x@y", "NOTIFY=NEVER\r\nDATA")
	assert.IsType(t, &CommandError{}, err)
	r, err := c.Noop()
	require.NoError(t, err, "the connection stays usable")
	assert.Equal(t, 250, r.Code)
	assert.Equal(t, wire("noop"), srv.received(), "nothing else was written")
}

func TestCommandEncoding(t *testing.T) {
	srv := newScriptServer(t, `
		S: 220 hi
		C
		S: 252 maybe`)
	c := dialRaw(t, srv)
	_, err := c.Verify("jürgen@example.com")
	var ce *CommandError
	require.ErrorAs(t, err, &ce)
	assert.Contains(t, ce.Error(), "is not ASCII, and CommandEncoding is")
	c.CommandEncoding = "utf-8"
	r, err := c.Verify("jürgen@example.com")
	require.NoError(t, err)
	assert.Equal(t, 252, r.Code)
	c.CommandEncoding = "ebcdic"
	_, err = c.Noop()
	assert.ErrorAs(t, err, &ce)
	assert.Equal(t, wire("vrfy jürgen@example.com"), srv.received())
}

func TestSendRaw(t *testing.T) {
	srv := newScriptServer(t, `
		S: 220 hi
		C
		S: 250 ok`)
	var out strings.Builder
	c := dialRaw(t, srv, WithDebugOutput(&out))
	c.SetDebugLevel(1)
	require.NoError(t, c.Send("XCMD raw\r\n"))
	r, err := c.GetReply()
	require.NoError(t, err)
	assert.Equal(t, Reply{250, "ok"}, r)
	assert.Equal(t, wire("XCMD raw"), srv.received())
	assert.Contains(t, out.String(), "send: 'XCMD raw\\r\\n'\n", "the raw string as smtplib shows it")
}

func TestNotConnected(t *testing.T) {
	c := New()
	var sd *ServerDisconnectedError
	assert.ErrorAs(t, c.Send("x"), &sd)
	assert.ErrorAs(t, c.PutCmd("noop", ""), &sd)
	_, err := c.GetReply()
	assert.ErrorAs(t, err, &sd)
	_, err = c.Noop()
	assert.ErrorAs(t, err, &sd)
	assert.Equal(t, "smtplib: not connected: use Dial or Connect first", sd.Error())
	_, err = c.Sendmail("a@b", []string{"c@d"}, []byte("x"))
	assert.ErrorAs(t, err, &sd)
	assert.NoError(t, c.Close())
	assert.NoError(t, c.Close())
}

func TestDisconnectMidReply(t *testing.T) {
	srv := newScriptServer(t, "S: 220 hi\nC\nS: 250-first")
	c := dialRaw(t, srv)
	_, err := c.Noop()
	var sd *ServerDisconnectedError
	require.ErrorAs(t, err, &sd)
	assert.Equal(t, "Connection unexpectedly closed", sd.Msg)
	assert.Nil(t, c.conn)
}

// TestZeroValue: a declared SMTP works as New() does: it connects, says
// EHLO (not an empty verb), keeps the extensions, and sends with them.
func TestZeroValue(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithPipelining(), smtptest.WithChunking(), smtptest.WithAuth("PLAIN"))
	var c SMTP
	t.Cleanup(func() { c.Close() })
	r, err := c.Connect(srv.Host(), srv.Port())
	require.NoError(t, err)
	assert.Equal(t, 220, r.Code)
	refused, err := c.Sendmail("a@example.com", []string{"b@example.com"}, []byte("hi\r\n"))
	require.NoError(t, err)
	assert.Empty(t, refused)
	assert.True(t, c.DoesESMTP)
	assert.True(t, c.HasExtn("pipelining"))
	assert.True(t, c.HasExtn("chunking"))
	assert.Contains(t, srv.Transcript(), "C: ehlo ")
	assert.Contains(t, srv.Transcript(), "C: BDAT ", "CHUNKING was used")
	_, err = c.Login("alice", "s3cret")
	assert.ErrorAs(t, err, new(*AuthenticationError), "AUTH went out (the server knows no users)")
	_, err = c.Quit()
	assert.NoError(t, err)

	var unconnected SMTP
	_, err = unconnected.Noop()
	var sd *ServerDisconnectedError
	require.ErrorAs(t, err, &sd)
	assert.Equal(t, "smtplib: not connected: use Dial or Connect first", err.Error())
	assert.Equal(t, SMTPPort, unconnected.defaultPort())
	assert.Equal(t, "ehlo", unconnected.proto().greetVerb)
}

// TestNewlineWording: a CR or LF anywhere in a command, options included,
// is refused in the words CPython's tests assert, followed by the line as
// smtplib shows it (line breaks escaped), and nothing is sent.
func TestNewlineWording(t *testing.T) {
	const phrase = "smtplib: command and arguments contain prohibited newline characters: "
	tests := []struct {
		name string
		call func(c *SMTP) error
		line string
	}{
		{"PutCmd", func(c *SMTP) error { return c.PutCmd("noop", "x\r\nrset") }, `noop x\r\nrset`},
		{"Mail option", func(c *SMTP) error { _, err := c.Mail("a@example.com", "X=1\r\nRSET"); return err },
			`mail from:<a@example.com> X=1\r\nRSET`},
		{"Rcpt option", func(c *SMTP) error { _, err := c.Rcpt("b@example.com", "NOTIFY=NEVER\n"); return err },
			`rcpt to:<b@example.com> NOTIFY=NEVER\n`},
		{"Sendmail RcptOptions", func(c *SMTP) error {
			_, err := c.Sendmail("a@example.com", []string{"b@example.com"}, []byte("x"), RcptOptions("A=1", "B=2\rC"))
			return err
		}, `rcpt to:<b@example.com> A=1 B=2\rC`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.NewServer(t)
			c := dialTest(t, srv)
			require.NoError(t, c.EhloOrHeloIfNeeded())
			before := srv.Transcript()
			err := tt.call(c)
			require.ErrorAs(t, err, new(*CommandError))
			assert.Equal(t, phrase+tt.line, err.Error())
			assert.Equal(t, before, srv.Transcript(), "nothing may reach the server")
		})
	}
}

// TestCloseAbortsBlockedCall calls Close from another goroutine while a
// call is blocked on the network, with the RFC's minutes as timeouts. The
// property of each row: the blocked call returns after the Close (not at
// a timeout), with a *ServerDisconnectedError that wraps net.ErrClosed, there is
// no data race, and the client stays closed.
func TestCloseAbortsBlockedCall(t *testing.T) {
	big := []byte(strings.Repeat("a line of a message that is far larger than the socket buffers\r\n", 1<<18))
	tests := []struct {
		name    string
		trigger string
		call    func(c *SMTP) error
	}{
		{"blocked reading the reply to NOOP", "NOOP", func(c *SMTP) error { _, err := c.Noop(); return err }},
		{"blocked reading the reply to MAIL in Sendmail", "MAIL", func(c *SMTP) error {
			_, err := c.Sendmail("a@example.com", []string{"b@example.com"}, []byte("x\r\n"))
			return err
		}},
		{"blocked writing the message", "DATA", func(c *SMTP) error {
			_, err := c.Sendmail("a@example.com", []string{"b@example.com"}, big)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newRawSMTP(t, nil, smtptest.Fault{At: tt.trigger, Action: smtptest.Stall})
			if tt.trigger == "DATA" {
				h.fault.Reply = "354 go ahead\r\n"
			}
			h.reached = make(chan struct{})
			c := dialRaw(t, newRawServer(t, h.serve), WithTimeout(0))
			done := make(chan error, 1)
			go func() { done <- tt.call(c) }()
			<-h.reached
			require.NoError(t, c.Close())

			err := <-done
			var sd *ServerDisconnectedError
			require.ErrorAs(t, err, &sd)
			assert.True(t, errors.Is(err, net.ErrClosed), "wraps net.ErrClosed: %v", err)
			assertClosed(t, c)
		})
	}
}
