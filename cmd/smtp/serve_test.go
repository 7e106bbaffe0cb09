package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib"
)

// syncBuffer is a bytes.Buffer that serve's sessions and the test can
// use at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// serving is "smtp serve" running in the test's process.
type serving struct {
	addr           string
	host           string
	port           int
	stdout, stderr *syncBuffer
	cancel         func()
	done           chan int
	code           int
	stopped        bool
}

// startServe runs "smtp serve --listen 127.0.0.1:0" with args, and
// returns once it listens. The test's cleanup stops it.
func startServe(t testing.TB, args ...string) *serving {
	t.Helper()
	s := &serving{stdout: &syncBuffer{}}
	return s.start(t, s.stdout, args)
}

// startServeDiscard is startServe with stdout thrown away, for runs too
// long to keep what serve prints.
func startServeDiscard(t testing.TB, args ...string) *serving {
	t.Helper()
	return (&serving{}).start(t, io.Discard, args)
}

func (s *serving) start(t testing.TB, stdout io.Writer, args []string) *serving {
	t.Helper()
	s.stderr, s.done = &syncBuffer{}, make(chan int, 1)
	c := newCLI(strings.NewReader(""), stdout, s.stderr, func(string) string { return "" })
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	c.ctx = ctx
	listening := make(chan string, 1)
	c.listening = func(addr string) { listening <- addr }
	go func() { s.done <- c.run(append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)) }()
	select {
	case s.addr = <-listening:
	case code := <-s.done:
		cancel()
		t.Fatalf("smtp serve exited with %d: %s", code, s.stderr)
	}
	host, port, err := net.SplitHostPort(s.addr)
	require.NoError(t, err)
	s.host = host
	s.port, _ = strconv.Atoi(port)
	t.Cleanup(func() { s.stop() })
	return s
}

// stop stops serve as Ctrl-C does and returns its exit status.
func (s *serving) stop() int {
	if !s.stopped {
		s.cancel()
		s.code = <-s.done
		s.stopped = true
	}
	return s.code
}

// files returns the files under dir, sorted by name, with their contents.
func files(t *testing.T, dir string) ([]string, [][]byte) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	var contents [][]byte
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		names = append(names, e.Name())
		contents = append(contents, b)
	}
	return names, contents
}

// testMessage has what a message can hold that a server could change: a
// line with a leading dot, one that is only a dot, 8-bit text, and no
// final line end of its own.
const testMessage = "From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: =?utf-8?q?H=C3=A9llo?=\r\n" +
	"Message-ID: <1@example.com>\r\n\r\n.leading dot\r\n.\r\nCaf\xc3\xa9\r\nlast line\r\n"

func TestServePlain(t *testing.T) {
	dir := t.TempDir()
	srv := startServe(t, "--dir", dir)
	s, err := smtplib.Dial(srv.host, srv.port)
	require.NoError(t, err)
	for range 2 {
		refused, err := s.Sendmail("alice@example.com", []string{"bob@example.org", "carol@example.org"}, []byte(testMessage))
		require.NoError(t, err)
		assert.Empty(t, refused)
	}
	_, err = s.Quit()
	require.NoError(t, err)
	assert.Equal(t, 0, srv.stop())

	names, contents := files(t, dir)
	require.Len(t, names, 2)
	assert.Regexp(t, `^\d{8}T\d{6}\.\d{6}Z-000001\.eml$`, names[0])
	assert.Regexp(t, `^\d{8}T\d{6}\.\d{6}Z-000002\.eml$`, names[1])
	for _, c := range contents {
		assert.Equal(t, testMessage, string(c), "the file holds the message byte for byte")
	}
	out := srv.stdout.String()
	assert.Regexp(t, `(?m)^#1 \d\d:\d\d:\d\d\.\d{3} from 127\.0\.0\.1:\d+ \(\S+\), 153 bytes \(153 B\), id 00000001$`, out)
	assert.Contains(t, out, "\n  MAIL FROM  <alice@example.com> size=153 BODY=8BITMIME\n  RCPT TO    <bob@example.org>\n             <carol@example.org>\n")
	assert.Contains(t, out, "\n  kept in    "+filepath.Join(dir, names[0])+"\n")
	assert.Contains(t, out, "\n  Subject: Héllo\n")
	assert.Contains(t, out, "\n  parts\n    text/plain, 35 B\n")
	assert.Contains(t, out, "\n#2 ")
	stderr := srv.stderr.String()
	assert.Contains(t, stderr, "smtp serve: listening on "+srv.addr+": SMTP; nothing is relayed; Ctrl-C stops\n")
	assert.Contains(t, stderr, "smtp serve: keeping messages in "+dir+" (one .eml file a message)\n")
	assert.True(t, strings.HasSuffix(stderr, "smtp serve: stopped after 2 messages\n"), stderr)
}

