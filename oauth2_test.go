package smtplib

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/gosmtplib/smtplib/internal/rawsrv"
	"github.com/gosmtplib/smtplib/smtptest"
)

// Tests of LoginOAuth2: the choice of mechanism, the wire, the JSON error
// challenge, the refusals it explains, and a fresh token for each of a
// Pool's connections.

// countingSource hands out tok-1, tok-2, ... with a lifetime of life
// (none when zero), and counts the calls.
type countingSource struct {
	mu   sync.Mutex
	n    int
	life time.Duration
	err  error
}

func (s *countingSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	s.n++
	tok := &oauth2.Token{AccessToken: fmt.Sprintf("tok-%d", s.n), TokenType: "Bearer"}
	if s.life != 0 {
		tok.Expiry = time.Now().Add(s.life)
	}
	return tok, nil
}

func (s *countingSource) calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

const oauthScope = "https://mail.example/smtp"

func TestLoginOAuth2ChoosesMechanism(t *testing.T) {
	tests := []struct {
		name string
		opts []smtptest.Option
		want string // the AUTH line's start; "" for none
	}{
		{"both offered: OAUTHBEARER", []smtptest.Option{smtptest.WithOAuth(oauthScope, map[string]string{"bob@example.com": "tok-1"})},
			"C: AUTH OAUTHBEARER "},
		// Microsoft 365's line.
		{"login and xoauth2: XOAUTH2", []smtptest.Option{smtptest.WithAuth("LOGIN", "XOAUTH2"),
			smtptest.WithUsers(map[string]string{"bob@example.com": "tok-1"})}, "C: AUTH XOAUTH2 "},
		{"lower case", []smtptest.Option{smtptest.WithExtensions("AUTH xoauth2"),
			smtptest.WithUsers(map[string]string{"bob@example.com": "tok-1"})}, "C: AUTH XOAUTH2 "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, tt.opts...)
			c := dialTest(t, srv)
			src := &countingSource{}
			r, err := c.LoginOAuth2("bob@example.com", src)
			require.NoError(t, err)
			assert.Equal(t, 235, r.Code)
			assert.Equal(t, 1, src.calls())
			assert.Contains(t, srv.Transcript(), tt.want)
			_, err = c.Sendmail("bob@example.com", []string{"c@example.com"}, []byte("Subject: x\r\n\r\nx\r\n"))
			require.NoError(t, err)
			require.Len(t, srv.Messages(), 1)
			assert.Equal(t, "bob@example.com", srv.Messages()[0].AuthUser)
		})
	}
}

func TestLoginOAuth2NotOffered(t *testing.T) {
	tests := []struct {
		name string
		opts []smtptest.Option
		want string
	}{
		{"no AUTH", []smtptest.Option{smtptest.WithExtensions("PIPELINING")}, "SMTP AUTH extension not supported by server."},
		{"passwords only", []smtptest.Option{smtptest.WithAuth("PLAIN", "LOGIN")},
			"smtplib: No suitable authentication method found: the server offers neither OAUTHBEARER nor XOAUTH2 (AUTH PLAIN LOGIN)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, tt.opts...)
			c := dialTest(t, srv)
			src := &countingSource{}
			_, err := c.LoginOAuth2("bob@example.com", src)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.ErrorIs(t, err, ErrSMTP)
			assert.Zero(t, src.calls(), "no token is taken for nothing")
			assert.NotContains(t, srv.Transcript(), "C: AUTH")
		})
	}
}

