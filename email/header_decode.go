package email

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/gosmtplib/smtplib/internal/mailaddr"
)

// This file decodes header values as Python's policy.default gives them
// (msg[name] and get_all, through email.headerregistry): unfolded, RFC
// 2047 encoded-words decoded, and address lists written again with their
// display names decoded.

// decodedValue returns the value of the field whose physical lines are
// raw, as [Message.Get] documents it.
func decodedValue(name string, raw []byte) string {
	v := sourceValue(raw)
	if addressFields[strings.ToLower(name)] {
		if s, ok := decodeAddressList(v); ok {
			return s
		}
	}
	return string(pyValidUTF8(decodeUnstructured(nil, v)))
}

// sourceValue is the value as Python's policy takes it from the source:
// the text after the colon with the blanks that start it removed, then
// every CR and LF dropped, so that a fold leaves its blanks.
func sourceValue(raw []byte) string {
	i := bytes.IndexByte(raw, ':')
	v := bytes.TrimLeft(raw[i+1:], " \t")
	if !bytes.ContainsAny(v, "\r\n") {
		return string(v)
	}
	out := make([]byte, 0, len(v))
	for _, c := range v {
		if c != '\r' && c != '\n' {
			out = append(out, c)
		}
	}
	return string(out)
}

// isWSP reports whether c is a blank or a tab (RFC 5322's WSP).
func isWSP(c byte) bool { return c == ' ' || c == '\t' }

// token kinds of decodeUnstructured, as Python's parser names them.
const (
	tokText = iota
	tokFWS
	tokEW
)

// decodeUnstructured appends to dst the text v with its encoded-words
// decoded, by the rules of Python's get_unstructured: an encoded-word is
// decoded wherever it starts a word or follows one without a blank, the
// blanks between two encoded-words are dropped, and a word that only
// looks like one is kept as it is. Text in a known charset other than
// UTF-8 becomes UTF-8; bytes that are not valid UTF-8 are left for the
// caller to replace.
func decodeUnstructured(dst []byte, v string) []byte {
	kinds := [2]int{-1, -1} // the kinds of the last two tokens, the last first
	fwsAt := -1             // where in dst the last token starts, when it is blanks
	push := func(kind int) { kinds[1], kinds[0] = kinds[0], kind }
	for v != "" {
		if isWSP(v[0]) {
			n := 1
			for n < len(v) && isWSP(v[n]) {
				n++
			}
			fwsAt = len(dst)
			dst = append(dst, v[:n]...)
			v = v[n:]
			push(tokFWS)
			continue
		}
		validEW := true
		if strings.HasPrefix(v, "=?") {
			if word, rest, ok, invalid := cutEncodedWord(v); invalid {
				validEW = false
			} else if ok {
				// Blanks between two encoded-words are not part of the text
				// (RFC 2047 section 6.2).
				if kinds[0] == tokFWS && kinds[1] == tokEW {
					dst = dst[:fwsAt]
				}
				dst = append(dst, word...)
				v = rest
				push(tokEW)
				continue
			}
		}
		n := 0
		for n < len(v) && !isWSP(v[n]) {
			n++
		}
		// An encoded-word inside the word starts a token of its own.
		if validEW && hasEncodedWord(v[:n]) {
			if i := strings.Index(v, "=?"); i > 0 {
				n = i
			}
		}
		dst = append(dst, v[:n]...)
		v = v[n:]
		push(tokText)
	}
	return dst
}

// hasEncodedWord reports whether s holds something shaped like an
// encoded-word: "=?", a charset, "?", Q or B, "?", text and "?=" (Python's
// rfc2047_matcher).
func hasEncodedWord(s string) bool {
	for i := strings.Index(s, "=?"); i >= 0; {
		rest := s[i+2:]
		if q := strings.IndexByte(rest, '?'); q >= 0 && q+2 < len(rest) &&
			strings.IndexByte("qQbB", rest[q+1]) >= 0 && rest[q+2] == '?' &&
			strings.Contains(rest[q+3:], "?=") {
			return true
		}
		j := strings.Index(rest, "=?")
		if j < 0 {
			return false
		}
		i += 2 + j
	}
	return false
}

