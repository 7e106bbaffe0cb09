package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

// submission is a server like a submission port: STARTTLS, and AUTH only
// over TLS, for alice with the password "s3cret".
func submission(t *testing.T, more ...smtptest.Option) *smtptest.Server {
	return smtptest.NewServer(t, append([]smtptest.Option{
		smtptest.WithSTARTTLS(), smtptest.WithAuth("PLAIN", "LOGIN"), smtptest.WithAuthRequiresTLS(),
		smtptest.WithUsers(map[string]string{"alice": "s3cret"}),
	}, more...)...)
}

func TestSendSTARTTLSLogin(t *testing.T) {
	srv := submission(t)
	passwordFile := writeFile(t, "pw", "s3cret\n")
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		terminal bool
		typed    string
		stderr   string
	}{
		{name: "SMTP_PASSWORD", env: map[string]string{"SMTP_PASSWORD": "s3cret"}},
		{name: "password file", args: []string{"--password-file", passwordFile}},
		{name: "prompt", terminal: true, typed: "s3cret", stderr: "Password for alice: \n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness()
			for k, v := range tt.env {
				h.env[k] = v
			}
			h.terminal, h.typed = tt.terminal, tt.typed
			n := len(srv.Messages())
			r := h.run(t, sendArgs(srv, append([]string{"--starttls", "--user", "alice", "--cafile", caFile(t, srv)}, tt.args...)...)...)
			require.Equal(t, 0, r.code, r.stderr)
			assert.Equal(t, tt.stderr, r.stderr)
			msgs := srv.Messages()
			require.Len(t, msgs, n+1)
			assert.True(t, msgs[n].TLS)
			assert.Equal(t, "alice", msgs[n].AuthUser)
		})
	}
}

func TestSendImplicitTLS(t *testing.T) {
	srv := smtptest.NewUnstartedServer(t, smtptest.WithAuth("PLAIN"), smtptest.WithUsers(map[string]string{"alice": "s3cret"}))
	srv.StartTLS()
	h := newHarness()
	h.env["SMTP_PASSWORD"] = "s3cret"
	r := h.run(t, sendArgs(srv, "--tls", "--user", "alice", "--cafile", caFile(t, srv))...)
	require.Equal(t, 0, r.code, r.stderr)
	got, _ := received(t, srv)
	assert.True(t, got.TLS)
	assert.Equal(t, "alice", got.AuthUser)
}

func TestSendDebugRedactsPassword(t *testing.T) {
	srv := submission(t)
	h := newHarness()
	h.env["SMTP_PASSWORD"] = "s3cret"
	r := h.run(t, sendArgs(srv, "--starttls", "--user", "alice", "--cafile", caFile(t, srv), "--debug")...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "send: 'STARTTLS\\r\\n'\n")
	assert.Contains(t, r.stderr, "<redacted>")
	assert.Contains(t, r.stderr, "send: 'quit\\r\\n'\n")
	assert.NotContains(t, r.stderr, "s3cret")
	assert.NotContains(t, r.stderr, "czNjcmV0") // base64 of the password, in case
}

func TestSendTLSAndLoginFailures(t *testing.T) {
	tests := []struct {
		name   string
		srv    func(t *testing.T) *smtptest.Server
		args   []string
		code   int
		stderr string
	}{
		{"certificate not trusted", func(t *testing.T) *smtptest.Server { return submission(t) },
			[]string{"--starttls"}, exitTLS,
			"STARTTLS: certificate check failed: x509: certificate signed by unknown authority (trust its CA with --cafile)"},
		{"certificate for another name", func(t *testing.T) *smtptest.Server { return submission(t) },
			[]string{"--starttls", "--servername", "mail.example.org", "--cafile", ""}, exitTLS,
			"STARTTLS: certificate check failed: x509: certificate is valid for localhost, smtptest.example, not mail.example.org (--servername sets the name to check)"},
		{"STARTTLS not offered", func(t *testing.T) *smtptest.Server { return smtptest.NewServer(t) },
			[]string{"--starttls"}, exitTLS, "STARTTLS: STARTTLS extension not supported by server."},
		{"wrong password", func(t *testing.T) *smtptest.Server { return submission(t) },
			[]string{"--starttls", "--user", "alice", "--cafile", ""}, exitRefused,
			"login as alice: authentication failed: 535 5.7.8 "},
		{"AUTH only over TLS", func(t *testing.T) *smtptest.Server { return submission(t) },
			[]string{"--user", "alice"}, exitRefused,
			"login as alice: authentication failed: 538 5.7.11 "},
		{"AUTH not offered", func(t *testing.T) *smtptest.Server { return smtptest.NewServer(t) },
			[]string{"--user", "alice"}, exitRefused,
			"login as alice: SMTP AUTH extension not supported by server. (many servers offer AUTH only after STARTTLS: try --starttls)"},
		{"insecure skips the check", func(t *testing.T) *smtptest.Server { return submission(t) },
			[]string{"--starttls", "--insecure"}, exitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := tt.srv(t)
			args := append([]string{}, tt.args...)
			for i, a := range args {
				if a == "" && i > 0 && args[i-1] == "--cafile" {
					args[i] = caFile(t, srv)
				}
			}
			h := newHarness()
			h.env["SMTP_PASSWORD"] = "wrong"
			r := h.run(t, sendArgs(srv, args...)...)
			assert.Equal(t, tt.code, r.code, r.stderr)
			if tt.code == exitOK {
				assert.Empty(t, r.stderr)
				return
			}
			require.Equal(t, 1, strings.Count(r.stderr, "\n"), r.stderr)
			assert.True(t, strings.HasPrefix(r.stderr, "smtp: "+tt.stderr), r.stderr)
			assert.Empty(t, srv.Messages())
		})
	}
}
