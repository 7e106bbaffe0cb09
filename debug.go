package smtplib

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// SetDebugLevel sets the debug output (Python's set_debuglevel): 1 the
// dialogue, 2 with the time; credentials print as "<redacted>".
func (s *SMTP) SetDebugLevel(level int) { s.debuglevel = level }

// debugData prints a reply to DATA or to the end of the data as smtplib's
// data does, when debugging is on.
func (s *SMTP) debugData(r Reply) {
	if s.debuglevel > 0 {
		s.debugf("data: (%d, %s)", r.Code, pyReprBytes([]byte(r.Message)))
	}
}

// debugf prints one line of debug output.
func (s *SMTP) debugf(format string, args ...any) {
	w := s.cfg.debugOut
	if w == nil {
		w = os.Stderr
	}
	line := fmt.Sprintf(format, args...)
	if s.debuglevel > 1 {
		line = pyTime(time.Now()) + " " + line
	}
	io.WriteString(w, line+"\n")
}

// pyTime formats t as Python's datetime.time prints: microseconds only when
// they are not zero.
func pyTime(t time.Time) string {
	if t.Nanosecond()/1000 == 0 {
		return t.Format("15:04:05")
	}
	return t.Format("15:04:05.000000")
}

// redacted returns what the debug output shows of a command line: the line
// itself, or for the credentials of an authentication exchange, the verb
// and mechanism with the rest hidden.
func redacted(cmd, line string, redact bool) string {
	if !redact {
		return pyRepr(line)
	}
	if strings.EqualFold(cmd, "AUTH") {
		if f := strings.Fields(line); len(f) > 2 {
			return pyRepr(f[0] + " " + f[1] + " <redacted>\r\n")
		}
		return pyRepr(line)
	}
	return pyRepr("<redacted>\r\n")
}

// pyRepr quotes s as Python's repr of a str does, so that the debug output
// reads like smtplib's.
func pyRepr(s string) string {
	return reprQuote(s, false)
}

// pyReprBytes quotes b as Python's repr of a bytes object does (b'...').
func pyReprBytes(b []byte) string {
	return "b" + reprQuote(string(b), true)
}

func reprQuote(s string, isBytes bool) string {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte(q)
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == q || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c >= 0x20 && c < 0x7f:
			b.WriteByte(c)
		case c < 0x80 || isBytes:
			fmt.Fprintf(&b, `\x%02x`, c)
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && n == 1:
				fmt.Fprintf(&b, `\x%02x`, c)
			case unicode.IsPrint(r):
				b.WriteString(s[i : i+n])
			case r <= 0xff:
				fmt.Fprintf(&b, `\x%02x`, r)
			case r <= 0xffff:
				fmt.Fprintf(&b, `\u%04x`, r)
			default:
				fmt.Fprintf(&b, `\U%08x`, r)
			}
			i += n
			continue
		}
		i++
	}
	b.WriteByte(q)
	return b.String()
}
