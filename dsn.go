package smtplib

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gosmtplib/smtplib/internal/mailaddr"
	"github.com/gosmtplib/smtplib/internal/textutil"
	"github.com/gosmtplib/smtplib/internal/xtext"
)

// DSNNotify is a value of RFC 3461's NOTIFY, given with [Notify].
type DSNNotify string

// The NOTIFY conditions of RFC 3461 section 4.1. NotifyNever stands alone;
// the others combine.
const (
	NotifySuccess DSNNotify = "SUCCESS" // a report when the message is delivered
	NotifyFailure DSNNotify = "FAILURE" // a report when delivery fails
	NotifyDelay   DSNNotify = "DELAY"   // a report when delivery is delayed
	NotifyNever   DSNNotify = "NEVER"   // no report, whatever happens
)

// DSNReturn says how much of the message a delivery status notification
// returns: a value of RFC 3461's RET parameter, given with [Return].
type DSNReturn string

// The RET values of RFC 3461 section 4.3.
const (
	ReturnFull    DSNReturn = "FULL" // the whole message
	ReturnHeaders DSNReturn = "HDRS" // the header only
)

// maxEnvID is RFC 3461 section 4.4's bound on an envelope identifier.
const maxEnvID = 100

// Notify asks for delivery status notifications (RFC 3461's NOTIFY) on the
// conditions given, or [NotifyNever]. It needs DSN.
func Notify(conds ...DSNNotify) SendOption {
	return func(o *sendOptions) {
		o.notify, o.notifySet = append([]DSNNotify{}, conds...), true
	}
}

// Return says what a delivery status notification carries (RFC 3461's
// RET): [ReturnFull] or [ReturnHeaders]. It needs DSN.
func Return(what DSNReturn) SendOption {
	return func(o *sendOptions) { o.ret = what }
}

// EnvID gives the transaction an envelope identifier (RFC 3461's ENVID),
// quoted back in reports: 1 to 100 printable ASCII characters.
func EnvID(id string) SendOption {
	return func(o *sendOptions) { o.envID, o.envIDSet = id, true }
}

// ORcpt gives recipient rcpt's original address (RFC 3461's ORCPT, or RFC
// 6533's utf-8 form). It needs DSN.
func ORcpt(rcpt, original string) SendOption {
	return func(o *sendOptions) {
		o.orcpt = append(o.orcpt, orcptOption{rcpt: rcpt, original: original})
	}
}

// RequireTLS asks that the message travel over TLS to its destination (RFC
// 8689): the session must be under TLS and the server offer REQUIRETLS.
func RequireTLS() SendOption {
	return func(o *sendOptions) { o.requireTLS = true }
}

// orcptOption is one ORcpt.
type orcptOption struct{ rcpt, original string }

// usesDSN tells whether any option needs the server's DSN extension.
func (o *sendOptions) usesDSN() bool {
	return o.notifySet || o.ret != "" || o.envIDSet || len(o.orcpt) > 0
}

// envelopeParams are the parameters the delivery-status options add to a
// transaction's commands.
type envelopeParams struct {
	mail []string   // for MAIL
	base []string   // the RcptOptions
	rcpt [][]string // each recipient's whole RCPT options; nil when base is all
}

// rcptParams returns the options of the i-th recipient's RCPT.
func (p envelopeParams) rcptParams(i int) []string {
	if p.rcpt == nil {
		return p.base
	}
	return p.rcpt[i]
}

// statusParams checks the delivery-status options against the session and
// the recipients to, and returns the parameters they add. It is called
// while the envelope is built, so every refusal comes before anything is
// sent: a bad value is a *CommandError, a feature the server lacks a
// *NotSupportedError.
func (o *sendOptions) statusParams(s *SMTP, to []string) (envelopeParams, error) {
	p := envelopeParams{base: o.rcpt}
	if err := o.checkFinal(); err != nil {
		return p, err
	}
	if !o.usesDSN() && !o.requireTLS {
		return p, nil
	}
	utf8Txn := s.DoesESMTP && slices.ContainsFunc(o.mail, func(m string) bool { return pyLower(m) == "smtputf8" })
	notify, err := o.notifyValue()
	if err != nil {
		return p, err
	}
	orcpts, err := o.orcptValues(to, utf8Txn)
	if err != nil {
		return p, err
	}
	if p.mail, err = o.dsnMailParams(); err != nil {
		return p, err
	}
	if err := o.checkNoRawDuplicates(); err != nil {
		return p, err
	}
	if o.usesDSN() && !s.HasExtn("dsn") {
		return p, &NotSupportedError{Msg: "DSN (delivery status notifications) not supported by server"}
	}
	if o.requireTLS {
		if !s.isTLS {
			return p, &NotSupportedError{Msg: "REQUIRETLS needs a TLS session: call StartTLS or use DialSSL first"}
		}
		if !s.HasExtn("requiretls") {
			return p, &NotSupportedError{Msg: "REQUIRETLS not supported by server"}
		}
		p.mail = append(p.mail, "REQUIRETLS")
	}
	if notify == "" && len(o.orcpt) == 0 {
		return p, nil
	}
	p.rcpt = make([][]string, len(to))
	for i := range to {
		extra := make([]string, 0, 2)
		if notify != "" {
			extra = append(extra, "NOTIFY="+notify)
		}
		if orcpts[i] != "" {
			extra = append(extra, "ORCPT="+orcpts[i])
		}
		p.rcpt[i] = slices.Concat(o.rcpt, extra)
	}
	return p, nil
}