func TestServeExtensions(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"default", nil, []string{"pipelining", "size", "enhancedstatuscodes", "8bitmime", "dsn", "smtputf8", "chunking"}},
		{"TLS and AUTH", []string{"--starttls", "--auth", "any", "--size", "1000"},
			[]string{"pipelining", "size", "starttls", "auth", "enhancedstatuscodes", "8bitmime", "dsn", "smtputf8", "chunking"}},
		{"without some", []string{"--without", "chunking", "--without", "PIPELINING"},
			[]string{"size", "enhancedstatuscodes", "8bitmime", "dsn", "smtputf8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServe(t, tt.args...)
			s, err := smtplib.Dial(srv.host, srv.port)
			require.NoError(t, err)
			defer s.Close()
			r, err := s.Ehlo("client.example")
			require.NoError(t, err)
			var got []string
			for _, line := range strings.Split(r.Message, "\n")[1:] {
				kw, _, _ := strings.Cut(line, " ")
				got = append(got, strings.ToLower(kw))
			}
			assert.Equal(t, tt.want, got)
			if strings.Contains(tt.name, "AUTH") {
				assert.Equal(t, " PLAIN LOGIN CRAM-MD5 XOAUTH2 OAUTHBEARER", s.ESMTPFeatures["auth"])
				assert.Equal(t, "1000", s.ESMTPFeatures["size"])
			}
		})
	}
}

// trustPEM returns a client TLS configuration trusting the PEM file.
func trustPEM(t *testing.T, file string) *tls.Config {
	t.Helper()
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(b))
	return &tls.Config{RootCAs: pool}
}

func TestServeSTARTTLSAuth(t *testing.T) {
	dir := t.TempDir()
	cert := filepath.Join(t.TempDir(), "cert.pem")
	srv := startServe(t, "--starttls", "--auth", "alice:s3cret", "--cert-out", cert, "--dir", dir, "--hostname", "mx.test")
	assert.Contains(t, srv.stderr.String(), "smtp serve: certificate "+cert+" (SHA-256 ")
	assert.Contains(t, srv.stderr.String(), "SMTP with STARTTLS, AUTH (1 user)")

	eml := writeFile(t, "m.eml", testMessage)
	h := newHarness()
	h.env["SMTP_PASSWORD"] = "s3cret"
	for _, name := range []string{"localhost", "127.0.0.1", "mx.test"} {
		r := h.run(t, "send", "-s", srv.addr, "--starttls", "--cafile", cert, "--servername", name, "-au", "alice", "--eml", eml)
		require.Equal(t, 0, r.code, r.stderr)
	}
	h.env["SMTP_PASSWORD"] = "wrong"
	r := h.run(t, "send", "-s", srv.addr, "--starttls", "--cafile", cert, "-au", "alice", "--eml", eml)
	assert.Equal(t, exitRefused, r.code)
	assert.Contains(t, r.stderr, "535 5.7.8")

	srv.stop()
	_, contents := files(t, dir)
	require.Len(t, contents, 3)
	for _, c := range contents {
		assert.Equal(t, testMessage, string(c))
	}
	assert.Contains(t, srv.stdout.String(), ") TLS AUTH alice, 153 bytes")
}

func TestServeImplicitTLS(t *testing.T) {
	cert := filepath.Join(t.TempDir(), "cert.pem")
	srv := startServe(t, "--tls", "--auth", "any", "--cert-out", cert)
	cfg := trustPEM(t, cert)
	s, err := smtplib.DialSSL(srv.host, srv.port, smtplib.WithTLSConfig(cfg))
	require.NoError(t, err)
	defer s.Close()
	_, err = s.Login("anyone", "anything")
	require.NoError(t, err)
	_, err = s.Sendmail("a@example.com", []string{"b@example.org"}, []byte(testMessage))
	require.NoError(t, err)
	s.Quit()
	srv.stop()
	assert.Contains(t, srv.stdout.String(), ") TLS AUTH anyone, 153 bytes")
	assert.Contains(t, srv.stderr.String(), "SMTP over TLS, AUTH (any login)")
}

