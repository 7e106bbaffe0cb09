package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

// oauthSubmission is a submission server that takes OAuth 2.0 tokens:
// alice@example.com's is ya29.alice.
func oauthSubmission(t *testing.T) *smtptest.Server {
	return smtptest.NewServer(t, smtptest.WithSTARTTLS(), smtptest.WithAuthRequiresTLS(),
		smtptest.WithOAuth("https://mail.example/smtp", map[string]string{"alice@example.com": "ya29.alice"}))
}

func TestSendOAuth2TokenCmd(t *testing.T) {
	srv := oauthSubmission(t)
	runs := filepath.Join(t.TempDir(), "runs")
	h := newHarness()
	h.env["SMTP_PASSWORD"] = "not used" // a token login asks for no password
	// The command counts its runs, says something on stderr, and prints
	// the token with a final newline, as gcloud does.
	cmd := "echo run >>" + runs + "; echo 'token fetched' >&2; echo ya29.alice"
	r := h.run(t, sendArgs(srv, "--starttls", "--cafile", caFile(t, srv),
		"--user", "alice@example.com", "--oauth2-token-cmd", cmd)...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "token fetched\n", r.stderr, "the command's stderr is shown")
	got, _ := received(t, srv)
	assert.True(t, got.TLS)
	assert.Equal(t, "alice@example.com", got.AuthUser)
	assert.Contains(t, srv.Transcript(), "AUTH OAUTHBEARER")
	b, err := os.ReadFile(runs)
	require.NoError(t, err)
	assert.Equal(t, "run\n", string(b), "run once, for the one login")
}

func TestSendOAuth2TokenCmdFails(t *testing.T) {
	tests := []struct {
		name   string
		cmd    string
		code   int
		stderr []string // in stderr
	}{
		{"token refused", "echo ya29.stale", exitRefused,
			[]string{"smtp: login as alice@example.com: authentication failed: 535 5.7.8 Authentication credentials invalid " +
				"(token status invalid_token, scope https://mail.example/smtp): the token is expired, revoked or not for this user"}},
		{"command fails", "echo 'not logged in' >&2; exit 3", exitUsage,
			[]string{"not logged in\n", `--oauth2-token-cmd "echo 'not logged in' >&2; exit 3" failed: exit status 3`}},
		{"prints nothing", "true", exitUsage, []string{`--oauth2-token-cmd "true" printed no token`}},
		{"prints more than a token", "printf 'ya29.%s\\nya29.%s\\n' alice other", exitUsage,
			[]string{"printed more than a token: spaces, line breaks or control characters"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := oauthSubmission(t)
			r := run1(t, sendArgs(srv, "--starttls", "--cafile", caFile(t, srv),
				"--user", "alice@example.com", "--oauth2-token-cmd", tt.cmd)...)
			assert.Equal(t, tt.code, r.code, r.stderr)
			for _, s := range tt.stderr {
				assert.Contains(t, r.stderr, s)
			}
			assert.NotContains(t, r.stderr, "ya29.alice", "a token is never shown")
			assert.Empty(t, srv.Messages())
		})
	}
}

func TestSendOAuth2TokenCmdFlags(t *testing.T) {
	tests := []struct {
		args   []string
		stderr string
	}{
		{[]string{"--oauth2-token-cmd", "echo t"}, "--oauth2-token-cmd needs --user: say which mailbox logs in"},
		{[]string{"--user", "alice@example.com", "--oauth2-token-cmd", "echo t", "--password-file", "pw"},
			"--oauth2-token-cmd logs in with a token, not a password: drop --password-file and -ap"},
		{[]string{"--user", "alice@example.com", "--oauth2-token-cmd", "echo t", "-ap"},
			"--oauth2-token-cmd logs in with a token, not a password: drop --password-file and -ap"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := run1(t, append([]string{"send", "--from", "a@example.com", "--to", "b@example.org"}, tt.args...)...)
			assert.Equal(t, exitUsage, r.code)
			assert.Contains(t, r.stderr, tt.stderr)
		})
	}
	r := run1(t, "help", "send")
	assert.Contains(t, r.stdout+r.stderr, "-oauth2-token-cmd command")
	assert.Contains(t, r.stdout+r.stderr, `"gcloud auth print-access-token"`)
}
