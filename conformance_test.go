package smtplib_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib"
)

// The conformance test plays every dialogue of
// testdata/conformance/scenarios.json with the Go client against a scripted
// server, and compares what the client sent and returned, action by action,
// with what Python 3.11.7's smtplib did in the same dialogue, as recorded
// by testdata/conformance/gen.py in expected.json. Regenerate that file
// after changing the scenarios:
//
//	python3 testdata/conformance/gen.py
//
// A failure names the scenario, the action and the field, with Python's
// value as "expected" and Go's as "actual"; the last lines of the test's
// output list every divergence, one line each.

const (
	confDir     = "testdata/conformance"
	confTimeout = 5 * time.Second // the client's, as in gen.py
	confServerT = 8 * time.Second // the script server's reads
)

// confScenario is one entry of scenarios.json (see gen.py for the format).
type confScenario struct {
	Name     string              `json:"name"`
	Server   json.RawMessage     `json:"server"`
	Servers  [][]json.RawMessage `json:"servers"`
	GoServer json.RawMessage     `json:"go_server"`
	Actions  []confAction        `json:"actions"`
}

// confAction is one client action; each uses the fields it needs.
type confAction struct {
	Do          string          `json:"do"`
	Server      int             `json:"server"`
	Host        *string         `json:"host"`
	Port        json.RawMessage `json:"port"`
	PortInHost  bool            `json:"port_in_host"`
	Ms          int             `json:"ms"`
	User        string          `json:"user"`
	Password    string          `json:"password"`
	Mechanism   string          `json:"mechanism"`
	Object      string          `json:"object"`
	InitialOK   *bool           `json:"initial_response_ok"`
	MsgParts    [][2]any        `json:"msg_parts"`
	Name        string          `json:"name"`
	Cmd         string          `json:"cmd"`
	Args        string          `json:"args"`
	S           string          `json:"s"`
	Addr        string          `json:"addr"`
	Options     []string        `json:"options"`
	Msg         string          `json:"msg"`
	MsgEncoding string          `json:"msg_encoding"`
	From        string          `json:"from"`
	To          []string        `json:"to"`
	MailOptions []string        `json:"mail_options"`
	RcptOptions []string        `json:"rcpt_options"`
	Data        string          `json:"data"`
}

// confExpected is expected.json.
type confExpected struct {
	Python          string            `json:"python"`
	ScenariosSHA256 string            `json:"scenarios_sha256"`
	Scenarios       []confExpScenario `json:"scenarios"`
}

type confExpScenario struct {
	Name       string   `json:"name"`
	Python     confRun  `json:"python"`
	Go         *confRun `json:"go"` // Python's run adjusted for an accepted divergence
	WireOff    string   `json:"wire_off"`
	Divergence string   `json:"divergence"`
}

type confRun struct {
	Actions  []confRecord `json:"actions"`
	Received [][]string   `json:"received"`
}

// confRecord is the outcome of one action. Exactly one of Result (which may
// be null) and Error applies: Error when it is present.
type confRecord struct {
	Do     string         `json:"do"`
	Result any            `json:"result"`
	Error  map[string]any `json:"error"`
	Sent   []string       `json:"sent"`
	Attrs  map[string]any `json:"attrs"`
}

// confMismatch is one divergence, for the summary.
type confMismatch struct {
	scenario, where, python, golang string
	later                           int // further mismatches in the scenario
}

