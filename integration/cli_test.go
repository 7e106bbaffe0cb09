// The command-line tool (cmd/smtp) against the real Postfix: the binary
// is built once and run as a user runs it.

package integration

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cliRun is one run of the binary.
type cliRun struct {
	code           int
	stdout, stderr string
}

// buildCLI builds cmd/smtp into a temporary directory.
func buildCLI(t *testing.T) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	require.NoError(t, err, "the go command builds the binary under test")
	bin := filepath.Join(t.TempDir(), "smtp")
	out, err := exec.Command(gobin, "build", "-o", bin, "../cmd/smtp").CombinedOutput()
	require.NoError(t, err, "go build ../cmd/smtp: %s", out)
	return bin
}

// runCLI runs bin with args and the environment plus env.
func runCLI(t *testing.T, bin string, env []string, args ...string) cliRun {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return cliRun{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func TestCLIPostfix(t *testing.T) {
	env := serversEnv(t)
	postfix := servers(t)[0]
	require.Equal(t, "postfix", postfix.name)
	bin := buildCLI(t)
	host := env["SERVERS_HOST"]
	submission := host + ":" + env["POSTFIX_SUBMISSION_PORT"]
	smtps := host + ":" + env["POSTFIX_SMTPS_PORT"]
	trust := []string{"--cafile", env["SERVERS_CA"], "--servername", env["SERVERS_TLS_NAME"]}

	t.Run("probe STARTTLS", func(t *testing.T) {
		r := runCLI(t, bin, nil, append([]string{"probe", "--json", submission}, trust...)...)
		require.Equal(t, 0, r.code, r.stderr)
		var rep struct {
			TLSMode string `json:"tls_mode"`
			Steps   []struct{ Step string }
			EHLO    struct {
				Extensions []struct{ Keyword, Params string }
			}
			EHLOTLS struct {
				Extensions []struct{ Keyword, Params string }
			} `json:"ehlo_tls"`
			TLS struct {
				Version  string
				Verified bool
				Name     string
				Chain    []struct{ Names []string }
			}
			SizeLimit int64 `json:"size_limit"`
		}
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), r.stdout)
		assert.Equal(t, "starttls", rep.TLSMode)
		keywords := func(exts []struct{ Keyword, Params string }) map[string]string {
			m := map[string]string{}
			for _, e := range exts {
				m[e.Keyword] = e.Params
			}
			return m
		}
		before, after := keywords(rep.EHLO.Extensions), keywords(rep.EHLOTLS.Extensions)
		assert.Contains(t, before, "STARTTLS")
		assert.NotContains(t, before, "AUTH", "Postfix offers AUTH only over TLS here")
		assert.Equal(t, "PLAIN LOGIN CRAM-MD5", after["AUTH"])
		assert.NotContains(t, after, "STARTTLS")
		assert.True(t, rep.TLS.Verified)
		assert.Equal(t, "localhost", rep.TLS.Name)
		assert.Contains(t, []string{"TLS 1.2", "TLS 1.3"}, rep.TLS.Version)
		require.NotEmpty(t, rep.TLS.Chain)
		assert.Contains(t, rep.TLS.Chain[0].Names, "localhost")
		assert.Equal(t, int64(postfix.sizeLimit), rep.SizeLimit)
		var steps []string
		for _, s := range rep.Steps {
			steps = append(steps, s.Step)
		}
		assert.Equal(t, []string{"dial", "greeting", "ehlo", "starttls", "ehlo_tls", "quit"}, steps)
	})

	t.Run("probe implicit TLS", func(t *testing.T) {
		r := runCLI(t, bin, nil, append([]string{"probe", "--tls", smtps}, trust...)...)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stdout, "(implicit TLS)\n")
		assert.Contains(t, r.stdout, "\nverified    yes, for localhost\n")
		assert.Contains(t, r.stdout, "\nsize limit  "+strconv.Itoa(postfix.sizeLimit)+" bytes")
	})

	t.Run("probe without the CA", func(t *testing.T) {
		r := runCLI(t, bin, nil, "probe", submission)
		assert.Equal(t, 78, r.code)
		assert.Contains(t, r.stdout, "\nverified    NO, for "+host+": ")
		assert.Contains(t, r.stdout, "\nEHLO (TLS)  250 ", "the probe goes on after the failed verification")
		assert.True(t, strings.HasPrefix(r.stderr, "smtp: the certificate does not verify for "+host+": "), r.stderr)
	})

	send := func(t *testing.T, password string, more ...string) cliRun {
		args := append([]string{"send", "--server", submission, "--starttls", "--user", postfix.user,
			"--ehlo", "client.example", "--from", postfix.user}, trust...)
		return runCLI(t, bin, []string{"SMTP_PASSWORD=" + password}, append(args, more...)...)
	}

	t.Run("send --starttls --user", func(t *testing.T) {
		tok := token(t)
		r := send(t, postfix.pass, "--to", postfix.ok[1], "--to", postfix.ok[2], "--subject", tok,
			"--body", "Token "+tok+"\nfrom the command line\n")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Empty(t, r.stderr)
		assert.Regexp(t, `^sent \d+ bytes to .* for 2 of 2 recipients: 250 2\.0\.0 Ok: (\d+ bytes )?queued as \w+\n$`, r.stdout)
		for _, rcpt := range postfix.ok[1:3] {
			stored := string(postfix.waitStored(t, rcpt, tok))
			assert.Contains(t, stored, "\nSubject: "+tok+"\n")
			assert.Contains(t, stored, "with ESMTPSA", "over TLS, authenticated")
			assert.True(t, strings.HasSuffix(stored, "\n\nToken "+tok+"\nfrom the command line\n"), stored)
		}
	})

	t.Run("send --html --attach", func(t *testing.T) {
		tok := token(t)
		file := filepath.Join(t.TempDir(), "report.pdf")
		require.NoError(t, os.WriteFile(file, []byte("%PDF-1.4 "+tok), 0o600))
		r := send(t, postfix.pass, "--to", postfix.ok[0], "--subject", tok, "--body", "See the report.",
			"--html", "<p>See the <b>report</b>.</p>", "--attach", file)
		require.Equal(t, 0, r.code, r.stderr)
		stored := string(postfix.waitStored(t, postfix.ok[0], tok))
		assert.Contains(t, stored, "Content-Type: multipart/mixed")
		assert.Contains(t, stored, "Content-Type: multipart/alternative")
		assert.Contains(t, stored, "Content-Type: text/html")
		assert.Regexp(t, `\nContent-Disposition: attachment; filename="?report\.pdf"?\n`, stored)
	})

	t.Run("send with a refused recipient", func(t *testing.T) {
		tok := token(t)
		r := send(t, postfix.pass, "--to", postfix.ok[0], "--to", postfix.refusedRcpt, "--subject", tok, "--body", tok)
		assert.Equal(t, 79, r.code, "partial delivery")
		assert.Equal(t, "smtp: 1 of 2 recipients refused; the message was sent to the others\n"+
			"smtp: refused "+postfix.refusedRcpt+": 550 5.1.1 <"+postfix.refusedRcpt+
			">: Recipient address rejected: recipient refused by test policy\n", r.stderr)
		postfix.waitStored(t, postfix.ok[0], tok)
	})

	t.Run("send with a wrong password", func(t *testing.T) {
		r := send(t, "not-the-password", "--to", postfix.ok[0], "--body", "x")
		assert.Equal(t, 69, r.code)
		assert.True(t, strings.HasPrefix(r.stderr, "smtp: login as "+postfix.user+": authentication failed: 535 5.7.8 "), r.stderr)
	})

	t.Run("send --eml to aiosmtpd, byte for byte", func(t *testing.T) {
		aio := servers(t)[1]
		require.Equal(t, "aiosmtpd", aio.name)
		tok := token(t)
		eml := message(aio.user, aio.ok[1], "ready-made", tok, "line one\r\n.leading dot\r\n")
		file := filepath.Join(t.TempDir(), "m.eml")
		require.NoError(t, os.WriteFile(file, append([]byte("Bcc: "+aio.ok[2]+"\r\n"), eml...), 0o600))
		r := runCLI(t, bin, []string{"SMTP_PASSWORD=" + aio.pass}, append([]string{"send",
			"--server", host + ":" + strconv.Itoa(aio.port), "--starttls", "--user", aio.user, "--eml", file}, trust...)...)
		require.Equal(t, 0, r.code, r.stderr)
		// The envelope came from the header, Bcc included; the field
		// itself was not sent.
		for _, rcpt := range aio.ok[1:3] {
			assert.Equal(t, string(eml), string(aio.waitStored(t, rcpt, tok)))
		}
	})
}
