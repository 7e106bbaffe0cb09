package main

import "github.com/gosmtplib/smtplib"

// sendMessage sends msg with from and to as the envelope, each taken from
// msg's header when it is "" or nil (SendMessage's rule).
func sendMessage(s *smtplib.SMTP, msg *smtplib.Message, from string, to []string) (map[string]smtplib.Reply, error) {
	var opts []smtplib.SendOption
	if from != "" {
		opts = append(opts, smtplib.FromAddr(from))
	}
	if to != nil {
		opts = append(opts, smtplib.ToAddrs(to...))
	}
	return s.SendMessage(msg, opts...)
}
