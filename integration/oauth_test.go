// The OAuth 2.0 half of the integration suite: LoginOAuth2 against
// Dovecot's submission service, whose oauth2 passdb checks every token
// with the introspection endpoint of testdata/servers/oauth2_server.py,
// an authorization server that gives tokens by the client-credentials
// grant (as Microsoft Entra ID does) and can revoke them. Dovecot relays
// what it accepts to Postfix, where the tests find it.

package integration

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gosmtplib/smtplib"
)

// submission is one of the two Dovecot submission instances.
type submission struct {
	name    string
	port    int
	offers  string // the AUTH line
	mech    string // what LoginOAuth2 must choose
	user    string
	log     string
	status  string // the JSON error's status when a token is refused
	scope   string // and its scope
	creds   clientcredentials.Config
	revoke  string // the revocation endpoint
	postfix mailServer
}

func submissions(t *testing.T) []submission {
	env := serversEnv(t)
	pf := postfix(t)
	creds := func(user string) clientcredentials.Config {
		return clientcredentials.Config{
			ClientID: user, ClientSecret: env["OAUTH2_CLIENT_SECRET"],
			TokenURL: env["OAUTH2_TOKEN_URL"], Scopes: []string{env["OAUTH2_SCOPE"]},
			// A lifetime shorter than the 10 s that golang.org/x/oauth2
			// takes off every token's: the client counts the token as
			// expired once it has been used, as if its expiry had passed
			// between two connections, and asks for a new one at the next
			// login. The server expires it when the test revokes it.
			EndpointParams: url.Values{"expires_in": {"5"}},
		}
	}
	users := strings.Split(env["OAUTH2_USERS"], ",")
	require.GreaterOrEqual(t, len(users), 2)
	return []submission{
		{name: "oauthbearer", port: atoi(t, env, "DOVECOT_SUBMISSION_PORT"),
			offers: "PLAIN LOGIN OAUTHBEARER XOAUTH2", mech: "OAUTHBEARER", user: users[0],
			log: env["DOVECOT_SUBMISSION_LOG"], status: "invalid_token",
			creds: creds(users[0]), revoke: env["OAUTH2_REVOKE_URL"], postfix: pf},
		// Microsoft 365's AUTH line.
		{name: "xoauth2", port: atoi(t, env, "DOVECOT_SUBMISSION_XOAUTH2_PORT"),
			offers: "LOGIN XOAUTH2", mech: "XOAUTH2", user: users[1],
			log: env["DOVECOT_SUBMISSION_XOAUTH2_LOG"], status: "401", scope: "mail",
			creds: creds(users[1]), revoke: env["OAUTH2_REVOKE_URL"], postfix: pf},
	}
}

func (sub submission) dial(ctx context.Context) (*smtplib.SMTP, error) {
	return smtplib.DialContext(ctx, "127.0.0.1", sub.port,
		smtplib.WithTimeout(30*time.Second), smtplib.WithLocalHostname("client.example"))
}

// logins counts the logins of sub.user with sub.mech in Dovecot's log.
func (sub submission) logins(t *testing.T) int {
	b, err := os.ReadFile(sub.log)
	require.NoError(t, err)
	return bytes.Count(b, []byte("Login: user=<"+sub.user+">, method="+sub.mech+","))
}

// waitLogins polls Dovecot's log, which its log process writes apart from
// the replies, until it shows n logins.
func (sub submission) waitLogins(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for sub.logins(t) < n {
		if time.Now().After(deadline) {
			require.FailNow(t, "logins not logged", "%d logins of %s with %s expected in %s", n, sub.user, sub.mech, sub.log)
		}
		time.Sleep(50 * time.Millisecond) // polling a log file, not synchronising goroutines
	}
}