// TestLoginOAuth2Wire checks the exact lines: the initial response of each
// mechanism, the answer to the JSON error (%x01 for OAUTHBEARER, RFC 7628
// section 3.2.3; empty for XOAUTH2), and the escaping of the user name in
// the GS2 header.
func TestLoginOAuth2Wire(t *testing.T) {
	jsonErr := b64(`{"status":"invalid_token","scope":"` + oauthScope + `","schemes":"bearer"}`)
	long := strings.Repeat("t", 600)
	tests := []struct {
		name    string
		user    string
		token   string
		mechs   string
		replies []string
		want    []string
		code    int
		status  string
	}{
		{name: "oauthbearer", user: "bob@example.com", token: "tok-1", mechs: "XOAUTH2 OAUTHBEARER",
			replies: []string{authOK}, want: []string{"AUTH OAUTHBEARER " + b64("n,a=bob@example.com,\x01auth=Bearer tok-1\x01\x01")}, code: 235},
		{name: "oauthbearer user escaped", user: "a,b=c", token: "tok-1", mechs: "OAUTHBEARER",
			replies: []string{authOK}, want: []string{"AUTH OAUTHBEARER " + b64("n,a=a=2Cb=3Dc,\x01auth=Bearer tok-1\x01\x01")}, code: 235},
		{name: "oauthbearer refused", user: "bob@example.com", token: "tok-1", mechs: "OAUTHBEARER",
			replies: []string{"334 " + jsonErr, "535 5.7.8 Authentication credentials invalid"},
			want:    []string{"AUTH OAUTHBEARER " + b64("n,a=bob@example.com,\x01auth=Bearer tok-1\x01\x01"), "AQ=="},
			code:    535, status: "invalid_token"},
		{name: "xoauth2 refused", user: "bob@example.com", token: "tok-1", mechs: "LOGIN XOAUTH2",
			replies: []string{"334 " + jsonErr, "535 5.7.3 Authentication unsuccessful"},
			want:    []string{"AUTH XOAUTH2 " + b64("user=bob@example.com\x01auth=Bearer tok-1\x01\x01"), ""},
			code:    535, status: "invalid_token"},
		// A token of Microsoft's size goes after the server's first challenge.
		{name: "long token", user: "bob@example.com", token: long, mechs: "OAUTHBEARER",
			replies: []string{"334 ", authOK},
			want:    []string{"AUTH OAUTHBEARER", b64("n,a=bob@example.com,\x01auth=Bearer " + long + "\x01\x01")}, code: 235},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScriptServer(t, replyScript(append([]string{ehloAuth + tt.mechs}, tt.replies...)...))
			c := dialRaw(t, srv)
			r, err := c.LoginOAuth2(tt.user, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tt.token}))
			assert.Equal(t, tt.code, r.Code)
			if tt.code == 235 {
				assert.NoError(t, err)
			} else {
				var authErr *AuthenticationError
				require.ErrorAs(t, err, &authErr)
				assert.Equal(t, tt.status, authErr.Status)
				assert.Equal(t, oauthScope, authErr.Scope)
			}
			c.Close()
			assert.Equal(t, wire(append([]string{"ehlo client.example"}, tt.want...)...), srv.received())
		})
	}
}

// TestLoginOAuth2Refused: a token the server refuses gives an
// AuthenticationError with the JSON error's status and scope, for both
// mechanisms, and the session goes on.
func TestLoginOAuth2Refused(t *testing.T) {
	tests := []struct {
		name    string
		opts    []smtptest.Option
		status  string
		scope   string
		wantErr string
	}{
		{"oauthbearer", []smtptest.Option{smtptest.WithOAuth(oauthScope, map[string]string{"bob@example.com": "tok-good"})},
			"invalid_token", oauthScope,
			"smtplib: authentication failed: 535 5.7.8 Authentication credentials invalid " +
				"(token status invalid_token, scope " + oauthScope + "): the token is expired, revoked or not for this user, " +
				"or lacks the scope " + oauthScope + ": take a new one from the token source"},
		// Gmail's JSON error, as smtptest sends it without WithOAuth.
		{"xoauth2", []smtptest.Option{smtptest.WithAuth("XOAUTH2"), smtptest.WithUsers(map[string]string{"bob@example.com": "tok-good"})},
			"401", "https://mail.google.com/",
			"smtplib: authentication failed: 535 5.7.8 Username and Password not accepted " +
				"(token status 401, scope https://mail.google.com/): the token is expired, revoked or not for this user, " +
				"or lacks the scope https://mail.google.com/: take a new one from the token source"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, tt.opts...)
			c := dialTest(t, srv)
			r, err := c.LoginOAuth2("bob@example.com", &countingSource{})
			assert.Equal(t, 535, r.Code)
			var authErr *AuthenticationError
			require.ErrorAs(t, err, &authErr)
			assert.Equal(t, tt.status, authErr.Status)
			assert.Equal(t, tt.scope, authErr.Scope)
			assert.EqualError(t, err, tt.wantErr)
			assert.ErrorIs(t, err, ErrSMTP)
			assert.NotContains(t, err.Error(), "tok-1", "the token is not in the error")
			r, err = c.Noop()
			require.NoError(t, err)
			assert.Equal(t, 250, r.Code)
		})
	}
}

