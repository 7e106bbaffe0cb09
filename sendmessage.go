package smtplib

import (
	"bytes"
	"io"
	"strings"

	"golang.org/x/net/idna"
)

// SendMessage sends msg with [SMTP.Sendmail], taking the envelope from the
// header where from is "" or to is nil (Python's send_message). The Bcc and
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
//   - from "" is replaced by the first address of the first Sender field,
//     or, without one, of the first From field. A *[MessageError] is
//     returned when neither field is there or it holds no address at all
//     (where Python would send from "None" or fail).
//   - to nil is replaced by every address of the first To, Bcc and Cc
//     fields, in that order, parsed as Python's email.utils.getaddresses
//     does: so an empty group such as "undisclosed-recipients:;" gives an
//     empty recipient, which the server will likely refuse. A to that is
//     empty but not nil is used as it is.
//
// Internationalised addresses (RFC 6531) are handled by what the server
// offers; only the addresses are looked at, never the header or body:
//   - If from and to are all ASCII, nothing is added.
//   - Otherwise, if the server advertises SMTPUTF8, "SMTPUTF8" and
//     "BODY=8BITMIME" are appended to mailOptions and the addresses are sent
//     as they are, as in smtplib.
//   - Otherwise, unlike smtplib, which gives up, each address whose local
//     part is ASCII but whose domain is not is sent with the domain as its
//     IDNA A-label (RFC 5891, UTS #46 lookup mapping: "bücher.example"
//     becomes "xn--bcher-kva.example"), which every server accepts. Only an
//     address with a non-ASCII local part, or a domain that is not a valid
//     IDN, makes SendMessage return a *[NotSupportedError] before any
//     transaction is started.
//
// The results and errors are those of [SMTP.Sendmail]. The message is
// streamed from msg's own bytes, without a copy.
func (s *SMTP) SendMessage(msg *Message, from string, to []string, mailOptions, rcptOptions []string) (map[string]Reply, error) {
	if err := s.EhloOrHeloIfNeeded(); err != nil {
		return nil, err
	}
	prefix := ""
	switch n := len(msg.Values("Resent-Date")); {
	case n == 1:
		prefix = "Resent-"
	case n > 1:
		return nil, &MessageError{Reason: "message has more than one 'Resent-' header block"}
	}

	if from == "" {
		name := prefix + "Sender"
		if !msg.Has(name) {
			name = prefix + "From"
		}
		addrs := getAddresses([]string{msg.Get(name)})
		if !msg.Has(name) || len(addrs) == 0 {
			return nil, &MessageError{Reason: "message has no " + prefix + "Sender or " + prefix + "From address"}
		}
		from = addrs[0][1]
	}
	if to == nil {
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
			mailOptions = append(mailOptions[:len(mailOptions):len(mailOptions)], "SMTPUTF8", "BODY=8BITMIME")
		} else {
			var err error
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

	return s.SendmailReader(from, to, msg.sendReader(), mailOptions, rcptOptions)
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
// copied; the body is read where it is. Its Len lets SendmailReader declare
// the SIZE.
func (m *Message) sendReader() io.Reader {
	if m.structured() {
		return newSegReader(m.segments(false, true))
	}
	sent := &Message{sep: m.sep, body: m.body, eol: m.eol}
	for _, f := range m.fields {
		if !asciiEqualFold(f.name, "Bcc") && !asciiEqualFold(f.name, "Resent-Bcc") {
			sent.fields = append(sent.fields, f)
		}
	}
	// With the body set aside, writeTo gives the header and the separator.
	var head bytes.Buffer
	body := sent.body
	sent.body = nil
	if sent.sep == nil && len(body) > 0 {
		sent.sep = []byte(sent.lineEnd())
	}
	sent.writeTo(&head, false) //nolint:errcheck // bytes.Buffer does not fail
	return &partsReader{parts: []*bytes.Reader{bytes.NewReader(head.Bytes()), bytes.NewReader(body)}}
}

// partsReader reads its parts one after the other and knows how much is
// left.
type partsReader struct{ parts []*bytes.Reader }

func (r *partsReader) Read(p []byte) (int, error) {
	for len(r.parts) > 0 {
		n, err := r.parts[0].Read(p)
		if err == io.EOF {
			r.parts = r.parts[1:]
			if n == 0 {
				continue
			}
			err = nil
		}
		return n, err
	}
	return 0, io.EOF
}

// Len returns the number of bytes not yet read.
func (r *partsReader) Len() int {
	n := 0
	for _, p := range r.parts {
		n += p.Len()
	}
	return n
}
