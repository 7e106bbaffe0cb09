package email

import (
	"fmt"
	"mime"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/htmlindex"

	"github.com/gosmtplib/smtplib/internal/mailaddr"
)

// This file reads and writes the parameters of Content-Type and
// Content-Disposition (RFC 2045 section 5.1, RFC 2183), with RFC 2231's
// extended values: a charset and percent-escapes for text beyond ASCII,
// and continuations for long values.

// tspecials are the characters that end a token (RFC 2045 section 5.1).
const tspecials = `()<>@,;:\"/[]?=`

// isToken reports whether s is a non-empty RFC 2045 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(tspecials, c) >= 0 {
			return false
		}
	}
	return true
}

// mediaParam is one parameter, in the order it is written.
type mediaParam struct{ name, value string }

// formatMediaHeader writes "value; name=param; ..." for a field whose name
// and ": " take used bytes, each parameter as formatParam writes it, folded
// before a parameter where the line would pass pyMaxLineLength.
func formatMediaHeader(used int, value string, params []mediaParam) string {
	words := []string{value}
	for _, p := range params {
		for _, w := range formatParam(p.name, p.value, pyMaxLineLength-2) {
			words[len(words)-1] += ";"
			words = append(words, w)
		}
	}
	return foldWords(used, words)
}

// formatParam writes one parameter as one or more "name=value" words:
// a token as it is; other printable ASCII text quoted; text with non-ASCII
// or control characters as an RFC 2231 extended value in UTF-8
// ("name*=utf-8”...", percent-escaped). A word that would be longer than
// width is cut into RFC 2231 continuations (name*0, name*1, ...), never
// inside an escape or a UTF-8 sequence.
func formatParam(name, value string, width int) []string {
	extended := false
	for i := 0; i < len(value); i++ {
		if c := value[i]; c < ' ' || c >= 0x7f {
			extended = true
			break
		}
	}
	if !extended {
		w := name + "=" + value
		if !isToken(value) {
			w = name + `="` + mailaddr.QuoteString(value) + `"`
		}
		if len(w) <= width {
			return []string{w}
		}
		// Quoted continuations: each piece a quoted string of its own.
		var words []string
		for i, rest := 0, value; rest != ""; i++ {
			head := name + "*" + strconv.Itoa(i) + `="`
			n := 0
			for room := width - len(head) - 2; n < len(rest); n++ {
				need := 1
				if rest[n] == '"' || rest[n] == '\\' {
					need = 2
				}
				if room -= need; room < 0 && n > 0 {
					break
				}
			}
			words = append(words, head+mailaddr.QuoteString(rest[:n])+`"`)
			rest = rest[n:]
		}
		return words
	}
	// Percent-escape every byte that is not an attribute-char (RFC 2231
	// section 7), keeping each character's escapes together.
	var chars []string
	for i := 0; i < len(value); {
		_, size := utf8.DecodeRuneInString(value[i:])
		var sb strings.Builder
		for _, c := range []byte(value[i : i+size]) {
			if c > ' ' && c < 0x7f && strings.IndexByte(tspecials+"*'%", c) < 0 {
				sb.WriteByte(c)
			} else {
				fmt.Fprintf(&sb, "%%%02X", c)
			}
		}
		chars = append(chars, sb.String())
		i += size
	}
	whole := name + "*=utf-8''" + strings.Join(chars, "")
	if len(whole) <= width {
		return []string{whole}
	}
	var words []string
	for i := 0; len(chars) > 0; i++ {
		w := name + "*" + strconv.Itoa(i) + "*="
		if i == 0 {
			w += "utf-8''"
		}
		n := 0
		for l := len(w); n < len(chars) && (n == 0 || l+len(chars[n]) <= width); n++ {
			l += len(chars[n])
		}
		words = append(words, w+strings.Join(chars[:n], ""))
		chars = chars[n:]
	}
	return words
}