func TestConformance(t *testing.T) {
	raw, err := os.ReadFile(confDir + "/scenarios.json")
	require.NoError(t, err)
	var scen struct {
		Scenarios []confScenario `json:"scenarios"`
	}
	require.NoError(t, json.Unmarshal(raw, &scen))
	expRaw, err := os.ReadFile(confDir + "/expected.json")
	require.NoError(t, err, "generate it: python3 %s/gen.py", confDir)
	var exp confExpected
	require.NoError(t, json.Unmarshal(expRaw, &exp))
	sum := sha256.Sum256(raw)
	require.Equal(t, hex.EncodeToString(sum[:]), exp.ScenariosSHA256,
		"expected.json is stale: regenerate it with python3 %s/gen.py", confDir)
	require.Equal(t, "3.11.7", exp.Python, "expected.json must come from Python 3.11.7")
	require.Len(t, exp.Scenarios, len(scen.Scenarios))

	probe := confAttrs(smtplib.New())
	for _, k := range []string{"helo_done", "ehlo_done", "connected"} {
		if _, ok := probe[k]; !ok {
			t.Logf("note: the client has no internal field for %s any more; update confAttrs to compare it", k)
		}
	}

	var mu sync.Mutex
	var found []confMismatch
	t.Run("scenarios", func(t *testing.T) {
		for i := range scen.Scenarios {
			sc, want := scen.Scenarios[i], exp.Scenarios[i]
			require.Equal(t, sc.Name, want.Name)
			t.Run(sc.Name, func(t *testing.T) {
				t.Parallel()
				ms := confCheck(t, sc, want)
				if len(ms) > 0 {
					ms[0].later = len(ms) - 1
					mu.Lock()
					found = append(found, ms[0])
					mu.Unlock()
				}
			})
		}
	})
	if len(found) == 0 {
		return
	}
	sort.Slice(found, func(i, j int) bool { return found[i].scenario < found[j].scenario })
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d scenarios diverge from Python's smtplib (first difference of each):\n", len(found), len(scen.Scenarios))
	for _, m := range found {
		fmt.Fprintf(&b, "  %s: %s\n      python: %s\n      go:     %s\n", m.scenario, m.where, m.python, m.golang)
		if m.later > 0 {
			fmt.Fprintf(&b, "      (and %d later differences in this scenario)\n", m.later)
		}
	}
	t.Error(b.String())
}

// confCheck runs one scenario with the Go client and compares it with the
// expectation, reporting each difference.
func confCheck(t *testing.T, sc confScenario, want confExpScenario) []confMismatch {
	exp := want.Python
	if want.Go != nil {
		exp = *want.Go
		t.Logf("accepted divergence: %s", want.Divergence)
	}
	scripts := confScripts(t, sc)
	servers := make([]*confServer, len(scripts))
	ports := make([]int, len(scripts))
	for i, steps := range scripts {
		servers[i] = confStartServer(t, steps)
		ports[i] = servers[i].port()
	}
	sess := &confSession{t: t, rec: &confRecorder{}, ports: ports}
	sess.c = smtplib.New(sess.options()...)
	var got []confRecord
	for _, a := range sc.Actions {
		sess.rec.take()
		r := confRecord{Do: a.Do}
		res, err := sess.do(a)
		if err != nil {
			r.Error = confError(err)
		} else {
			r.Result = res
		}
		r.Sent = confLines(sess.rec.take())
		r.Attrs = confAttrs(sess.c)
		got = append(got, r)
	}
	sess.c.Close()
	received := make([][]string, len(servers))
	for i, s := range servers {
		received[i] = s.finish()
	}

	var ms []confMismatch
	diff := func(where string, py, gov any) {
		p, g := confJSON(py), confJSON(gov)
		if p == g {
			return
		}
		if len(p)+len(g) < 4000 {
			assert.Equal(t, p, g, "%s (expected = Python, actual = Go)", where)
		} else {
			assert.Fail(t, "Not equal: "+where, "python: %s\ngo:     %s", confShort(p), confShort(g))
		}
		ms = append(ms, confMismatch{scenario: sc.Name, where: where, python: confShort(p), golang: confShort(g)})
	}
	require.Len(t, exp.Actions, len(got))
	for i, w := range exp.Actions {
		g := got[i]
		where := fmt.Sprintf("action #%d %s", i, w.Do)
		diff(where+": outcome", confClosedPort(confOutcome(w), sess.closedPort), confOutcome(g))
		// Python's record of the bytes sent stops where TLS begins.
		if want.WireOff == "" && w.Sent != nil {
			diff(where+": bytes sent", w.Sent, g.Sent)
		}
		diff(where+": attributes after", confNormAttrs(w.Attrs, g.Attrs), g.Attrs)
	}
	if want.WireOff == "" {
		for i := range exp.Received {
			diff(fmt.Sprintf("server %d: everything received", i), exp.Received[i], received[i])
		}
	} else {
		t.Logf("wire not compared: %s", want.WireOff)
	}
	return ms
}

// confOutcome is the part of a record compared as "outcome": the result, or
// the error without the keys meant for people ("py_...").
func confOutcome(r confRecord) map[string]any {
	if r.Error == nil {
		return map[string]any{"result": r.Result}
	}
	e := map[string]any{}
	for k, v := range r.Error {
		if !strings.HasPrefix(k, "py_") {
			e[k] = v
		}
	}
	return map[string]any{"error": e}
}

