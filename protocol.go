package smtplib

// protocol is what differs between SMTP and LMTP (RFC 2033), decided once,
// when the client is made: the rest of the client asks it rather than
// testing which protocol it speaks. The zero value of [SMTP] speaks SMTP.
type protocol struct {
	greetVerb   string // Ehlo's verb: smtplib's ehlo_msg
	heloBack    bool   // EhloOrHeloIfNeeded falls back to HELO
	defaultPort int    // Connect's port 0 (implicit TLS aside)
	unixSockets bool   // a host starting with "/" is a socket's path
	// outcome turns a transaction's replies into what Sendmail returns:
	// one reply after the data, or (LMTP) one per accepted recipient.
	outcome      func(s *SMTP, t *txn) (map[string]Reply, error)
	perRecipient bool // one reply per accepted recipient after the data
}

var smtpProtocol = &protocol{
	greetVerb:   "ehlo",
	heloBack:    true,
	defaultPort: SMTPPort,
	outcome:     smtpOutcome,
}

var lmtpProtocol = &protocol{
	greetVerb:    "lhlo",
	defaultPort:  LMTPPort,
	unixSockets:  true,
	outcome:      lmtpOutcome,
	perRecipient: true,
}

// proto is the client's protocol.
func (s *SMTP) proto() *protocol {
	if s.protocol == nil {
		return smtpProtocol
	}
	return s.protocol
}

// smtpOutcome is SMTP's outcome of t: the refused recipients, or t's
// error.
func smtpOutcome(_ *SMTP, t *txn) (map[string]Reply, error) {
	if t.err != nil {
		return nil, t.err
	}
	return t.refused, nil
}
