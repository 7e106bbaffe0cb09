package smtplib

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/xdg-go/scram"

	"github.com/gosmtplib/smtplib/smtptest"
)

// lineServer is a one-connection server for exact wire tests: it sends a
// greeting, then answers each line the client sends with what handle
// returns for it (CRLF added), and records the lines as sent, CRLF
// included. A reply starting with "221" ends the session after it is sent.
type lineServer struct {
	ln    net.Listener
	mu    sync.Mutex
	lines []string
	done  chan struct{}
}

func newLineServer(t *testing.T, handle func(line string) string) *lineServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &lineServer{ln: ln, done: make(chan struct{})}
	t.Cleanup(func() { ln.Close(); <-s.done })
	go func() {
		defer close(s.done)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := conn.Write([]byte("220 wire.example ESMTP\r\n")); err != nil {
			return
		}
		r := bufio.NewReader(conn)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			s.mu.Lock()
			s.lines = append(s.lines, line)
			s.mu.Unlock()
			reply := handle(strings.TrimSuffix(line, "\r\n"))
			hangUp := strings.HasPrefix(reply, "221") || strings.HasSuffix(reply, hangUpMark)
			reply = strings.TrimSuffix(reply, hangUpMark)
			if _, err := conn.Write([]byte(reply + "\r\n")); err != nil || hangUp {
				return
			}
		}
	}()
	return s
}

// hangUpMark, at the end of a reply of a lineServer, makes it close the
// connection after sending the reply.
const hangUpMark = "\x00hang up"

// newWireServer answers the client's lines with replies in turn, then
// with "250 2.0.0 Ok", and QUIT with 221 at any point.
func newWireServer(t *testing.T, replies ...string) *lineServer {
	i := 0
	return newLineServer(t, func(line string) string {
		if strings.EqualFold(line, "quit") {
			return "221 2.0.0 Bye"
		}
		if i < len(replies) {
			i++
			return replies[i-1]
		}
		return "250 2.0.0 Ok"
	})
}

// received waits for the session to end and returns the client's lines.
func (s *lineServer) received() []string {
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...)
}

func (s *lineServer) dial(t *testing.T, opts ...Option) *SMTP {
	t.Helper()
	opts = append([]Option{WithLocalHostname("client.example"), WithTimeout(10 * time.Second)}, opts...)
	c := New(opts...)
	_, err := c.Connect("127.0.0.1", s.ln.Addr().(*net.TCPAddr).Port)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// wireLines appends CRLF to each line, for comparison with received.
func wireLines(lines ...string) []string {
	for i := range lines {
		lines[i] += "\r\n"
	}
	return lines
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
			srv := newWireServer(t, tt.replies...)
			c := srv.dial(t)
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
			assert.Equal(t, wireLines(tt.want...), srv.received())
		})
	}
}

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

// dialTest connects a greeted client to srv.
func dialTest(t *testing.T, srv *smtptest.Server, opts ...Option) *SMTP {
	t.Helper()
	opts = append([]Option{WithLocalHostname("client.example"), WithTimeout(10 * time.Second)}, opts...)
	c, err := Dial(srv.Host(), srv.Port(), opts...)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestAuthMechanisms(t *testing.T) {
	type mechanism func(c *SMTP, user, pass string) sasl.Client
	fromFields := func(f func(*SMTP) sasl.Client) mechanism {
		return func(c *SMTP, user, pass string) sasl.Client {
			c.User, c.Password = user, pass
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
			srv := newWireServer(t, tt.replies...)
			c := srv.dial(t)
			r, err := c.Auth("XOAUTH2", XOAuth2("bob@example.com", tt.token), true)
			assert.Equal(t, tt.code, r.Code)
			if tt.code == 235 {
				assert.NoError(t, err)
			} else {
				var authErr *AuthenticationError
				assert.ErrorAs(t, err, &authErr)
			}
			c.Close()
			assert.Equal(t, wireLines(tt.want...), srv.received())
		})
	}
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
			assert.Equal(t, "s3cret", c.Password)
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

func TestAuthNotConnected(t *testing.T) {
	c := New()
	_, err := c.Auth("PLAIN", c.AuthPlain(), true)
	var sd *ServerDisconnectedError
	assert.ErrorAs(t, err, &sd)
	_, err = c.Login("alice", "s3cret")
	assert.ErrorAs(t, err, &sd)
}

// remoteAddrConn is a loopback connection that claims another remote
// address, so that a test can play a distant server without any packet
// leaving the machine.
type remoteAddrConn struct {
	net.Conn
	remote net.Addr
}

func (c remoteAddrConn) RemoteAddr() net.Addr { return c.remote }

// redirectDialer dials network and addr whatever it is asked for, and
// makes the connection claim remote as its peer when remote is not nil.
type redirectDialer struct {
	network, addr string
	remote        net.Addr
}

func (d redirectDialer) DialContext(ctx context.Context, _, _ string) (net.Conn, error) {
	var nd net.Dialer
	conn, err := nd.DialContext(ctx, d.network, d.addr)
	if err != nil || d.remote == nil {
		return conn, err
	}
	return remoteAddrConn{Conn: conn, remote: d.remote}, nil
}

// distant is the address the tests pretend to reach: TEST-NET-1 (RFC 5737).
var distant = &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 25}

