package smtplib

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

// Tests of Login and Auth: the choice of mechanism, the errors,
// credentials kept out of debug output and errors, mechanisms supplied by
// the caller, the decoding of challenges, and the exact lines compared with
// Python's. The built-in mechanisms are tested in sasl_test.go; where
// credentials may be sent, in auth_cleartext_test.go.

// users are the accounts of the smtptest servers below; for XOAUTH2 the
// password is the token.
var testUsers = map[string]string{
	"alice":           "s3cret",
	"bob@example.com": "ya29.token",
	"usér":            "pässwörd ünïcode",
}

// newAuthServer starts an smtptest server that offers mechs.
func newAuthServer(t *testing.T, opts ...smtptest.Option) *smtptest.Server {
	return smtptest.NewServer(t, append([]smtptest.Option{smtptest.WithUsers(testUsers)}, opts...)...)
}

func TestLoginChoosesMechanism(t *testing.T) {
	tests := []struct {
		name  string
		lines []string // EHLO extension lines
		want  string   // the AUTH line's start
	}{
		{"preference order", []string{"AUTH LOGIN PLAIN CRAM-MD5"}, "AUTH CRAM-MD5"},
		{"plain before login", []string{"AUTH LOGIN PLAIN"}, "AUTH PLAIN "},
		{"lower case names", []string{"AUTH login plain"}, "AUTH PLAIN "},
		{"mixed case names", []string{"AUTH Cram-Md5"}, "AUTH CRAM-MD5"},
		{"old style line", []string{"AUTH=LOGIN"}, "AUTH LOGIN "},
		{"old and new lines", []string{"AUTH=LOGIN", "AUTH PLAIN"}, "AUTH PLAIN "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newAuthServer(t, smtptest.WithExtensions(tt.lines...))
			c := dialTest(t, srv)
			r, err := c.Login("alice", "s3cret")
			require.NoError(t, err)
			assert.Equal(t, 235, r.Code)
			assert.Equal(t, "alice", c.User)
			assert.Equal(t, "s3cret", string(c.Password))
			var auth []string
			for _, l := range strings.Split(srv.Transcript(), "\n") {
				if strings.HasPrefix(l, "C: AUTH") {
					auth = append(auth, l)
				}
			}
			require.Len(t, auth, 1)
			assert.True(t, strings.HasPrefix(auth[0], "C: "+tt.want), auth[0])
		})
	}
}

func TestLoginErrors(t *testing.T) {
	tests := []struct {
		name    string
		opts    []smtptest.Option
		check   func(t *testing.T, r Reply, err error)
		nAuth   int // AUTH commands the server saw
		usable  bool
		wantMsg string
	}{
		{
			name: "no AUTH", opts: nil,
			wantMsg: "smtplib: SMTP AUTH extension not supported by server.", usable: true,
			check: func(t *testing.T, _ Reply, err error) {
				var ns *NotSupportedError
				assert.ErrorAs(t, err, &ns)
			},
		},
		{
			name: "no suitable mechanism", opts: []smtptest.Option{smtptest.WithAuth("XOAUTH2", "GSSAPI")},
			wantMsg: "smtplib: No suitable authentication method found.", usable: true,
			check: func(t *testing.T, _ Reply, err error) {
				assert.ErrorIs(t, err, ErrSMTP)
				var re *ResponseError
				assert.False(t, errors.As(err, &re))
			},
		},
		{
			name:  "503 counts as success",
			opts:  []smtptest.Option{smtptest.WithAuth("PLAIN"), smtptest.WithReply("AUTH", "503 5.5.1 Error: already authenticated")},
			nAuth: 1, usable: true,
			check: func(t *testing.T, r Reply, err error) {
				assert.NoError(t, err)
				assert.Equal(t, Reply{503, "5.5.1 Error: already authenticated"}, r)
			},
		},
		{
			name:  "every mechanism refused: the last refusal",
			opts:  []smtptest.Option{smtptest.WithAuth("PLAIN", "LOGIN"), smtptest.WithReplies("AUTH", "535 5.7.8 first", "454 4.7.0 second")},
			nAuth: 2, usable: true,
			wantMsg: "smtplib: authentication failed: 454 4.7.0 second",
			check: func(t *testing.T, r Reply, err error) {
				var authErr *AuthenticationError
				require.ErrorAs(t, err, &authErr)
				assert.Equal(t, 454, authErr.Code)
				assert.True(t, authErr.Temporary())
				assert.Equal(t, 454, r.Code)
			},
		},
		{
			name:  "disconnection stops at once",
			opts:  []smtptest.Option{smtptest.WithAuth("PLAIN", "LOGIN"), smtptest.WithFault(smtptest.Fault{At: "AUTH"})},
			nAuth: 1,
			check: func(t *testing.T, _ Reply, err error) {
				var sd *ServerDisconnectedError
				assert.ErrorAs(t, err, &sd)
			},
		},
		{
			// To smtplib a 421 is a refusal like any other: the next
			// mechanism is tried, and finds the connection closed.
			name:  "421 then the connection is gone",
			opts:  []smtptest.Option{smtptest.WithAuth("PLAIN", "LOGIN"), smtptest.WithReply("AUTH", "421 4.3.0 going down")},
			nAuth: 1,
			check: func(t *testing.T, r Reply, err error) {
				var sd *ServerDisconnectedError
				assert.ErrorAs(t, err, &sd)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newAuthServer(t, tt.opts...)
			c := dialTest(t, srv)
			r, err := c.Login("alice", "s3cret")
			if tt.wantMsg != "" {
				assert.EqualError(t, err, tt.wantMsg)
			}
			tt.check(t, r, err)
			_, nerr := c.Noop()
			assert.Equal(t, tt.usable, nerr == nil, "session usable afterwards: %v", nerr)
			c.Close()
			require.NoError(t, srv.WaitSessions(1, 10*time.Second))
			assert.Equal(t, tt.nAuth, strings.Count(srv.Transcript(), "C: AUTH "))
		})
	}
}