func TestServeTemporaryCertificate(t *testing.T) {
	srv := startServe(t, "--starttls")
	line := srv.stderr.String()
	_, after, ok := strings.Cut(line, "smtp serve: certificate ")
	require.True(t, ok, line)
	path, _, _ := strings.Cut(after, " ")
	_, err := os.Stat(path)
	require.NoError(t, err, "the certificate is there while serve runs")
	s, err := smtplib.Dial(srv.host, srv.port)
	require.NoError(t, err)
	defer s.Close()
	_, err = s.StartTLS(trustPEM(t, path))
	assert.NoError(t, err)
	srv.stop()
	_, err = os.Stat(path)
	assert.True(t, os.IsNotExist(err), "and removed after: %v", err)
}

func TestServeJSON(t *testing.T) {
	srv := startServe(t, "--json", "--raw", "--refuse", "nobody@example.org")
	s, err := smtplib.Dial(srv.host, srv.port)
	require.NoError(t, err)
	defer s.Close()
	refused, err := s.Sendmail("alice@example.com", []string{"bob@example.org", "nobody@example.org"}, []byte(testMessage),
		smtplib.Notify(smtplib.NotifySuccess))
	require.NoError(t, err)
	assert.Equal(t, 550, refused["nobody@example.org"].Code)
	srv.stop()

	lines := strings.Split(strings.TrimSuffix(srv.stdout.String(), "\n"), "\n")
	require.Len(t, lines, 1, "one line a message")
	var got messageJSON
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &got))
	assert.Equal(t, int64(1), got.N)
	assert.Equal(t, "00000001", got.ID)
	assert.Equal(t, "alice@example.com", got.From)
	assert.Equal(t, []string{"bob@example.org"}, got.To)
	assert.Equal(t, [][]string{{"NOTIFY=SUCCESS"}}, got.RcptOptions)
	assert.Equal(t, 153, got.Size)
	assert.Equal(t, "Héllo", got.Subject)
	assert.Equal(t, headerField{Name: "Subject", Value: "=?utf-8?q?H=C3=A9llo?="}, got.Header[2])
	assert.Equal(t, []partInfo{{ContentType: "text/plain", Size: 35}}, got.Parts)
	assert.Equal(t, testMessage, string(got.Data), "--raw puts the bytes in")
	assert.False(t, got.TLS)
}

func TestServeMaildir(t *testing.T) {
	dir := t.TempDir()
	srv := startServe(t, "--dir", dir, "--maildir", "--raw")
	s, err := smtplib.Dial(srv.host, srv.port)
	require.NoError(t, err)
	defer s.Close()
	_, err = s.Sendmail("a@example.com", []string{"b@example.org"}, []byte(testMessage))
	require.NoError(t, err)
	srv.stop()
	names, contents := files(t, filepath.Join(dir, "new"))
	require.Len(t, names, 1)
	assert.Regexp(t, `^\d{10}\.M\d{6}P\d+Q1\.[^/:]+,S=153$`, names[0])
	assert.Equal(t, testMessage, string(contents[0]))
	for _, sub := range []string{"tmp", "cur"} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		require.NoError(t, err)
		assert.Empty(t, entries, sub)
	}
	assert.Contains(t, srv.stdout.String(), "\n  kept in    "+filepath.Join(dir, "new", names[0])+"\n"+testMessage+"\n",
		"--raw prints the envelope, then the bytes")
}

func TestServeScriptedReplies(t *testing.T) {
	srv := startServe(t, "--reply", "mail=451 4.3.2 Try again later")
	r := run1(t, "send", "-s", srv.addr, "-f", "a@example.com", "-t", "b@example.org")
	assert.Equal(t, exitTempFail, r.code)
	assert.Contains(t, r.stderr, "451 4.3.2 Try again later")
	srv.stop()
	assert.Empty(t, srv.stdout.String())
}

func TestServeLMTP(t *testing.T) {
	srv := startServe(t, "--lmtp")
	l, err := smtplib.DialLMTP(srv.host, srv.port)
	require.NoError(t, err)
	defer l.Close()
	refused, err := l.Sendmail("a@example.com", []string{"b@example.org", "c@example.org"}, []byte(testMessage))
	require.NoError(t, err)
	assert.Empty(t, refused)
	srv.stop()
	assert.Contains(t, srv.stderr.String(), ": LMTP; nothing")
	assert.Contains(t, srv.stdout.String(), "  RCPT TO    <b@example.org>\n             <c@example.org>\n")
}

