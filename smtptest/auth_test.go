package smtptest_test

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

var users = map[string]string{"alice": "secret", "bob@example.com": "ya29.token"}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

const (
	authOK     = "235 2.7.0 Authentication successful"
	authFailed = "535 5.7.8 Authentication credentials invalid"
	askUser    = "334 VXNlcm5hbWU6"
	askPass    = "334 UGFzc3dvcmQ6"
)

var xoauthError = "334 " + b64(`{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}`)

func TestAuth(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
		user  string // authenticated identity afterwards, "" for none
	}{
		{"plain initial", []step{{"AUTH PLAIN " + b64("\x00alice\x00secret") + "\r\n", authOK}}, "alice"},
		{"plain initial, authzid", []step{{"AUTH PLAIN " + b64("alice\x00alice\x00secret") + "\r\n", authOK}}, "alice"},
		{"plain initial, lower-case mechanism", []step{{"auth plain " + b64("\x00alice\x00secret") + "\r\n", authOK}}, "alice"},
		{"plain wrong password", []step{{"AUTH PLAIN " + b64("\x00alice\x00wrong") + "\r\n", authFailed}}, ""},
		{"plain unknown user", []step{{"AUTH PLAIN " + b64("\x00carol\x00secret") + "\r\n", authFailed}}, ""},
		{"plain other authzid", []step{{"AUTH PLAIN " + b64("root\x00alice\x00secret") + "\r\n", authFailed}}, ""},
		{"plain malformed", []step{{"AUTH PLAIN " + b64("alice secret") + "\r\n", authFailed}}, ""},
		{"plain empty initial", []step{{"AUTH PLAIN =\r\n", authFailed}}, ""},
		{"plain challenge", []step{{"AUTH PLAIN\r\n", "334 "}, {b64("\x00alice\x00secret") + "\r\n", authOK}}, "alice"},
		{"plain cancelled", []step{{"AUTH PLAIN\r\n", "334 "}, {"*\r\n", "501 5.7.0 Authentication cancelled"}}, ""},
		{"plain undecodable", []step{{"AUTH PLAIN\r\n", "334 "}, {"!!!\r\n", "501 5.5.2 Cannot decode response"}}, ""},
		{"undecodable initial", []step{{"AUTH PLAIN !!!\r\n", "501 5.5.2 Cannot decode response"}}, ""},
		{"login", []step{{"AUTH LOGIN\r\n", askUser}, {b64("alice") + "\r\n", askPass},
			{b64("secret") + "\r\n", authOK}}, "alice"},
		{"login initial user", []step{{"AUTH LOGIN " + b64("alice") + "\r\n", askPass},
			{b64("secret") + "\r\n", authOK}}, "alice"},
		{"login wrong password", []step{{"AUTH LOGIN\r\n", askUser}, {b64("alice") + "\r\n", askPass},
			{b64("nope") + "\r\n", authFailed}}, ""},
		{"login cancelled", []step{{"AUTH LOGIN\r\n", askUser}, {"*\r\n", "501 5.7.0 Authentication cancelled"}}, ""},
		{"xoauth2", []step{{"AUTH XOAUTH2 " + b64("user=bob@example.com\x01auth=Bearer ya29.token\x01\x01") + "\r\n", authOK}}, "bob@example.com"},
		{"xoauth2 challenge", []step{{"AUTH XOAUTH2\r\n", "334 "},
			{b64("user=bob@example.com\x01auth=Bearer ya29.token\x01\x01") + "\r\n", authOK}}, "bob@example.com"},
		{"xoauth2 wrong token", []step{{"AUTH XOAUTH2 " + b64("user=bob@example.com\x01auth=Bearer expired\x01\x01") + "\r\n", xoauthError},
			{"\r\n", "535 5.7.8 Username and Password not accepted"}}, ""},
		{"cram-md5 initial response", []step{{"AUTH CRAM-MD5 " + b64("alice x") + "\r\n", "501 5.5.4 CRAM-MD5 takes no initial response"}}, ""},
		{"unknown mechanism", []step{{"AUTH GSSAPI\r\n", "504 5.5.4 Unrecognized authentication type"}}, ""},
		{"no mechanism", []step{{"AUTH\r\n", "501 5.5.4 Syntax: AUTH mechanism"}}, ""},
		{"twice", []step{{"AUTH PLAIN " + b64("\x00alice\x00secret") + "\r\n", authOK},
			{"AUTH PLAIN " + b64("\x00alice\x00secret") + "\r\n", "503 5.5.1 Error: already authenticated"}}, "alice"},
		{"retry after failure", []step{{"AUTH PLAIN " + b64("\x00alice\x00x") + "\r\n", authFailed},
			{"AUTH PLAIN " + b64("\x00alice\x00secret") + "\r\n", authOK}}, "alice"},
		{"during a transaction", []step{{"MAIL FROM:<a@example.com>\r\n", mailOK},
			{"AUTH PLAIN " + b64("\x00alice\x00secret") + "\r\n", "503 5.5.1 Error: MAIL transaction in progress"}}, ""},
		{"too long a response", []step{{"AUTH PLAIN\r\n", "334 "},
			{strings.Repeat("A", 13000) + "\r\n", "500 5.5.6 Authentication exchange line is too long"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := smtptest.NewServer(t, smtptest.WithAuth(), smtptest.WithUsers(users))
			c := dialGreeted(t, s)
			c.run(tt.steps)
			assert.Equal(t, "250 2.0.0 Ok", c.cmd("NOOP"), "the session goes on")
			assert.Equal(t, tt.user, s.Sessions()[0].AuthUser)
		})
	}
}