func TestAuthNotConnected(t *testing.T) {
	c := New()
	_, err := c.Auth("PLAIN", c.AuthPlain(), true)
	var sd *ServerDisconnectedError
	assert.ErrorAs(t, err, &sd)
	_, err = c.Login("alice", "s3cret")
	assert.ErrorAs(t, err, &sd)
}

func TestDebugOutputHidesCredentials(t *testing.T) {
	const user, pass = "alice", "s3cret"
	secrets := []string{pass, b64(pass), b64("\x00" + user + "\x00" + pass),
		b64("user=" + user + "\x01auth=Bearer " + pass + "\x01\x01")}
	tests := []struct {
		mech string
		auth func(c *SMTP, irOK bool) (Reply, error)
		line string // the AUTH line as the debug output shows it
	}{
		{"PLAIN", func(c *SMTP, irOK bool) (Reply, error) { return c.Auth("PLAIN", c.AuthPlain(), irOK) },
			`send: 'AUTH PLAIN <redacted>\r\n'`},
		{"LOGIN", func(c *SMTP, irOK bool) (Reply, error) { return c.Auth("LOGIN", c.AuthLogin(), irOK) },
			`send: 'AUTH LOGIN <redacted>\r\n'`},
		{"CRAM-MD5", func(c *SMTP, irOK bool) (Reply, error) { return c.Auth("CRAM-MD5", c.AuthCramMD5(), irOK) },
			`send: 'AUTH CRAM-MD5\r\n'`},
		{"XOAUTH2", func(c *SMTP, irOK bool) (Reply, error) { return c.Auth("XOAUTH2", XOAuth2(user, pass), irOK) },
			`send: 'AUTH XOAUTH2 <redacted>\r\n'`},
		{"LOGIN", func(c *SMTP, irOK bool) (Reply, error) { return c.LoginWith(user, pass, irOK) },
			`send: 'AUTH LOGIN <redacted>\r\n'`},
	}
	for _, tt := range tests {
		for _, irOK := range []bool{true, false} {
			for _, level := range []int{1, 2} {
				t.Run(fmt.Sprintf("%s/initial response %v/level %d", tt.mech, irOK, level), func(t *testing.T) {
					srv := smtptest.NewServer(t, smtptest.WithAuth(tt.mech), smtptest.WithUsers(map[string]string{user: pass}))
					var out bytes.Buffer
					c := dialTest(t, srv, WithDebugOutput(&out))
					c.SetDebugLevel(level)
					c.User, c.Password = user, pass
					require.NoError(t, c.EhloOrHeloIfNeeded())
					r, err := tt.auth(c, irOK)
					require.NoError(t, err)
					require.Equal(t, 235, r.Code)
					c.SetDebugLevel(0)
					got := out.String()
					for _, s := range secrets {
						assert.NotContains(t, got, s)
					}
					if irOK || tt.mech == "CRAM-MD5" {
						assert.Contains(t, got, tt.line)
					} else {
						assert.Contains(t, got, `send: 'AUTH `+tt.mech+`\r\n'`)
					}
					if !irOK || tt.mech == "LOGIN" || tt.mech == "CRAM-MD5" {
						// The answers to challenges.
						assert.Contains(t, got, `send: '<redacted>\r\n'`)
					}
					assert.Contains(t, got, `reply: retcode (235)`)
				})
			}
		}
	}
}

