package smtplib_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib"
	"github.com/gosmtplib/smtplib/internal/rawsrv"
)

// The Go client of the conformance test (see conformance_test.go): it
// performs each action of a scenario, records what the client wrote, and
// turns replies, errors and attributes into the values gen.py records for
// Python.

// confSession is the Go client of one scenario; dial replaces it.
type confSession struct {
	t     *testing.T
	rec   *confRecorder
	ports []int
	c     *smtplib.SMTP
	// closedPort is the last port that "port": "closed" picked.
	closedPort int
}

// options are the client's: gen.py's local host name and timeout, and the
// recording dialer.
func (s *confSession) options() []smtplib.Option {
	return []smtplib.Option{smtplib.WithLocalHostname("client.example"),
		smtplib.WithTimeout(confTimeout), smtplib.WithDialer(s.rec),
		// The recording dialer makes every host count as possibly
		// distant; the servers are on loopback, where smtplib logs in.
		smtplib.WithInsecureAuth(),
		// The pauses of the scenarios are half a second; the machine's
		// own, between two actions, far shorter.
		smtplib.WithIdleProbeAfter(250 * time.Millisecond)}
}

// address is the host and port an action connects to, as gen.py's.
func (s *confSession) address(a confAction) (string, int) {
	t := s.t
	host := "127.0.0.1"
	if a.Host != nil {
		host = *a.Host
	}
	var port int
	switch {
	case a.Port == nil:
		require.Less(t, a.Server, len(s.ports), "connect to a server the scenario does not have")
		port = s.ports[a.Server]
	case string(a.Port) == `"closed"`:
		port = rawsrv.ClosedPort(t)
		s.closedPort = port
	default:
		require.NoError(t, json.Unmarshal(a.Port, &port))
	}
	if a.PortInHost {
		return fmt.Sprintf("%s:%d", host, port), 0
	}
	return host, port
}

// do performs one action the Go way.
func (s *confSession) do(a confAction) (any, error) {
	t, c := s.t, s.c
	reply := func(r smtplib.Reply, err error) (any, error) {
		return confReply(r), err
	}
	initialOK := a.InitialOK == nil || *a.InitialOK
	switch a.Do {
	case "connect":
		return reply(c.Connect(s.address(a)))
	case "dial":
		host, port := s.address(a)
		nc, err := smtplib.Dial(host, port, s.options()...)
		if nc != nil {
			s.c = nc
		}
		return nil, err
	case "ehlo":
		return reply(c.Ehlo(a.Name))
	case "helo":
		return reply(c.Helo(a.Name))
	case "ehlo_or_helo_if_needed":
		return nil, c.EhloOrHeloIfNeeded()
	case "has_extn":
		return c.HasExtn(a.Name), nil
	case "docmd":
		return reply(c.DoCmd(a.Cmd, a.Args))
	case "putcmd":
		return nil, c.PutCmd(a.Cmd, a.Args)
	case "send":
		return nil, c.Send(a.S)
	case "getreply":
		return reply(c.GetReply())
	case "help":
		text, err := c.Help(a.Args)
		return map[string]any{"text": confLatin1(text)}, err
	case "rset":
		return reply(c.Rset())
	case "noop":
		return reply(c.Noop())
	case "mail":
		return reply(c.Mail(a.Addr, a.Options...))
	case "rcpt":
		return reply(c.Rcpt(a.Addr, a.Options...))
	case "data":
		return reply(c.Data(confMessage(t, a)))
	case "verify":
		return reply(c.Verify(a.Addr))
	case "expn":
		return reply(c.Expn(a.Addr))
	case "sendmail":
		refused, err := c.Sendmail(a.From, a.To, confMessage(t, a), smtplib.MailOptions(a.MailOptions...), smtplib.RcptOptions(a.RcptOptions...))
		m := map[string]any{}
		for k, r := range refused {
			m[k] = confReply(r)
		}
		return map[string]any{"refused": m}, err
	case "login":
		return reply(c.LoginWith(a.User, a.Password, initialOK))
	case "auth":
		c.User, c.Password = a.User, smtplib.Secret(a.Password)
		objects := map[string]func() sasl.Client{
			"plain": c.AuthPlain, "login": c.AuthLogin, "cram_md5": c.AuthCramMD5}
		obj, ok := objects[a.Object]
		require.True(t, ok, "unknown auth object %q", a.Object)
		return reply(c.Auth(a.Mechanism, obj(), initialOK))
	case "starttls":
		return reply(c.StartTLS(&tls.Config{InsecureSkipVerify: true}))
	case "quit":
		return reply(c.Quit())
	case "close":
		return nil, c.Close()
	case "sleep":
		time.Sleep(time.Duration(a.Ms) * time.Millisecond)
		return nil, nil
	case "quoteaddr":
		return smtplib.QuoteAddr(a.Addr), nil
	case "quotedata":
		return smtplib.QuoteData(a.Data), nil
	}
	t.Fatalf("unknown action %q", a.Do)
	return nil, nil
}

func confReply(r smtplib.Reply) map[string]any {
	return map[string]any{"code": r.Code, "msg": confLatin1(r.Message)}
}

