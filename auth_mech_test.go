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

// Tests of the SASL mechanisms: the built-in ones, SCRAM-SHA-256 against
// a scripted server, clients supplied by the caller, and the decoding of
// server challenges.

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

func TestAuthMalformedChallenge(t *testing.T) {
	srv := newWireServer(t, "334 !!!not base64", "501 5.7.0 Authentication cancelled")
	c := srv.dial(t)
	c.User, c.Password = "alice", "s3cret"
	r, err := c.Auth("PLAIN", c.AuthPlain(), false)
	var authErr *AuthenticationError
	require.ErrorAs(t, err, &authErr)
	assert.Equal(t, 501, authErr.Code)
	assert.Equal(t, 501, r.Code)
	assert.Contains(t, err.Error(), `AUTH PLAIN cancelled: the server's challenge "!!!not base64" is not base64`)
	assert.ErrorIs(t, err, ErrSMTP)
	// The session is still in step: NOOP gets its own reply.
	r, err = c.Noop()
	require.NoError(t, err)
	assert.Equal(t, 250, r.Code)
	c.Close()
	assert.Equal(t, wireLines("AUTH PLAIN", "*", "noop"), srv.received())
}

func TestDecodeChallenge(t *testing.T) {
	tests := []struct {
		name, in string
		want     string
		ok       bool
	}{
		{"empty", "", "", true},
		{"padded", "VXNlcm5hbWU6", "Username:", true},
		{"with padding", "dXNlcg==", "user", true},
		{"padding left out", "dXNlcg", "user", true},
		{"spaces and line breaks", " dXNl\ncg== ", "user", true},
		{"not base64", "Username:", "", false},
		{"half padding", "dXNlcg=", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeChallenge(tt.in)
			if tt.ok {
				require.NoError(t, err)
				assert.Equal(t, tt.want, string(got))
			} else {
				assert.Error(t, err)
			}
		})
	}
}

// failingClient is a mechanism whose Start or Next fails.
type failingClient struct{ startErr, nextErr error }

func (f failingClient) Start() (string, []byte, error) { return "X-FAIL", nil, f.startErr }
func (f failingClient) Next([]byte) ([]byte, error)    { return nil, f.nextErr }