func TestLoginOAuth2TokenSourceFails(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithOAuth(oauthScope, nil))
	c := dialTest(t, srv)
	cause := &oauth2.RetrieveError{ErrorCode: "invalid_client"}
	_, err := c.LoginOAuth2("bob@example.com", &countingSource{err: cause})
	require.Error(t, err)
	assert.ErrorIs(t, err, cause)
	assert.NotErrorIs(t, err, ErrSMTP, "the source failed, not the server")
	assert.Contains(t, err.Error(), "smtplib: LoginOAuth2: no token from the token source: ")
	assert.NotContains(t, srv.Transcript(), "C: AUTH")

	_, err = c.LoginOAuth2("bob@example.com", oauth2.StaticTokenSource(&oauth2.Token{}))
	assert.EqualError(t, err, "smtplib: LoginOAuth2: no token from the token source: the token has no access token")

	_, err = c.LoginOAuth2("bob@example.com", nil)
	var ce *CommandError
	assert.ErrorAs(t, err, &ce)
	assert.NotContains(t, srv.Transcript(), "C: AUTH")
}

// TestLoginOAuth2RefusedInClearText: off loopback and unencrypted, no token
// is taken and nothing is sent; after StartTLS, or with WithInsecureAuth,
// the login goes ahead.
func TestLoginOAuth2RefusedInClearText(t *testing.T) {
	tests := []struct {
		name string
		tls  bool
		opts []Option
		ok   bool
	}{
		{name: "distant, in clear"},
		{name: "distant, after StartTLS", tls: true, ok: true},
		{name: "distant, insecure auth allowed", opts: []Option{WithInsecureAuth()}, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, smtptest.WithSTARTTLS(),
				smtptest.WithOAuth(oauthScope, map[string]string{"bob@example.com": "tok-1"}))
			c := connectRedirected(t, srv, redirectDialer{network: "tcp", addr: srv.Addr, remote: distant}, "mail.example.com", tt.tls, tt.opts...)
			src := &countingSource{}
			r, err := c.LoginOAuth2("bob@example.com", src)
			if tt.ok {
				require.NoError(t, err)
				assert.Equal(t, 235, r.Code)
				assert.Equal(t, 1, src.calls())
				return
			}
			assert.ErrorIs(t, err, ErrInsecureAuth)
			assert.Contains(t, err.Error(), "AUTH OAUTHBEARER would go unencrypted")
			assert.Zero(t, src.calls())
			assert.NotContains(t, srv.Transcript(), "C: AUTH")
		})
	}
}

