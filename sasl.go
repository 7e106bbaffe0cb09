package smtplib

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/hex"
	"errors"

	"github.com/emersion/go-sasl"
	"github.com/xdg-go/scram"
)

// The mechanisms of this file, as they go on the AUTH line.
const (
	mechPlain       = "PLAIN"
	mechLogin       = "LOGIN"
	mechCramMD5     = "CRAM-MD5"
	mechXOAuth2     = "XOAUTH2"
	mechScramSHA256 = "SCRAM-SHA-256"
)

// AuthPlain returns the PLAIN mechanism for [SMTP.Auth] (Python's
// auth_plain).
func (s *SMTP) AuthPlain() sasl.Client { return &plainClient{s: s} }

// AuthLogin returns the LOGIN mechanism for [SMTP.Auth] (Python's
// auth_login).
func (s *SMTP) AuthLogin() sasl.Client { return &loginClient{s: s} }

// AuthCramMD5 returns the CRAM-MD5 mechanism for [SMTP.Auth] (Python's
// auth_cram_md5).
func (s *SMTP) AuthCramMD5() sasl.Client { return &cramMD5Client{s: s} }

// plainClient is AuthPlain's mechanism. It takes its initial response from
// go-sasl's PLAIN client, whose bytes are smtplib's.
type plainClient struct{ s *SMTP }

func (c *plainClient) Start() (string, []byte, error) {
	_, ir, err := sasl.NewPlainClient("", c.s.User, string(c.s.Password)).Start()
	return mechPlain, ir, err
}

// Next answers any challenge with the credentials again, as smtplib's
// auth_plain ignores its challenge.
func (c *plainClient) Next([]byte) ([]byte, error) {
	_, ir, err := c.Start()
	return ir, err
}

// loginClient is AuthLogin's mechanism.
type loginClient struct{ s *SMTP }

func (c *loginClient) Start() (string, []byte, error) {
	return mechLogin, []byte(c.s.User), nil
}

// Next applies smtplib's rule: the user name while fewer than two
// challenges have been counted (the initial response counts as one), the
// password after. go-sasl's LOGIN client, which insists on the text
// "Password:", would fail with the many servers that word it otherwise.
func (c *loginClient) Next([]byte) ([]byte, error) {
	if c.s.authCount < 2 {
		return []byte(c.s.User), nil
	}
	return []byte(c.s.Password), nil
}

// cramMD5Client is AuthCramMD5's mechanism.
type cramMD5Client struct{ s *SMTP }

func (c *cramMD5Client) Start() (string, []byte, error) { return mechCramMD5, nil, nil }

func (c *cramMD5Client) Next(challenge []byte) ([]byte, error) {
	mac := hmac.New(md5.New, []byte(c.s.Password))
	mac.Write(challenge)
	return []byte(c.s.User + " " + hex.EncodeToString(mac.Sum(nil))), nil
}

// XOAuth2 returns the XOAUTH2 mechanism for [SMTP.Auth], with a fixed token
// (see [SMTP.LoginOAuth2]).
func XOAuth2(user, token string) sasl.Client {
	// The empty answer to the error challenge is what the providers expect.
	return &oauthClient{mech: mechXOAuth2, answer: []byte{},
		ir: []byte("user=" + user + "\x01auth=Bearer " + token + "\x01\x01")}
}

// ScramSHA256 returns the SCRAM-SHA-256 mechanism (RFC 7677) for
// [SMTP.Auth]: the password never goes on the wire.
func ScramSHA256(user, pass string) sasl.Client {
	return &scramClient{user: user, pass: pass}
}

// scramClient adapts xdg-go/scram's conversation to go-sasl's interface. A
// new conversation starts with each Start, so the client may be reused.
type scramClient struct {
	user, pass string
	conv       *scram.ClientConversation
}

func (c *scramClient) Start() (string, []byte, error) {
	client, err := scram.SHA256.NewClient(c.user, c.pass, "")
	if err != nil {
		return mechScramSHA256, nil, err
	}
	c.conv = client.NewConversation()
	first, err := c.conv.Step("")
	if err != nil {
		return mechScramSHA256, nil, err
	}
	return mechScramSHA256, []byte(first), nil
}

// Next answers the server-first message with the client proof, then checks
// the server's signature in the server-final message and answers it with an
// empty response, after which the server sends 235.
func (c *scramClient) Next(challenge []byte) ([]byte, error) {
	if c.conv == nil {
		return nil, errors.New("scram: Next called before Start")
	}
	resp, err := c.conv.Step(string(challenge))
	if err != nil {
		return nil, err
	}
	return []byte(resp), nil
}