// confClosedPort puts the port that "port": "closed" picked in this run
// for {closed_port} in an expected error's text (go_expect's, see gen.py):
// the Go client names the address it failed to reach.
func confClosedPort(o map[string]any, port int) map[string]any {
	e, ok := o["error"].(map[string]any)
	if !ok {
		return o
	}
	text, ok := e["text"].(string)
	if !ok || !strings.Contains(text, "{closed_port}") {
		return o
	}
	c := map[string]any{}
	for k, v := range e {
		c[k] = v
	}
	c["text"] = strings.ReplaceAll(text, "{closed_port}", strconv.Itoa(port))
	return map[string]any{"error": c}
}

// confNormAttrs maps Python's attributes to what the Go client can show:
// None is "", and the internal flags are dropped when the Go client has no
// such field to read.
func confNormAttrs(py, gov map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range py {
		if _, ok := gov[k]; !ok {
			continue
		}
		if v == nil && (k == "helo_resp" || k == "ehlo_resp" || k == "user" || k == "password") {
			v = ""
		}
		out[k] = v
	}
	return out
}

// confShort abbreviates a long rendering for the summary.
func confShort(s string) string {
	if len(s) <= 600 {
		return s
	}
	return fmt.Sprintf("%s ...(%d bytes)... %s", s[:300], len(s)-500, s[len(s)-200:])
}

// confJSON renders v for comparison and display: sorted keys, no HTML
// escaping.
func confJSON(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	// Round-trip so that Go values and decoded JSON render alike.
	var x any
	if err := json.Unmarshal(b.Bytes(), &x); err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	b.Reset()
	enc.Encode(x)
	return strings.TrimSuffix(b.String(), "\n")
}

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
		smtplib.WithTimeout(confTimeout), smtplib.WithDialer(s.rec)}
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
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		port = ln.Addr().(*net.TCPAddr).Port
		ln.Close()
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
		return reply(c.Docmd(a.Cmd, a.Args))
	case "putcmd":
		return nil, c.Putcmd(a.Cmd, a.Args)
	case "send":
		return nil, c.Send(a.S)
	case "getreply":
		return reply(c.Getreply())
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
		refused, err := c.Sendmail(a.From, a.To, confMessage(t, a), a.MailOptions, a.RcptOptions)
		m := map[string]any{}
		for k, r := range refused {
			m[k] = confReply(r)
		}
		return map[string]any{"refused": m}, err
	case "login":
		return reply(c.LoginWith(a.User, a.Password, initialOK))
	case "auth":
		c.User, c.Password = a.User, a.Password
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
		if errors.Is(err, smtplib.ErrSMTP) {
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
		"password":         c.Password,
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
// writes, so that each action's bytes can be told apart.
type confRecorder struct {
	mu  sync.Mutex
	buf []byte
}

func (r *confRecorder) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
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

// confStep is one step of a server script.
type confStep struct {
	send  []byte
	read  int  // lines to read
	data  bool // read up to ".\r\n"
	bdat  bool // read one BDAT command and its chunk
	tls   bool // TLS handshake as the server
	reset bool // close with a TCP reset
	sleep time.Duration
}

// confScripts returns the scripts of the scenario's servers, the Go one
// when it has its own.
func confScripts(t *testing.T, sc confScenario) [][]confStep {
	var raws [][]json.RawMessage
	switch {
	case sc.GoServer != nil:
		raws = append(raws, confRawList(t, sc.GoServer))
	case sc.Servers != nil:
		raws = sc.Servers
	case sc.Server != nil:
		raws = append(raws, confRawList(t, sc.Server))
	}
	out := make([][]confStep, len(raws))
	for i, r := range raws {
		for _, s := range r {
			out[i] = append(out[i], confParseStep(t, s))
		}
	}
	return out
}

func confRawList(t *testing.T, raw json.RawMessage) []json.RawMessage {
	var l []json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &l))
	if l == nil {
		l = []json.RawMessage{}
	}
	return l
}

