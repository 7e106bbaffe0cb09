package smtplib

import (
	"context"
	"errors"
	"strings"

	"github.com/gosmtplib/smtplib/email"
	"github.com/gosmtplib/smtplib/internal/mailaddr"
	"github.com/gosmtplib/smtplib/internal/textutil"
)

// SendMessage sends msg as [SMTP.Sendmail] does (Python's send_message):
// the envelope from its header, Resent- fields first, unless [FromAddr] or
// [ToAddrs] give it; without Bcc and Resent-Bcc, byte for byte otherwise.
// A non-ASCII domain goes as its A-label where SMTPUTF8 is not offered.
func (s *SMTP) SendMessage(msg *email.Message, opts ...SendOption) (map[string]Reply, error) {
	return s.SendMessageContext(context.Background(), msg, opts...)
}

// SendMessageContext is [SMTP.SendMessage] bounded by ctx.
func (s *SMTP) SendMessageContext(ctx context.Context, msg *email.Message, opts ...SendOption) (map[string]Reply, error) {
	if msg == nil {
		return nil, &CommandError{Reason: "SendMessage: the message is a nil *email.Message"}
	}
	o, err := collectSendOptions("SendMessage", opts, false)
	if err != nil {
		return nil, err
	}
	return s.sendOne(ctx, txn{msg: msg, b: &body{}, o: o})
}

// messageEnvelope returns the sender and recipients of msg, as
// SendMessage documents: o's FromAddr and ToAddrs when given, else the
// header's. Once EHLO is said, it adds SMTPUTF8 to o's MAIL options or
// turns the domains into A-labels, as the addresses and the server need.
func (s *SMTP) messageEnvelope(msg *email.Message, o *sendOptions) (string, []string, error) {
	h := msg.Header()
	prefix := ""
	switch n := len(h["Resent-Date"]); {
	case n == 1:
		prefix = "Resent-"
	case n > 1:
		return "", nil, &CommandError{Reason: "message has more than one 'Resent-' header block"}
	}

	from := o.from
	if !o.fromSet {
		name := prefix + "Sender"
		if h[name] == nil {
			name = prefix + "From"
		}
		var addrs [][2]string
		if vs := h[name]; vs != nil {
			addrs = mailaddr.GetAddresses(vs[:1])
		}
		if len(addrs) == 0 {
			return "", nil, &CommandError{Reason: "message has no " + prefix + "Sender or " + prefix +
				"From address: give the envelope sender with FromAddr"}
		}
		from = addrs[0][1]
	}
	to := o.to
	if !o.toSet {
		var fields []string
		for _, name := range []string{"To", "Bcc", "Cc"} {
			if vs := h[prefix+name]; vs != nil {
				fields = append(fields, vs[0])
			}
		}
		to = []string{}
		for _, a := range mailaddr.GetAddresses(fields) {
			to = append(to, a[1])
		}
	}

	if !textutil.IsASCII(from + strings.Join(to, "")) {
		if s.HasExtn("smtputf8") {
			o.mail = append(o.mail, "SMTPUTF8", "BODY=8BITMIME")
		} else {
			var err error
			if from, err = asciiAddress(from); err != nil {
				return "", nil, err
			}
			ascii := make([]string, len(to))
			for i, a := range to {
				if ascii[i], err = asciiAddress(a); err != nil {
					return "", nil, err
				}
			}
			to = ascii
		}
	}
	return from, to, nil
}

// asciiAddress returns the address in a with its domain as an IDNA A-label,
// for a server without SMTPUTF8, or a *NotSupportedError when the local
// part is not ASCII or the domain cannot be converted. An ASCII a is
// returned unchanged.
func asciiAddress(a string) (string, error) {
	ascii, err := mailaddr.ToASCII(a)
	switch {
	case err == nil:
		return ascii, nil
	case errors.Is(err, mailaddr.ErrNonASCIILocalPart):
		return "", &NotSupportedError{Msg: "the address " + mailaddr.QuoteAddr(a) +
			" has a non-ASCII local part, which needs the SMTPUTF8 capability that the server does not advertise"}
	}
	return "", &NotSupportedError{Msg: "the domain of " + mailaddr.QuoteAddr(a) +
		" is not a valid internationalised domain name (" + err.Error() +
		"), and the server does not advertise SMTPUTF8"}
}
