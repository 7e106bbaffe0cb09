package smtplib_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib"
)

// The conformance test plays every dialogue of
// testdata/conformance/scenarios.json with the Go client against a scripted
// server, and compares what the client sent and returned, action by action,
// with what Python 3.13.0's smtplib did in the same dialogue, as recorded
// by testdata/conformance/gen.py in expected.json. Regenerate that file
// after changing the scenarios:
//
//	python3 testdata/conformance/gen.py
//
// A failure names the scenario, the action and the field, with Python's
// value as "expected" and Go's as "actual"; the last lines of the test's
// output list every divergence, one line each.

// The Go client's side of a dialogue is in conformance_client_test.go, the
// script servers in conformance_server_test.go.

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
	require.Equal(t, "3.13.0", exp.Python, "expected.json must come from Python 3.13.0")
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
	if confOnFakeClock(scripts) {
		// The script waits longer than the client's timeout: on the fake
		// clock, over a pipe, the wait costs nothing and the order of
		// events is kept exactly.
		var ms []confMismatch
		synctest.Test(t, func(t *testing.T) {
			srv := confPipeServer(scripts[0])
			ms = confPlay(t, sc, want, exp, []*confServer{srv}, &confRecorder{inner: srv.pipes})
		})
		return ms
	}
	servers := make([]*confServer, len(scripts))
	for i, steps := range scripts {
		servers[i] = confStartServer(t, steps)
	}
	return confPlay(t, sc, want, exp, servers, &confRecorder{})
}

// confOnFakeClock reports whether a scenario runs on testing/synctest's
// fake clock: one whose server sleeps, unless it needs a TCP connection
// (to reset it) or more than one server.
func confOnFakeClock(scripts [][]confStep) bool {
	if len(scripts) != 1 {
		return false
	}
	sleeps := false
	for _, st := range scripts[0] {
		if st.reset {
			return false
		}
		sleeps = sleeps || st.sleep > 0
	}
	return sleeps
}

// confPlay plays the scenario's actions against servers, dialled through
// rec, and compares the outcome with exp.
func confPlay(t *testing.T, sc confScenario, want confExpScenario, exp confRun, servers []*confServer, rec *confRecorder) []confMismatch {
	ports := make([]int, len(servers))
	for i, s := range servers {
		ports[i] = s.port
	}
	sess := &confSession{t: t, rec: rec, ports: ports}
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
		diff(where+": outcome", confGoWording(confClosedPort(confOutcome(w), sess.closedPort)), confOutcome(g))
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
	return confErrorText(o, func(text string) string {
		return strings.ReplaceAll(text, "{closed_port}", strconv.Itoa(port))
	})
}

// confErrorText returns o with its error's text rewritten by edit, o
// itself when it has no error text or edit leaves the text as it is. The
// expected record is never changed in place.
func confErrorText(o map[string]any, edit func(string) string) map[string]any {
	e, ok := o["error"].(map[string]any)
	if !ok {
		return o
	}
	text, ok := e["text"].(string)
	if !ok {
		return o
	}
	edited := edit(text)
	if edited == text {
		return o
	}
	c := map[string]any{}
	for k, v := range e {
		c[k] = v
	}
	c["text"] = edited
	return map[string]any{"error": c}
}

// confWording pairs Python's error texts with the Go client's rewording of
// them: the same error, told in Go's terms (issue: error texts a Go reader
// understands). Each pattern is matched against the whole text.
var confWording = []struct {
	python *regexp.Regexp
	golang string
}{
	{regexp.MustCompile(`^please run connect\(\) first$`), "not connected: use Dial or Connect first"},
}

// confGoWording applies confWording to an expected error's text.
func confGoWording(o map[string]any) map[string]any {
	return confErrorText(o, func(text string) string {
		for _, w := range confWording {
			if w.python.MatchString(text) {
				return w.python.ReplaceAllString(text, w.golang)
			}
		}
		return text
	})
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