// TestAuthenticationErrorHints: the refusals of the table in LoginOAuth2's
// documentation, as the providers word them, each with its hint; others
// keep smtplib's text alone.
func TestAuthenticationErrorHints(t *testing.T) {
	tests := []struct {
		reply string
		hint  string // "" for none
	}{
		{"550 5.7.30 Basic authentication is not supported for Client Submission.",
			"Microsoft 365 takes no password for SMTP: log in with OAuth 2.0 (LoginOAuth2)"},
		{"535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.",
			"SMTP AUTH is turned off for this Microsoft 365 tenant: enable Authenticated SMTP for the mailbox " +
				"(Set-CASMailbox -SmtpClientAuthenticationDisabled $false), which OAuth 2.0 needs too"},
		{"535 5.7.139 Authentication unsuccessful, basic authentication is disabled. [AM0PR10CA0003.EURPRD10.PROD.OUTLOOK.COM]",
			"Microsoft 365 takes no password for SMTP: log in with OAuth 2.0 (LoginOAuth2)"},
		{"535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy. Contact your administrator.",
			"the tenant's security defaults refuse passwords for SMTP: log in with OAuth 2.0 (LoginOAuth2)"},
		{"535 5.7.3 Authentication unsuccessful [SN4PR0501CA0054.namprd05.prod.outlook.com]",
			"Microsoft 365 refused the credentials: a token needs the scope https://outlook.office.com/SMTP.Send " +
				"(an application's: https://outlook.office365.com/.default with SMTP.SendAsApp), and the mailbox SMTP AUTH enabled"},
		{"534-5.7.9 Application-specific password required. For more information, go to\n5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor",
			"Google wants an app password (made with 2-Step Verification), or OAuth 2.0 (LoginOAuth2 with the scope https://mail.google.com/)"},
		{"535 5.7.8 Username and Password not accepted.", ""},
		{"535 5.7.139 Authentication unsuccessful, the user credentials were incorrect.", ""},
		{"454 4.7.0 Temporary authentication failure", ""},
	}
	for _, tt := range tests {
		t.Run(tt.reply[:12], func(t *testing.T) {
			code, msg := 0, ""
			_, err := fmt.Sscanf(tt.reply[:3], "%d", &code)
			require.NoError(t, err)
			msg = strings.ReplaceAll(tt.reply[4:], "\n5.7.9 ", "\n")
			e := &AuthenticationError{ResponseError: ResponseError{Code: code, Message: msg}}
			want := fmt.Sprintf("smtplib: authentication failed: %d %s", code, msg)
			if tt.hint != "" {
				want += ": " + tt.hint
			}
			assert.Equal(t, want, e.Error())
		})
	}
	e := &AuthenticationError{ResponseError: ResponseError{Code: 535, Message: "5.7.8 no"},
		Status: "insufficient_scope", Scope: "smtp"}
	assert.Equal(t, "smtplib: authentication failed: 535 5.7.8 no (token status insufficient_scope, scope smtp): "+
		"the token lacks the scope smtp: ask for it", e.Error())
}

// TestNewAuthErrorChallenge: the JSON error is read from the last
// challenge of an OAuth mechanism only, and a malformed one is ignored.
func TestNewAuthErrorChallenge(t *testing.T) {
	r := Reply{Code: 535, Message: "5.7.8 no"}
	tests := []struct {
		name, mech, challenge string
		status, scope         string
	}{
		{"rfc 7628", "OAUTHBEARER", `{"status":"invalid_token","scope":"a b","schemes":"bearer"}`, "invalid_token", "a b"},
		{"dovecot's xoauth2", "XOAUTH2", `{"status":"401","schemes":"bearer","scope":"mail"}`, "401", "mail"},
		{"a number", "XOAUTH2", `{"status":400}`, "400", ""},
		{"not json", "XOAUTH2", `status=401`, "", ""},
		{"another mechanism", "PLAIN", `{"status":"401"}`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newAuthError(r, tt.mech, []byte(tt.challenge))
			assert.Equal(t, 535, e.Code)
			assert.Equal(t, tt.status, e.Status)
			assert.Equal(t, tt.scope, e.Scope)
		})
	}
}

// TestLoginOAuth2ContextTwin: the context bounds the exchange, as for the
// other twins.
func TestLoginOAuth2ContextTwin(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithOAuth(oauthScope, map[string]string{"bob@example.com": "tok-1"}),
		smtptest.WithFault(smtptest.Fault{At: "AUTH", Action: smtptest.Stall}))
	c := dialTest(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := c.LoginOAuth2Context(ctx, "bob@example.com", &countingSource{})
	var sd *ServerDisconnectedError
	require.ErrorAs(t, err, &sd)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Nil(t, c.getConn(), "the client is closed")
}

// tokenServer is an SMTP server over pipes that accepts OAUTHBEARER with
// the tokens it is told of until their expiry, by the bubble's clock, and
// records each login's token.
type tokenServer struct {
	mu       sync.Mutex
	expiry   map[string]time.Time
	accepted []string
}

func (ts *tokenServer) issue(tok *oauth2.Token) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.expiry[tok.AccessToken] = tok.Expiry
}

func (ts *tokenServer) logins() []string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]string(nil), ts.accepted...)
}

