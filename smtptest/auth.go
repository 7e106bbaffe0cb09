package smtptest

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// maxAuthLine bounds a SASL response line; RFC 4954 section 4 asks
// servers to accept 12288 bytes, since tokens can be long.
const maxAuthLine = 12288

const (
	replyAuthOK        = "235 2.7.0 Authentication successful"
	replyAuthFailed    = "535 5.7.8 Authentication credentials invalid"
	replyAuthCancelled = "501 5.7.0 Authentication cancelled"
	replyAuthDecode    = "501 5.5.2 Cannot decode response"
)

// errAuthEnded means the exchange already ended with an error reply.
var errAuthEnded = errors.New("smtptest: authentication exchange ended")

// authMechs returns the mechanisms the session is offered, upper-case.
func (c *session) authMechs() map[string]bool {
	mechs := map[string]bool{}
	for _, line := range c.extensions() {
		if !strings.EqualFold(keyword(line), "AUTH") {
			continue
		}
		sep := func(r rune) bool { return r == ' ' || r == '=' }
		for _, m := range strings.FieldsFunc(line[len("AUTH"):], sep) {
			mechs[strings.ToUpper(m)] = true
		}
	}
	return mechs
}

func (c *session) auth(arg string) error {
	mechs := c.authMechs()
	mech, initial, hasInitial := strings.Cut(arg, " ")
	mech = strings.ToUpper(mech)
	switch {
	case !c.has("AUTH"):
		c.reply("503 5.5.1 Error: authentication not enabled")
		return nil
	case !c.greeted:
		c.reply(replyNeedHelo)
		return nil
	case c.authed:
		c.reply("503 5.5.1 Error: already authenticated")
		return nil
	case c.tx != nil:
		c.reply("503 5.5.1 Error: MAIL transaction in progress")
		return nil
	case c.s.AuthRequiresTLS && !c.tls:
		c.reply("538 5.7.11 Encryption required for requested authentication mechanism")
		return nil
	case mech == "":
		c.reply("501 5.5.4 Syntax: AUTH mechanism")
		return nil
	case !mechs[mech]:
		c.reply("504 5.5.4 Unrecognized authentication type")
		return nil
	}
	var resp []byte
	if hasInitial {
		// RFC 4954 section 4: "=" stands for an empty initial response.
		var err error
		if initial == "=" {
			resp = []byte{}
		} else if resp, err = base64.StdEncoding.DecodeString(initial); err != nil {
			c.reply(replyAuthDecode)
			return nil
		}
	}
	var user string
	var err error
	switch mech {
	case "PLAIN":
		user, err = c.authPlain(resp)
	case "LOGIN":
		user, err = c.authLogin(resp)
	case "CRAM-MD5":
		if resp != nil {
			c.reply("501 5.5.4 CRAM-MD5 takes no initial response")
			return nil
		}
		user, err = c.authCramMD5()
	case "XOAUTH2":
		user, err = c.authXOAuth2(resp)
	case "OAUTHBEARER":
		user, err = c.authOAuthBearer(resp)
	default:
		// Offered (a test may offer anything) but not implemented.
		c.reply("504 5.5.4 Unrecognized authentication type")
		return nil
	}
	switch {
	case errors.Is(err, errAuthEnded):
		return nil
	case err != nil:
		return err
	}
	c.authed, c.authUser = true, user
	c.s.mu.Lock()
	c.rec.authUser = user
	c.s.mu.Unlock()
	c.reply(replyAuthOK)
	return nil
}

// ask sends a 334 challenge (already base64) and returns the client's
// decoded response. It returns errAuthEnded after answering a
// cancellation or an undecodable response.
func (c *session) ask(challenge string) ([]byte, error) {
	// "334 " with nothing after it is an empty challenge (RFC 4954).
	c.reply("334 " + challenge)
	raw, err := c.readLine(maxAuthLine)
	var tooLong errLineTooLong
	if errors.As(err, &tooLong) {
		c.log("C: ", fmt.Sprintf("<line too long: %d bytes>", tooLong.n))
		c.reply("500 5.5.6 Authentication exchange line is too long")
		return nil, errAuthEnded
	}
	if err != nil {
		return nil, err
	}
	line := strings.TrimRight(string(raw), "\r\n")
	c.log("C: ", line)
	if line == "*" {
		c.reply(replyAuthCancelled)
		return nil, errAuthEnded
	}
	resp, err := base64.StdEncoding.DecodeString(line)
	if err != nil {
		c.reply(replyAuthDecode)
		return nil, errAuthEnded
	}
	return resp, nil
}

// check compares a password without leaking its length through timing,
// which matters little here but costs nothing.
func (c *session) check(user, password string) bool {
	if c.s.anyCredentials {
		return true
	}
	want, ok := c.s.Users[user]
	return ok && hmac.Equal([]byte(want), []byte(password))
}

// failed answers a failed authentication.
func (c *session) failed() error {
	c.reply(replyAuthFailed)
	return errAuthEnded
}

// authPlain implements RFC 4616: authzid NUL authcid NUL passwd.
func (c *session) authPlain(resp []byte) (string, error) {
	if resp == nil {
		var err error
		if resp, err = c.ask(""); err != nil {
			return "", err
		}
	}
	parts := bytes.Split(resp, []byte{0})
	if len(parts) != 3 {
		return "", c.failed()
	}
	authz, user, pass := string(parts[0]), string(parts[1]), string(parts[2])
	if (authz != "" && authz != user) || !c.check(user, pass) {
		return "", c.failed()
	}
	return user, nil
}

// authLogin implements the LOGIN mechanism, whose challenges are the
// base64 of "Username:" and "Password:". An initial response is the user
// name, as smtplib sends it.
func (c *session) authLogin(user []byte) (string, error) {
	var err error
	if user == nil {
		if user, err = c.ask("VXNlcm5hbWU6"); err != nil {
			return "", err
		}
	}
	pass, err := c.ask("UGFzc3dvcmQ6")
	if err != nil {
		return "", err
	}
	if !c.check(string(user), string(pass)) {
		return "", c.failed()
	}
	return string(user), nil
}

// authCramMD5 implements RFC 2195: the client answers the challenge with
// its user name and the hex HMAC-MD5 of the challenge keyed by the
// password.
func (c *session) authCramMD5() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		return "", err
	}
	challenge := fmt.Sprintf("<%d.%d@%s>", n, time.Now().Unix(), c.s.Hostname)
	resp, err := c.ask(base64.StdEncoding.EncodeToString([]byte(challenge)))
	if err != nil {
		return "", err
	}
	i := bytes.LastIndexByte(resp, ' ')
	if i < 0 {
		return "", c.failed()
	}
	user, digest := string(resp[:i]), string(resp[i+1:])
	pass, ok := c.s.Users[user]
	mac := hmac.New(md5.New, []byte(pass))
	mac.Write([]byte(challenge))
	if c.s.anyCredentials {
		return user, nil
	}
	if !ok || !hmac.Equal([]byte(hex.EncodeToString(mac.Sum(nil))), []byte(strings.ToLower(digest))) {
		return "", c.failed()
	}
	return user, nil
}
