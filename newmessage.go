package smtplib

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"mime"
	"mime/quotedprintable"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// NewMessage builds a plain-text message in UTF-8 with the fields From,
// To (the addresses joined by ", "), Subject, Date (now), Message-ID
// (random, at the domain of from), MIME-Version, Content-Type and
// Content-Transfer-Encoding.
//
// A non-ASCII subject, or display name in from or to, is written as RFC
// 2047 encoded-words (Q encoding), so the header stays ASCII. The body gets
// CRLF line endings; it is sent as "7bit" when it is ASCII with no line
// over 998 bytes, and as quoted-printable otherwise, so the message needs
// neither 8BITMIME nor SMTPUTF8 unless an address itself is non-ASCII.
func NewMessage(from string, to []string, subject string, body string) *Message {
	m := &Message{sep: []byte("\r\n"), eol: "\r\n"}
	m.Add("From", encodeDisplayName(from))
	if len(to) > 0 {
		enc := make([]string, len(to))
		for i, a := range to {
			enc[i] = encodeDisplayName(a)
		}
		m.Add("To", strings.Join(enc, ", "))
	}
	m.Add("Subject", mime.QEncoding.Encode("utf-8", subject))
	m.Add("Date", time.Now().Format(time.RFC1123Z))
	m.Add("Message-ID", newMessageID(from))
	m.Add("MIME-Version", "1.0")
	m.Add("Content-Type", "text/plain; charset=utf-8")

	text := bodyToCRLF(body)
	if is7bitText(text) {
		m.Add("Content-Transfer-Encoding", "7bit")
		m.body = []byte(text)
		return m
	}
	m.Add("Content-Transfer-Encoding", "quoted-printable")
	var buf bytes.Buffer
	qp := quotedprintable.NewWriter(&buf)
	qp.Write([]byte(text)) //nolint:errcheck // bytes.Buffer does not fail
	qp.Close()             //nolint:errcheck // nor does flushing to it
	m.body = buf.Bytes()
	return m
}

// encodeDisplayName Q-encodes the display name of an address when it is not
// ASCII, and leaves the address otherwise as given.
func encodeDisplayName(a string) string {
	name, addr := parseAddr(a)
	if name == "" || isASCII(name) {
		return a
	}
	return mime.QEncoding.Encode("utf-8", name) + " <" + addr + ">"
}

// newMessageID returns "<random@domain>" with the domain of from (as an
// A-label if it is not ASCII), or "localhost" when from has none.
func newMessageID(from string) string {
	var b [16]byte
	rand.Read(b[:]) //nolint:errcheck // crypto/rand.Read does not fail
	domain := ""
	if _, addr := parseAddr(from); addr != "" {
		if i := strings.LastIndexByte(addr, '@'); i >= 0 {
			domain = addr[i+1:]
		}
	}
	if !isASCII(domain) {
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

// bodyToCRLF gives every line of s a CRLF ending, whatever it had.
func bodyToCRLF(s string) string {
	var sb strings.Builder
	sb.Grow(len(s) + len(s)/32)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			sb.WriteString("\r\n")
		case '\n':
			sb.WriteString("\r\n")
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

// is7bitText reports whether CRLF text is valid "7bit" content (RFC 2045
// section 2.7): ASCII, no NUL, no line over 998 bytes.
func is7bitText(s string) bool {
	lineLen := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == 0 || c >= utf8.RuneSelf:
			return false
		case c == '\n':
			lineLen = 0
		case c != '\r':
			if lineLen++; lineLen > maxLineLength {
				return false
			}
		}
	}
	return true
}