// cutEncodedWord decodes the encoded-word that starts v, as Python's
// get_encoded_word does: the word runs to the first "?=" (or the next one,
// when a Q escape follows the encoding letter's "?"). ok is false when v
// has no "?=" at all; invalid is true when the word is not charset,
// encoding (Q or B) and text, which leaves it plain text.
func cutEncodedWord(v string) (word []byte, rest string, ok, invalid bool) {
	tok, rest, found := strings.Cut(v[2:], "?=")
	if !found {
		return nil, "", false, false
	}
	if len(rest) > 1 && isHex(rest[0]) && isHex(rest[1]) && strings.Count(tok, "?") < 2 {
		more, after, found := strings.Cut(rest, "?=")
		tok += "?=" + more
		rest = after
		if !found {
			rest = ""
		}
	}
	parts := strings.Split(tok, "?")
	if len(parts) != 3 {
		return nil, "", false, true
	}
	charset, _, _ := strings.Cut(parts[0], "*") // RFC 2231 section 5: a language
	var b []byte
	switch strings.ToLower(parts[1]) {
	case "q":
		b = appendUnescaped(nil, strings.ReplaceAll(parts[2], "_", " "), '=')
	case "b":
		b = decodeBase64([]byte(parts[2]))
	default:
		return nil, "", false, true
	}
	switch strings.ToLower(charset) {
	case "utf-8", "utf8", "us-ascii", "ascii", "unknown-8bit":
		// Bytes that are not valid stay as they are, as Python's
		// surrogateescape keeps them, and are replaced with the rest.
	default:
		b = toUTF8(charset, b)
	}
	return b, rest, true, false
}

// decodeAddressList writes an address list again as Python's
// AddressHeader does: each address with its display name decoded, quoted
// when it holds a special character, and the addresses joined by ", ". It
// reports false for what it cannot rebuild faithfully with the lenient
// parser (a group, a comment, an entry that does not parse), which the
// caller decodes as text instead.
func decodeAddressList(v string) (string, bool) {
	if strings.ContainsAny(v, ":;(") {
		return "", false
	}
	list := mailaddr.GetAddresses([]string{v})
	if len(list) == 0 {
		return "", false
	}
	var kept strings.Builder
	for _, a := range list {
		if a[1] == "" {
			return "", false
		}
		kept.WriteString(a[0] + a[1])
	}
	if addrChars(kept.String()) != addrChars(v) {
		return "", false
	}
	var sb strings.Builder
	for i, a := range list {
		if i > 0 {
			sb.WriteString(", ")
		}
		name := string(pyValidUTF8(decodeUnstructured(nil, a[0])))
		if name == "" {
			sb.WriteString(a[1])
			continue
		}
		if strings.ContainsAny(name, `()<>@,:;."[]`) {
			name = `"` + mailaddr.QuoteString(name) + `"`
		}
		sb.WriteString(name + " <" + a[1] + ">")
	}
	return sb.String(), true
}

// pyValidUTF8 returns b with each invalid UTF-8 sequence replaced by
// U+FFFD as Python's decoder with errors="replace" does: one replacement
// for each maximal part of a sequence that could have been valid, so that
// a cut character is one U+FFFD and each stray byte another. b itself is
// returned when it is valid.
func pyValidUTF8(b []byte) []byte {
	if utf8.Valid(b) {
		return b
	}
	out := make([]byte, 0, len(b)+8)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r != utf8.RuneError || n > 1 {
			out = append(out, b[:n]...)
			b = b[n:]
			continue
		}
		out = append(out, "\uFFFD"...)
		b = b[maximalSubpart(b):]
	}
	return out
}

// maximalSubpart is the length of the invalid sequence at the start of b
// that Unicode's practice (and Python) replaces with one U+FFFD: a lead
// byte and the continuation bytes that could still have made a character
// of it, at least one byte.
func maximalSubpart(b []byte) int {
	c := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xbf) // the range of the second byte
	switch {
	case c >= 0xc2 && c <= 0xdf:
		need = 1
	case c == 0xe0:
		need, lo = 2, 0xa0
	case c >= 0xe1 && c <= 0xec, c == 0xee, c == 0xef:
		need = 2
	case c == 0xed:
		need, hi = 2, 0x9f
	case c == 0xf0:
		need, lo = 3, 0x90
	case c >= 0xf1 && c <= 0xf3:
		need = 3
	case c == 0xf4:
		need, hi = 3, 0x8f
	default:
		return 1
	}
	n := 1
	for ; n <= need && n < len(b); n++ {
		if n == 1 && (b[n] < lo || b[n] > hi) || n > 1 && (b[n] < 0x80 || b[n] > 0xbf) {
			break
		}
	}
	return n
}
