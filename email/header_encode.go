package email

import (
	"encoding/base64"
	"strings"
	"unicode/utf8"

	"github.com/gosmtplib/smtplib/internal/mailaddr"
	"github.com/gosmtplib/smtplib/internal/textutil"
)

// addressFields are the fields whose values are address lists, so that
// only their display names become encoded-words (RFC 2047 section 5 (3)
// forbids encoded-words in an addr-spec).
var addressFields = map[string]bool{
	"from": true, "to": true, "cc": true, "bcc": true, "sender": true, "reply-to": true,
	"resent-from": true, "resent-to": true, "resent-cc": true, "resent-bcc": true,
	"resent-sender": true, "resent-reply-to": true,
}

// encodeHeaderValue returns value ready for the header field name: ASCII
// as it is, otherwise with its non-ASCII text as RFC 2047 encoded-words,
// every line break unfolded, and folded between words to lines of at most
// pyMaxLineLength bytes where the words allow. The bool is false when value
// needed no encoding.
func encodeHeaderValue(name, value string) (string, bool) {
	if textutil.IsASCII(value) {
		return value, false
	}
	flat := unfoldText(value)
	var words []string // the value's parts, to be joined by single spaces
	if addressFields[strings.ToLower(name)] {
		if words = encodeAddressList(flat, pyMaxLineLength-len(name)-2); words == nil {
			words = encodeRuns(flat, pyMaxLineLength-len(name)-2)
		}
	}
	if words == nil {
		words = encodeWords(strings.TrimLeft(flat, " \t"), pyMaxLineLength-len(name)-2)
	}
	return foldWords(len(name)+2, words), true
}

// unfoldText turns every line break, with the blanks after it, and every
// NUL into one space, so that no part of the text can start a header line.
func unfoldText(s string) string {
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\r', '\n', 0:
			for i+1 < len(s) && strings.IndexByte("\r\n\x00 \t", s[i+1]) >= 0 {
				i++
			}
			sb.WriteByte(' ')
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

// encodeWords encodes text as a run of UTF-8 encoded-words (RFC 2047),
// the first at most first characters long and the others at most 75 (the
// RFC's limit), never splitting a character. The encoding is Q, which
// stays readable, unless B is shorter by five characters or more (the rule
// of Python's header encoder).
func encodeWords(text string, first int) []string {
	if text == "" {
		return nil
	}
	qLen, bLen := 0, base64.StdEncoding.EncodedLen(len(text))
	for i := 0; i < len(text); i++ {
		qLen += len(qByte(text[i]))
	}
	b := qLen-bLen >= 5
	const overhead = len("=?utf-8?q?") + len("?=")
	var words []string
	budget := max(first, 20)
	for text != "" {
		// Take characters while the word fits.
		n, size := 0, 0
		for n < len(text) {
			_, r := utf8.DecodeRuneInString(text[n:])
			var l int
			if b {
				l = base64.StdEncoding.EncodedLen(n + r)
			} else {
				l = size
				for k := n; k < n+r; k++ {
					l += len(qByte(text[k]))
				}
			}
			if n > 0 && l+overhead > budget {
				break
			}
			n, size = n+r, l
		}
		chunk := text[:n]
		text = text[n:]
		if b {
			words = append(words, "=?utf-8?b?"+base64.StdEncoding.EncodeToString([]byte(chunk))+"?=")
		} else {
			var sb strings.Builder
			for k := 0; k < len(chunk); k++ {
				sb.WriteString(qByte(chunk[k]))
			}
			words = append(words, "=?utf-8?q?"+sb.String()+"?=")
		}
		budget = 75
	}
	return words
}

// qByte is a byte in the Q encoding of an encoded-word in a phrase or
// unstructured text (RFC 2047 section 5 (3)): letters, digits and "!*+-/"
// as they are, the space as "_", the rest as "=XX".
func qByte(c byte) string {
	switch {
	case c == ' ':
		return "_"
	case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!*+-/", c) >= 0:
		return string(rune(c))
	}
	return "=" + hexDigits[c>>4:c>>4+1] + hexDigits[c&15:c&15+1]
}

// encodeAddressList rewrites an address list with each non-ASCII display
// name as encoded-words and the addresses as they are, one entry after
// another separated by commas. It returns nil when the list cannot be
// rebuilt faithfully (a group, or an entry that does not parse), so that the
// caller encodes the whole text instead.
func encodeAddressList(s string, first int) []string {
	if strings.ContainsAny(s, ":;") {
		return nil
	}
	list := mailaddr.GetAddresses([]string{s})
	if len(list) == 0 {
		return nil
	}
	// Python's lenient parser drops what it cannot read (comments, stray
	// words); the list is rebuilt only when it keeps every character.
	var kept strings.Builder
	for _, a := range list {
		kept.WriteString(a[0] + a[1])
	}
	if addrChars(kept.String()) != addrChars(s) {
		return nil
	}
	var words []string
	for i, a := range list {
		name, addr := a[0], a[1]
		if addr == "" {
			return nil
		}
		if ascii, err := mailaddr.ToASCII(addr); err == nil {
			// An internationalised domain becomes its A-label; a
			// non-ASCII local part has no ASCII form and stays as it is
			// (RFC 6532), for a server that offers SMTPUTF8.
			addr = ascii
		}
		var entry []string
		switch {
		case name == "":
			entry = []string{addr}
		case textutil.IsASCII(name):
			entry = []string{quotePhrase(name), "<" + addr + ">"}
		default:
			budget := 75
			if i == 0 {
				budget = first
			}
			entry = append(encodeWords(name, budget), "<"+addr+">")
		}
		if i < len(list)-1 {
			entry[len(entry)-1] += ","
		}
		words = append(words, entry...)
	}
	return words
}

// encodeRuns encodes each run of words that holds non-ASCII text and
// leaves the rest as it is, for an address field that cannot be rebuilt
// entry by entry (a group, or text that is not an address list): the
// addresses in it stay readable.
func encodeRuns(s string, first int) []string {
	var words, run []string
	flush := func() {
		if len(run) > 0 {
			budget := 75
			if len(words) == 0 {
				budget = first
			}
			words = append(words, encodeWords(strings.Join(run, " "), budget)...)
			run = nil
		}
	}
	for _, w := range strings.Fields(s) {
		if textutil.IsASCII(w) {
			flush()
			words = append(words, w)
		} else {
			run = append(run, w)
		}
	}
	flush()
	return words
}

// addrChars is s without the blanks, quotes, backslashes, angle brackets
// and commas that rebuilding an address list may add or remove.
func addrChars(s string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(" \t\"\\<>,", r) {
			return -1
		}
		return r
	}, s)
}

// quotePhrase returns an ASCII display name as an atom run when it is one,
// else as a quoted string.
func quotePhrase(name string) string {
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < ' ' || c > '~' || strings.IndexByte(`()<>[]:;@\,."`, c) >= 0 {
			return `"` + mailaddr.QuoteString(name) + `"`
		}
	}
	return name
}

// foldWords joins words with spaces into lines of at most pyMaxLineLength bytes,
// the first of which starts after used bytes (the field name and ": "),
// and returns them joined by CRLF and a space. A word longer than a line
// gets a line of its own.
func foldWords(used int, words []string) string {
	var sb strings.Builder
	n := used
	for i, w := range words {
		switch {
		case i == 0:
		case n+1+len(w) > pyMaxLineLength:
			sb.WriteString("\r\n")
			n = 0
			fallthrough
		default:
			sb.WriteByte(' ')
			n++
		}
		sb.WriteString(w)
		n += len(w)
	}
	return sb.String()
}
