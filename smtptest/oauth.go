package smtptest

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"sort"
	"strings"
)

// replyXOAuth2Failed is Gmail's final refusal of XOAUTH2.
const replyXOAuth2Failed = "535 5.7.8 Username and Password not accepted"

// WithOAuth offers XOAUTH2 and OAUTHBEARER (RFC 7628) on the AUTH line,
// creating it if needed, and makes tokens (user name to bearer token) the
// tokens they accept, in place of [WithUsers]' passwords. Any other token
// is refused as RFC 7628 section 3.2.2 says: with a 334 challenge holding
// the base64 of the JSON error
//
//	{"status":"invalid_token","scope":"<scope>","schemes":"bearer"}
//
// (without "scope" when scope is empty), to which the client answers
// with "\x01" (OAUTHBEARER) or an empty line (XOAUTH2); the server then
// replies 535. A client that answers "*" cancels, and gets 501.
func WithOAuth(scope string, tokens map[string]string) Option {
	return func(s *Server) {
		s.oauthScope = scope
		s.oauthTokens = make(map[string]string, len(tokens))
		for u, t := range tokens {
			s.oauthTokens[u] = t
		}
		if s.Extensions == nil {
			s.Extensions = append([]string{}, defaultExtensions...)
		}
		for i, line := range s.Extensions {
			if strings.EqualFold(keyword(line), "AUTH") {
				s.Extensions[i] = line + missingMechs(line, "XOAUTH2", "OAUTHBEARER")
				return
			}
		}
		s.Extensions = append(s.Extensions, "AUTH XOAUTH2 OAUTHBEARER")
	}
}

// missingMechs returns " MECH" for each of mechs that the AUTH line does
// not list yet.
func missingMechs(line string, mechs ...string) string {
	have := strings.Fields(strings.ToUpper(strings.ReplaceAll(line, "=", " ")))
	var b strings.Builder
	for _, m := range mechs {
		found := false
		for _, h := range have {
			found = found || h == m
		}
		if !found {
			b.WriteString(" " + m)
		}
	}
	return b.String()
}

// checkToken tells whether token is user's bearer token: WithOAuth's
// tokens when given, else WithUsers' passwords.
func (c *session) checkToken(user, token string) bool {
	if c.s.oauthTokens == nil {
		return c.check(user, token)
	}
	if c.s.anyCredentials {
		return true
	}
	want, ok := c.s.oauthTokens[user]
	return ok && hmac.Equal([]byte(want), []byte(token))
}

// tokenOwner returns the user whose token token is, for an OAUTHBEARER
// message that names no user; the first in order if several share it.
func (c *session) tokenOwner(token string) (string, bool) {
	m := c.s.oauthTokens
	if m == nil {
		m = c.s.Users
	}
	users := make([]string, 0, len(m))
	for u := range m {
		users = append(users, u)
	}
	sort.Strings(users)
	for _, u := range users {
		if hmac.Equal([]byte(m[u]), []byte(token)) {
			return u, true
		}
	}
	return "", false
}

// oauthError is RFC 7628 section 3.2.2's error, in its fields' order.
type oauthError struct {
	Status  string `json:"status"`
	Scope   string `json:"scope,omitempty"`
	Schemes string `json:"schemes"`
}

// refuseToken sends the error challenge, reads the client's answer and
// refuses with final. A "*" answer cancels instead (ask replies 501).
func (c *session) refuseToken(status, final string) error {
	var challenge []byte
	if c.s.oauthTokens == nil && status == "401" {
		// Without WithOAuth, XOAUTH2 says what Gmail says.
		challenge = []byte(`{"status":"401","schemes":"bearer","scope":"https://mail.google.com/"}`)
	} else {
		challenge, _ = json.Marshal(oauthError{Status: status, Scope: c.s.oauthScope, Schemes: "bearer"})
	}
	if _, err := c.ask(base64.StdEncoding.EncodeToString(challenge)); err != nil {
		return err
	}
	c.reply(final)
	return errAuthEnded
}

// authXOAuth2 implements Google's XOAUTH2: "user=U\x01auth=Bearer T\x01\x01".
// On failure the server sends a JSON error as a challenge and refuses
// after the client's (empty) answer, as Gmail does.
func (c *session) authXOAuth2(resp []byte) (string, error) {
	if resp == nil {
		var err error
		if resp, err = c.ask(""); err != nil {
			return "", err
		}
	}
	var user, token string
	for _, field := range strings.Split(string(resp), "\x01") {
		switch {
		case strings.HasPrefix(field, "user="):
			user = field[len("user="):]
		case strings.HasPrefix(field, "auth="):
			token = bearer(field[len("auth="):])
		}
	}
	if user != "" && token != "" && c.checkToken(user, token) {
		return user, nil
	}
	status := "401"
	if c.s.oauthTokens != nil {
		status = "invalid_token"
	}
	return "", c.refuseToken(status, replyXOAuth2Failed)
}

// authOAuthBearer implements RFC 7628's OAUTHBEARER: a GS2 header
// ("n,a=user,"), then key=value pairs each ended by "\x01", one of them
// "auth=Bearer token", and a final "\x01".
func (c *session) authOAuthBearer(resp []byte) (string, error) {
	if resp == nil {
		var err error
		if resp, err = c.ask(""); err != nil {
			return "", err
		}
	}
	user, token, ok := parseOAuthBearer(string(resp))
	if !ok {
		return "", c.refuseToken("invalid_request", replyAuthFailed)
	}
	switch {
	case user == "" && c.s.anyCredentials:
		return "bearer", nil
	case user == "":
		if owner, found := c.tokenOwner(token); found {
			return owner, nil
		}
	case c.checkToken(user, token):
		return user, nil
	}
	return "", c.refuseToken("invalid_token", replyAuthFailed)
}

// parseOAuthBearer returns the authorization identity and the bearer
// token of an OAUTHBEARER client message, and whether it is well formed.
// Channel binding ("p=") is not supported, as no SMTP server offers it.
func parseOAuthBearer(msg string) (user, token string, ok bool) {
	gs2, rest, found := strings.Cut(msg, "\x01")
	if !found || !strings.HasSuffix(rest, "\x01") {
		return "", "", false
	}
	flag, authz, found := strings.Cut(gs2, ",")
	if !found || (flag != "n" && flag != "y") || !strings.HasSuffix(authz, ",") {
		return "", "", false
	}
	authz = strings.TrimSuffix(authz, ",")
	if authz != "" {
		if !strings.HasPrefix(authz, "a=") {
			return "", "", false
		}
		// RFC 5801's saslname: "=2C" is a comma and "=3D" an equals sign.
		user = strings.NewReplacer("=2C", ",", "=3D", "=").Replace(authz[2:])
	}
	for _, kv := range strings.Split(strings.TrimSuffix(rest, "\x01"), "\x01") {
		if v, isAuth := strings.CutPrefix(kv, "auth="); isAuth {
			token = bearer(v)
		}
	}
	return user, token, token != ""
}

// bearer returns the token of an "auth" value "Bearer <token>" (the
// scheme's case ignored), or "".
func bearer(v string) string {
	scheme, token, _ := strings.Cut(v, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return token
}
