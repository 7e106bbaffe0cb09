package smtplib

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xdg-go/scram"

	"github.com/gosmtplib/smtplib/smtptest"
)

// Tests of the built-in SASL mechanisms: each against smtptest,
// SCRAM-SHA-256 against a server computing its half of the dialogue, and
// XOAUTH2's exact lines. Auth with mechanisms of the caller's is tested in
// auth_test.go.

func TestAuthMechanisms(t *testing.T) {
	type mechanism func(c *SMTP, user, pass string) sasl.Client
	fromFields := func(f func(*SMTP) sasl.Client) mechanism {
		return func(c *SMTP, user, pass string) sasl.Client {
			c.User, c.Password = user, Secret(pass)
			return f(c)
		}
	}
	mechs := map[string]mechanism{
		"PLAIN":    fromFields((*SMTP).AuthPlain),
		"LOGIN":    fromFields((*SMTP).AuthLogin),
		"CRAM-MD5": fromFields((*SMTP).AuthCramMD5),
		"XOAUTH2":  func(_ *SMTP, user, token string) sasl.Client { return XOAuth2(user, token) },
	}
	creds := []struct {
		name, user, pass string
		ok               bool
	}{
		{"right", "alice", "s3cret", true},
		{"wrong password", "alice", "nope", false},
		{"unknown user", "carol", "s3cret", false},
		{"utf-8", "usér", "pässwörd ünïcode", true},
		{"token", "bob@example.com", "ya29.token", true},
	}
	for mech, newClient := range mechs {
		for _, cr := range creds {
			for _, irOK := range []bool{true, false} {
				name := mech + "/" + cr.name
				if !irOK {
					name += "/no initial response"
				}
				t.Run(name, func(t *testing.T) {
					srv := newAuthServer(t, smtptest.WithAuth(mech))
					c := dialTest(t, srv)
					require.NoError(t, c.EhloOrHeloIfNeeded())
					r, err := c.Auth(strings.ToLower(mech), newClient(c, cr.user, cr.pass), irOK)
					if cr.ok {
						require.NoError(t, err)
						assert.Equal(t, 235, r.Code)
					} else {
						var authErr *AuthenticationError
						require.ErrorAs(t, err, &authErr)
						assert.Equal(t, 535, authErr.Code)
						assert.Equal(t, 535, r.Code)
						assert.ErrorIs(t, err, ErrSMTP)
					}
					// The session goes on either way.
					r, err = c.Noop()
					require.NoError(t, err)
					assert.Equal(t, 250, r.Code)
					_, err = c.Quit()
					require.NoError(t, err)
					require.NoError(t, srv.WaitSessions(1, 10*time.Second))
					want := ""
					if cr.ok {
						want = cr.user
					}
					assert.Equal(t, want, srv.Sessions()[0].AuthUser)
				})
			}
		}
	}
}

// newScramServer plays a SCRAM-SHA-256 server (RFC 7677) for user and
// pass with xdg-go/scram's server side. forge, when set, replaces the
// server's final message, as an impostor that does not know the user's
// keys would have to.
func newScramServer(t *testing.T, user, pass, forge string) *scriptServer {
	client, err := scram.SHA256.NewClient(user, pass, "")
	require.NoError(t, err)
	stored, err := client.GetStoredCredentialsWithError(scram.KeyFactors{Salt: "salt-of-the-test", Iters: 4096})
	require.NoError(t, err)
	server, err := scram.SHA256.NewServer(func(u string) (scram.StoredCredentials, error) {
		if u != user {
			return scram.StoredCredentials{}, errors.New("unknown user")
		}
		return stored, nil
	})
	require.NoError(t, err)
	conv := server.NewConversation()
	step := func(b64msg string) string {
		msg, err := base64.StdEncoding.DecodeString(b64msg)
		if err != nil {
			return "501 5.5.2 Cannot decode response"
		}
		resp, err := conv.Step(string(msg))
		if err != nil {
			return authNo
		}
		if strings.HasPrefix(resp, "v=") && forge != "" {
			resp = forge
		}
		return "334 " + b64(resp)
	}
	return newReplyServer(t, func(line string) string {
		switch {
		case strings.EqualFold(line, "quit"):
			return "221 2.0.0 Bye"
		case strings.HasPrefix(line, "ehlo "):
			return ehloAuth + "SCRAM-SHA-256"
		case line == "*":
			return "501 5.7.0 Authentication cancelled"
		case strings.HasPrefix(line, "AUTH SCRAM-SHA-256 "):
			return step(strings.TrimPrefix(line, "AUTH SCRAM-SHA-256 "))
		case line == "AUTH SCRAM-SHA-256":
			return "334 "
		case conv.Done() && line == "":
			if conv.Valid() {
				return authOK
			}
			return authNo
		case strings.HasPrefix(line, "noop"):
			return "250 2.0.0 Ok"
		}
		return step(line)
	})
}