func TestServeStopsMidMessage(t *testing.T) {
	dir := t.TempDir()
	srv := startServe(t, "--dir", dir)
	conn, err := net.Dial("tcp", srv.addr)
	require.NoError(t, err)
	defer conn.Close()
	buf := make([]byte, 4096)
	for _, cmd := range []string{"", "EHLO c\r\n", "MAIL FROM:<a@example.com>\r\n", "RCPT TO:<b@example.org>\r\n", "DATA\r\n"} {
		if cmd != "" {
			_, err := conn.Write([]byte(cmd))
			require.NoError(t, err)
		}
		_, err := conn.Read(buf)
		require.NoError(t, err)
	}
	_, err = conn.Write([]byte("Subject: half\r\n\r\nthe first half of it"))
	require.NoError(t, err)
	assert.Equal(t, 0, srv.stop())
	names, _ := files(t, dir)
	assert.Empty(t, names, "nothing of the half message is kept")
	assert.Empty(t, srv.stdout.String())
	assert.Contains(t, srv.stderr.String(), "smtp serve: stopped after 0 messages\n")
}

func TestServeCannotKeep(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mail")
	srv := startServe(t, "--dir", dir)
	require.NoError(t, os.RemoveAll(dir))
	s, err := smtplib.Dial(srv.host, srv.port)
	require.NoError(t, err)
	defer s.Close()
	_, err = s.Sendmail("a@example.com", []string{"b@example.org"}, []byte(testMessage))
	var dataErr *smtplib.DataError
	require.ErrorAs(t, err, &dataErr)
	assert.Equal(t, 451, dataErr.Code, "the client hears it was not kept, and may send it again")
	srv.stop()
	assert.Contains(t, srv.stderr.String(), "smtp serve: keeping the message: open "+dir)
	assert.Contains(t, srv.stderr.String(), "smtp serve: stopped after 0 messages\n", "a message not kept is not counted")
	assert.Empty(t, srv.stdout.String())
}

func TestServeUsage(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	tests := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"--tls", "--starttls"}, exitUsage, "--tls and --starttls exclude each other"},
		{[]string{"--cert", "c.pem"}, exitUsage, "--cert and --key go together"},
		{[]string{"--cert-out", "c.pem"}, exitUsage, "a certificate needs --tls or --starttls"},
		{[]string{"--maildir"}, exitUsage, "--maildir needs --dir"},
		{[]string{"--auth", "alice"}, exitUsage, `--auth "alice": want any, or USER:PASSWORD`},
		{[]string{"--reply", "FOO=250 ok"}, exitUsage, `--reply "FOO=250 ok": want STAGE=REPLY, STAGE one of GREETING,`},
		{[]string{"--reply", "RCPT=ok"}, exitUsage, `--reply "RCPT=ok": the reply starts with a code from 200 to 599`},
		{[]string{"--reply", "RCPT=450 a", "--reply", "rcpt=451 b"}, exitUsage, `--reply "rcpt=451 b": RCPT has a reply already`},
		{[]string{"--without", "STARTTLS"}, exitUsage, "--without STARTTLS: want one of PIPELINING, SIZE,"},
		{[]string{"--listen", "1025"}, exitUsage, `--listen "1025": want HOST:PORT`},
		{[]string{"--starttls", "--cert", "/nonexistent/c.pem", "--key", "/nonexistent/k.pem"}, exitUsage, "--cert /nonexistent/c.pem --key /nonexistent/k.pem: open"},
		{[]string{"somewhere"}, exitUsage, `unexpected argument "somewhere" (the address is --listen HOST:PORT)`},
		{[]string{"--listen", taken.Addr().String()}, exitTempFail,
			"listen on " + taken.Addr().String() + ": the address is in use: another server is there (choose another with --listen)"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := run1(t, append([]string{"serve"}, tt.args...)...)
			assert.Equal(t, tt.code, r.code)
			assert.True(t, strings.HasPrefix(r.stderr, "smtp: "+tt.stderr), r.stderr)
			assert.Equal(t, 1, strings.Count(r.stderr, "\n"), r.stderr)
		})
	}
}

func TestServeHelp(t *testing.T) {
	r := run1(t, "help", "serve")
	assert.Equal(t, 0, r.code)
	assert.Contains(t, r.stdout, "Usage: smtp serve [flags]")
	assert.Contains(t, r.stdout, "  --listen HOST:PORT")
	assert.Contains(t, r.stdout, "(default 127.0.0.1:1025)")
}
