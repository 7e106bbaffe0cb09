// Package integration tests the client against real mail servers: Postfix
// (submission with STARTTLS, implicit TLS, AUTH through Dovecot), Dovecot's
// LMTP, Dovecot's submission service checking OAuth 2.0 tokens with a
// local authorization server, and aiosmtpd, from Debian's packages, on
// loopback only, with private configuration in a temporary directory
// (testdata/servers).
//
// When SMTPLIB_SERVERS_ENV names the env file of servers already started
// with testdata/servers/start.sh, the tests use them. Otherwise TestMain
// starts them itself if it can (root, and the packages installed by
// testdata/servers/install.sh), and stops exactly what it started. Where it
// cannot, each test is skipped with the reason in one line, unless
// SMTPLIB_REQUIRE_SERVERS is set, as CI sets it, which makes that a failure.
package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// notRunning is why the servers are not there, "" when they are.
var notRunning string

func TestMain(m *testing.M) {
	stop := func() {}
	if os.Getenv("SMTPLIB_SERVERS_ENV") == "" {
		stop, notRunning = startServers()
	}
	code := m.Run()
	stop()
	os.Exit(code)
}

// startServers runs start.sh into a new directory, or says why it cannot.
func startServers() (stop func(), reason string) {
	nothing := func() {}
	if os.Geteuid() != 0 {
		return nothing, "the real servers need root to start (or set SMTPLIB_SERVERS_ENV to a running set's env file)"
	}
	for _, bin := range []string{"/usr/sbin/postfix", "/usr/sbin/dovecot", "/usr/lib/dovecot/lmtp", "/usr/lib/dovecot/submission"} {
		if _, err := os.Stat(bin); err != nil {
			return nothing, bin + " is not installed: run testdata/servers/install.sh"
		}
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import aiosmtpd").Run(); err != nil {
		return nothing, "python3-aiosmtpd is not installed: run testdata/servers/install.sh"
	}
	scripts, err := filepath.Abs("../testdata/servers")
	if err != nil {
		return nothing, err.Error()
	}
	// The servers' users must reach the directory, and the LMTP socket's
	// path must stay short: so /tmp, world-searchable.
	dir, err := os.MkdirTemp("/tmp", "smtplib-it-")
	if err != nil {
		return nothing, err.Error()
	}
	os.Chmod(dir, 0o755)
	out, err := exec.Command(filepath.Join(scripts, "start.sh"), dir).CombinedOutput()
	stop = func() {
		exec.Command(filepath.Join(scripts, "stop.sh"), dir).Run()
		os.RemoveAll(dir)
	}
	if err != nil {
		stop()
		return nothing, fmt.Sprintf("start.sh failed: %v: %s", err, out)
	}
	os.Setenv("SMTPLIB_SERVERS_ENV", filepath.Join(dir, "env"))
	return stop, ""
}

// skipUnlessServers skips (or, under SMTPLIB_REQUIRE_SERVERS, fails) a
// test when the servers are not there, saying why in one line.
func skipUnlessServers(t *testing.T) string {
	t.Helper()
	env := os.Getenv("SMTPLIB_SERVERS_ENV")
	if env != "" {
		return env
	}
	reason := notRunning
	if reason == "" {
		reason = "SMTPLIB_SERVERS_ENV is not set; run testdata/servers/start.sh DIR and set it to DIR/env"
	}
	if os.Getenv("SMTPLIB_REQUIRE_SERVERS") != "" {
		t.Fatal("real servers required but not running: " + reason)
	}
	t.Skip(reason)
	return ""
}