func TestAuthCramMD5(t *testing.T) {
	for _, tt := range []struct {
		password, want, user string
	}{
		{"secret", authOK, "alice"},
		{"wrong", authFailed, ""},
	} {
		t.Run(tt.password, func(t *testing.T) {
			s := smtptest.NewServer(t, smtptest.WithHostname("mx.test"), smtptest.WithAuth("CRAM-MD5"), smtptest.WithUsers(users))
			c := dialGreeted(t, s)
			r := c.cmd("AUTH CRAM-MD5")
			require.True(t, strings.HasPrefix(r, "334 "), r)
			challenge, err := base64.StdEncoding.DecodeString(r[4:])
			require.NoError(t, err)
			assert.Regexp(t, `^<\d+\.\d+@mx\.test>$`, string(challenge))
			mac := hmac.New(md5.New, []byte(tt.password))
			mac.Write(challenge)
			assert.Equal(t, tt.want, c.cmd(b64("alice "+hex.EncodeToString(mac.Sum(nil)))))
			assert.Equal(t, tt.user, s.Sessions()[0].AuthUser)
		})
	}
}

func TestAuthMechanismsOffered(t *testing.T) {
	tests := []struct {
		name string
		opts []smtptest.Option
		cmd  string
		want string
	}{
		{"not offered", []smtptest.Option{smtptest.WithAuth("PLAIN")}, "AUTH LOGIN", "504 5.5.4 Unrecognized authentication type"},
		{"offered but not implemented", []smtptest.Option{smtptest.WithAuth("GSSAPI")}, "AUTH GSSAPI", "504 5.5.4 Unrecognized authentication type"},
		{"old spelling", []smtptest.Option{smtptest.WithExtensions("AUTH=LOGIN")}, "AUTH LOGIN", askUser},
		{"requires TLS", []smtptest.Option{smtptest.WithAuth(), smtptest.WithAuthRequiresTLS()}, "AUTH PLAIN " + b64("\x00alice\x00secret"),
			"538 5.7.11 Encryption required for requested authentication mechanism"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := smtptest.NewServer(t, append(tt.opts, smtptest.WithUsers(users))...)
			c := dialGreeted(t, s)
			assert.Equal(t, tt.want, c.cmd(tt.cmd))
		})
	}
}

func TestAuthBeforeEHLO(t *testing.T) {
	s := smtptest.NewServer(t, smtptest.WithAuth())
	c := dial(t, s)
	c.reply()
	assert.Equal(t, "503 5.5.1 Error: send HELO/EHLO first", c.cmd("AUTH PLAIN "+b64("\x00alice\x00secret")))
}

func TestAuthOverSTARTTLS(t *testing.T) {
	s := smtptest.NewServer(t, smtptest.WithSTARTTLS(), smtptest.WithAuth("PLAIN"),
		smtptest.WithAuthRequiresTLS(), smtptest.WithUsers(users))
	c := dialGreeted(t, s)
	plain := "AUTH PLAIN " + b64("\x00alice\x00secret")
	assert.Equal(t, "538 5.7.11 Encryption required for requested authentication mechanism", c.cmd(plain))
	require.Equal(t, "220 2.0.0 Ready to start TLS", c.cmd("STARTTLS"))
	require.NoError(t, c.starttls(s, "localhost"))
	c.cmd("EHLO c")
	assert.Equal(t, authOK, c.cmd(plain))
	assert.Equal(t, queued1, c.sendMail("alice@example.com", []string{"b@example.com"}, "x\r\n"))
	msgs := s.Messages()
	require.Len(t, msgs, 1)
	assert.Equal(t, "alice", msgs[0].AuthUser)
	assert.True(t, msgs[0].TLS)
	assert.Equal(t, "alice", s.Sessions()[0].AuthUser)
}

func TestScriptedAuth(t *testing.T) {
	s := smtptest.NewServer(t, smtptest.WithAuth(), smtptest.WithReplies("AUTH", "454 4.7.0 Temporary failure", "235 ok"))
	c := dialGreeted(t, s)
	assert.Equal(t, "454 4.7.0 Temporary failure", c.cmd("AUTH PLAIN x"))
	assert.Equal(t, "235 ok", c.cmd("AUTH PLAIN x"))
	assert.Equal(t, "503 5.5.1 Error: already authenticated", c.cmd("AUTH PLAIN x"))
}
