// The SMTP half of the integration suite: the client against a real Postfix
// (submission with STARTTLS, implicit TLS, AUTH through Dovecot) and a real
// aiosmtpd, both started on loopback by testdata/servers/start.sh. Run:
//
//	testdata/servers/start.sh /tmp/srv
//	SMTPLIB_SERVERS_ENV=/tmp/srv/env go test ./integration/
//	testdata/servers/stop.sh /tmp/srv
//
// or let TestMain start them (see main_test.go).

package integration

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/gosmtplib/smtplib"
	"github.com/gosmtplib/smtplib/email"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serversEnv reads the env file that start.sh wrote, or skips the test with
// the reason when there is none.
func serversEnv(t *testing.T) map[string]string {
	t.Helper()
	name := skipUnlessServers(t)
	f, err := os.Open(name)
	require.NoError(t, err)
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "="); ok && !strings.HasPrefix(k, "#") {
			env[k] = v
		}
	}
	require.NoError(t, sc.Err())
	return env
}

// mailServer is one of the SMTP servers, as the tests see it.
type mailServer struct {
	name        string
	host        string
	port        int // STARTTLS (or plain) submission port
	smtpsPort   int // implicit TLS
	user, pass  string
	ok          []string // recipients that are delivered
	utf8Rcpt    string   // a recipient with a non-ASCII local part
	refusedRcpt string
	refusedFrom string
	sizeLimit   int
	tls         *tls.Config
	logFile     string
	stored      func(t *testing.T, rcpt, token string) [][]byte // messages holding token, as stored
	// traceFields matches the header fields the server adds on delivery.
	traceFields *regexp.Regexp
	// lf tells that the store keeps LF line ends (Maildir as Postfix writes it).
	lf bool
}

func atoi(t *testing.T, env map[string]string, k string) int {
	t.Helper()
	n, err := strconv.Atoi(env[k])
	require.NoError(t, err, "%s=%q", k, env[k])
	return n
}

func caConfig(t *testing.T, env map[string]string) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(env["SERVERS_CA"])
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pem), "CA file %s", env["SERVERS_CA"])
	return &tls.Config{RootCAs: pool, ServerName: env["SERVERS_TLS_NAME"]}
}

func servers(t *testing.T) []mailServer {
	env := serversEnv(t)
	tlsCfg := caConfig(t, env)
	postfix := mailServer{
		name: "postfix", host: env["SERVERS_HOST"],
		port: atoi(t, env, "POSTFIX_SUBMISSION_PORT"), smtpsPort: atoi(t, env, "POSTFIX_SMTPS_PORT"),
		user: env["POSTFIX_USER"], pass: env["POSTFIX_PASSWORD"],
		ok: strings.Split(env["POSTFIX_OK_RCPTS"], ","), utf8Rcpt: env["POSTFIX_UTF8_RCPT"],
		refusedRcpt: env["POSTFIX_REFUSED_RCPT"], refusedFrom: env["POSTFIX_REFUSED_SENDER"],
		sizeLimit: atoi(t, env, "POSTFIX_SIZE_LIMIT"), tls: tlsCfg, logFile: env["POSTFIX_LOG"],
		traceFields: regexp.MustCompile(`(?i)^(Return-Path|Received|Delivered-To|X-Original-To):`),
		lf:          true,
	}
	root := env["POSTFIX_MAILDIR"]
	postfix.stored = func(t *testing.T, rcpt, token string) [][]byte {
		local, domain, _ := strings.Cut(rcpt, "@")
		return maildirFind(t, filepath.Join(root, domain, local), token)
	}
	aio := mailServer{
		name: "aiosmtpd", host: env["SERVERS_HOST"],
		port: atoi(t, env, "AIOSMTPD_PORT"), smtpsPort: atoi(t, env, "AIOSMTPD_SMTPS_PORT"),
		user: env["AIOSMTPD_USER"], pass: env["AIOSMTPD_PASSWORD"],
		ok:          []string{"alice@example.com", "bob@example.com", "carol@example.com"},
		utf8Rcpt:    "jösé@example.com",
		refusedRcpt: env["AIOSMTPD_REFUSED_RCPT"], refusedFrom: env["AIOSMTPD_REFUSED_SENDER"],
		sizeLimit: atoi(t, env, "AIOSMTPD_SIZE_LIMIT"), tls: tlsCfg, logFile: env["AIOSMTPD_LOG"],
		traceFields: regexp.MustCompile(`^$`), // aiosmtpd stores the data as received
	}
	aioDir := env["AIOSMTPD_MAILDIR"]
	aio.stored = func(t *testing.T, rcpt, token string) [][]byte {
		return aiosmtpdFind(t, aioDir, rcpt, token)
	}
	return []mailServer{postfix, aio}
}

