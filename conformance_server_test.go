package smtplib_test

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"io"
	"math/big"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/internal/rawsrv"
)

// The script servers of the conformance test (see conformance_test.go):
// they play the server side of each scenario, as gen.py's ScriptServer
// does for Python.

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

// confServer plays a script to one client, as gen.py's ScriptServer does,
// on the suite's raw-connection server (internal/rawsrv): at the end of
// the script it shuts down its sending side (unless the session is
// encrypted) and reads what the client still sends until the client
// closes. On loopback it accepts one connection, and a second dial is
// refused; over pipes (for the fake clock) it serves the one client of a
// scenario with one server.
type confServer struct {
	port  int
	pipes *rawsrv.Pipes // nil on loopback
	wait  func()
	steps []confStep
	conn  net.Conn
	br    *bufio.Reader
	got   []byte // written by run only, read after wait
}

func confStartServer(t *testing.T, steps []confStep) *confServer {
	s := &confServer{steps: steps}
	srv := rawsrv.StartOnce(t, s.run)
	s.port, s.wait = srv.Port(), srv.Wait
	return s
}

// confPipeServer is confStartServer over pipes.
func confPipeServer(steps []confStep) *confServer {
	s := &confServer{steps: steps, port: 25}
	s.pipes = rawsrv.NewPipes(s.run)
	s.wait = s.pipes.Wait
	return s
}

func (s *confServer) run(conn net.Conn) {
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
	s.wait()
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