// parseMediaHeader splits a Content-Type or Content-Disposition value into
// its value, lower-cased, and its parameters, names lower-cased, values
// decoded (RFC 2231 continuations joined, escapes and charsets decoded to
// UTF-8). It is lenient where Python's parser is: a parameter it cannot read
// is skipped, not fatal, and a missing closing quote ends at the line's end.
func parseMediaHeader(v string) (string, map[string]string) {
	value, rest, _ := strings.Cut(v, ";")
	value = strings.ToLower(strings.TrimSpace(value))
	params := map[string]string{}
	type piece struct {
		n       int
		value   string
		escaped bool
	}
	split := map[string][]piece{}
	for rest != "" {
		var name, val string
		rest = strings.TrimLeft(rest, " \t;")
		i := strings.IndexAny(rest, "=;")
		if i < 0 || rest[i] == ';' {
			if i < 0 {
				break
			}
			rest = rest[i+1:]
			continue
		}
		name = strings.ToLower(strings.TrimSpace(rest[:i]))
		rest = strings.TrimLeft(rest[i+1:], " \t")
		if strings.HasPrefix(rest, `"`) {
			var sb strings.Builder
			j := 1
			for ; j < len(rest) && rest[j] != '"'; j++ {
				if rest[j] == '\\' && j+1 < len(rest) {
					j++
				}
				sb.WriteByte(rest[j])
			}
			val, rest = sb.String(), rest[min(j+1, len(rest)):]
			if k := strings.IndexByte(rest, ';'); k >= 0 {
				rest = rest[k:]
			} else {
				rest = ""
			}
		} else {
			val, rest, _ = strings.Cut(rest, ";")
			val = strings.TrimSpace(val)
		}
		if name == "" {
			continue
		}
		base, section, isSplit := strings.Cut(name, "*")
		if !isSplit {
			if _, dup := params[name]; !dup {
				params[name] = val
			}
			continue
		}
		escaped := strings.HasSuffix(section, "*") || section == ""
		section = strings.TrimSuffix(section, "*")
		n := 0
		if section != "" {
			var err error
			if n, err = strconv.Atoi(section); err != nil || n < 0 {
				continue
			}
		}
		split[base] = append(split[base], piece{n, val, escaped})
	}
	for name, pieces := range split {
		sort.SliceStable(pieces, func(i, j int) bool { return pieces[i].n < pieces[j].n })
		charset := ""
		var raw []byte
		for i, p := range pieces {
			v := p.value
			if p.escaped {
				if i == 0 {
					// charset'language'text
					if cs, after, ok := strings.Cut(v, "'"); ok {
						if _, text, ok := strings.Cut(after, "'"); ok {
							charset, v = cs, text
						}
					}
				}
				raw = append(raw, percentDecode(v)...)
			} else {
				raw = append(raw, v...)
			}
		}
		// An extended value wins over a plain one of the same name (RFC
		// 2231 section 4, as Python prefers it).
		params[name] = string(toUTF8(charset, raw))
	}
	for _, name := range []string{"filename", "name"} {
		if v := params[name]; strings.HasPrefix(v, "=?") && strings.Contains(v, "?=") {
			// Many mailers write an encoded-word where RFC 2231 is meant;
			// Python reads it, and so do we.
			if d, err := new(mime.WordDecoder).DecodeHeader(v); err == nil {
				params[name] = d
			}
		}
	}
	return value, params
}

// percentDecode decodes %XX escapes, keeping a "%" that starts none.
func percentDecode(s string) []byte {
	return appendUnescaped(make([]byte, 0, len(s)), s, '%')
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// toUTF8 converts text in charset to UTF-8, replacing what cannot be
// decoded with U+FFFD as Python's errors="replace" does. An unknown
// charset is taken as UTF-8.
func toUTF8(charset string, b []byte) []byte {
	switch cs := strings.ToLower(strings.TrimSpace(charset)); cs {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
	case "iso-8859-1", "latin-1", "latin1", "iso8859-1", "l1":
		out := make([]byte, 0, len(b)+len(b)/4)
		for _, c := range b {
			out = utf8.AppendRune(out, rune(c))
		}
		return out
	default:
		if enc, err := htmlindex.Get(cs); err == nil {
			if d, err := enc.NewDecoder().Bytes(b); err == nil {
				return d
			}
		}
	}
	if utf8.Valid(b) {
		return b
	}
	return []byte(strings.ToValidUTF8(string(b), "\uFFFD"))
}