func (ts *tokenServer) serve(conn net.Conn) {
	r := bufio.NewReader(conn)
	say := func(s string) bool { _, err := conn.Write([]byte(s + "\r\n")); return err == nil }
	if !say("220 mx.example") {
		return
	}
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.TrimRight(line, "\r\n")
		reply := "250 2.0.0 ok"
		switch verb, arg, _ := strings.Cut(cmd, " "); strings.ToUpper(verb) {
		case "EHLO":
			reply = "250-mx.example\r\n250 AUTH OAUTHBEARER"
		case "AUTH":
			msg, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(arg, "OAUTHBEARER "))
			_, token, _ := strings.Cut(string(msg), "auth=Bearer ")
			token = strings.TrimRight(token, "\x01")
			ts.mu.Lock()
			exp, ok := ts.expiry[token]
			ok = ok && time.Now().Before(exp)
			if ok {
				ts.accepted = append(ts.accepted, token)
			}
			ts.mu.Unlock()
			reply = "235 2.7.0 ok"
			if !ok {
				if !say("334 " + b64(`{"status":"invalid_token","schemes":"bearer"}`)) {
					return
				}
				if _, err := r.ReadString('\n'); err != nil { // the client's %x01
					return
				}
				reply = "535 5.7.8 token expired"
			}
		case "DATA":
			if !say("354 go on") {
				return
			}
			for l := ""; l != ".\r\n"; {
				if l, err = r.ReadString('\n'); err != nil {
					return
				}
			}
			reply = "250 2.0.0 queued"
		case "QUIT":
			say("221 2.0.0 bye")
			return
		}
		if !say(reply) {
			return
		}
	}
}

// TestPoolRefreshesOAuth2Token: a Pool whose dial function logs in with
// LoginOAuth2 from an oauth2.ReuseTokenSource. Under testing/synctest the
// clock is fake, so the token's hour passes between two connections
// exactly: the connections made within the hour reuse the token, the one
// made after it gets a new one, which the server, which refuses expired
// tokens, accepts.
func TestPoolRefreshesOAuth2Token(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv := &tokenServer{expiry: map[string]time.Time{}}
		pipes := rawsrv.NewPipes(srv.serve)
		src := &countingSource{life: time.Hour}
		issuing := oauth2.TokenSource(issuedTo{src, srv})
		ts := oauth2.ReuseTokenSource(nil, issuing)
		connect := func(ctx context.Context) (*SMTP, error) {
			return DialContext(ctx, "mx.example", 25, WithDialer(pipes), WithInsecureAuth(),
				WithLocalHostname("client.example"), WithTimeout(10*time.Minute))
		}
		dial := func(ctx context.Context) (*SMTP, error) {
			c, err := connect(ctx)
			if err != nil {
				return nil, err
			}
			if _, err := c.LoginOAuth2Context(ctx, "bob@example.com", ts); err != nil {
				c.Close()
				return nil, err
			}
			return c, nil
		}
		// One mail a connection, so that each mail dials anew.
		p := NewPool(dial, WithPoolSize(1), WithMaxMessagesPerConn(1))
		mails := batchOf(3)
		require.NoError(t, p.Send(context.Background(), mails[0]).Err) // t=0: tok-1, valid until t=1h
		time.Sleep(30 * time.Minute)
		require.NoError(t, p.Send(context.Background(), mails[1]).Err) // t=30m: tok-1 again
		assert.Equal(t, 1, src.calls(), "a valid token is reused")
		time.Sleep(30 * time.Minute)
		require.NoError(t, p.Send(context.Background(), mails[2]).Err) // t=1h: tok-1 has expired
		assert.Equal(t, 2, src.calls(), "an expired token is replaced")
		closePool(t, p)
		pipes.Wait()
		assert.Equal(t, []string{"tok-1", "tok-1", "tok-2"}, srv.logins())

		// The server does refuse the expired token.
		c, err := connect(context.Background())
		require.NoError(t, err)
		_, err = c.LoginOAuth2("bob@example.com", oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "tok-1"}))
		var authErr *AuthenticationError
		require.ErrorAs(t, err, &authErr)
		assert.Equal(t, "invalid_token", authErr.Status)
		c.Close()
		pipes.Wait()
	})
}

// issuedTo tells srv of each token src issues, as an authorization server
// knows the tokens it has issued.
type issuedTo struct {
	src oauth2.TokenSource
	srv *tokenServer
}

func (s issuedTo) Token() (*oauth2.Token, error) {
	tok, err := s.src.Token()
	if err == nil {
		s.srv.issue(tok)
	}
	return tok, err
}
