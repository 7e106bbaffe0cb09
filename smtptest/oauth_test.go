package smtptest_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

var tokens = map[string]string{"bob@example.com": "ya29.good"}

// oauthServer offers both token mechanisms with the scope of the errors.
func oauthServer(t *testing.T, more ...smtptest.Option) *smtptest.Server {
	return smtptest.NewServer(t, append([]smtptest.Option{smtptest.WithOAuth("https://mail.example.com/", tokens)}, more...)...)
}

const invalidToken = `{"status":"invalid_token","scope":"https://mail.example.com/","schemes":"bearer"}`

// saslStart sends AUTH with the mechanism's initial response and returns
// the reply.
func (c *client) saslStart(cl sasl.Client) string {
	c.t.Helper()
	mech, ir, err := cl.Start()
	require.NoError(c.t, err)
	return c.cmd("AUTH " + mech + " " + base64.StdEncoding.EncodeToString(ir))
}

func TestOAuthBearer(t *testing.T) {
	tests := []struct {
		name     string
		opts     sasl.OAuthBearerOptions
		wantUser string
	}{
		{"user and token", sasl.OAuthBearerOptions{Username: "bob@example.com", Token: "ya29.good"}, "bob@example.com"},
		{"host and port too", sasl.OAuthBearerOptions{Username: "bob@example.com", Token: "ya29.good", Host: "mx.example.com", Port: 587}, "bob@example.com"},
		{"token alone names its user", sasl.OAuthBearerOptions{Token: "ya29.good"}, "bob@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := oauthServer(t)
			c := dialGreeted(t, s)
			assert.Equal(t, authOK, c.saslStart(sasl.NewOAuthBearerClient(&tt.opts)))
			assert.Equal(t, tt.wantUser, s.Sessions()[0].AuthUser)
		})
	}
}

func TestOAuthBearerRefused(t *testing.T) {
	s := oauthServer(t)
	c := dialGreeted(t, s)
	cl := sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Username: "bob@example.com", Token: "expired"})
	r := c.saslStart(cl)
	require.True(t, strings.HasPrefix(r, "334 "), r)
	challenge, err := base64.StdEncoding.DecodeString(r[4:])
	require.NoError(t, err)
	assert.JSONEq(t, invalidToken, string(challenge))
	assert.Equal(t, invalidToken, string(challenge), "RFC 7628's fields in its order")

	// go-sasl's client turns the challenge into an error carrying it.
	_, err = cl.Next(challenge)
	var oauthErr *sasl.OAuthBearerError
	require.True(t, errors.As(err, &oauthErr), "%v", err)
	assert.Equal(t, sasl.OAuthBearerError{Status: "invalid_token", Schemes: "bearer", Scope: "https://mail.example.com/"}, *oauthErr)

	// RFC 7628 section 3.2.3: the client answers with a lone 0x01.
	assert.Equal(t, authFailed, c.cmd(b64("\x01")))
	assert.Equal(t, "", s.Sessions()[0].AuthUser)
	assert.Equal(t, authOK, c.saslStart(sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Username: "bob@example.com", Token: "ya29.good"})),
		"a failed exchange leaves the session able to try again")
}