// maildirFind returns the messages under dir's new/ and cur/ that hold token.
func maildirFind(t *testing.T, dir, token string) [][]byte {
	t.Helper()
	var out [][]byte
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return filepath.SkipDir
			}
			return err
		}
		if d := filepath.Base(filepath.Dir(path)); e.Type().IsRegular() && (d == "new" || d == "cur") {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if bytes.Contains(b, []byte(token)) {
				out = append(out, b)
			}
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

// aiosmtpdFind returns the messages aiosmtpd saved for rcpt that hold token.
func aiosmtpdFind(t *testing.T, dir, rcpt, token string) [][]byte {
	t.Helper()
	metas, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	var out [][]byte
	for _, m := range metas {
		var meta struct {
			RcptTos []string `json:"rcpt_tos"`
		}
		b, err := os.ReadFile(m)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(b, &meta))
		found := false
		for _, r := range meta.RcptTos {
			found = found || r == rcpt
		}
		if !found {
			continue
		}
		data, err := os.ReadFile(strings.TrimSuffix(m, ".json") + ".eml")
		require.NoError(t, err)
		if bytes.Contains(data, []byte(token)) {
			out = append(out, data)
		}
	}
	return out
}

// waitStored polls the store until a message for rcpt holding token
// arrives: delivery after the server's 250 is asynchronous for Postfix.
func (m mailServer) waitStored(t *testing.T, rcpt, token string) []byte {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if got := m.stored(t, rcpt, token); len(got) > 0 {
			require.Len(t, got, 1, "one copy for %s", rcpt)
			return got[0]
		}
		if time.Now().After(deadline) {
			if b, err := os.ReadFile(m.logFile); err == nil && len(b) > 4000 {
				t.Logf("end of %s:\n%s", m.logFile, b[len(b)-4000:])
			}
			require.FailNow(t, "message not delivered", "%s for %s", token, rcpt)
		}
		time.Sleep(50 * time.Millisecond) // polling a mail store, not synchronising goroutines
	}
}

// assertStored checks that stored is sent, byte for byte, after the trace
// fields the server adds.
func (m mailServer) assertStored(t *testing.T, stored, sent []byte) {
	t.Helper()
	if m.lf {
		sent = bytes.ReplaceAll(sent, []byte("\r\n"), []byte("\n"))
	}
	require.True(t, bytes.HasSuffix(stored, sent), "%s stores the message as sent:\n%q\nvs sent\n%q", m.name, head(stored), head(sent))
	added := string(stored[:len(stored)-len(sent)])
	for _, line := range strings.SplitAfter(added, "\n") {
		if line == "" || line[0] == ' ' || line[0] == '\t' {
			continue
		}
		assert.Regexp(t, m.traceFields, line, "%s adds only trace fields", m.name)
	}
}

func head(b []byte) []byte {
	if len(b) > 600 {
		return b[:600]
	}
	return b
}

func token(t *testing.T) string {
	return fmt.Sprintf("tok%d%s", time.Now().UnixNano(), strings.ReplaceAll(t.Name(), "/", "-"))
}

func message(from, to, subject, tok string, body string) []byte {
	return []byte("From: " + from + "\r\nTo: " + to + "\r\nSubject: " + subject +
		"\r\nDate: Wed, 25 Nov 2026 12:00:00 +0000\r\nMessage-ID: <" + tok + "@smtplib.test>\r\n\r\n" +
		"Token " + tok + "\r\n" + body)
}

// dial connects with STARTTLS, the certificate checked through the CA file.
func (m mailServer) dial(t *testing.T) *smtplib.SMTP {
	t.Helper()
	s, err := smtplib.Dial(m.host, m.port, smtplib.WithTimeout(30*time.Second), smtplib.WithLocalHostname("client.example"))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	_, err = s.StartTLS(m.tls)
	require.NoError(t, err)
	return s
}

// login connects with STARTTLS and logs in as the test user.
func (m mailServer) login(t *testing.T) *smtplib.SMTP {
	t.Helper()
	s := m.dial(t)
	_, err := s.Login(m.user, m.pass)
	require.NoError(t, err)
	return s
}