func TestAuthConnectionLostWhileCancelling(t *testing.T) {
	srv := newScriptServer(t, `
		S: 220 wire.example ESMTP
		C
		S: 334 !!!not base64`)
	c := dialRaw(t, srv)
	c.User, c.Password = "alice", "s3cret"
	_, err := c.Auth("PLAIN", c.AuthPlain(), false)
	var sd *ServerDisconnectedError
	require.ErrorAs(t, err, &sd)
	assert.Contains(t, err.Error(), "while cancelling AUTH PLAIN")
	var authErr *AuthenticationError
	assert.False(t, errors.As(err, &authErr), "not a refusal that Login would move on from")
	c.Close()
	assert.Equal(t, wire("AUTH PLAIN"), srv.received(), "the server hung up after its challenge")
}

func TestAuthCommandErrorHidesCredentials(t *testing.T) {
	srv := newScriptServer(t, "S: 220 wire.example ESMTP")
	c := dialRaw(t, srv)
	c.User, c.Password = "alice", "s3cret"
	c.CommandEncoding = "ebcdic"
	_, err := c.Auth("PLAIN", c.AuthPlain(), true)
	var ce *CommandError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "AUTH PLAIN <redacted>", ce.Command)
	assert.NotContains(t, err.Error(), b64("\x00alice\x00s3cret"))
	c.Close()
	assert.Empty(t, srv.received())
}

func TestAuthMalformedChallenge(t *testing.T) {
	srv := newScriptServer(t, `
		S: 220 wire.example ESMTP
		C
		S: 334 !!!not base64
		C
		S: 501 5.7.0 Authentication cancelled
		C
		S: 250 2.0.0 Ok`)
	c := dialRaw(t, srv)
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
	assert.Equal(t, wire("AUTH PLAIN", "*", "noop"), srv.received())
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

func (f failingClient) Next([]byte) ([]byte, error) { return nil, f.nextErr }

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
			// RFC 4422 section 3.1: at most 20 characters.
			name: "mechanism name over 20 characters", mech: strings.Repeat("X", 21), client: sasl.NewExternalClient(""), irOK: true,
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
			srv := newScriptServer(t, replyScript(tt.replies...))
			c := dialRaw(t, srv)
			r, err := c.Auth(tt.mech, tt.client, tt.irOK)
			assert.Equal(t, tt.code, r.Code)
			if tt.check == nil {
				assert.NoError(t, err)
			} else {
				require.Error(t, err)
				tt.check(t, err)
			}
			c.Close()
			assert.Equal(t, wire(tt.want...), srv.received())
		})
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

const (
	ehloAuth = "250-wire.example\r\n250 AUTH "
	askUser  = "334 VXNlcm5hbWU6" // "Username:"
	askPass  = "334 UGFzc3dvcmQ6" // "Password:"
	authOK   = "235 2.7.0 Authentication successful"
	authNo   = "535 5.7.8 Authentication credentials invalid"
	// A CRAM-MD5 challenge and, for user "tim" and password
	// "tanstaaftanstaaf", the answer Python's smtplib gives to it.
	cramChallenge = "334 PDQxOTI5NDIzNDEuMTI4Mjg0NzJAc291cmNlZm91ci5hbmRyZXcuY211LmVkdT4="
	cramAnswer    = "dGltIGI0MTAzMDNjNjE4YTAxZDNlMTUxMDJlMzA4YmI4YTMz"
)

