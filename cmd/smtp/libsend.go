package main

import "github.com/gosmtplib/smtplib"

// sendMessage is the command's one call of the library's sending API:
// send msg with from and to as the envelope, each taken from msg's header
// when it is "" or nil (SendMessage's rule). It is kept apart because
// that API's signature is changing (issue 12: SendMessage(msg, opts...)
// with FromAddr and ToAddrs).
func sendMessage(s *smtplib.SMTP, msg *smtplib.Message, from string, to []string) (map[string]smtplib.Reply, error) {
	return s.SendMessage(msg, from, to, nil, nil)
}
