// "smtp serve" as a process, with clients that are not ours (Python's
// smtplib) beside the library and "smtp send". These tests need no real
// server and never skip: only go and python3.

package integration

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib"
)

// serveProc is a running "smtp serve".
type serveProc struct {
	cmd    *exec.Cmd
	addr   string
	host   string
	port   int
	stdout bytes.Buffer
	mu     sync.Mutex
	stderr strings.Builder
	done   chan struct{} // closed when stderr is read to its end
	code   int
	waited bool
}

// startServeProc runs bin serve on a free loopback port with args, and
// returns once it says where it listens.
func startServeProc(t *testing.T, bin string, args ...string) *serveProc {
	t.Helper()
	p := &serveProc{done: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"serve", "--listen", "127.0.0.1:0"}, args...)...)
	p.cmd.Stdout = &p.stdout
	stderr, err := p.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	t.Cleanup(func() { p.stop(t) })
	listening := make(chan string, 1)
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.stderr.WriteString(line + "\n")
			p.mu.Unlock()
			if rest, ok := strings.CutPrefix(line, "smtp serve: listening on "); ok {
				addr, _, _ := strings.Cut(rest, ": ")
				listening <- addr
			}
		}
	}()
	select {
	case p.addr = <-listening:
	case <-p.done:
		t.Fatalf("smtp serve ended before listening: %s", p.stderrText())
	}
	host, port, err := net.SplitHostPort(p.addr)
	require.NoError(t, err)
	p.host = host
	p.port, err = strconv.Atoi(port)
	require.NoError(t, err)
	return p
}

func (p *serveProc) stderrText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// stop sends SIGINT, as Ctrl-C does, and returns the exit status.
func (p *serveProc) stop(t *testing.T) int {
	if p.waited {
		return p.code
	}
	p.waited = true
	require.NoError(t, p.cmd.Process.Signal(os.Interrupt))
	<-p.done
	err := p.cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		p.code = exit.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return p.code
}

// pythonSend is Python's smtplib sending a message file over plain SMTP,
// STARTTLS or implicit TLS, logged in, verifying the certificate.
const pythonSend = `
import smtplib, ssl, sys
mode, host, port, cafile, user, password, path, sender, rcpt = sys.argv[1:]
msg = open(path, "rb").read()
ctx = ssl.create_default_context(cafile=cafile) if cafile else None
if mode == "tls":
    s = smtplib.SMTP_SSL(host, int(port), context=ctx, timeout=30)
else:
    s = smtplib.SMTP(host, int(port), timeout=30)
if mode == "starttls":
    s.starttls(context=ctx)
s.login(user, password)
refused = s.sendmail(sender, [rcpt], msg)
assert not refused, refused
s.quit()
`

// serveMessage is a message that a server could change in transit: dots
// to unstuff, a lone dot, 8-bit text, a long line, a bare header field.
func serveMessage(client, mode string) []byte {
	return []byte("From: " + client + "@example.com\r\nTo: bob@example.org\r\nSubject: " + client + " over " + mode + "\r\n" +
		"X-Client: " + client + "\r\n\r\n.leading dot\r\n..two dots\r\n.\r\nCaf\xc3\xa9 cr\xc3\xa8me\r\n" +
		strings.Repeat("long ", 200) + "\r\nlast line\r\n")
}

func TestServeClients(t *testing.T) {
	bin := buildCLI(t)
	python, err := exec.LookPath("python3")
	require.NoError(t, err, "python3 is the client that is not ours")
	for _, mode := range []string{"plain", "starttls", "tls"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			cert := filepath.Join(t.TempDir(), "cert.pem")
			args := []string{"--auth", "alice:s3cret", "--dir", dir}
			var cafile []string
			switch mode {
			case "starttls":
				args = append(args, "--starttls", "--cert-out", cert)
				cafile = []string{"--cafile", cert}
			case "tls":
				args = append(args, "--tls", "--cert-out", cert)
				cafile = []string{"--cafile", cert}
			}
			srv := startServeProc(t, bin, args...)
			sent := map[string][]byte{}

			// Python's smtplib.
			msg := serveMessage("python", mode)
			sent["python"] = msg
			file := filepath.Join(t.TempDir(), "python.eml")
			require.NoError(t, os.WriteFile(file, msg, 0o600))
			ca := ""
			if mode != "plain" {
				ca = cert
			}
			out, err := exec.Command(python, "-c", pythonSend, mode, "localhost", strconv.Itoa(srv.port), ca,
				"alice", "s3cret", file, "python@example.com", "bob@example.org").CombinedOutput()
			require.NoError(t, err, "python: %s", out)

			// The library.
			msg = serveMessage("library", mode)
			sent["library"] = msg
			libSend(t, mode, srv, cert, msg)

			// smtp send, with swaks's spellings.
			msg = serveMessage("cli", mode)
			sent["cli"] = msg
			file = filepath.Join(t.TempDir(), "cli.eml")
			require.NoError(t, os.WriteFile(file, msg, 0o600))
			sendArgs := append([]string{"send", "-s", srv.addr, "-au", "alice", "--eml", file}, cafile...)
			switch mode {
			case "starttls":
				sendArgs = append(sendArgs, "--starttls")
			case "tls":
				sendArgs = append(sendArgs, "--tls-on-connect")
			}
			r := runCLI(t, bin, []string{"SMTP_PASSWORD=s3cret"}, sendArgs...)
			require.Equal(t, 0, r.code, r.stderr)

			assert.Equal(t, 0, srv.stop(t))
			assert.Contains(t, srv.stderrText(), "smtp serve: stopped after 3 messages\n")
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			require.Len(t, names, 3, "one file a message, nothing else: %v", names)
			assert.True(t, sort.StringsAreSorted(names))
			// The files sort by arrival, and each holds the message
			// exactly as the client sent it.
			for i, client := range []string{"python", "library", "cli"} {
				got, err := os.ReadFile(filepath.Join(dir, names[i]))
				require.NoError(t, err)
				assert.Equal(t, string(sent[client]), string(got), "%s's message", client)
			}
			stdout := srv.stdout.String()
			assert.Equal(t, 3, strings.Count(stdout, " AUTH alice, "), stdout)
			if mode != "plain" {
				assert.Equal(t, 3, strings.Count(stdout, " TLS AUTH alice, "), stdout)
			}
			assert.Contains(t, stdout, "  Subject: python over "+mode+"\n")
		})
	}
}

