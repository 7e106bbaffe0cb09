// Package mailaddr parses addresses as Python 3.11.7's email.utils.parseaddr
// and email.utils.getaddresses do (the lenient parser, before the "strict"
// parameter was added), and quotes them for MAIL and RCPT as smtplib's
// quoteaddr and _addr_only do, because smtplib's send_message is defined
// in terms of them. The aim is the same output for every input, odd
// results included: callers porting Python code must see the envelope
// addresses their Python code produced. The smtplib package uses it for
// the envelope, and the email package for the display names it encodes.
//
// The parser walks the string byte by byte. Every character it treats
// specially is ASCII, so multi-byte UTF-8 sequences (and even invalid bytes)
// are carried through untouched, as Python carries non-ASCII code points.
package mailaddr

import (
	"errors"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"github.com/gosmtplib/smtplib/internal/textutil"
)

const (
	addrSpecials = "()<>@,:;.\"[]"
	addrLWS      = " \t"
	addrCRLF     = "\r\n"
	// Phrases may contain dots (obsolete syntax), so '.' does not end them.
	addrAtomEnds   = addrSpecials + addrLWS + addrCRLF
	addrPhraseEnds = "()<>@,:;\"[]" + addrLWS + addrCRLF
)

// addrParser holds the state of one parse: the input, the position and the
// comments collected for the address being parsed.
type addrParser struct {
	s        string
	pos      int
	comments []string
}

// ParseAddr splits s into a display name and an address as Python's
// email.utils.parseaddr does; it returns ("", "") when that would.
func ParseAddr(s string) (name, addr string) {
	list := parseAddressList(s)
	if len(list) == 0 {
		return "", ""
	}
	return list[0][0], list[0][1]
}

// GetAddresses parses the header field values fields, joined by ", ", into
// (display name, address) pairs as Python's email.utils.getaddresses does.
// A part that cannot be parsed yields ("", "").
func GetAddresses(fields []string) [][2]string {
	return parseAddressList(strings.Join(fields, ", "))
}

// QuoteAddr brackets the address in s for a MAIL or RCPT command as
// smtplib.quoteaddr does: the parsed address in angle brackets, or, when s
// cannot be parsed, s itself (bracketed unless it already starts with '<').
func QuoteAddr(s string) string {
	if plainAddr(s) {
		return "<" + s + ">"
	}
	name, addr := ParseAddr(s)
	if name == "" && addr == "" {
		if strings.HasPrefix(strings.TrimLeftFunc(s, textutil.IsPySpace), "<") {
			return s
		}
		return "<" + s + ">"
	}
	return "<" + addr + ">"
}

// plainAddr reports whether s is a bare local@domain address made of atoms
// joined by single dots, which ParseAddr returns unchanged: the common case,
// quoted without running the parser.
func plainAddr(s string) bool {
	at := strings.IndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || strings.IndexByte(s[at+1:], '@') >= 0 {
		return false
	}
	return dotAtoms(s[:at], "!#$%&'*+/=?^_`{|}~-") && dotAtoms(s[at+1:], "-")
}

// dotAtoms reports whether s is ASCII letters, digits and the characters of
// extra, in runs joined by single dots.
func dotAtoms(s, extra string) bool {
	prevDot := true // no dot may come first
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if prevDot {
				return false
			}
			prevDot = true
			continue
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte(extra, c) >= 0:
		default:
			return false
		}
		prevDot = false
	}
	return !prevDot
}

// AddrOnly returns the bare address in s as smtplib._addr_only does, or s
// unchanged when it cannot be parsed.
func AddrOnly(s string) string {
	name, addr := ParseAddr(s)
	if name == "" && addr == "" {
		return s
	}
	return addr
}

// parseAddressList parses a whole address list; an empty string has no
// addresses at all, while an unparsable part yields an empty pair.
func parseAddressList(s string) [][2]string {
	if s == "" {
		return nil
	}
	p := &addrParser{s: s}
	var result [][2]string
	for p.pos < len(p.s) {
		ad := p.address()
		if len(ad) > 0 {
			result = append(result, ad...)
		} else {
			result = append(result, [2]string{})
		}
	}
	return result
}

// isBlank reports whether s is empty once Python's strip() is applied.
func isBlank(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || !textutil.IsPySpace(r) {
			return false
		}
	}
	return true
}

