package email

// The header fields of a Message: reading them by name and editing them
// without letting a value start a field of its own.

import (
	"fmt"
	"strings"
)

// asciiEqualFold compares header field names; unlike strings.EqualFold it
// does not let a non-ASCII letter (the Kelvin sign) match an ASCII one.
func asciiEqualFold[T ~string | ~[]byte](a T, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// Get returns the value of the first field called name, or "" if there is
// none, decoded as Python's msg[name] gives it under policy.default: the
// folding line breaks removed (their blanks stay), RFC 2047 encoded-words
// decoded to UTF-8 (the blanks between two of them dropped), and bytes
// that are not UTF-8 replaced with U+FFFD. An address field (From, To, Cc,
// Bcc, Reply-To, Sender and their Resent- forms) is written again as
// "Name <addr>, addr", each display name decoded and quoted where it holds
// a special character, as Python writes it; one with a group or a comment
// is decoded as text. Unlike Python, Get does not rewrite the other
// structured fields (Content-Type, Message-ID, Date...): they are decoded
// as text. [Message.Header] gives the values as sent.
//
// "Subject: Rechnung =?utf-8?q?f=C3=BCr?= Dezember" gives "Rechnung für
// Dezember".
func (m *Message) Get(name string) string {
	for i := range m.fields {
		if m.fields[i].is(name) {
			return decodedValue(name, m.fields[i].raw)
		}
	}
	return ""
}

// Values returns the values of every field called name, in order, each
// decoded as [Message.Get] decodes it (Python's get_all), or nil if there
// is none.
func (m *Message) Values(name string) []string {
	var vs []string
	for i := range m.fields {
		if m.fields[i].is(name) {
			vs = append(vs, decodedValue(name, m.fields[i].raw))
		}
	}
	return vs
}

// raw returns the value of the first field called name as sent, unfolded
// as net/mail unfolds it ([Message.Header]), or "": the form the package
// itself parses (Content-Type, Content-Transfer-Encoding, ...).
func (m *Message) raw(name string) string {
	for i := range m.fields {
		if m.fields[i].is(name) {
			return m.fields[i].value()
		}
	}
	return ""
}

// Has reports whether the message has a field called name.
func (m *Message) Has(name string) bool {
	for i := range m.fields {
		if m.fields[i].is(name) {
			return true
		}
	}
	return false
}

// Set replaces the first field called name by "name: value" and deletes
// the others; it adds the field at the end of the header if there is none.
//
// A value with non-ASCII text is stored as Python's msg[name] = value
// stores it: the text becomes RFC 2047 encoded-words (UTF-8, Q or B
// encoding, whichever is shorter), only the display names in an address
// field (From, To, Cc, Bcc, Reply-To, Sender and their Resent- forms), and
// the value is folded between words to lines of at most 78 bytes. Its line
// breaks and NUL bytes become spaces. [Message.Get] returns the value
// decoded again, [Message.Header] as it is stored.
//
// Set cannot be used to inject header lines: in an ASCII value, a line
// break is kept only where it folds the value (a CRLF or LF followed by a
// blank or a tab); every other CR, LF or NUL becomes a space. A line longer
// than 998 bytes is folded before a single space where there is one. The new field uses the
// line ending of the message. Set panics if name is not a valid field name
// (printable ASCII other than the colon), as it is normally a constant.
func (m *Message) Set(name, value string) {
	nf := m.newField(name, value)
	for i := range m.fields {
		if m.fields[i].is(name) {
			m.fields[i] = nf
			m.delFrom(name, i+1)
			return
		}
	}
	m.fields = append(m.fields, nf)
}

// Add appends the field "name: value" at the end of the header, keeping
// any fields of that name already there. Value and name are treated as by
// [Message.Set].
func (m *Message) Add(name, value string) {
	m.fields = append(m.fields, m.newField(name, value))
}

// Del deletes every field called name.
func (m *Message) Del(name string) { m.delFrom(name, 0) }

func (m *Message) delFrom(name string, start int) {
	m.deleteFields(start, func(n []byte) bool { return asciiEqualFold(n, name) })
}

// deleteFields removes the fields from index start on whose name drop
// reports true, keeping the order of the others.
func (m *Message) deleteFields(start int, drop func(name []byte) bool) {
	kept := m.fields[:start]
	for _, f := range m.fields[start:] {
		if !drop(f.name()) {
			kept = append(kept, f)
		}
	}
	clear(m.fields[len(kept):])
	m.fields = kept
}

// Fields returns the names of the header fields in order, as written,
// repetitions included.
func (m *Message) Fields() []string {
	names := make([]string, len(m.fields))
	for i, f := range m.fields {
		names[i] = string(f.name())
	}
	return names
}

// newField builds a field from a name and a value, sanitising the value.
func (m *Message) newField(name, value string) headerField {
	if !validFieldName(name) {
		panic(fmt.Sprintf("email: invalid header field name %q", name))
	}
	eol := m.lineEnd()
	var raw []byte
	if enc, ok := encodeHeaderValue(name, value); ok {
		for i, line := range strings.Split(enc, "\r\n") {
			if i == 0 {
				line = name + ": " + line
			}
			raw = append(raw, line...)
			raw = append(raw, eol...)
		}
		return headerField{raw: raw}
	}
	for i, line := range splitFolds(value) {
		if i == 0 {
			line = name + ": " + line
		}
		for _, l := range foldLong(line, len(name)+2) {
			raw = append(raw, l...)
			raw = append(raw, eol...)
		}
	}
	return headerField{raw: raw}
}

// splitFolds cuts value into its physical lines at the folds it carries (a
// CRLF or LF followed by a blank or tab), and turns every other CR, LF and
// NUL into a space, so that no line can start a field.
func splitFolds(value string) []string {
	var lines []string
	var sb strings.Builder
	for i := 0; i < len(value); i++ {
		c := value[i]
		n := 0 // length of a line break at i
		if c == '\n' {
			n = 1
		} else if c == '\r' && i+1 < len(value) && value[i+1] == '\n' {
			n = 2
		}
		switch {
		case n > 0 && i+n < len(value) && (value[i+n] == ' ' || value[i+n] == '\t'):
			lines = append(lines, sb.String())
			sb.Reset()
			i += n - 1
		case c == '\r' || c == '\n' || c == 0:
			sb.WriteByte(' ')
		default:
			sb.WriteByte(c)
		}
	}
	return append(lines, sb.String())
}

// foldLong breaks a line over maxLineLength bytes before single spaces past
// position min, so that unfolding gives back the same value. A line with no
// such space stays long.
func foldLong(line string, min int) []string {
	var out []string
	for len(line) > maxLineLength {
		cut := -1
		for i := maxLineLength; i > min; i-- {
			if line[i] == ' ' && line[i-1] != ' ' && line[i-1] != '\t' &&
				i+1 < len(line) && line[i+1] != ' ' && line[i+1] != '\t' {
				cut = i
				break
			}
		}
		if cut < 0 {
			break
		}
		out = append(out, line[:cut])
		line, min = line[cut:], 1
	}
	return append(out, line)
}
