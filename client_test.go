package smtplib

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/internal/hostname"
	"github.com/gosmtplib/smtplib/internal/rawsrv"
)

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

func TestDefaultPorts(t *testing.T) {
	// Nothing listens on these loopback ports here, so the dial fails, and
	// the error names the port that was tried.
	_, err := Dial("127.0.0.1", 0, WithTimeout(2*time.Second))
	if err != nil {
		assert.Contains(t, err.Error(), "127.0.0.1:25")
	}
	assert.Equal(t, 25, New().defaultPort())
	assert.Equal(t, 465, NewSSL().defaultPort())
	assert.Equal(t, []int{25, 465, 2003}, []int{SMTPPort, SMTPSSLPort, LMTPPort})
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
	// A server that accepts and never greets.
	closed := make(chan error, 1)
	srv := rawsrv.StartOnce(t, func(conn net.Conn) {
		conn.SetReadDeadline(time.Now().Add(testTimeout))
		_, err := conn.Read(make([]byte, 1))
		closed <- err
	})
	start := time.Now()
	c, err := Dial("127.0.0.1", srv.Port(), WithTimeout(200*time.Millisecond))
	elapsed := time.Since(start)
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
	var sd *ServerDisconnectedError
	assert.ErrorAs(t, err, &sd)
	assert.Less(t, elapsed, notStuck)
	assert.Nil(t, c)
	// The client closed its end: the server reads EOF.
	assert.ErrorIs(t, <-closed, io.EOF)
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
	c := dialScript(t, srv)
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
	c := dialScript(t, srv)
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
	c := dialScript(t, srv)
	require.NoError(t, c.Send("XCMD raw\r\n"))
	r, err := c.GetReply()
	require.NoError(t, err)
	assert.Equal(t, Reply{250, "ok"}, r)
	assert.Equal(t, wire("XCMD raw"), srv.received())
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

func TestLineTooLong(t *testing.T) {
	srv := newScriptServer(t, "S: 220 hi\nC\nS: 250-"+strings.Repeat("x", 9000))
	c := dialScript(t, srv)
	_, err := c.Noop()
	var re *ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, ptr(respErr(Reply{500, "Line too long."})), re)
	assert.Nil(t, c.conn, "closed")
}

func TestEndlessContinuation(t *testing.T) {
	srv := newScriptServer(t, "S: 220 hi\nC\n"+strings.Repeat("S: 250-more\n", maxReplyLines+10)+"S: 250 end")
	c := dialScript(t, srv)
	_, err := c.Noop()
	assert.Equal(t, ptr(respErr(Reply{500, "Line too long."})), err)
	assert.Nil(t, c.conn)
}

func TestDisconnectMidReply(t *testing.T) {
	srv := newScriptServer(t, "S: 220 hi\nC\nS: 250-first")
	c := dialScript(t, srv)
	_, err := c.Noop()
	var sd *ServerDisconnectedError
	require.ErrorAs(t, err, &sd)
	assert.Equal(t, "Connection unexpectedly closed", sd.Msg)
	assert.Nil(t, c.conn)
}

func TestCommands(t *testing.T) {
	srv := newScriptServer(t, `
		S: 220 hi
		C
		S: 214-help text
		S: 214 end
		C
		S: 250 reset
		C
		S: 250 noop
		C
		S: 252 user
		C
		S: 250-a@example.com
		S: 250 b@example.com
		C
		S: 250 sender ok
		C
		S: 550 no such user
		C
		S: 221 bye`)
	c := dialScript(t, srv)
	help, err := c.Help("DATA")
	require.NoError(t, err)
	assert.Equal(t, "help text\nend", help)
	c.CommandEncoding = "utf-8"
	r, err := c.Rset()
	require.NoError(t, err)
	assert.Equal(t, Reply{250, "reset"}, r)
	assert.Equal(t, "ascii", c.CommandEncoding, "RSET restores ascii")
	r, err = c.Noop()
	require.NoError(t, err)
	assert.Equal(t, 250, r.Code)
	r, err = c.Verify("Joe User <joe@example.com>")
	require.NoError(t, err)
	assert.Equal(t, 252, r.Code)
	r, err = c.Expn("list")
	require.NoError(t, err)
	assert.Equal(t, "a@example.com\nb@example.com", r.Message)
	// Options are dropped before EHLO: the server does not speak ESMTP.
	r, err = c.Mail("Sender <s@example.com>", "BODY=8BITMIME")
	require.NoError(t, err)
	assert.Equal(t, 250, r.Code)
	r, err = c.Rcpt("nobody@example.com")
	require.NoError(t, err, "a refusal is a reply, not an error")
	assert.Equal(t, Reply{550, "no such user"}, r)
	r, err = c.Quit()
	require.NoError(t, err)
	assert.Equal(t, 221, r.Code)
	assert.NoError(t, c.Close())
	assert.NoError(t, c.Close())
	_, err = c.Noop()
	assert.IsType(t, &ServerDisconnectedError{}, err)
	assert.Equal(t, wire("help DATA", "rset", "noop", "vrfy joe@example.com", "expn list",
		"mail from:<s@example.com>", "rcpt to:<nobody@example.com>", "quit"), srv.received())
}