func TestOAuthWire(t *testing.T) {
	refused := "334 " + b64(invalidToken)
	tests := []struct {
		name  string
		steps []step
		user  string
	}{
		{"oauthbearer after an empty challenge", []step{{"AUTH OAUTHBEARER\r\n", "334 "},
			{b64("n,a=bob@example.com,\x01auth=Bearer ya29.good\x01\x01") + "\r\n", authOK}}, "bob@example.com"},
		{"oauthbearer, escaped user name", []step{{"AUTH OAUTHBEARER " + b64("n,a=bob=2Cx=3Dy,\x01auth=Bearer t2\x01\x01") + "\r\n", authOK}}, "bob,x=y"},
		{"oauthbearer cancelled at the error", []step{{"AUTH OAUTHBEARER " + b64("n,a=bob@example.com,\x01auth=Bearer bad\x01\x01") + "\r\n", refused},
			{"*\r\n", "501 5.7.0 Authentication cancelled"}}, ""},
		{"oauthbearer malformed", []step{{"AUTH OAUTHBEARER " + b64("a=bob,auth=Bearer x") + "\r\n",
			"334 " + b64(`{"status":"invalid_request","scope":"https://mail.example.com/","schemes":"bearer"}`)},
			{b64("\x01") + "\r\n", authFailed}}, ""},
		{"oauthbearer channel binding", []step{{"AUTH OAUTHBEARER " + b64("p=tls-unique,a=bob@example.com,\x01auth=Bearer ya29.good\x01\x01") + "\r\n",
			"334 " + b64(`{"status":"invalid_request","scope":"https://mail.example.com/","schemes":"bearer"}`)},
			{b64("\x01") + "\r\n", authFailed}}, ""},
		{"xoauth2", []step{{"AUTH XOAUTH2 " + b64("user=bob@example.com\x01auth=Bearer ya29.good\x01\x01") + "\r\n", authOK}}, "bob@example.com"},
		{"xoauth2 refused", []step{{"AUTH XOAUTH2 " + b64("user=bob@example.com\x01auth=Bearer bad\x01\x01") + "\r\n", refused},
			{"\r\n", "535 5.7.8 Username and Password not accepted"}}, ""},
		{"passwords are not tokens", []step{{"AUTH XOAUTH2 " + b64("user=alice\x01auth=Bearer secret\x01\x01") + "\r\n", refused},
			{"\r\n", "535 5.7.8 Username and Password not accepted"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := oauthServer(t, smtptest.WithUsers(users),
				smtptest.WithOAuth("https://mail.example.com/", map[string]string{"bob@example.com": "ya29.good", "bob,x=y": "t2"}))
			c := dialGreeted(t, s)
			c.run(tt.steps)
			assert.Equal(t, "250 2.0.0 Ok", c.cmd("NOOP"), "the session goes on")
			assert.Equal(t, tt.user, s.Sessions()[0].AuthUser)
		})
	}
}

func TestOAuthOffered(t *testing.T) {
	tests := []struct {
		name string
		opts []smtptest.Option
		want string
	}{
		{"alone", nil, "250 AUTH XOAUTH2 OAUTHBEARER"},
		{"added to WithAuth's line", []smtptest.Option{smtptest.WithAuth("PLAIN")}, "250 AUTH PLAIN XOAUTH2 OAUTHBEARER"},
		{"not twice", []smtptest.Option{smtptest.WithAuth("XOAUTH2", "PLAIN")}, "250 AUTH XOAUTH2 PLAIN OAUTHBEARER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := smtptest.NewServer(t, append(append([]smtptest.Option{smtptest.WithExtensions()}, tt.opts...), smtptest.WithOAuth("", tokens))...)
			c := dial(t, s)
			c.reply()
			r := c.cmd("EHLO c")
			assert.True(t, strings.HasSuffix(r, "\n"+tt.want), r)
		})
	}
	t.Run("without WithOAuth, WithUsers' passwords are the tokens", func(t *testing.T) {
		s := smtptest.NewServer(t, smtptest.WithAuth("OAUTHBEARER"), smtptest.WithUsers(users))
		c := dialGreeted(t, s)
		assert.Equal(t, authOK, c.saslStart(sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Username: "alice", Token: "secret"})))
	})
	t.Run("without WithOAuth, the error has no scope", func(t *testing.T) {
		s := smtptest.NewServer(t, smtptest.WithAuth("OAUTHBEARER"), smtptest.WithUsers(users))
		c := dialGreeted(t, s)
		r := c.saslStart(sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Username: "alice", Token: "wrong"}))
		assert.Equal(t, "334 "+b64(`{"status":"invalid_token","schemes":"bearer"}`), r)
	})
}