func TestServersEHLO(t *testing.T) {
	for _, m := range servers(t) {
		t.Run(m.name, func(t *testing.T) {
			s, err := smtplib.Dial(m.host, m.port, smtplib.WithTimeout(10*time.Second))
			require.NoError(t, err)
			defer s.Close()
			r, err := s.Ehlo("")
			require.NoError(t, err)
			assert.Equal(t, 250, r.Code)
			assert.True(t, s.DoesESMTP)
			for _, ext := range []string{"starttls", "size", "8bitmime", "smtputf8"} {
				assert.True(t, s.HasExtn(ext), "%s offers %s: %v", m.name, ext, s.ESMTPFeatures)
			}
			assert.Equal(t, strconv.Itoa(m.sizeLimit), s.ESMTPFeatures["size"])
			if m.name == "postfix" {
				for _, ext := range []string{"pipelining", "chunking", "dsn", "enhancedstatuscodes"} {
					assert.True(t, s.HasExtn(ext), "postfix offers %s", ext)
				}
				assert.False(t, s.HasExtn("auth"), "no AUTH before TLS")
			}
			_, err = s.StartTLS(m.tls)
			require.NoError(t, err)
			assert.False(t, s.DoesESMTP, "STARTTLS forgets the EHLO")
			require.NoError(t, s.EhloOrHeloIfNeeded())
			assert.True(t, s.HasExtn("auth"), "%s offers AUTH under TLS: %v", m.name, s.ESMTPFeatures)
			assert.False(t, s.HasExtn("starttls"))
			_, err = s.Quit()
			assert.NoError(t, err)
		})
	}
}

func TestServersTLSVerified(t *testing.T) {
	for _, m := range servers(t) {
		t.Run(m.name, func(t *testing.T) {
			// Without the CA the certificate is refused.
			s, err := smtplib.Dial(m.host, m.port, smtplib.WithTimeout(10*time.Second))
			require.NoError(t, err)
			defer s.Close()
			_, err = s.StartTLS(&tls.Config{ServerName: "localhost"})
			var uerr x509.UnknownAuthorityError
			var cerr *tls.CertificateVerificationError
			assert.True(t, errors.As(err, &uerr) || errors.As(err, &cerr), "unknown CA refused: %v", err)

			// Implicit TLS, verified through the CA file.
			ss, err := smtplib.DialSSL(m.host, m.smtpsPort, smtplib.WithTLSConfig(m.tls), smtplib.WithTimeout(10*time.Second))
			require.NoError(t, err)
			defer ss.Close()
			r, err := ss.Login(m.user, m.pass)
			require.NoError(t, err)
			assert.Equal(t, 235, r.Code)
			_, err = ss.Quit()
			assert.NoError(t, err)
		})
	}
}

func TestServersLogin(t *testing.T) {
	for _, m := range servers(t) {
		t.Run(m.name, func(t *testing.T) {
			s := m.dial(t)
			require.NoError(t, s.EhloOrHeloIfNeeded())
			mechs := strings.Fields(strings.ToUpper(s.ESMTPFeatures["auth"]))
			s.Close()
			tried := 0
			for _, mech := range []string{"PLAIN", "LOGIN", "CRAM-MD5"} {
				if !contains(mechs, mech) {
					t.Logf("%s does not offer %s", m.name, mech)
					continue
				}
				tried++
				t.Run(mech, func(t *testing.T) {
					s := m.dial(t)
					require.NoError(t, s.EhloOrHeloIfNeeded())
					s.User, s.Password = m.user, smtplib.Secret(m.pass)
					r, err := s.Auth(mech, authObject(s, mech), true)
					require.NoError(t, err)
					assert.Equal(t, 235, r.Code)

					w := m.dial(t)
					require.NoError(t, w.EhloOrHeloIfNeeded())
					w.User, w.Password = m.user, smtplib.Secret(m.pass+"-wrong")
					_, err = w.Auth(mech, authObject(w, mech), true)
					var ae *smtplib.AuthenticationError
					require.True(t, errors.As(err, &ae), "wrong password: %v", err)
					assert.Equal(t, 535, ae.Code)
				})
			}
			assert.GreaterOrEqual(t, tried, 2, "%s offers at least PLAIN and LOGIN", m.name)
		})
	}
}

