package smtplib

import "github.com/emersion/go-msgauth/dkim"

// SendOption is one of smtplib's keyword arguments ([MailOptions],
// [RcptOptions], [FromAddr], [ToAddrs]), or a typed one of ours ([DKIM],
// the DSN options, [FinalReply]).
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

// MailOptions adds ESMTP parameters to MAIL (Python's mail_options).
func MailOptions(opts ...string) SendOption {
	return func(o *sendOptions) { o.mail = append(o.mail, opts...) }
}

// RcptOptions adds ESMTP parameters to each RCPT (Python's rcpt_options).
func RcptOptions(opts ...string) SendOption {
	return func(o *sendOptions) { o.rcpt = append(o.rcpt, opts...) }
}

// FromAddr sets SendMessage's envelope sender (Python's from_addr); ""
// is the null sender.
func FromAddr(addr string) SendOption {
	return func(o *sendOptions) { o.from, o.fromSet = addr, true }
}

// ToAddrs sets SendMessage's envelope recipients (Python's to_addrs).
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