func TestMailOptionsWithESMTP(t *testing.T) {
	srv := newScriptServer(t, `
		S: 220 hi
		C
		S: 250-hi
		S: 250 SMTPUTF8
		C
		S: 250 ok
		C
		S: 250 ok
		C
		S: 250 ok`)
	c := dialScript(t, srv)
	_, err := c.Ehlo("")
	require.NoError(t, err)
	_, err = c.Mail("s@example.com", "SMTPUTF8", "BODY=8BITMIME")
	require.NoError(t, err)
	assert.Equal(t, "utf-8", c.CommandEncoding)
	_, err = c.Rcpt("ü@example.com", "NOTIFY=NEVER")
	require.NoError(t, err)
	_, err = c.Rcpt("x@example.com", "NOTIFY=NEVER ORCPT=rfc822;evil")
	assert.IsType(t, &CommandError{}, err, "one option may not carry two")
	for addr, want := range map[string]string{
		"x> NOTIFY=NEVER <y@example.com": "to:<x>",
		"a@b> NOTIFY=NEVER":              "to:<a@b>",
		"<<a>>":                          "",
		`"a b" <c d@e>`:                  "",
		"a@b\x00c":                       "",
		"<a@b>\r\n":                      "",
	} {
		args, err := c.rcptArgs(addr, nil)
		if want == "" {
			assert.IsType(t, &CommandError{}, err, "%q cannot be one path", addr)
		} else {
			assert.Equal(t, want, args, "%q is quoted safely, as smtplib quotes it", addr)
		}
	}
	_, err = c.Rcpt(`"x> ORCPT=rfc822;y"@example.com`)
	require.NoError(t, err, "a quoted local part is one path")
	assert.Equal(t, wire("ehlo client.example", "mail from:<s@example.com> SMTPUTF8 BODY=8BITMIME",
		"rcpt to:<ü@example.com> NOTIFY=NEVER", `rcpt to:<"x> ORCPT=rfc822;y"@example.com>`), srv.received())
}

func TestMailSMTPUTF8NotSupported(t *testing.T) {
	srv := newScriptServer(t, `
		S: 220 hi
		C
		S: 250 hi`)
	c := dialScript(t, srv)
	_, err := c.Ehlo("")
	require.NoError(t, err)
	_, err = c.Mail("s@example.com", "smtputf8")
	var ns *NotSupportedError
	require.ErrorAs(t, err, &ns)
	assert.Equal(t, "smtplib: SMTPUTF8 not supported by server", ns.Error())
	c.Close()
	assert.Equal(t, wire("ehlo client.example"), srv.received())
}

func TestData(t *testing.T) {
	srv := newScriptServer(t, `
		S: 220 hi
		C
		S: 354 go
		C
		C
		C
		S: 250 queued
		C
		S: 451 not now`)
	c := dialScript(t, srv)
	r, err := c.Data([]byte(".hidden\nline"))
	require.NoError(t, err)
	assert.Equal(t, Reply{250, "queued"}, r)
	_, err = c.Data([]byte("x"))
	var de *DataError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, 451, de.Code)
	assert.True(t, de.Temporary())
	assert.Equal(t, wire("data", "..hidden", "line", ".", "data"), srv.received())
}