// at returns the byte at the current position; callers check the bound.
func (p *addrParser) at() byte { return p.s[p.pos] }

// atIn reports whether the current byte is one of set.
func (p *addrParser) atIn(set string) bool {
	return p.pos < len(p.s) && strings.IndexByte(set, p.s[p.pos]) >= 0
}

// skip passes over white space, line breaks and comments (collecting the
// comments) and returns the blanks and tabs it passed, for addr-specs that
// keep them.
func (p *addrParser) skip() string {
	var ws strings.Builder
	for p.pos < len(p.s) {
		switch c := p.at(); {
		case c == ' ' || c == '\t':
			ws.WriteByte(c)
			p.pos++
		case c == '\r' || c == '\n':
			p.pos++
		case c == '(':
			p.comments = append(p.comments, p.comment())
		default:
			return ws.String()
		}
	}
	return ws.String()
}

// address parses the next address, or every address of a group, and moves
// past a following comma.
func (p *addrParser) address() [][2]string {
	// The comments of the phrase stay collected even when the phrase is
	// parsed a second time as an addr-spec, so they can appear twice in the
	// name; Python does the same.
	p.comments = nil
	p.skip()
	oldpos := p.pos
	plist := p.phraseList()
	p.skip()

	var out [][2]string
	switch {
	case p.pos >= len(p.s):
		// A lone word, technically an address without a domain.
		if len(plist) > 0 {
			out = [][2]string{{strings.Join(p.comments, " "), plist[0]}}
		}
	case p.at() == '.' || p.at() == '@':
		// A bare addr-spec: parse it again from the start.
		p.pos = oldpos
		spec := p.addrSpec()
		out = [][2]string{{strings.Join(p.comments, " "), spec}}
	case p.at() == ':':
		// A group: its members, up to the closing ';'.
		p.pos++
		for p.pos < len(p.s) {
			p.skip()
			if p.pos < len(p.s) && p.at() == ';' {
				p.pos++
				break
			}
			out = append(out, p.address()...)
		}
	case p.at() == '<':
		route := p.routeAddr()
		name := strings.Join(plist, " ")
		if len(p.comments) > 0 {
			name += " (" + strings.Join(p.comments, " ") + ")"
		}
		out = [][2]string{{name, route}}
	default:
		if len(plist) > 0 {
			out = [][2]string{{strings.Join(p.comments, " "), plist[0]}}
		} else if p.atIn(addrSpecials) {
			p.pos++
		}
	}

	p.skip()
	if p.pos < len(p.s) && p.at() == ',' {
		p.pos++
	}
	return out
}

// routeAddr parses "<[@route,...:]addr-spec>" and returns the addr-spec,
// discarding the source route.
func (p *addrParser) routeAddr() string {
	expectRoute := false
	p.pos++ // '<'
	p.skip()
	spec := ""
	for p.pos < len(p.s) {
		switch {
		case expectRoute:
			p.domain()
			expectRoute = false
		case p.at() == '>':
			p.pos++
			return spec
		case p.at() == '@':
			p.pos++
			expectRoute = true
		case p.at() == ':':
			p.pos++
		default:
			spec = p.addrSpec()
			p.pos++ // the '>', or whatever stopped the addr-spec
			return spec
		}
		p.skip()
	}
	return spec
}

// addrSpec parses local-part ["@" domain]. A domain that cannot be parsed
// makes the whole result empty, so that a failed parse is not mistaken for
// a local address.
func (p *addrParser) addrSpec() string {
	var parts []string
	dropBlank := func() {
		if n := len(parts); n > 0 && isBlank(parts[n-1]) {
			parts = parts[:n-1]
		}
	}
	p.skip()
loop:
	for p.pos < len(p.s) {
		keepWS := true
		switch c := p.at(); {
		case c == '.':
			// White space around the dots of a local part is dropped.
			dropBlank()
			parts = append(parts, ".")
			p.pos++
			keepWS = false
		case c == '"':
			parts = append(parts, `"`+QuoteString(p.quoted())+`"`)
		case strings.IndexByte(addrAtomEnds, c) >= 0:
			dropBlank()
			break loop
		default:
			parts = append(parts, p.atom(addrAtomEnds))
		}
		if ws := p.skip(); keepWS && ws != "" {
			parts = append(parts, ws)
		}
	}

	if p.pos >= len(p.s) || p.at() != '@' {
		return strings.Join(parts, "")
	}
	p.pos++
	p.skip()
	dom := p.domain()
	if dom == "" {
		return ""
	}
	return strings.Join(parts, "") + "@" + dom
}

