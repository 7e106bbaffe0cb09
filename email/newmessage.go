package email

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"

	"golang.org/x/net/idna"

	"github.com/gosmtplib/smtplib/internal/mailaddr"
	"github.com/gosmtplib/smtplib/internal/textutil"
)

// NewMessage builds a message with the fields From, To (the addresses
// joined by ", "), Subject, Date (now, as [FormatDatetime] writes it),
// Message-ID (random, at the domain of from) and MIME-Version, as a Python
// program does with EmailMessage() and msg[name] = value. With a body, it
// then calls [Message.SetContent](body, "plain"); with body "" the message
// has no content yet, as EmailMessage() before set_content, and the
// builder methods ([Message.SetContent], [Message.AddAlternative],
// [Message.AddAttachment], [Message.AddRelated]) give it its content.
//
// A non-ASCII subject, or display name in from or to, is written as RFC
// 2047 encoded-words, so the header stays ASCII; SetContent encodes the
// body as 7bit, quoted-printable or base64 as Python does, so the message
// needs neither 8BITMIME nor SMTPUTF8 unless an address itself is
// non-ASCII.
func NewMessage(from string, to []string, subject string, body string) *Message {
	m := &Message{sep: endCRLF}
	m.Add("From", from)
	if len(to) > 0 {
		m.Add("To", strings.Join(to, ", "))
	}
	m.Add("Subject", subject)
	m.Add("Date", FormatDatetime(time.Now()))
	m.Add("Message-ID", newMessageID(from))
	m.Add("MIME-Version", "1.0")
	if body != "" {
		m.SetContent(body, "") //nolint:errcheck // "plain" is a valid subtype and m is not multipart
	}
	return m
}

// newMessageID returns "<random@domain>" with the domain of from (as an
// A-label if it is not ASCII), or "localhost" when from has none.
func newMessageID(from string) string {
	var b [16]byte
	rand.Read(b[:]) //nolint:errcheck // crypto/rand.Read does not fail
	domain := ""
	if _, addr := mailaddr.ParseAddr(from); addr != "" {
		if i := strings.LastIndexByte(addr, '@'); i >= 0 {
			domain = addr[i+1:]
		}
	}
	if !textutil.IsASCII(domain) {
		a, err := idna.Lookup.ToASCII(domain)
		if err != nil {
			a = ""
		}
		domain = a
	}
	if domain == "" || strings.ContainsAny(domain, "<> \t\"\\") {
		domain = "localhost"
	}
	return "<" + hex.EncodeToString(b[:]) + "@" + domain + ">"
}
