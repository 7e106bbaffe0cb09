package smtplib

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/email"
	"github.com/gosmtplib/smtplib/internal/rawsrv"
	"github.com/gosmtplib/smtplib/smtptest"
)

// The signatures checked by a verifier that is not ours: dkimpy, Debian's
// python3-dkim (testdata/servers/install.sh installs it), run by Debian's
// own python3, its DNS lookups answered with the test keys' records.

// dkimpyPython is the interpreter that has Debian's packages; a python3
// of pyenv's may come first on PATH.
const dkimpyPython = "/usr/bin/python3"

// dkimpyScript verifies each file named after the records (JSON: TXT
// record by DNS name) and prints a line per file: "ok", or "fail" and why.
const dkimpyScript = `
import json, sys, dkim
records = json.loads(sys.argv[1])
def dnsfunc(name, timeout=5):
    r = records.get(name.decode().rstrip("."))
    return r.encode() if r else None
for path in sys.argv[2:]:
    with open(path, "rb") as f:
        data = f.read()
    try:
        d = dkim.DKIM(data, minkey=1024)
        ok = d.verify(dnsfunc=dnsfunc)
        why = "" if ok else "signature did not verify"
    except dkim.DKIMException as e:
        ok, why = False, str(e)
    print("ok" if ok else "fail " + why, flush=True)
`

