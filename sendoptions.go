package smtplib

import "github.com/emersion/go-msgauth/dkim"

// SendOption is one of the keyword arguments of Python's sendmail and
// send_message, for [SMTP.Sendmail], [SMTP.SendmailReader] and
// [SMTP.SendMessage] and their context twins. The common call needs none:
// s.Sendmail(from, to, msg), s.SendMessage(msg). Besides Python's
// keyword arguments there are typed options for delivery status:
// [Notify], [Return], [EnvID] and [ORcpt] (DSN, RFC 3461), [RequireTLS]
// (RFC 8689) and [FinalReply] (the reply with the queue identifier).
type SendOption func(*sendOptions)

// sendOptions is what the SendOptions of one call add up to.
type sendOptions struct {
	mail    []string // mail_options
	rcpt    []string // rcpt_options
	from    string   // from_addr, when fromSet
	fromSet bool
	to      []string // to_addrs, when toSet (possibly empty)
	toSet   bool

	// Delivery status (dsn.go, finalreply.go).
	notify     []DSNNotify // NOTIFY conditions, when notifySet
	notifySet  bool
	ret        DSNReturn // RET, "" for none
	envID      string    // ENVID, when envIDSet
	envIDSet   bool
	orcpt      []orcptOption
	requireTLS bool
	final      *Reply // where FinalReply stores the reply after the data, when finalSet
	finalSet   bool

	dkim    *dkim.SignOptions // DKIM's copy (dkim.go), when dkimSet
	dkimSet bool
}

// MailOptions adds ESMTP parameters to the MAIL command (Python's
// mail_options): "BODY=8BITMIME", "SMTPUTF8", "RET=HDRS", ... Each is
// checked as [SMTP.Mail] checks its options, before anything is sent. The
// options of several MailOptions add up, in order.
func MailOptions(opts ...string) SendOption {
	return func(o *sendOptions) { o.mail = append(o.mail, opts...) }
}

// RcptOptions adds ESMTP parameters to every RCPT command (Python's
// rcpt_options), checked as [SMTP.Rcpt] checks its options. The options of
// several RcptOptions add up, in order.
func RcptOptions(opts ...string) SendOption {
	return func(o *sendOptions) { o.rcpt = append(o.rcpt, opts...) }
}

// FromAddr sets the envelope sender of [SMTP.SendMessage] instead of the
// one taken from the header (Python's from_addr). An empty addr is the null
// reverse-path "<>", for bounces. Sendmail takes its sender as an argument
// and refuses this option.
func FromAddr(addr string) SendOption {
	return func(o *sendOptions) { o.from, o.fromSet = addr, true }
}

// ToAddrs sets the envelope recipients of [SMTP.SendMessage] instead of the
// ones taken from the header (Python's to_addrs). With no address the
// transaction has no recipient, and fails as smtplib's does. Sendmail
// takes its recipients as an argument and refuses this option.
func ToAddrs(addrs ...string) SendOption {
	return func(o *sendOptions) {
		o.to, o.toSet = append([]string{}, addrs...), true
	}
}

// collectSendOptions applies opts in order. For the calls that take the
// envelope as arguments (call names them), FromAddr and ToAddrs are a
// mistake, reported before anything is sent rather than ignored.
func collectSendOptions(call string, opts []SendOption, envelopeGiven bool) (*sendOptions, error) {
	o := &sendOptions{}
	for _, opt := range opts {
		if opt == nil {
			return nil, &CommandError{Reason: call + ": a SendOption is nil"}
		}
		opt(o)
	}
	if envelopeGiven && (o.fromSet || o.toSet) {
		return nil, &CommandError{Reason: call + " takes the sender and recipients as arguments: " +
			"FromAddr and ToAddrs are options of SendMessage"}
	}
	if err := o.checkDKIM(call); err != nil {
		return nil, err
	}
	return o, nil
}