// TestLoginWireMatchesPython compares the client's lines with those Python
// 3.11.7's smtplib sent against the same replies (captured with a scripted
// server, login(user, password, initial_response_ok=...)).
func TestLoginWireMatchesPython(t *testing.T) {
	tests := []struct {
		name     string
		user     string
		pass     string
		irOK     bool
		replies  []string
		wantCode int
		wantErr  string // substring; "" for success
		want     []string
	}{
		{
			name: "plain", user: "user", pass: "pass", irOK: true,
			replies: []string{ehloAuth + "PLAIN", authOK}, wantCode: 235,
			want: []string{"ehlo client.example", "AUTH PLAIN AHVzZXIAcGFzcw==", "quit"},
		},
		{
			name: "plain without initial response", user: "user", pass: "pass",
			replies: []string{ehloAuth + "PLAIN", "334 ", authOK}, wantCode: 235,
			want: []string{"ehlo client.example", "AUTH PLAIN", "AHVzZXIAcGFzcw==", "quit"},
		},
		{
			name: "login", user: "user", pass: "pass", irOK: true,
			replies: []string{ehloAuth + "LOGIN", askPass, authOK}, wantCode: 235,
			want: []string{"ehlo client.example", "AUTH LOGIN dXNlcg==", "cGFzcw==", "quit"},
		},
		{
			name: "login without initial response", user: "user", pass: "pass",
			replies: []string{ehloAuth + "LOGIN", askUser, askPass, authOK}, wantCode: 235,
			want: []string{"ehlo client.example", "AUTH LOGIN", "dXNlcg==", "cGFzcw==", "quit"},
		},
		{
			name: "cram-md5", user: "tim", pass: "tanstaaftanstaaf", irOK: true,
			replies: []string{ehloAuth + "CRAM-MD5", cramChallenge, authOK}, wantCode: 235,
			want: []string{"ehlo client.example", "AUTH CRAM-MD5", cramAnswer, "quit"},
		},
		{
			name: "fallback from cram-md5 to plain to login", user: "user", pass: "pass", irOK: true,
			replies:  []string{ehloAuth + "LOGIN PLAIN CRAM-MD5", cramChallenge, authNo, authNo, askPass, authOK},
			wantCode: 235,
			want: []string{"ehlo client.example", "AUTH CRAM-MD5",
				"dXNlciA2NWY1ODkyZDMxYWNjNGQ5ZGYyZDZhYjQwZTA5MGM2Mw==",
				"AUTH PLAIN AHVzZXIAcGFzcw==", "AUTH LOGIN dXNlcg==", "cGFzcw==", "quit"},
		},
		{
			// Python answers six challenges and gives up; we then cancel.
			name: "challenge loop", user: "user", pass: "pass",
			replies: append([]string{ehloAuth + "LOGIN"},
				askUser, askUser, askUser, askUser, askUser, askUser, askUser, "501 5.7.0 Authentication cancelled"),
			wantCode: 501,
			wantErr:  "smtplib: Server AUTH mechanism infinite loop. Last response: (334, b'VXNlcm5hbWU6')",
			want: []string{"ehlo client.example", "AUTH LOGIN", "dXNlcg==",
				"cGFzcw==", "cGFzcw==", "cGFzcw==", "cGFzcw==", "cGFzcw==", "*", "quit"},
		},
		{
			name: "challenge loop after initial response", user: "user", pass: "pass", irOK: true,
			replies: append([]string{ehloAuth + "LOGIN"},
				askUser, askUser, askUser, askUser, askUser, askUser, "501 5.7.0 Authentication cancelled"),
			wantCode: 501,
			wantErr:  "smtplib: Server AUTH mechanism infinite loop. Last response: (334, b'VXNlcm5hbWU6')",
			want: []string{"ehlo client.example", "AUTH LOGIN dXNlcg==",
				"cGFzcw==", "cGFzcw==", "cGFzcw==", "cGFzcw==", "cGFzcw==", "*", "quit"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScriptServer(t, replyScript(tt.replies...)+"\nC\nS: 221 2.0.0 Bye")
			c := dialRaw(t, srv)
			r, err := c.LoginWith(tt.user, tt.pass, tt.irOK)
			assert.Equal(t, tt.wantCode, r.Code)
			if tt.wantErr == "" {
				assert.NoError(t, err)
			} else {
				assert.EqualError(t, err, tt.wantErr)
				assert.ErrorIs(t, err, ErrSMTP)
			}
			_, err = c.Quit()
			require.NoError(t, err)
			assert.Equal(t, wire(tt.want...), srv.received())
		})
	}
}