// needDkimpy skips the test when python3-dkim is missing, unless
// SMTPLIB_REQUIRE_SERVERS is set (as CI sets it): then it fails.
func needDkimpy(t *testing.T) {
	t.Helper()
	out, err := exec.Command(dkimpyPython, "-c", "import dkim, nacl").CombinedOutput()
	if err == nil {
		return
	}
	msg := fmt.Sprintf("python3-dkim is needed (apt-get install python3-dkim, or bash testdata/servers/install.sh): %v %s", err, out)
	if os.Getenv("SMTPLIB_REQUIRE_SERVERS") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// dkimpyCase is a message for dkimpy, kept in a file: what the server
// received, or a copy tampered with.
type dkimpyCase struct {
	label string // what sent it: "call key mode"
	path  string
	want  bool // it must verify
}

// receivedMessages keeps each message the servers get in a file, labelled
// with its X-Case field.
type receivedMessages struct {
	dir   string
	mu    sync.Mutex
	cases []dkimpyCase
}

// file returns a new file for a message.
func (r *receivedMessages) file() (*os.File, error) {
	return os.CreateTemp(r.dir, "*.eml")
}

// add records the message in path, once whole.
func (r *receivedMessages) add(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, 64<<10)
	n, _ := io.ReadFull(f, head)
	label := "?"
	if _, rest, ok := bytes.Cut(head[:n], []byte("\r\nX-Case: ")); ok {
		line, _, _ := bytes.Cut(rest, []byte("\r\n"))
		label = string(line)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cases = append(r.cases, dkimpyCase{label: label, path: path, want: true})
	return nil
}

// hook is an smtptest message hook that keeps the message.
func (r *receivedMessages) hook(m smtptest.Message) error {
	f, err := r.file()
	if err != nil {
		return err
	}
	_, err = f.Write(m.Data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return r.add(f.Name())
}

// fileSink is an SMTP server that writes each message to a file of rec as
// it arrives (DATA unstuffed, BDAT chunks as they come), so that a large
// one is never held in memory, as smtptest holds it. It offers
// PIPELINING, SIZE, 8BITMIME and, when chunking, CHUNKING, and accepts
// every envelope.
func fileSink(t *testing.T, rec *receivedMessages, chunking bool) *rawsrv.Server {
	ext := "250-PIPELINING\r\n250-SIZE 0\r\n"
	if chunking {
		ext += "250-CHUNKING\r\n"
	}
	return newRawServer(t, func(conn net.Conn) {
		r, w := bufio.NewReader(conn), bufio.NewWriter(conn)
		w.WriteString("220 sink\r\n")
		var f *os.File
		for {
			if r.Buffered() == 0 && w.Flush() != nil {
				return
			}
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			verb, arg, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
			switch strings.ToUpper(verb) {
			case "EHLO":
				w.WriteString("250-sink\r\n" + ext + "250 8BITMIME\r\n")
			case "DATA":
				w.WriteString("354 go on\r\n")
				w.Flush()
				if f, err = rec.file(); err != nil {
					return
				}
				bw := bufio.NewWriter(f)
				for start := true; ; { // start: l begins a line
					l, err := r.ReadSlice('\n')
					if err != nil && err != bufio.ErrBufferFull {
						return
					}
					if start && string(l) == ".\r\n" {
						break
					}
					if start && l[0] == '.' {
						l = l[1:]
					}
					bw.Write(l)
					start = err == nil
				}
				if bw.Flush() != nil || f.Close() != nil || rec.add(f.Name()) != nil {
					return
				}
				w.WriteString("250 kept\r\n")
			case "BDAT":
				size, last, _ := strings.Cut(arg, " ")
				n, _ := strconv.ParseInt(size, 10, 64)
				if f == nil {
					if f, err = rec.file(); err != nil {
						return
					}
				}
				if _, err := io.CopyN(f, r, n); err != nil {
					return
				}
				if last == "LAST" {
					if f.Close() != nil || rec.add(f.Name()) != nil {
						return
					}
					f = nil
				}
				w.WriteString("250 kept\r\n")
			case "QUIT":
				w.WriteString("221 bye\r\n")
				w.Flush()
				return
			default:
				w.WriteString("250 ok\r\n")
			}
		}
	})
}

// dkimpyVerify runs dkimpy once over every case and returns its verdicts.
func dkimpyVerify(t *testing.T, cases []dkimpyCase) []string {
	t.Helper()
	records, err := json.Marshal(dkimRecords())
	require.NoError(t, err)
	args := []string{"-c", dkimpyScript, string(records)}
	for _, c := range cases {
		args = append(args, c.path)
	}
	cmd := exec.Command(dkimpyPython, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, stderr.String())
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	require.Len(t, lines, len(cases), string(out))
	return lines
}

// TestDKIMVerifiedByDkimpy sends signed mail with every sending call and
// both key types, in every mode of the server and over LMTP, plus a
// message with a 25 MB attachment per key, and has dkimpy verify every
// message as the server received it. Copies tampered with (a byte of the
// body, the one-click field) must fail.
func TestDKIMVerifiedByDkimpy(t *testing.T) {
	needDkimpy(t)
	rec := &receivedMessages{dir: t.TempDir()}
	fromFile := filepath.Join(t.TempDir(), "message.eml")
	for _, k := range dkimKeys() {
		for _, mode := range modes {
			srv := smtptest.NewServer(t, smtptest.WithExtensions(mode.ext...), smtptest.WithMessageHook(rec.hook), smtptest.WithoutRecording())
			sendEveryWay(t, srv, k, mode.name, fromFile)
		}
		srv := smtptest.NewServer(t, smtptest.WithLMTP(), smtptest.WithPipelining(), smtptest.WithMessageHook(rec.hook), smtptest.WithoutRecording())
		l, err := DialLMTP(srv.Host(), srv.Port(), WithTimeout(testTimeout))
		require.NoError(t, err)
		_, err = l.Sendmail("alice@example.com", []string{"bob@example.org", "cat@example.org"},
			signedMessage("LMTP "+k.name), DKIM(k.opts()))
		require.NoError(t, err)
		l.Close()

		// The 25 MB attachment: with DATA for RSA, BDAT for Ed25519.
		sink := fileSink(t, rec, k.name == "ed25519")
		c, err := Dial("127.0.0.1", sink.Port(), WithTimeout(testTimeout))
		require.NoError(t, err)
		big := builtMessage(t, "SendMessage(25MB-attachment) "+k.name, bytes.Repeat([]byte("25 MB of attachment\x00\xff"), 25<<20/21))
		_, err = c.SendMessage(big, DKIM(k.opts()))
		require.NoError(t, err)
		_, err = c.Quit()
		require.NoError(t, err)
	}

	cases := slices.Clone(rec.cases)
	for _, tamper := range []struct{ label, from, to string }{
		{"tampered body", "and  spaces", "and  spaced"},
		{"tampered List-Unsubscribe-Post", "List-Unsubscribe=One-Click", "List-Unsubscribe=One-Clack"},
	} {
		c := cases[0]
		b, err := os.ReadFile(c.path)
		require.NoError(t, err)
		require.Contains(t, string(b), tamper.from)
		path := c.path + ".tampered" + fmt.Sprint(len(cases))
		require.NoError(t, os.WriteFile(path, bytes.Replace(b, []byte(tamper.from), []byte(tamper.to), 1), 0o600))
		cases = append(cases, dkimpyCase{label: tamper.label, path: path, want: false})
	}

	verdicts := dkimpyVerify(t, cases)
	perCall := map[string]int{}
	verified := 0
	for i, c := range cases {
		if c.want {
			if assert.Equal(t, "ok", verdicts[i], "%s (%s)", c.label, c.path) {
				verified++
				call, key, _ := strings.Cut(c.label, " ")
				key, _, _ = strings.Cut(key, " ")
				perCall[call+" "+key]++
			}
		} else {
			assert.True(t, strings.HasPrefix(verdicts[i], "fail"), "%s must fail: %s", c.label, verdicts[i])
		}
	}
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range perCall {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range keys {
		t.Logf("dkimpy verified %-36s %3d", k, perCall[k])
	}
	t.Logf("dkimpy verified %d messages; %d tampered copies failed", verified, len(cases)-len(rec.cases))
	assert.Equal(t, 2*(len(modes)*15+1+1), verified)
}

// sendEveryWay sends a signed message with each sending call to srv:
// 15 messages.
func sendEveryWay(t *testing.T, srv *smtptest.Server, k dkimKey, mode, fromFile string) {
	ctx := context.Background()
	label := func(call string) string { return call + " " + k.name + " " + mode }
	sign := DKIM(k.opts())
	c := dialTest(t, srv)
	to := []string{"bob@example.org"}
	send := func(refused map[string]Reply, err error) {
		t.Helper()
		require.NoError(t, err)
		require.Empty(t, refused)
	}

	send(c.Sendmail("alice@example.com", to, signedMessage(label("Sendmail")), sign))
	send(c.SendmailContext(ctx, "alice@example.com", to, signedMessage(label("SendmailContext")), sign))
	send(c.SendmailReader("alice@example.com", to, bytes.NewReader(signedMessage(label("SendmailReader(bytes.Reader)"))), sign))
	send(c.SendmailReader("alice@example.com", to, plainReader{bytes.NewReader(signedMessage(label("SendmailReader(io.Reader)")))}, sign))
	require.NoError(t, os.WriteFile(fromFile, signedMessage(label("SendmailReader(os.File)")), 0o600))
	f, err := os.Open(fromFile)
	require.NoError(t, err)
	send(c.SendmailReader("alice@example.com", to, f, sign))
	f.Close()
	send(c.SendMessage(builtMessage(t, label("SendMessage(built)"), []byte("attached")), sign))
	require.NoError(t, os.WriteFile(fromFile, signedMessage(label("SendMessage(read)")), 0o600))
	f, err = os.Open(fromFile)
	require.NoError(t, err)
	read, err := email.ReadMessage(f)
	f.Close()
	require.NoError(t, err)
	send(c.SendMessage(read, sign))
	send(c.SendMessageContext(ctx, builtMessage(t, label("SendMessageContext"), nil), sign))
	// Simple canonicalization, and a message that is all header.
	simple := k.opts()
	simple.HeaderCanonicalization, simple.BodyCanonicalization = dkim.CanonicalizationSimple, dkim.CanonicalizationSimple
	send(c.Sendmail("alice@example.com", to, signedMessage(label("Sendmail(simple)")), DKIM(simple)))
	send(c.Sendmail("alice@example.com", to, []byte("From: alice@example.com\nX-Case: "+label("Sendmail(header-only)")), sign))

	mails := func(call string) []Mail {
		return []Mail{
			{From: "alice@example.com", To: to, Data: signedMessage(label(call + "(Data)")), Options: []SendOption{sign}},
			{Message: builtMessage(t, label(call+"(Message)"), []byte("attached")), Options: []SendOption{sign}},
		}
	}
	res, err := c.SendBatch(ctx, append(mails("SendBatch"), Mail{
		From: "alice@example.com", To: to, Data: signedMessage(label("SendBatch(Data)")), Options: []SendOption{sign},
	}))
	require.NoError(t, err)
	for _, r := range res {
		require.NoError(t, r.Err)
	}
	_, err = c.Quit()
	require.NoError(t, err)

	p := NewPool((&poolDialer{srv: srv}).dial, WithPoolSize(2))
	for _, m := range mails("Pool") {
		require.NoError(t, p.Send(ctx, m).Err)
	}
	closePool(t, p)
}