func confParseStep(t *testing.T, raw json.RawMessage) confStep {
	var v any
	require.NoError(t, json.Unmarshal(raw, &v))
	var st confStep
	latin := func(s string) []byte {
		b, err := confUnlatin1(s)
		require.NoError(t, err)
		return b
	}
	switch v := v.(type) {
	case string:
		st.send = latin(v)
	case float64:
		st.read = int(v)
	case map[string]any:
		switch {
		case v["send"] != nil:
			switch s := v["send"].(type) {
			case string:
				st.send = latin(s)
			case []any:
				for _, p := range s {
					part := p.([]any)
					st.send = append(st.send, bytes.Repeat(latin(part[0].(string)), int(part[1].(float64)))...)
				}
			}
		case v["read"] == "data":
			st.data = true
		case v["read"] != nil:
			st.read = int(v["read"].(float64))
		case v["bdat"] != nil:
			st.bdat = true
		case v["starttls"] != nil:
			st.tls = true
		case v["reset"] != nil:
			st.reset = true
		case v["sleep"] != nil:
			st.sleep = time.Duration(v["sleep"].(float64)) * time.Millisecond
		default:
			t.Fatalf("unknown step %s", raw)
		}
	default:
		t.Fatalf("unknown step %s", raw)
	}
	return st
}

// confServer plays a script to one client, as gen.py's ScriptServer does:
// at the end of the script it shuts down its sending side (unless the
// session is encrypted) and reads what the client still sends until the
// client closes.
type confServer struct {
	ln    net.Listener
	steps []confStep
	conn  net.Conn
	br    *bufio.Reader
	got   []byte // written by run only, read after done
	done  chan struct{}
}

func confStartServer(t *testing.T, steps []confStep) *confServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &confServer{ln: ln, steps: steps, done: make(chan struct{})}
	go s.run()
	t.Cleanup(func() { s.finish() })
	return s
}

func (s *confServer) port() int { return s.ln.Addr().(*net.TCPAddr).Port }

func (s *confServer) run() {
	defer close(s.done)
	conn, err := s.ln.Accept()
	s.ln.Close()
	if err != nil {
		return
	}
	s.conn, s.br = conn, bufio.NewReader(conn)
	defer func() { s.conn.Close() }()
	for _, st := range s.steps {
		s.conn.SetDeadline(time.Now().Add(confServerT))
		if !s.step(st) {
			if st.reset {
				return
			}
			break
		}
	}
	if tc, ok := s.conn.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
	s.conn.SetReadDeadline(time.Now().Add(confServerT))
	rest, _ := io.ReadAll(s.br)
	s.got = append(s.got, rest...)
}

// step plays one step; false ends the script.
func (s *confServer) step(st confStep) bool {
	readLine := func() (string, bool) {
		line, err := s.br.ReadString('\n')
		s.got = append(s.got, line...)
		return line, err == nil
	}
	switch {
	case st.send != nil:
		_, err := s.conn.Write(st.send)
		return err == nil
	case st.data:
		for {
			line, ok := readLine()
			if !ok {
				return false
			}
			if line == ".\r\n" {
				return true
			}
		}
	case st.bdat:
		line, ok := readLine()
		f := strings.Fields(line)
		if !ok || len(f) < 2 || !strings.EqualFold(f[0], "BDAT") {
			return false
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			return false
		}
		chunk := make([]byte, n)
		k, err := io.ReadFull(s.br, chunk)
		s.got = append(s.got, chunk[:k]...)
		return err == nil
	case st.tls:
		tc := tls.Server(s.conn, confServerTLS())
		if tc.Handshake() != nil {
			return false
		}
		s.conn, s.br = tc, bufio.NewReader(tc)
	case st.reset:
		if tc, ok := s.conn.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		s.conn.Close()
		return false
	case st.sleep > 0:
		time.Sleep(st.sleep)
	default:
		for i := 0; i < st.read; i++ {
			if _, ok := readLine(); !ok {
				return false
			}
		}
	}
	return true
}

// finish stops waiting for a client that never came, waits for the script
// to end, and returns everything read, split after each LF.
func (s *confServer) finish() []string {
	s.ln.Close()
	<-s.done
	return confLines(s.got)
}

// confServerTLS is the script servers' TLS configuration: a throw-away
// self-signed certificate, which the clients do not check.
var confServerTLS = sync.OnceValue(func() *tls.Config {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mx.example"},
		DNSNames:     []string{"mx.example"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
})
