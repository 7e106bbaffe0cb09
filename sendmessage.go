package smtplib

import (
	"context"
	"io"
	"strings"

	"golang.org/x/net/idna"
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
//     *[MessageError] (Python's ValueError): it cannot tell which block is
//     the newest.
//   - Without FromAddr, the sender is the first address of the first Sender field,
//     or, without one, of the first From field. A *[MessageError] is
//     returned when neither field is there or it holds no address at all
//     (where Python would send from "None" or fail).
//   - Without ToAddrs, the recipients are every address of the first To, Bcc and Cc
//     fields, in that order, parsed as Python's email.utils.getaddresses
//     does: so an empty group such as "undisclosed-recipients:;" gives an
//     empty recipient, which the server will likely refuse. ToAddrs with
//     no address is used as it is: no recipient.
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
// message is streamed from msg's own bytes, without a copy.
func (s *SMTP) SendMessage(msg *Message, opts ...SendOption) (map[string]Reply, error) {
	return s.SendMessageContext(context.Background(), msg, opts...)
}

// SendMessageContext is [SMTP.SendMessage] bounded by ctx, as
// [SMTP.SendmailContext] is: the EHLO it may say first included.
func (s *SMTP) SendMessageContext(ctx context.Context, msg *Message, opts ...SendOption) (map[string]Reply, error) {
	if msg == nil {
		return nil, &CommandError{Reason: "SendMessage: the message is a nil *Message"}
	}
	o, err := collectSendOptions("SendMessage", opts, false)
	if err != nil {
		return nil, err
	}
	if err := s.ehloOrHeloContext(ctx); err != nil {
		return nil, err
	}
	prefix := ""
	switch n := len(msg.Values("Resent-Date")); {
	case n == 1:
		prefix = "Resent-"
	case n > 1:
		return nil, &MessageError{Reason: "message has more than one 'Resent-' header block"}
	}

	from := o.from
	if !o.fromSet {
		name := prefix + "Sender"
		if !msg.Has(name) {
			name = prefix + "From"
		}
		addrs := getAddresses([]string{msg.Get(name)})
		if !msg.Has(name) || len(addrs) == 0 {
			return nil, &MessageError{Reason: "message has no " + prefix + "Sender or " + prefix +
				"From address: give the envelope sender with FromAddr"}
		}
		from = addrs[0][1]
	}
	to := o.to
	if !o.toSet {
		var fields []string
		for _, name := range []string{"To", "Bcc", "Cc"} {
			if msg.Has(prefix + name) {
				fields = append(fields, msg.Get(prefix+name))
			}
		}
		to = []string{}
		for _, a := range getAddresses(fields) {
			to = append(to, a[1])
		}
	}

	if !isASCII(from + strings.Join(to, "")) {
		if s.HasExtn("smtputf8") {
			o.mail = append(o.mail, "SMTPUTF8", "BODY=8BITMIME")
		} else {
			if from, err = asciiAddress(from); err != nil {
				return nil, err
			}
			ascii := make([]string, len(to))
			for i, a := range to {
				if ascii[i], err = asciiAddress(a); err != nil {
					return nil, err
				}
			}
			to = ascii
		}
	}

	r, size := msg.sendReader()
	return s.sendmail(ctx, from, to, &body{r: r, size: size}, o)
}

// asciiAddress returns the address in a with its domain as an IDNA A-label,
// for a server without SMTPUTF8, or a *NotSupportedError when the local
// part is not ASCII or the domain cannot be converted. An ASCII a is
// returned unchanged.
func asciiAddress(a string) (string, error) {
	if isASCII(a) {
		return a, nil
	}
	addr := addrOnly(a)
	local, domain := addr, ""
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		local, domain = addr[:i], addr[i+1:]
	}
	if !isASCII(local) {
		return "", &NotSupportedError{Msg: "the address " + quoteAddr(a) +
			" has a non-ASCII local part, which needs the SMTPUTF8 capability that the server does not advertise"}
	}
	if isASCII(domain) {
		// The non-ASCII part was a display name, which is not sent.
		return addr, nil
	}
	// Lookup is the profile for resolving a name as given: it maps case
	// and width variants (UTS #46) and rejects invalid labels, where
	// Registration would refuse any name not already in canonical form and
	// Punycode would encode anything without checking it.
	alabel, err := idna.Lookup.ToASCII(domain)
	if err != nil {
		return "", &NotSupportedError{Msg: "the domain of " + quoteAddr(a) +
			" is not a valid internationalised domain name (" + err.Error() +
			"), and the server does not advertise SMTPUTF8"}
	}
	return local + "@" + alabel, nil
}

// sendReader returns a reader of the message as SendMessage sends it:
// without Bcc, Resent-Bcc and the mbox "From " line. Only the header is
// copied; the body is read where it is, and the data of built attachments
// is encoded as it is read. size is the length of what it reads with every
// line ending made CRLF, the SIZE that smtplib declares for the flattened
// message.
func (m *Message) sendReader() (r io.Reader, size int) {
	if m.structured() {
		segs := m.segments(false, true)
		var raws [][]byte
		for _, s := range segs {
			if s.isB64 {
				size += int(s.len()) // base64 lines end in CRLF already
			} else {
				raws = append(raws, s.raw)
			}
		}
		return newSegReader(segs), size + crlfLen(raws...)
	}
	head := m.headerBlock(false, true)
	return newSegReader([]segment{{raw: head, header: true}, {raw: m.body}}), crlfLen(head, m.body)
}

// crlfLen is the length of the parts, one after the other, once the data
// writer has made every lone CR and lone LF a CRLF (dot-stuffing aside).
func crlfLen(parts ...[]byte) int {
	n, cr := 0, false
	for _, p := range parts {
		n += len(p)
		if !cr && cleanCRLF(p) {
			continue // nothing to add, and p does not end in a CR
		}
		for _, c := range p {
			if c == '\n' && !cr || cr && c != '\n' {
				n++ // a lone LF gains its CR; a lone CR its LF
			}
			cr = c == '\r'
		}
	}
	if cr {
		n++
	}
	return n
}
