// Package xtext encodes and decodes the values of the delivery-status
// parameters: RFC 3461's xtext (ENVID, and ORCPT's "rfc822" addresses) and
// RFC 6533's utf-8-addr-xtext and utf-8-addr-unitext (ORCPT's "utf-8"
// addresses). The client encodes with it, and smtptest's server decodes
// with it.
package xtext

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Encode encodes s as RFC 3461 section 4 xtext: the printable ASCII
// characters from "!" to "~" stand for themselves, except "+" and "=",
// which with every other byte become "+" and two upper-case hex digits.
// The result never holds a space, "=" or a control character, so it cannot
// end the parameter it is the value of, start another, or break the line.
func Encode(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '!' && c <= '~' && c != '+' && c != '=' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "+%02X", c)
	}
	return b.String()
}

// Decode reverses [Encode] for any valid xtext, which may
// encode as "+XX" characters that need no encoding. Hex digits must be
// upper case, as RFC 3461 writes them, and every other byte a printable
// ASCII character other than "+" and "=".
func Decode(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			hi, ok1 := upperHex(s, i+1)
			lo, ok2 := upperHex(s, i+2)
			if !ok1 || !ok2 {
				return "", fmt.Errorf("xtext %q: a '+' not followed by two upper-case hex digits", s)
			}
			b.WriteByte(hi<<4 | lo)
			i += 2
		case c >= '!' && c <= '~' && c != '=':
			b.WriteByte(c)
		default:
			return "", fmt.Errorf("xtext %q: byte %#x must be hex-encoded", s, c)
		}
	}
	return b.String(), nil
}

// EncodeUTF8Addr encodes the address s for ORCPT's "utf-8" address type
// (RFC 6533 section 3): printable ASCII other than "+", "=" and "\" stands
// for itself, those three and the space become "\x{XX}", and so does
// every non-ASCII character unless raw is true (utf-8-addr-unitext, for a
// transaction that declared SMTPUTF8), when it is written as UTF-8.
// Without raw the result (utf-8-addr-xtext) is plain ASCII and safe for any
// server. s must be valid UTF-8 without control characters, which the
// caller checks.
func EncodeUTF8Addr(s string, raw bool) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r > ' ' && r < 0x7f && r != '+' && r != '=' && r != '\\':
			b.WriteRune(r)
		case r >= 0x80 && raw:
			b.WriteRune(r)
		default:
			// RFC 6533's HEXPOINT: upper case, no leading zero beyond
			// two digits.
			fmt.Fprintf(&b, `\x{%02X}`, r)
		}
	}
	return b.String()
}

// DecodeUTF8Addr reverses [EncodeUTF8Addr], for either form.
func DecodeUTF8Addr(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], `\x{`) {
			end := strings.IndexByte(s[i:], '}')
			hex := ""
			if end > 0 {
				hex = s[i+3 : i+end]
			}
			r, ok := parseHexPoint(hex)
			if !ok {
				return "", fmt.Errorf("utf-8 address %q: bad \\x{...} escape", s)
			}
			b.WriteRune(r)
			i += end + 1
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || r <= ' ' || r == 0x7f || r == '+' || r == '=' || r == '\\' {
			return "", fmt.Errorf("utf-8 address %q: character %q must be escaped", s, r)
		}
		b.WriteRune(r)
		i += n
	}
	return b.String(), nil
}

// parseHexPoint reads the code point of a \x{...} escape: one to six
// upper-case hex digits naming a character that is not a surrogate.
func parseHexPoint(h string) (rune, bool) {
	if h == "" || len(h) > 6 {
		return 0, false
	}
	var r rune
	for i := 0; i < len(h); i++ {
		v, ok := upperHex(h, i)
		if !ok {
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, utf8.ValidRune(r)
}

// upperHex reads s[i] as an upper-case hex digit, as RFC 3461 and RFC
// 6533 write them; false when i is past the end or s[i] is not one.
func upperHex(s string, i int) (byte, bool) {
	if i >= len(s) {
		return 0, false
	}
	switch c := s[i]; {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