// notifyValue checks the NOTIFY conditions and joins them, "" for none.
func (o *sendOptions) notifyValue() (string, error) {
	if !o.notifySet {
		return "", nil
	}
	if len(o.notify) == 0 {
		return "", &CommandError{Reason: "Notify: no condition given (use NotifyNever for no report)"}
	}
	var conds []string
	for _, c := range o.notify {
		switch c {
		case NotifySuccess, NotifyFailure, NotifyDelay, NotifyNever:
		default:
			return "", &CommandError{Command: escapeControls(string(c)),
				Reason: "Notify: unknown condition (want NotifySuccess, NotifyFailure, NotifyDelay or NotifyNever)"}
		}
		if !slices.Contains(conds, string(c)) {
			conds = append(conds, string(c))
		}
	}
	if slices.Contains(conds, string(NotifyNever)) && len(conds) > 1 {
		return "", &CommandError{Reason: "Notify: NotifyNever cannot be combined with another condition"}
	}
	return strings.Join(conds, ","), nil
}

// dsnMailParams checks RET and ENVID and returns them as MAIL parameters.
func (o *sendOptions) dsnMailParams() ([]string, error) {
	var mail []string
	switch o.ret {
	case "":
	case ReturnFull, ReturnHeaders:
		mail = append(mail, "RET="+string(o.ret))
	default:
		return nil, &CommandError{Command: escapeControls(string(o.ret)),
			Reason: "Return: unknown value (want ReturnFull or ReturnHeaders)"}
	}
	if o.envIDSet {
		id := o.envID
		if id == "" || len(id) > maxEnvID || strings.ContainsFunc(id, func(r rune) bool { return r < ' ' || r > '~' }) {
			return nil, &CommandError{Command: escapeControls(id),
				Reason: "EnvID: an envelope identifier must be 1 to 100 printable ASCII characters"}
		}
		mail = append(mail, "ENVID="+xtext.Encode(id))
	}
	return mail, nil
}

// orcptValues returns the ORCPT value for each recipient in to, "" where
// none was given.
func (o *sendOptions) orcptValues(to []string, utf8Txn bool) ([]string, error) {
	vals := make([]string, len(to))
	for _, oc := range o.orcpt {
		v, err := orcptValue(oc.original, utf8Txn)
		if err != nil {
			return nil, err
		}
		found := false
		for i, addr := range to {
			if sameRecipient(oc.rcpt, addr) {
				vals[i], found = v, true
			}
		}
		if !found {
			return nil, &CommandError{Command: escapeControls(oc.rcpt),
				Reason: "ORcpt: not one of the transaction's recipients"}
		}
	}
	return vals, nil
}

// orcptValue encodes one original recipient address with its type.
func orcptValue(original string, utf8Txn bool) (string, error) {
	if original == "" || !utf8.ValidString(original) ||
		strings.ContainsFunc(original, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return "", &CommandError{Command: escapeControls(original),
			Reason: "ORcpt: the original address must be non-empty UTF-8 text without control characters"}
	}
	if utf8Txn || !textutil.IsASCII(original) {
		return "utf-8;" + xtext.EncodeUTF8Addr(original, utf8Txn), nil
	}
	return "rfc822;" + xtext.Encode(original), nil
}

// sameRecipient tells whether the address given to ORcpt names the
// recipient addr, comparing the bare addresses ("Bob <b@x>" is b@x), and,
// as SendMessage sends a non-ASCII domain as its A-label to a server
// without SMTPUTF8, the ASCII forms too.
func sameRecipient(given, addr string) bool {
	g, a := mailaddr.AddrOnly(given), mailaddr.AddrOnly(addr)
	if g == a {
		return true
	}
	ga, err1 := asciiAddress(g)
	aa, err2 := asciiAddress(a)
	return err1 == nil && err2 == nil && mailaddr.AddrOnly(ga) == mailaddr.AddrOnly(aa)
}

// checkNoRawDuplicates refuses a parameter given both by a typed option and
// by [MailOptions] or [RcptOptions]: the server would see it twice and
// refuse the command, or keep one of the two without saying which.
func (o *sendOptions) checkNoRawDuplicates() error {
	typed := []struct {
		set   bool
		raw   []string
		key   string
		owner string
	}{
		{o.ret != "", o.mail, "RET", "Return"},
		{o.envIDSet, o.mail, "ENVID", "EnvID"},
		{o.requireTLS, o.mail, "REQUIRETLS", "RequireTLS"},
		{o.notifySet, o.rcpt, "NOTIFY", "Notify"},
		{len(o.orcpt) > 0, o.rcpt, "ORCPT", "ORcpt"},
	}
	for _, t := range typed {
		if !t.set {
			continue
		}
		for _, p := range t.raw {
			k, _, _ := strings.Cut(p, "=")
			if strings.EqualFold(k, t.key) {
				return &CommandError{Command: escapeControls(p),
					Reason: t.owner + " and a raw " + t.key + " option are both given"}
			}
		}
	}
	return nil
}
