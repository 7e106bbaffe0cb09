package smtplib

import (
	"context"
	"errors"
	"strings"

	"github.com/gosmtplib/smtplib/email"
	"github.com/gosmtplib/smtplib/internal/mailaddr"
	"github.com/gosmtplib/smtplib/internal/textutil"
)

// SendMessage sends msg with [SMTP.Sendmail], taking the envelope from the
// header unless [FromAddr] or [ToAddrs] give it (Python's send_message). The Bcc and
// Resent-Bcc fields are left out of what is sent, and so is an mbox "From "
// line; msg itself is not changed. Everything else is sent byte for byte as
// msg holds it, so a DKIM signature stays valid.
//
// It says EHLO (or HELO) first if the session has not. Then, as in
// smtplib:
//   - A message with one Resent-Date field is a resent message, and the
//     fields below are read with the "Resent-" prefix (Resent-Sender,
//     Resent-From, ...). With more than one, SendMessage returns a
//     *[CommandError] (Python's ValueError): it cannot tell which block is
//     the newest.
//   - Without FromAddr, the sender is the first address of the first Sender field,
//     or, without one, of the first From field. A *[CommandError] is
//     returned when neither field is there or it holds no address at all
//     (where Python would send from "None" or fail).
//   - Without ToAddrs, the recipients are every address of the first To, Bcc and Cc
//     fields, in that order, parsed as Python's email.utils.getaddresses
//     does: so an empty group such as "undisclosed-recipients:;" gives an
//     empty recipient, which the server will likely refuse. ToAddrs with
//     no address is used as it is: no recipient.
//
// The fields are read as sent ([email.Message.Header]), not decoded, so
// that an encoded display name holding a comma cannot split an address.
//
// Internationalised addresses (RFC 6531) are handled by what the server
// offers; only the addresses are looked at, never the header or body:
//   - If from and to are all ASCII, nothing is added.
//   - Otherwise, if the server advertises SMTPUTF8, "SMTPUTF8" and
//     "BODY=8BITMIME" are added to the MAIL options and the addresses are sent
//     as they are, as in smtplib.
//   - Otherwise, unlike smtplib, which gives up, each address whose local
//     part is ASCII but whose domain is not is sent with the domain as its
//     IDNA A-label (RFC 5891, UTS #46 lookup mapping: "bücher.example"
//     becomes "xn--bcher-kva.example"), which every server accepts. Only an
//     address with a non-ASCII local part, or a domain that is not a valid
//     IDN, makes SendMessage return a *[NotSupportedError] before any
//     transaction is started.
//
// The results and errors are those of [SMTP.Sendmail]; a nil msg is
// refused with a [*CommandError] before anything is sent. The SIZE
// declared is the length of the message as sent with CRLF line endings
// (before dot-stuffing), as smtplib declares the flattened message. The
// message is streamed from msg's own bytes ([email.Message.Reader]),
// without a copy.
func (s *SMTP) SendMessage(msg *email.Message, opts ...SendOption) (map[string]Reply, error) {
	return s.SendMessageContext(context.Background(), msg, opts...)
}

// SendMessageContext is [SMTP.SendMessage] bounded by ctx, as
// [SMTP.SendmailContext] is: the EHLO it may say first included.
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