func TestAuthWithOtherClients(t *testing.T) {
	oauthIR := b64("n,a=bob@example.com,\x01auth=Bearer tok\x01\x01")
	errBoom := errors.New("boom")
	tests := []struct {
		name    string
		mech    string
		client  sasl.Client
		irOK    bool
		replies []string
		want    []string
		code    int
		check   func(t *testing.T, err error)
	}{
		{
			name: "external, empty identity", mech: "external", client: sasl.NewExternalClient(""), irOK: true,
			replies: []string{authOK}, want: []string{"AUTH EXTERNAL ="}, code: 235,
		},
		{
			name: "external with identity", mech: "EXTERNAL", client: sasl.NewExternalClient("bob"), irOK: true,
			replies: []string{authOK}, want: []string{"AUTH EXTERNAL Ym9i"}, code: 235,
		},
		{
			// The empty initial response, given at the challenge, is an
			// empty line: "=" is only for the AUTH line.
			name: "external without initial response", mech: "EXTERNAL", client: sasl.NewExternalClient(""),
			replies: []string{"334 ", authOK}, want: []string{"AUTH EXTERNAL", ""}, code: 235,
		},
		{
			name: "mechanism named by the client", mech: "", client: sasl.NewExternalClient("bob"), irOK: true,
			replies: []string{authOK}, want: []string{"AUTH EXTERNAL Ym9i"}, code: 235,
		},
		{
			name: "oauthbearer", mech: "OAUTHBEARER", irOK: true,
			client:  sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Username: "bob@example.com", Token: "tok"}),
			replies: []string{authOK}, want: []string{"AUTH OAUTHBEARER " + oauthIR}, code: 235,
		},
		{
			name: "oauthbearer refused", mech: "OAUTHBEARER", irOK: true,
			client: sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Username: "bob@example.com", Token: "tok"}),
			replies: []string{"334 " + b64(`{"status":"invalid_token","schemes":"bearer"}`),
				"501 5.7.0 Authentication cancelled"},
			want: []string{"AUTH OAUTHBEARER " + oauthIR, "*"}, code: 501,
			check: func(t *testing.T, err error) {
				var oauthErr *sasl.OAuthBearerError
				require.ErrorAs(t, err, &oauthErr)
				assert.Equal(t, "invalid_token", oauthErr.Status)
				var authErr *AuthenticationError
				require.ErrorAs(t, err, &authErr)
				assert.Equal(t, 501, authErr.Code)
				assert.EqualError(t, err, "smtplib: AUTH OAUTHBEARER cancelled: OAUTHBEARER authentication error "+
					"(invalid_token); server replied 501 5.7.0 Authentication cancelled")
			},
		},
		{
			name: "plain client given a second challenge", mech: "PLAIN", irOK: true,
			client:  sasl.NewPlainClient("", "alice", "s3cret"),
			replies: []string{"334 ", "501 5.7.0 Authentication cancelled"},
			want:    []string{"AUTH PLAIN " + b64("\x00alice\x00s3cret"), "*"}, code: 501,
			check: func(t *testing.T, err error) {
				assert.ErrorIs(t, err, sasl.ErrUnexpectedServerChallenge)
			},
		},
		{
			name: "start fails: nothing sent", mech: "X-FAIL", client: failingClient{startErr: errBoom}, irOK: true,
			want: nil, code: 0,
			check: func(t *testing.T, err error) {
				assert.ErrorIs(t, err, errBoom)
				assert.EqualError(t, err, "smtplib: AUTH X-FAIL: boom")
			},
		},
		{
			name: "next fails", mech: "X-FAIL", client: failingClient{nextErr: errBoom}, irOK: true,
			replies: []string{"334 ", "501 5.7.0 Authentication cancelled"},
			want:    []string{"AUTH X-FAIL", "*"}, code: 501,
			check: func(t *testing.T, err error) {
				assert.ErrorIs(t, err, errBoom)
			},
		},
		{
			name: "mechanism name that would carry arguments", mech: "PLAIN foo", client: sasl.NewExternalClient(""), irOK: true,
			want: nil, code: 0,
			check: func(t *testing.T, err error) {
				var ce *CommandError
				assert.ErrorAs(t, err, &ce)
			},
		},
		{
			name: "mechanism name with a line break", mech: "PLAIN\r\nRSET", client: sasl.NewExternalClient(""), irOK: true,
			want: nil, code: 0,
			check: func(t *testing.T, err error) {
				var ce *CommandError
				assert.ErrorAs(t, err, &ce)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newWireServer(t, tt.replies...)
			c := srv.dial(t)
			r, err := c.Auth(tt.mech, tt.client, tt.irOK)
			assert.Equal(t, tt.code, r.Code)
			if tt.check == nil {
				assert.NoError(t, err)
			} else {
				require.Error(t, err)
				tt.check(t, err)
			}
			c.Close()
			assert.Equal(t, wireLines(tt.want...), srv.received())
		})
	}
}

// newScramServer plays a SCRAM-SHA-256 server (RFC 7677) for user and
// pass with xdg-go/scram's server side. forge, when set, replaces the
// server's final message, as an impostor that does not know the user's
// keys would have to.
func newScramServer(t *testing.T, user, pass, forge string) *lineServer {
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
	return newLineServer(t, func(line string) string {
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
			c := srv.dial(t)
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

func TestScramSHA256RefusesUnpreparablePassword(t *testing.T) {
	srv := newWireServer(t)
	c := srv.dial(t)
	// SASLprep prohibits ASCII control characters (RFC 4013 section 2.3).
	_, err := c.Auth("", ScramSHA256("alice", "bell\a"), true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "AUTH SCRAM-SHA-256")
	assert.NotContains(t, err.Error(), "bell")
	c.Close()
	assert.Empty(t, srv.received())
}
