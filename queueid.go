package smtplib

import "github.com/gosmtplib/smtplib/internal/queueid"

// QueueID returns the identifier the server gave the message in its final
// reply, in the forms of Postfix, Exim, Sendmail, OpenSMTPD, Microsoft 365,
// Amazon SES, Gmail, Dovecot and others; "" when none is known.
func (r Reply) QueueID() string {
	if r.Code < 200 || r.Code > 299 {
		return ""
	}
	return queueid.Find(r.Message)
}