func TestServersSendmail(t *testing.T) {
	for _, m := range servers(t) {
		t.Run(m.name, func(t *testing.T) {
			s := m.login(t)
			tok := token(t)
			msg := message("Alice <"+m.user+">", m.ok[0]+", "+m.ok[1], "three recipients", tok,
				".a line with a leading period\r\nend\r\n")
			refused, err := s.Sendmail(m.user, []string{m.ok[0], m.refusedRcpt, m.ok[1]}, msg)
			require.NoError(t, err)
			require.Contains(t, refused, m.refusedRcpt)
			assert.Len(t, refused, 1)
			assert.Equal(t, 5, refused[m.refusedRcpt].Code/100)

			_, err = s.Sendmail(m.refusedFrom, []string{m.ok[0]}, msg)
			var se *smtplib.SenderRefusedError
			require.True(t, errors.As(err, &se), "refused sender: %v", err)
			assert.Equal(t, m.refusedFrom, se.Sender)
			_, err = s.Quit()
			require.NoError(t, err)
			for _, rcpt := range m.ok[:2] {
				m.assertStored(t, m.waitStored(t, rcpt, tok), msg)
			}
		})
	}
}

func TestServersSendMessage(t *testing.T) {
	for _, m := range servers(t) {
		t.Run(m.name, func(t *testing.T) {
			s := m.login(t)
			tok := token(t)
			raw := "From: Alice <" + m.user + ">\r\n" +
				"To: " + m.ok[0] + "\r\n" +
				"Bcc: " + m.ok[2] + "\r\n" +
				"Subject: =?utf-8?q?multipart_=C3=BC?=\r\n" +
				"Date: Wed, 25 Nov 2026 12:00:00 +0000\r\n" +
				"Message-ID: <" + tok + "@smtplib.test>\r\n" +
				"MIME-Version: 1.0\r\n" +
				"Content-Type: multipart/mixed; boundary=\"b1\"\r\n" +
				"\r\n" +
				"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nToken " + tok + "\r\n" +
				"--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQFBgcICQ==\r\n" +
				"--b1--\r\n"
			msg, err := email.ReadMessage(strings.NewReader(raw))
			require.NoError(t, err)
			refused, err := s.SendMessage(msg)
			require.NoError(t, err)
			assert.Empty(t, refused)
			assert.Equal(t, m.ok[2], msg.Get("Bcc"), "the caller's message keeps its Bcc")
			_, err = s.Quit()
			require.NoError(t, err)
			sent := strings.Replace(raw, "Bcc: "+m.ok[2]+"\r\n", "", 1)
			for _, rcpt := range []string{m.ok[0], m.ok[2]} {
				stored := m.waitStored(t, rcpt, tok)
				m.assertStored(t, stored, []byte(sent))
				assert.NotContains(t, string(stored), "Bcc:")
			}
		})
	}
}

func TestServersSMTPUTF8(t *testing.T) {
	for _, m := range servers(t) {
		t.Run(m.name, func(t *testing.T) {
			s := m.login(t)
			tok := token(t)
			msg := message(m.user, m.utf8Rcpt, "unicode", tok, "Grüße\r\n")
			refused, err := s.Sendmail(m.user, []string{m.utf8Rcpt}, msg, smtplib.MailOptions("SMTPUTF8", "BODY=8BITMIME"))
			require.NoError(t, err)
			assert.Empty(t, refused)
			_, err = s.Quit()
			require.NoError(t, err)
			m.assertStored(t, m.waitStored(t, m.utf8Rcpt, tok), msg)
		})
	}
}

func TestServersSize(t *testing.T) {
	for _, m := range servers(t) {
		t.Run(m.name, func(t *testing.T) {
			s := m.login(t)

			tok := token(t)
			line := strings.Repeat("0123456789", 9) + "\r\n"
			var big strings.Builder
			for big.Len() < 20<<20 {
				big.WriteString(line)
			}
			msg := message(m.user, m.ok[0], "twenty megabytes", tok, big.String())
			refused, err := s.Sendmail(m.user, []string{m.ok[0]}, msg)
			require.NoError(t, err)
			assert.Empty(t, refused)

			over := bytes.Repeat([]byte(line), m.sizeLimit/len(line)+10)
			_, err = s.SendmailReader(m.user, []string{m.ok[0]}, bytes.NewReader(over))
			var re *smtplib.ResponseError
			require.True(t, errors.As(err, &re), "over the limit: %v", err)
			assert.Equal(t, 552, re.Code)
			_, err = s.Quit()
			require.NoError(t, err)
			m.assertStored(t, m.waitStored(t, m.ok[0], tok), msg)
		})
	}
}

// authObject is smtplib's auth_plain, auth_login or auth_cram_md5 for mech.
func authObject(s *smtplib.SMTP, mech string) sasl.Client {
	switch mech {
	case "PLAIN":
		return s.AuthPlain()
	case "LOGIN":
		return s.AuthLogin()
	}
	return s.AuthCramMD5()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
