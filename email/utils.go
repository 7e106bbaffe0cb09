package email

// Python's email.utils: make_msgid and format_datetime.

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/gosmtplib/smtplib/internal/hostname"
)

// MakeMsgid returns a new, unique Message-ID, "<...@domain>", as Python's
// email.utils.make_msgid does: the time in hundredths of a second, the
// process ID and a random 64-bit number, then "." and idstring when idstring is
// not empty. An empty domain stands for the host's fully qualified name
// (or "localhost" when it has none). Characters that cannot appear in a
// Message-ID (blanks, control characters, "<>()[]\\,;:@\"") are left out
// of idstring and domain.
func MakeMsgid(idstring, domain string) string {
	var b [8]byte
	rand.Read(b[:]) //nolint:errcheck // crypto/rand.Read does not fail
	id := fmt.Sprintf("%d.%d.%d", time.Now().UnixNano()/1e7, os.Getpid(), binary.BigEndian.Uint64(b[:]))
	if idstring = msgidText(idstring); idstring != "" {
		id += "." + idstring
	}
	if domain = msgidText(domain); domain == "" {
		if domain = msgidText(hostname.FQDN()); domain == "" {
			domain = "localhost"
		}
	}
	return "<" + id + "@" + domain + ">"
}

// msgidText keeps the characters of s that may appear in a msg-id's dot-atom
// text (RFC 5322 section 3.6.4), and non-ASCII text (RFC 6532).
func msgidText(s string) string {
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f || strings.ContainsRune(`<>()[]\,;:@"`, r) {
			return -1
		}
		return r
	}, s)
}

// FormatDatetime returns t as an RFC 5322 date-time, "Mon, 02 Jan 2006
// 15:04:05 -0700", in t's own zone, as Python's
// email.utils.format_datetime does for an aware datetime.
func FormatDatetime(t time.Time) string {
	return t.Format(time.RFC1123Z)
}