func TestAuthRefusedInClearText(t *testing.T) {
	plainAuth := func(c *SMTP) (Reply, error) {
		c.User, c.Password = "alice", "s3cret"
		return c.Auth("PLAIN", c.AuthPlain(), true)
	}
	tests := []struct {
		name    string
		host    string   // what the client dials
		remote  net.Addr // what the connection claims; nil: the real one
		unix    bool
		mechs   []string // offered; nil: all four of smtptest
		opts    []Option
		tls     bool // StartTLS first
		auth    func(c *SMTP) (Reply, error)
		refused bool
	}{
		{name: "plain, distant", host: "mail.example.com", remote: distant, auth: plainAuth, refused: true},
		{name: "login, distant", host: "mail.example.com", remote: distant, refused: true,
			auth: func(c *SMTP) (Reply, error) {
				c.User, c.Password = "alice", "s3cret"
				return c.Auth("login", c.AuthLogin(), false)
			}},
		{name: "xoauth2, distant", host: "mail.example.com", remote: distant, refused: true,
			auth: func(c *SMTP) (Reply, error) { return c.Auth("XOAUTH2", XOAuth2("alice", "s3cret"), true) }},
		{name: "go-sasl plain, distant", host: "mail.example.com", remote: distant, refused: true,
			auth: func(c *SMTP) (Reply, error) { return c.Auth("", sasl.NewPlainClient("", "alice", "s3cret"), true) }},
		{name: "oauthbearer, distant", host: "mail.example.com", remote: distant, refused: true,
			auth: func(c *SMTP) (Reply, error) {
				return c.Auth("", sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Token: "s3cret"}), true)
			}},
		{name: "login method, distant", host: "mail.example.com", remote: distant, refused: true,
			mechs: []string{"PLAIN", "LOGIN"}, auth: func(c *SMTP) (Reply, error) { return c.Login("alice", "s3cret") }},
		{name: "login method, distant, cram-md5 offered", host: "mail.example.com", remote: distant,
			auth: func(c *SMTP) (Reply, error) { return c.Login("alice", "s3cret") }},
		{name: "cram-md5, distant", host: "mail.example.com", remote: distant,
			auth: func(c *SMTP) (Reply, error) {
				c.User, c.Password = "alice", "s3cret"
				return c.Auth("CRAM-MD5", c.AuthCramMD5(), true)
			}},
		{name: "plain, distant, insecure auth allowed", host: "mail.example.com", remote: distant,
			opts: []Option{WithInsecureAuth()}, auth: plainAuth},
		{name: "plain, distant, after StartTLS", host: "mail.example.com", remote: distant, tls: true, auth: plainAuth},
		{name: "login method, distant, after StartTLS", host: "mail.example.com", remote: distant, tls: true,
			mechs: []string{"PLAIN", "LOGIN"}, auth: func(c *SMTP) (Reply, error) { return c.Login("alice", "s3cret") }},
		// A proxy on this machine: the connection is loopback, the server
		// is not.
		{name: "plain through a local proxy", host: "mail.example.com", auth: plainAuth, refused: true},
		{name: "plain to localhost through a dialer", host: "localhost", auth: plainAuth},
		{name: "plain to 127.0.0.1 through a dialer", host: "127.0.0.1", auth: plainAuth},
		{name: "plain over a unix socket", host: "/run/smtp.sock", unix: true, auth: plainAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := []smtptest.Option{smtptest.WithAuth(tt.mechs...), smtptest.WithSTARTTLS()}
			if tt.unix {
				opts = append(opts, smtptest.WithUnixSocket(t.TempDir()+"/s.sock"))
			}
			srv := newAuthServer(t, opts...)
			network := "tcp"
			if tt.unix {
				network = "unix"
			}
			d := redirectDialer{network: network, addr: srv.Addr, remote: tt.remote}
			c := New(append([]Option{WithDialer(d), WithLocalHostname("client.example"), WithTimeout(10 * time.Second)}, tt.opts...)...)
			t.Cleanup(func() { c.Close() })
			_, err := c.Connect(tt.host, 25)
			require.NoError(t, err)
			if tt.tls {
				cfg := srv.TLSConfig()
				cfg.ServerName = "localhost"
				_, err := c.StartTLS(cfg)
				require.NoError(t, err)
			}
			require.NoError(t, c.EhloOrHeloIfNeeded())
			r, err := tt.auth(c)
			if tt.refused {
				require.ErrorIs(t, err, ErrInsecureAuth)
				assert.Contains(t, err.Error(), "WithInsecureAuth()")
				assert.Contains(t, err.Error(), "StartTLS")
				assert.Equal(t, Reply{}, r)
				assert.NotContains(t, srv.Transcript(), "C: AUTH")
				// Nothing was sent, so the session is untouched.
				_, err = c.Noop()
				assert.NoError(t, err)
			} else {
				require.NoError(t, err)
				assert.Equal(t, 235, r.Code)
			}
		})
	}
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
					c.SetDebuglevel(level)
					c.User, c.Password = user, pass
					require.NoError(t, c.EhloOrHeloIfNeeded())
					r, err := tt.auth(c, irOK)
					require.NoError(t, err)
					require.Equal(t, 235, r.Code)
					c.SetDebuglevel(0)
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

func TestAuthConnectionLostWhileCancelling(t *testing.T) {
	srv := newWireServer(t, "334 !!!not base64"+hangUpMark)
	c := srv.dial(t)
	c.User, c.Password = "alice", "s3cret"
	_, err := c.Auth("PLAIN", c.AuthPlain(), false)
	var sd *ServerDisconnectedError
	require.ErrorAs(t, err, &sd)
	assert.Contains(t, err.Error(), "while cancelling AUTH PLAIN")
	var authErr *AuthenticationError
	assert.False(t, errors.As(err, &authErr), "not a refusal that Login would move on from")
	c.Close()
	assert.Equal(t, wireLines("AUTH PLAIN"), srv.received()[:1])
}

func TestAuthCommandErrorHidesCredentials(t *testing.T) {
	srv := newWireServer(t)
	c := srv.dial(t)
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