// revokeToken makes the authorization server forget tok (RFC 7009).
func (sub submission) revokeToken(t *testing.T, tok string) {
	t.Helper()
	resp, err := http.PostForm(sub.revoke, url.Values{"token": {tok}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// recordingSource records each token its source gives, in order.
type recordingSource struct {
	src  oauth2.TokenSource
	mu   sync.Mutex
	seen []string
}

func (r *recordingSource) Token() (*oauth2.Token, error) {
	tok, err := r.src.Token()
	if err == nil {
		r.mu.Lock()
		r.seen = append(r.seen, tok.AccessToken)
		r.mu.Unlock()
	}
	return tok, err
}

func (r *recordingSource) tokens() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

// TestDovecotSubmissionOAuth2Refresh sends two mails through a Pool whose
// dial function logs in with LoginOAuth2, one connection each, with a
// client-credentials token source. The first connection's token expires
// between the two (the client counts it as expired; the server has it
// revoked); the second connection logs in with a new one, which Dovecot
// accepts, and the first is refused from then on, with the JSON error of
// the mechanism. Both mails arrive, relayed to Postfix.
func TestDovecotSubmissionOAuth2Refresh(t *testing.T) {
	for _, sub := range submissions(t) {
		t.Run(sub.name, func(t *testing.T) {
			ctx := context.Background()
			src := &recordingSource{src: sub.creds.TokenSource(ctx)}
			before := sub.logins(t)
			pool := smtplib.NewPool(func(ctx context.Context) (*smtplib.SMTP, error) {
				s, err := sub.dial(ctx)
				if err != nil {
					return nil, err
				}
				if _, err := s.LoginOAuth2Context(ctx, sub.user, src); err != nil {
					s.Close()
					return nil, err
				}
				if got := strings.Join(strings.Fields(strings.ToUpper(s.ESMTPFeatures["auth"])), " "); got != sub.offers {
					s.Close()
					return nil, errors.New("the server offers AUTH " + got + ", not " + sub.offers)
				}
				return s, nil
			}, smtplib.WithPoolSize(1), smtplib.WithMaxMessagesPerConn(1))
			defer pool.Close()

			rcpt := sub.postfix.ok[2]
			send := func(tok string) {
				t.Helper()
				res := pool.Send(ctx, smtplib.Mail{From: sub.user, To: []string{rcpt},
					Data: message(sub.user, rcpt, "OAuth 2.0 "+sub.mech, tok, "Sent with a bearer token.\r\n")})
				require.NoError(t, res.Err)
				assert.Equal(t, 250, res.Reply.Code)
			}
			first, second := token(t)+"-1", token(t)+"-2"
			send(first)
			require.Len(t, src.tokens(), 1)
			sub.revokeToken(t, src.tokens()[0])
			send(second)
			tokens := src.tokens()
			require.Len(t, tokens, 2, "the second connection took a new token")
			assert.NotEqual(t, tokens[0], tokens[1])
			assert.NoError(t, pool.Close())
			sub.waitLogins(t, before+2)
			sub.postfix.waitStored(t, rcpt, first)
			sub.postfix.waitStored(t, rcpt, second)

			// The first token no longer works: the server says so with its
			// JSON error, then refuses; the session goes on, and the source
			// gives a token that does.
			s, err := sub.dial(ctx)
			require.NoError(t, err)
			defer s.Close()
			_, err = s.LoginOAuth2(sub.user, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tokens[0]}))
			var authErr *smtplib.AuthenticationError
			require.ErrorAs(t, err, &authErr)
			assert.Equal(t, 535, authErr.Code)
			assert.Equal(t, [3]int{5, 7, 8}, authErr.EnhancedCode())
			assert.Equal(t, sub.status, authErr.Status)
			assert.Equal(t, sub.scope, authErr.Scope)
			assert.Contains(t, err.Error(), "the token is expired, revoked or not for this user")
			assert.NotContains(t, err.Error(), tokens[0])
			r, err := s.LoginOAuth2(sub.user, src)
			require.NoError(t, err)
			assert.Equal(t, 235, r.Code)
			assert.Len(t, src.tokens(), 3)
			_, err = s.Quit()
			assert.NoError(t, err)
		})
	}
}

// TestDovecotSubmissionOAuth2WrongUser: a valid token for another mailbox
// is refused, as Dovecot checks the token's user against the login's.
func TestDovecotSubmissionOAuth2WrongUser(t *testing.T) {
	for _, sub := range submissions(t) {
		t.Run(sub.name, func(t *testing.T) {
			s, err := sub.dial(context.Background())
			require.NoError(t, err)
			defer s.Close()
			other := submissions(t)[0].user
			if other == sub.user {
				other = submissions(t)[1].user
			}
			_, err = s.LoginOAuth2(other, sub.creds.TokenSource(context.Background()))
			var authErr *smtplib.AuthenticationError
			require.ErrorAs(t, err, &authErr)
			assert.Equal(t, 535, authErr.Code)
			assert.Equal(t, sub.status, authErr.Status)
		})
	}
}

// TestDovecotSubmissionOAuth2TokenRefused: when the authorization server
// refuses the client (here, a scope it does not give), LoginOAuth2
// returns its error and sends no AUTH.
func TestDovecotSubmissionOAuth2TokenRefused(t *testing.T) {
	sub := submissions(t)[0]
	creds := sub.creds
	creds.Scopes = []string{"https://outlook.office.com/SMTP.Send"}
	s, err := sub.dial(context.Background())
	require.NoError(t, err)
	defer s.Close()
	_, err = s.LoginOAuth2(sub.user, creds.TokenSource(context.Background()))
	var re *oauth2.RetrieveError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "invalid_scope", re.ErrorCode)
	assert.NotErrorIs(t, err, smtplib.ErrSMTP)
	r, err := s.Noop()
	require.NoError(t, err, "the session is untouched")
	assert.Equal(t, 250, r.Code)
}