// libSend sends msg with the library as mode says, logged in as alice.
func libSend(t *testing.T, mode string, srv *serveProc, certFile string, msg []byte) {
	t.Helper()
	var cfg *tls.Config
	if mode != "plain" {
		pemBytes, err := os.ReadFile(certFile)
		require.NoError(t, err)
		pool := x509.NewCertPool()
		require.True(t, pool.AppendCertsFromPEM(pemBytes))
		cfg = &tls.Config{RootCAs: pool}
	}
	var s *smtplib.SMTP
	var err error
	if mode == "tls" {
		s, err = smtplib.DialSSL("localhost", srv.port, smtplib.WithTLSConfig(cfg))
	} else {
		s, err = smtplib.Dial("localhost", srv.port)
	}
	require.NoError(t, err)
	defer s.Close()
	if mode == "starttls" {
		_, err = s.StartTLS(cfg)
		require.NoError(t, err)
	}
	_, err = s.Login("alice", "s3cret")
	require.NoError(t, err)
	refused, err := s.Sendmail("library@example.com", []string{"bob@example.org"}, msg)
	require.NoError(t, err)
	assert.Empty(t, refused)
	_, err = s.Quit()
	assert.NoError(t, err)
}

func TestServeInterruptMidMessage(t *testing.T) {
	bin := buildCLI(t)
	dir := t.TempDir()
	srv := startServeProc(t, bin, "--dir", dir, "--maildir")
	conn, err := net.Dial("tcp", srv.addr)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(time.Minute)))
	r := bufio.NewReader(conn)
	expect := func(prefix string) {
		t.Helper()
		for {
			line, err := r.ReadString('\n')
			require.NoError(t, err)
			if len(line) < 4 || line[3] != '-' {
				require.True(t, strings.HasPrefix(line, prefix), line)
				return
			}
		}
	}
	expect("220 ")
	for _, step := range [][2]string{{"EHLO c", "250 "}, {"MAIL FROM:<a@example.com>", "250 "},
		{"RCPT TO:<b@example.org>", "250 "}, {"DATA", "354 "}} {
		_, err := io.WriteString(conn, step[0]+"\r\n")
		require.NoError(t, err)
		expect(step[1])
	}
	_, err = io.WriteString(conn, "Subject: half\r\n\r\nthe first half, and then Ctrl-C")
	require.NoError(t, err)

	assert.Equal(t, 0, srv.stop(t), "Ctrl-C is a clean stop")
	assert.Contains(t, srv.stderrText(), "smtp serve: stopped after 0 messages\n")
	for _, sub := range []string{"new", "tmp", "cur"} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		require.NoError(t, err)
		assert.Empty(t, entries, "nothing of the half message in %s", sub)
	}
	_, err = r.ReadString('\n')
	assert.Error(t, err, "the connection is closed")
}

func TestServeTLSFirstHint(t *testing.T) {
	bin := buildCLI(t)
	srv := startServeProc(t, bin, "--tls")
	start := time.Now()
	r := runCLI(t, bin, nil, "send", "-s", srv.addr, "-f", "a@example.com", "-t", "b@example.org")
	took := time.Since(start)
	assert.Equal(t, 78, r.code)
	assert.Equal(t, "smtp: connect to "+srv.addr+": the server seems to expect TLS first: try --tls\n", r.stderr)
	t.Logf("found in %v", took)
	assert.Less(t, took, 2*time.Second, "said within a second or so, not after the 30 s timeout")

	plain := startServeProc(t, bin)
	r = runCLI(t, bin, nil, "send", "-s", plain.addr, "--tls", "-f", "a@example.com", "-t", "b@example.org")
	assert.Equal(t, 78, r.code)
	assert.Contains(t, r.stderr, "the server answered in plain text (\"220 l\"), not TLS: drop --tls")
}

func TestServePartialDelivery(t *testing.T) {
	bin := buildCLI(t)
	dir := t.TempDir()
	srv := startServeProc(t, bin, "--refuse", "nobody@example.org", "--json", "--dir", dir)
	r := runCLI(t, bin, nil, "send", "-s", srv.addr, "-f", "a@example.com", "-t", "bob@example.org", "-t", "nobody@example.org")
	assert.Equal(t, 79, r.code, "partial delivery has a status of its own")
	assert.Equal(t, "smtp: 1 of 2 recipients refused; the message was sent to the others\n"+
		"smtp: refused nobody@example.org: 550 5.1.1 <nobody@example.org>: Recipient address rejected: "+
		"User unknown in local recipient table\n", r.stderr)
	srv.stop(t)
	assert.Contains(t, srv.stdout.String(), `"to":["bob@example.org"]`)
	assert.Contains(t, srv.stdout.String(), `"subject":"test `, "swaks's default subject")
}