// confMessage is the action's message as bytes: Latin-1 unless it says
// utf-8, or Latin-1 parts each repeated.
func confMessage(t *testing.T, a confAction) []byte {
	if a.MsgParts != nil {
		var b []byte
		for _, p := range a.MsgParts {
			part, err := confUnlatin1(p[0].(string))
			require.NoError(t, err)
			b = append(b, bytes.Repeat(part, int(p[1].(float64)))...)
		}
		return b
	}
	if a.MsgEncoding == "utf-8" {
		return []byte(a.Msg)
	}
	b, err := confUnlatin1(a.Msg)
	require.NoError(t, err)
	return b
}

// confError records an error as gen.py records the matching exception.
func confError(err error) map[string]any {
	var re *smtplib.ResponseError
	m := map[string]any{
		"smtp_exception":     errors.Is(err, smtplib.ErrSMTP),
		"response_exception": errors.As(err, &re),
	}
	resp := func(class string, r smtplib.ResponseError) {
		m["class"], m["code"], m["msg"] = class, r.Code, confLatin1(r.Message)
	}
	switch e := err.(type) {
	case *smtplib.ServerDisconnectedError:
		m["class"], m["text"] = "SMTPServerDisconnected", e.Msg
	case *smtplib.NotSupportedError:
		m["class"], m["text"] = "SMTPNotSupportedError", e.Msg
	case *smtplib.ResponseError:
		resp("SMTPResponseException", *e)
	case *smtplib.SenderRefusedError:
		resp("SMTPSenderRefused", e.ResponseError)
		m["sender"] = e.Sender
	case *smtplib.RecipientsRefusedError:
		m["class"] = "SMTPRecipientsRefused"
		r := map[string]any{}
		for k, v := range e.Recipients {
			r[k] = confReply(v)
		}
		m["recipients"] = r
	case *smtplib.DataError:
		resp("SMTPDataError", e.ResponseError)
	case *smtplib.HeloError:
		resp("SMTPHeloError", e.ResponseError)
	case *smtplib.ConnectError:
		resp("SMTPConnectError", e.ResponseError)
	case *smtplib.AuthenticationError:
		resp("SMTPAuthenticationError", e.ResponseError)
	case *smtplib.CommandError:
		m["class"] = "ValueError"
	default:
		// Python raises a bare SMTPException for what has no class of its
		// own ("No suitable authentication method found."), and OSError
		// for failures below SMTP (a refused connection, "nonnumeric
		// port", TLS).
		// The Go client's bad port is an ErrSMTP, as every error that is
		// not the caller's argument mistake is; Python's is an OSError.
		if errors.Is(err, smtplib.ErrSMTP) && !strings.Contains(err.Error(), "nonnumeric port") {
			m["class"], m["text"] = "SMTPException", strings.TrimPrefix(err.Error(), "smtplib: ")
		} else {
			m["class"] = "OSError"
		}
	}
	return m
}

// confAttrs snapshots smtplib's attributes. helo_done, ehlo_done and
// connected are Python's "helo_resp is not None", "ehlo_resp is not None"
// and "sock is not None"; the Go client keeps them in unexported fields,
// read here by reflection so that a rename skips them instead of breaking
// the build.
func confAttrs(c *smtplib.SMTP) map[string]any {
	features := map[string]any{}
	for k, v := range c.ESMTPFeatures {
		features[k] = v
	}
	m := map[string]any{
		"helo_resp":        confLatin1(c.HeloResp),
		"ehlo_resp":        confLatin1(c.EhloResp),
		"does_esmtp":       c.DoesESMTP,
		"esmtp_features":   features,
		"command_encoding": c.CommandEncoding,
		"user":             c.User,
		"password":         string(c.Password),
	}
	v := reflect.ValueOf(c).Elem()
	for attr, field := range map[string]string{"helo_done": "heloDone", "ehlo_done": "ehloDone"} {
		if f := v.FieldByName(field); f.IsValid() && f.Kind() == reflect.Bool {
			m[attr] = f.Bool()
		}
	}
	if f := v.FieldByName("conn"); f.IsValid() && f.Kind() == reflect.Interface {
		m["connected"] = !f.IsNil()
	}
	return m
}

// confLatin1 shows the bytes of s one character each, as gen.py decodes
// Python's bytes.
func confLatin1(s string) string {
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}

// confUnlatin1 is the inverse: each character U+0000 to U+00FF is a byte.
func confUnlatin1(s string) ([]byte, error) {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			return nil, fmt.Errorf("character %U in %q is not Latin-1", r, s)
		}
		b = append(b, byte(r))
	}
	return b, nil
}

// confLines splits b after each LF, as gen.py does.
func confLines(b []byte) []string {
	out := []string{}
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			i = len(b) - 1
		}
		out = append(out, confLatin1(string(b[:i+1])))
		b = b[i+1:]
	}
	return out
}

// confRecorder is the client's dialer: it records every byte the client
// writes, so that each action's bytes can be told apart. It dials TCP, or
// through inner when set.
type confRecorder struct {
	inner smtplib.ContextDialer
	mu    sync.Mutex
	buf   []byte
}

func (r *confRecorder) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var d smtplib.ContextDialer = &net.Dialer{}
	if r.inner != nil {
		d = r.inner
	}
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &confConn{Conn: c, rec: r}, nil
}

// take returns what was written since the last call.
func (r *confRecorder) take() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.buf
	r.buf = nil
	return b
}

type confConn struct {
	net.Conn
	rec *confRecorder
}

func (c *confConn) Write(p []byte) (int, error) {
	c.rec.mu.Lock()
	c.rec.buf = append(c.rec.buf, p...)
	c.rec.mu.Unlock()
	return c.Conn.Write(p)
}