// domain parses a domain, dropping blanks and comments inside it. A second
// '@' yields "" so that "a@evil.example@good.example" does not pass for an
// address at either domain.
func (p *addrParser) domain() string {
	var sb strings.Builder
	for p.pos < len(p.s) {
		switch c := p.at(); {
		case c == ' ' || c == '\t':
			p.pos++
		case c == '(':
			p.comments = append(p.comments, p.comment())
		case c == '[':
			sb.WriteString("[" + p.delimited("]\r", false) + "]")
		case c == '.':
			p.pos++
			sb.WriteByte('.')
		case c == '@':
			return ""
		case strings.IndexByte(addrAtomEnds, c) >= 0:
			return sb.String()
		default:
			sb.WriteString(p.atom(addrAtomEnds))
		}
	}
	return sb.String()
}

// delimited reads from the opening character at the current position up to
// one of endchars (consumed, not returned) or the end of the input, undoing
// backslash escapes; with allowComments, nested comments are read whole and
// their text kept without their parentheses.
func (p *addrParser) delimited(endchars string, allowComments bool) string {
	var sb strings.Builder
	escaped := false
	p.pos++
	for p.pos < len(p.s) {
		c := p.at()
		switch {
		case escaped:
			sb.WriteByte(c)
			escaped = false
		case strings.IndexByte(endchars, c) >= 0:
			p.pos++
			return sb.String()
		case allowComments && c == '(':
			sb.WriteString(p.comment())
			continue
		case c == '\\':
			escaped = true
		default:
			sb.WriteByte(c)
		}
		p.pos++
	}
	return sb.String()
}

// quoted reads a quoted string's content.
func (p *addrParser) quoted() string { return p.delimited("\"\r", false) }

// comment reads a comment's content.
func (p *addrParser) comment() string { return p.delimited(")\r", true) }

// atom reads up to the next byte in ends.
func (p *addrParser) atom(ends string) string {
	start := p.pos
	for p.pos < len(p.s) && strings.IndexByte(ends, p.at()) < 0 {
		p.pos++
	}
	return p.s[start:p.pos]
}

// phraseList reads the words of a display name: atoms (dots allowed) and
// quoted strings, skipping white space and collecting comments.
func (p *addrParser) phraseList() []string {
	var words []string
	for p.pos < len(p.s) {
		switch c := p.at(); {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			p.pos++
		case c == '"':
			words = append(words, p.quoted())
		case c == '(':
			p.comments = append(p.comments, p.comment())
		case strings.IndexByte(addrPhraseEnds, c) >= 0:
			return words
		default:
			words = append(words, p.atom(addrPhraseEnds))
		}
	}
	return words
}

// QuoteString escapes backslashes and double quotes for the inside of a
// quoted string (RFC 5322 section 3.2.4).
func QuoteString(s string) string {
	return strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s)
}

// ErrNonASCIILocalPart is ToASCII's error for an address whose local part
// is not ASCII: it has no ASCII form (RFC 6531 leaves it to SMTPUTF8).
var ErrNonASCIILocalPart = errors.New("the local part is not ASCII")

// ToASCII returns the address in a (AddrOnly's) with its domain as an
// IDNA A-label (RFC 5891): "bücher.example" becomes
// "xn--bcher-kva.example". An ASCII a is returned unchanged. It fails
// with ErrNonASCIILocalPart, or with the idna package's error for a domain
// that is not a valid internationalised domain name.
func ToASCII(a string) (string, error) {
	if textutil.IsASCII(a) {
		return a, nil
	}
	addr := AddrOnly(a)
	local, domain := addr, ""
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		local, domain = addr[:i], addr[i+1:]
	}
	if !textutil.IsASCII(local) {
		return "", ErrNonASCIILocalPart
	}
	if textutil.IsASCII(domain) {
		// The non-ASCII part was a display name.
		return addr, nil
	}
	// Lookup is the profile for resolving a name as given: it maps case
	// and width variants (UTS #46) and rejects invalid labels, where
	// Registration would refuse any name not already in canonical form and
	// Punycode would encode anything without checking it.
	alabel, err := idna.Lookup.ToASCII(domain)
	if err != nil {
		return "", err
	}
	return local + "@" + alabel, nil
}