func TestScramSHA256(t *testing.T) {
	tests := []struct {
		name   string
		pass   string
		forge  string
		irOK   bool
		code   int
		lines  int // lines of the exchange, AUTH included
		cancel bool
	}{
		{name: "accepted", pass: "pässwörd", irOK: true, code: 235, lines: 3},
		{name: "accepted without initial response", pass: "pässwörd", code: 235, lines: 4},
		{name: "wrong password", pass: "wrong", irOK: true, code: 535, lines: 2},
		{name: "server that cannot prove itself", pass: "pässwörd", irOK: true,
			forge: "v=" + b64("not the server signature, 32 b."), code: 501, lines: 3, cancel: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScramServer(t, "usér", "pässwörd", tt.forge)
			c := dialRaw(t, srv)
			require.NoError(t, c.EhloOrHeloIfNeeded())
			r, err := c.Auth("SCRAM-SHA-256", ScramSHA256("usér", tt.pass), tt.irOK)
			assert.Equal(t, tt.code, r.Code)
			if tt.code == 235 {
				require.NoError(t, err)
			} else {
				var authErr *AuthenticationError
				require.ErrorAs(t, err, &authErr)
			}
			if tt.cancel {
				assert.Contains(t, err.Error(), "server validation failed")
			}
			_, err = c.Noop()
			require.NoError(t, err)
			c.Close()
			got := srv.received()
			require.Len(t, got, 1+tt.lines+1) // EHLO, the exchange, NOOP
			assert.True(t, strings.HasPrefix(got[1], "AUTH SCRAM-SHA-256"), got[1])
			if tt.code == 235 {
				assert.Equal(t, "\r\n", got[tt.lines], "the empty answer to the server's final message")
			}
			if tt.cancel {
				assert.Equal(t, "*\r\n", got[tt.lines])
			}
		})
	}
}

// TestScramSHA256RefusesUnpreparable: a user name or password that
// SASLprep refuses (it prohibits ASCII control characters, RFC 4013
// section 2.3) fails the mechanism's start, before anything is sent, and
// the error does not show the password.
func TestScramSHA256RefusesUnpreparable(t *testing.T) {
	for _, tt := range []struct{ name, user, pass string }{
		{"password", "alice", "bell\a"},
		{"user name", "bell\a", "s3cret"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScriptServer(t, "S: 220 wire.example ESMTP")
			c := dialRaw(t, srv)
			_, err := c.Auth("", ScramSHA256(tt.user, tt.pass), true)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "AUTH SCRAM-SHA-256")
			assert.NotContains(t, err.Error(), tt.pass)
			c.Close()
			assert.Empty(t, srv.received())
		})
	}
}

// TestScramSHA256OutOfOrder: the mechanism driven by other code than Auth
// refuses a challenge before its start.
func TestScramSHA256OutOfOrder(t *testing.T) {
	_, err := ScramSHA256("alice", "s3cret").Next([]byte("r=nonce,s=c2FsdA==,i=4096"))
	assert.EqualError(t, err, "scram: Next called before Start")
}

func TestXOAuth2Wire(t *testing.T) {
	ir := b64("user=bob@example.com\x01auth=Bearer ya29.token\x01\x01")
	long := strings.Repeat("t", 600)
	tests := []struct {
		name    string
		token   string
		replies []string
		want    []string
		code    int
	}{
		{"accepted", "ya29.token", []string{authOK}, []string{"AUTH XOAUTH2 " + ir}, 235},
		{"error challenge answered empty", "ya29.token",
			[]string{"334 " + b64(`{"status":"401","schemes":"bearer"}`), "535 5.7.8 Username and Password not accepted"},
			[]string{"AUTH XOAUTH2 " + ir, ""}, 535},
		// An AUTH line over 512 octets must not carry the initial response.
		{"long token waits for the challenge", long, []string{"334 ", authOK},
			[]string{"AUTH XOAUTH2", b64("user=bob@example.com\x01auth=Bearer " + long + "\x01\x01")}, 235},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScriptServer(t, replyScript(tt.replies...))
			c := dialRaw(t, srv)
			r, err := c.Auth("XOAUTH2", XOAuth2("bob@example.com", tt.token), true)
			assert.Equal(t, tt.code, r.Code)
			if tt.code == 235 {
				assert.NoError(t, err)
			} else {
				var authErr *AuthenticationError
				assert.ErrorAs(t, err, &authErr)
			}
			c.Close()
			assert.Equal(t, wire(tt.want...), srv.received())
		})
	}
}