func TestDebugOutput(t *testing.T) {
	run := func(level int) string {
		srv := newScriptServer(t, `
			S: 220 hi
			C
			S: 250-a
			S: 250 b`)
		var out bytes.Buffer
		c := New(WithLocalHostname("h"), WithDebugOutput(&out), WithTimeout(testTimeout))
		c.SetDebugLevel(level)
		_, err := c.Connect("127.0.0.1", srv.Port())
		require.NoError(t, err)
		_, err = c.DoCmd("noop", "it's")
		require.NoError(t, err)
		c.Close()
		srv.received()
		return strings.ReplaceAll(out.String(), strconv.Itoa(srv.Port()), "PORT")
	}
	assert.Empty(t, run(0))
	assert.Equal(t, `connect: to ('127.0.0.1', PORT) None
reply: b'220 hi\r\n'
reply: retcode (220); Msg: b'hi'
connect: b'hi'
send: "noop it's\r\n"
reply: b'250-a\r\n'
reply: b'250 b\r\n'
reply: retcode (250); Msg: b'a\nb'
`, run(1))
	for _, line := range strings.Split(strings.TrimSpace(run(2)), "\n") {
		assert.Regexp(t, `^\d\d:\d\d:\d\d(\.\d{6})? (connect|send|reply): `, line)
	}
}

func TestPyRepr(t *testing.T) {
	tests := []struct {
		in        string
		str, byts string
	}{
		{"abc", `'abc'`, `b'abc'`},
		{"it's", `"it's"`, `b"it's"`},
		{`it's "x"`, `'it\'s "x"'`, `b'it\'s "x"'`},
		{"a\r\n\t\\", `'a\r\n\t\\'`, `b'a\r\n\t\\'`},
		{"\x00\x7f", `'\x00\x7f'`, `b'\x00\x7f'`},
		{"é", `'é'`, `b'\xc3\xa9'`},
		{"\u200b", `'\u200b'`, `b'\xe2\x80\x8b'`},
		{"\xff", `'\xff'`, `b'\xff'`},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.str, pyRepr(tt.in), "%q", tt.in)
		assert.Equal(t, tt.byts, pyReprBytes([]byte(tt.in)), "%q", tt.in)
	}
}

func TestErrors(t *testing.T) {
	re := ResponseError{Code: 550, Message: "no"}
	all := []error{
		&NotSupportedError{Msg: "x"},
		&ServerDisconnectedError{Msg: "gone"},
		&re,
		&SenderRefusedError{re, "a@b"},
		&RecipientsRefusedError{Recipients: map[string]Reply{"x@y": {550, "no"}}},
		&DataError{re},
		&ConnectError{re},
		&HeloError{re},
		&AuthenticationError{ResponseError: re},
		&smtpError{msg: "bare"},
	}
	for _, err := range all {
		assert.ErrorIs(t, err, ErrSMTP, "%T", err)
		assert.True(t, strings.HasPrefix(err.Error(), "smtplib: "), err.Error())
	}
	responseFamily := []error{&re, &SenderRefusedError{re, "a@b"}, &DataError{re}, &ConnectError{re}, &HeloError{re}, &AuthenticationError{ResponseError: re}}
	for _, err := range responseFamily {
		var got *ResponseError
		require.ErrorAs(t, err, &got, "%T", err)
		assert.Equal(t, 550, got.Code)
		assert.Equal(t, "no", got.Message)
		assert.Contains(t, err.Error(), "550")
		assert.Contains(t, err.Error(), "no")
	}
	var got *ResponseError
	assert.False(t, errors.As(&RecipientsRefusedError{}, &got), "as in Python, not a response exception")
	assert.False(t, errors.As(&NotSupportedError{}, &got))
	assert.Equal(t, "smtplib: all recipients were refused: a@b: 550 no; c@d: 451 later",
		(&RecipientsRefusedError{Recipients: map[string]Reply{"c@d": {451, "later"}, "a@b": {550, "no"}}}).Error())
	assert.Equal(t, "smtplib: no recipients", (&RecipientsRefusedError{}).Error())
	assert.False(t, re.Temporary())
	assert.Equal(t, Reply{550, "no"}, re.Reply())
	cause := &ServerDisconnectedError{Msg: "Connection unexpectedly closed", Err: syscall.ECONNRESET}
	assert.ErrorIs(t, cause, syscall.ECONNRESET)
	assert.Equal(t, "smtplib: Connection unexpectedly closed: connection reset by peer", cause.Error())
	assert.Equal(t, "250 ok", Reply{250, "ok"}.String())
}
