package smtplib

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-sasl"
	"golang.org/x/oauth2"
)

// LoginOAuth2 logs in as user with an OAuth 2.0 token from ts (OAUTHBEARER
// when offered, else XOAUTH2), a fresh one each login, as Gmail and
// Microsoft 365 require; in clear text only to loopback. The error says
// what to do for the providers' well-known refusals:
//
//	550 5.7.30, 535 5.7.139 basic auth off  Microsoft 365: use LoginOAuth2
//	535 5.7.139 SmtpClientAuthentication    enable Authenticated SMTP for the mailbox
//	535 5.7.3                               scope https://outlook.office.com/SMTP.Send
//	534 5.7.9                               Gmail: an app password, or LoginOAuth2
func (s *SMTP) LoginOAuth2(user string, ts oauth2.TokenSource) (Reply, error) {
	return s.LoginOAuth2Context(context.Background(), user, ts)
}

// LoginOAuth2Context is [SMTP.LoginOAuth2] bounded by ctx.
func (s *SMTP) LoginOAuth2Context(ctx context.Context, user string, ts oauth2.TokenSource) (Reply, error) {
	if ts == nil {
		return Reply{}, &CommandError{Reason: "LoginOAuth2: the oauth2.TokenSource is nil"}
	}
	offered, err := s.authOffered(ctx)
	if err != nil {
		return Reply{}, err
	}
	mech := ""
	for _, m := range []string{sasl.OAuthBearer, mechXOAuth2} {
		if containsFold(offered, m) {
			mech = m
			break
		}
	}
	if mech == "" {
		return Reply{}, &smtpError{msg: fmt.Sprintf("No suitable authentication method found: "+
			"the server offers neither OAUTHBEARER nor XOAUTH2 (AUTH %s)", strings.Join(offered, " "))}
	}
	if s.getConn() == nil {
		return Reply{}, notConnected()
	}
	// Refused before the token is taken: the source may have to fetch one.
	if err := s.checkAuthSecure(mech); err != nil {
		return Reply{}, err
	}
	tok, err := ts.Token()
	if err == nil && (tok == nil || tok.AccessToken == "") {
		err = errors.New("the token has no access token")
	}
	if err != nil {
		return Reply{}, fmt.Errorf("smtplib: LoginOAuth2: no token from the token source: %w", err)
	}
	client := XOAuth2(user, tok.AccessToken)
	if mech == sasl.OAuthBearer {
		client = oauthBearer(user, tok.AccessToken)
	}
	return s.AuthContext(ctx, mech, client, true)
}

// oauthBearer returns RFC 7628's OAUTHBEARER mechanism for user and
// token. Its message is the GS2 header naming user ("n,a=user,", RFC 5801's
// escaping of "," and "="), then "auth=Bearer token", each followed by
// %x01, and a final %x01. go-sasl's client is not used: it answers the
// server's JSON error with an error, which makes Auth cancel the exchange,
// where the RFC wants the dummy response %x01.
func oauthBearer(user, token string) sasl.Client {
	authz := ""
	if user != "" {
		authz = "a=" + strings.NewReplacer("=", "=3D", ",", "=2C").Replace(user)
	}
	return &oauthClient{mech: sasl.OAuthBearer, answer: []byte{0x01},
		ir: []byte("n," + authz + ",\x01auth=Bearer " + token + "\x01\x01")}
}

// oauthClient is a bearer-token mechanism, XOAUTH2 or OAUTHBEARER: an
// initial response, then one answer to the server's JSON error.
type oauthClient struct {
	mech   string
	ir     []byte
	answer []byte // what answers the error challenge
}

func (c *oauthClient) Start() (string, []byte, error) { return c.mech, c.ir, nil }

// Next answers the error challenge, after which the server sends its
// final refusal; [SMTP.Auth] decodes the challenge into the
// [AuthenticationError].
func (c *oauthClient) Next([]byte) ([]byte, error) { return c.answer, nil }

// newAuthError is the error for r, the server's refusal of mechanism,
// with the JSON error of the last challenge when the mechanism is an
// OAuth one and it sent one.
func newAuthError(r Reply, mechanism string, challenge []byte) *AuthenticationError {
	e := &AuthenticationError{ResponseError: respErr(r)}
	if mechanism != mechXOAuth2 && mechanism != sasl.OAuthBearer {
		return e
	}
	var fields map[string]any
	if json.Unmarshal(challenge, &fields) != nil {
		return e
	}
	// The RFC's values are strings; a number (an HTTP status) is taken too.
	text := func(v any) string {
		switch v := v.(type) {
		case string:
			return v
		case float64:
			return fmt.Sprint(v)
		}
		return ""
	}
	e.Status, e.Scope = text(fields["status"]), text(fields["scope"])
	return e
}

// authHints are the refusals that [SMTP.LoginOAuth2] documents, with
// what to do: the enhanced code and a word of the text that tell each
// apart, in the order they are tried.
var authHints = []struct {
	code [3]int
	text string // lower case
	hint string
}{
	{[3]int{5, 7, 30}, "basic authentication is not supported",
		"Microsoft 365 takes no password for SMTP: log in with OAuth 2.0 (LoginOAuth2)"},
	{[3]int{5, 7, 139}, "smtpclientauthentication is disabled",
		"SMTP AUTH is turned off for this Microsoft 365 tenant: enable Authenticated SMTP for the mailbox " +
			"(Set-CASMailbox -SmtpClientAuthenticationDisabled $false), which OAuth 2.0 needs too"},
	{[3]int{5, 7, 139}, "basic authentication is disabled",
		"Microsoft 365 takes no password for SMTP: log in with OAuth 2.0 (LoginOAuth2)"},
	{[3]int{5, 7, 139}, "security defaults",
		"the tenant's security defaults refuse passwords for SMTP: log in with OAuth 2.0 (LoginOAuth2)"},
	{[3]int{5, 7, 3}, "authentication unsuccessful",
		"Microsoft 365 refused the credentials: a token needs the scope https://outlook.office.com/SMTP.Send " +
			"(an application's: https://outlook.office365.com/.default with SMTP.SendAsApp), and the mailbox SMTP AUTH enabled"},
	{[3]int{5, 7, 9}, "application-specific password required",
		"Google wants an app password (made with 2-Step Verification), or OAuth 2.0 " +
			"(LoginOAuth2 with the scope https://mail.google.com/)"},
}

// authHint says what to do about e's refusal, or "" when it is not one
// that [SMTP.LoginOAuth2] documents.
func authHint(e *AuthenticationError) string {
	code := e.EnhancedCode()
	text := strings.ToLower(e.Message)
	for _, h := range authHints {
		if code == h.code && strings.Contains(text, h.text) {
			return h.hint
		}
	}
	switch {
	case e.Status == "insufficient_scope" && e.Scope != "":
		return "the token lacks the scope " + e.Scope + ": ask for it"
	case e.Status != "":
		hint := "the token is expired, revoked or not for this user"
		if e.Scope != "" {
			hint += ", or lacks the scope " + e.Scope
		}
		return hint + ": take a new one from the token source"
	}
	return ""
}
