package email

import (
	"bytes"
	"fmt"
	"io"
	"net/mail"
	"net/textproto"
	"slices"
	"sort"
	"strings"
)

// maxLineLength is the limit of RFC 5322 section 2.1.1 (without CRLF); Set
// and Add fold longer values where they can.
const maxLineLength = 998

// Message is an Internet message (RFC 5322) kept as the bytes it was read
// from, so that it can be sent on unchanged, DKIM signatures intact. It
// plays the part of the message Python's smtplib.send_message takes. Its
// zero value is an empty message, Python's EmailMessage(), ready for
// [Message.Set] and [Message.SetContent].
//
// Header fields keep their order, repetitions, name case, folding and line
// endings. Field names are compared without regard to ASCII case.
//
// It is also Python's EmailMessage: [NewMessage] and the builder methods
// ([Message.SetContent], [Message.AddAlternative], [Message.AddRelated],
// [Message.AddAttachment]) make a MIME message, and the reading methods
// ([Message.GetBody], [Message.IterAttachments], [Message.IterParts],
// [Message.Walk], [Message.GetContent]) take apart a built or a read one.
//
// A Message may be read by several goroutines at once, but is not safe for
// concurrent use when one of them changes it; the package documentation
// says which calls count as changes.
//
// A message built by another library goes through [ReadMessage]: the
// program in the repository's examples/gomessage builds a multipart message
// with github.com/emersion/go-message and sends it with SendMessage
// (https://github.com/gosmtplib/smtplib/tree/main/examples/gomessage).
type Message struct {
	// A read message's fields and body are views into the bytes that were
	// read, parts included (parts.go): reading copies nothing but the
	// header of the whole message.
	fields []headerField // in their original order
	body   []byte        // a leaf's body; nil for a multipart (mp)
	data   []byte        // a built leaf's content, written as base64 (hasData)
	mp     *multipart    // the parts of a multipart, or nil
	more   *rare         // what few messages have, or nil

	sep        ending // the empty line after the header; noEnding when there was none
	eol        ending // the line ending of the message, used for new lines; noEnding for CRLF
	hasData    bool
	headless   bool // a read part with no header block: written as its body alone
	isPart     bool // a part of another message (no MIME-Version of its own)
	changed    bool // a builder method changed it (see write.go's reencode)
	digestPart bool // a part of a multipart/digest: message/rfc822 by default
}

// multipart holds the parts of a multipart message, read or built.
type multipart struct {
	parts    []*Message
	boundary string
	delims   [][]byte // a read multipart's bytes around its parts, len(parts)+1; nil when built
}

// rare holds what only some messages have, so that a message without it,
// a part among a hundred thousand, does not pay for it.
type rare struct {
	unixFrom []byte  // the mbox "From " line, line ending included, or nil
	defects  []error // what reading found wrong and read around
}

// ending is a line ending: none, LF or CRLF.
type ending uint8

const (
	noEnding ending = iota
	endLF
	endCRLF
)

var (
	lfBytes   = []byte("\n")
	crlfBytes = []byte("\r\n")
)

// bytes returns the line ending, nil for none; the slice must not change.
func (e ending) bytes() []byte {
	switch e {
	case endLF:
		return lfBytes
	case endCRLF:
		return crlfBytes
	}
	return nil
}

// endingOf returns the line ending of a line that ends in LF.
func endingOf(line []byte) ending {
	if bytes.HasSuffix(line, crlfBytes) {
		return endCRLF
	}
	return endLF
}

// headerField is one header field: every physical line of it, each with
// its line ending (only a final line at the end of the input may lack
// one). The name is what comes before the colon, blanks removed.
type headerField struct {
	raw []byte
}

// name returns the field's name as written, blanks before the colon
// removed.
func (f *headerField) name() []byte {
	return bytes.TrimRight(f.raw[:bytes.IndexByte(f.raw, ':')], " \t")
}

// is reports whether the field is called name, ASCII case ignored.
func (f *headerField) is(name string) bool { return asciiEqualFold(f.name(), name) }

// MessageError reports a message that ReadMessage cannot read, a header
// field that FromMailMessage cannot write, or a builder call that cannot
// be done (Python's email.errors.MessageError and ValueError).
type MessageError struct {
	Line   int    // the physical header line at fault, from 1; 0 if none in particular
	Reason string // what is wrong with it
}

// Error returns the reason, with the line number when there is one.
func (e *MessageError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("email: message header line %d: %s", e.Line, e.Reason)
	}
	return "email: " + e.Reason
}

// value unfolds the field's value as net/textproto does: the first line
// after the colon and every continuation line trimmed of blanks, joined by
// single spaces.
func (f *headerField) value() string {
	var sb strings.Builder
	rest := f.raw
	for first := true; len(rest) > 0; first = false {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, rest = rest[:i+1], rest[i+1:]
		} else {
			rest = nil
		}
		line = trimLineEnd(line)
		if first {
			line = line[bytes.IndexByte(line, ':')+1:]
		} else {
			sb.WriteByte(' ')
		}
		sb.Write(bytes.Trim(line, " \t"))
	}
	// The blanks before the value are trimmed after the lines are joined,
	// so an empty first line does not leave a leading space.
	return strings.TrimLeft(sb.String(), " \t")
}

// UnixFrom returns the mbox "From " line the message was read with, without
// its line ending, or "" (Python's get_unixfrom).
func (m *Message) UnixFrom() string {
	if m.more == nil {
		return ""
	}
	return string(trimLineEnd(m.more.unixFrom))
}

// SetUnixFrom sets the mbox "From " line written before the header; "" (or
// any line not starting with "From ") removes it. Line breaks are cut off.
func (m *Message) SetUnixFrom(line string) {
	line, _, _ = strings.Cut(strings.ReplaceAll(line, "\r", "\n"), "\n")
	if !strings.HasPrefix(line, "From ") || strings.IndexByte(line, 0) >= 0 {
		if m.more != nil {
			m.more.unixFrom = nil
		}
		return
	}
	m.extra().unixFrom = []byte(line + m.lineEnd())
}

// unixFrom returns the mbox line, with its line ending, or nil.
func (m *Message) unixFrom() []byte {
	if m.more == nil {
		return nil
	}
	return m.more.unixFrom
}

// extra returns m's rare fields, making them first if need be.
func (m *Message) extra() *rare {
	if m.more == nil {
		m.more = &rare{}
	}
	return m.more
}

// Defects returns what ReadMessage found wrong in this message or part
// and read around, in the order found, as Python's defects attribute
// lists it: [ErrNoBoundaryInMultipart], [ErrStartBoundaryNotFound],
// [ErrCloseBoundaryNotFound], [ErrMissingHeaderBodySeparator] or
// [ErrMaxDepth]; nil when there is none. The defects of a part are the
// part's own: [Message.Walk] visits them all.
func (m *Message) Defects() []error {
	if m == nil || m.more == nil {
		return nil
	}
	return m.more.defects
}

// addDefect records a defect.
func (m *Message) addDefect(err error) {
	m.extra().defects = append(m.more.defects, err)
}

// lineEnd returns the line ending new lines of m get: the one it was read
// with, CRLF for a built message.
func (m *Message) lineEnd() string {
	if m.eol == endLF {
		return "\n"
	}
	return "\r\n"
}

// Body returns the body: every byte after the empty line that ends the
// header. The slice is the message's own, not a copy, except for a message
// with parts (built with [Message.AddAttachment] and the like, or read
// with them), whose body is written out into a new slice.
func (m *Message) Body() []byte {
	if m.structured() {
		var buf bytes.Buffer
		writeSegments(&buf, m.appendBody(nil)) //nolint:errcheck // bytes.Buffer does not fail
		return buf.Bytes()
	}
	return m.body
}

// SetBody replaces the body by b, which the message keeps (it is not
// copied); the parts of a multipart message go with it. The body is
// written as it is; an SMTP client repairs line endings on the wire. It
// is not taken apart, whatever the Content-Type says, as Python's
// set_payload keeps a string.
func (m *Message) SetBody(b []byte) {
	m.body = b
	m.mp, m.data, m.hasData = nil, nil, false
}

// BodyReader returns a reader of the body. The data of built attachments
// is encoded as it is read.
func (m *Message) BodyReader() io.Reader {
	if m.structured() {
		return newSegReader(m.appendBody(nil))
	}
	return bytes.NewReader(m.body)
}

// Clone returns a deep copy of the message: nothing in it shares memory
// with m, not even the bytes a read message's parts are views into.
func (m *Message) Clone() *Message {
	c := &Message{
		fields: make([]headerField, len(m.fields)),
		body:   bytes.Clone(m.body),
		data:   bytes.Clone(m.data),
		sep:    m.sep, eol: m.eol, hasData: m.hasData, headless: m.headless,
		isPart: m.isPart, changed: m.changed, digestPart: m.digestPart,
	}
	for i, f := range m.fields {
		c.fields[i] = headerField{raw: bytes.Clone(f.raw)}
	}
	if m.more != nil {
		c.more = &rare{unixFrom: bytes.Clone(m.more.unixFrom), defects: slices.Clone(m.more.defects)}
	}
	if m.mp != nil {
		c.mp = &multipart{boundary: m.mp.boundary, parts: make([]*Message, len(m.mp.parts))}
		for i, p := range m.mp.parts {
			c.mp.parts[i] = p.Clone()
		}
		if m.mp.delims != nil {
			c.mp.delims = make([][]byte, len(m.mp.delims))
			for i, d := range m.mp.delims {
				c.mp.delims[i] = bytes.Clone(d)
			}
		}
	}
	return c
}

// WriteTo writes the message to w: the bytes ReadMessage read, with any
// changes made since. It implements io.WriterTo.
//
// The data of the parts added with [Message.AddAttachment] and
// [Message.AddRelated] is base64-encoded as it is written, a few lines at
// a time, so the encoded form of a large attachment is never whole in
// memory. A multipart built here gets a new boundary first if a part's
// text holds its delimiter, as Python's generator does. In a message the
// builder methods changed, a part read from elsewhere whose body has 8-bit
// bytes is re-encoded first, as Python's generator does under a 7-bit
// policy, so that the whole stays 7-bit.
func (m *Message) WriteTo(w io.Writer) (int64, error) {
	if m.structured() {
		return writeSegments(w, m.segments(true, false))
	}
	return m.writeTo(w, true)
}

// writeTo writes the message, with or without its mbox "From " line.
func (m *Message) writeTo(w io.Writer, unixFrom bool) (int64, error) {
	var n int64
	eol := crlfBytes
	if m.eol == endLF {
		eol = lfBytes
	}
	open := false   // the last piece written lacks its line ending
	openCR := false // and ends in a CR
	put := func(b []byte) error {
		if len(b) == 0 {
			return nil
		}
		// Only a last line at the end of the input lacks its line ending;
		// anything written after it needs one.
		if open {
			end := eol
			if openCR && len(eol) == 2 {
				end = eol[1:] // the line's CR is there: complete the CRLF
			}
			k, err := w.Write(end)
			n += int64(k)
			if err != nil {
				return err
			}
		}
		k, err := w.Write(b)
		n += int64(k)
		open = b[len(b)-1] != '\n'
		openCR = b[len(b)-1] == '\r'
		return err
	}
	if unixFrom {
		if err := put(m.unixFrom()); err != nil {
			return n, err
		}
	}
	for i := range m.fields {
		if err := put(m.fields[i].raw); err != nil {
			return n, err
		}
	}
	sep := m.sep.bytes()
	if sep == nil && len(m.body) > 0 {
		sep = eol
	}
	if err := put(sep); err != nil {
		return n, err
	}
	err := put(m.body)
	return n, err
}

// Bytes returns the message as WriteTo writes it.
func (m *Message) Bytes() []byte {
	var buf bytes.Buffer
	m.WriteTo(&buf) //nolint:errcheck // bytes.Buffer does not fail
	return buf.Bytes()
}

// Header returns the header fields as a net/mail Header, with the values
// as sent (encoded-words kept, as Python's compat32 policy gives them),
// unfolded as net/mail unfolds them: each line break and the blanks
// around it become one space, and the value is trimmed of blanks. Names
// are canonical, values in order. It is a copy; changing it changes
// nothing. [Message.Get] gives the values decoded.
func (m *Message) Header() mail.Header {
	h := make(mail.Header, len(m.fields))
	for i := range m.fields {
		k := textproto.CanonicalMIMEHeaderKey(string(m.fields[i].name()))
		h[k] = append(h[k], m.fields[i].value())
	}
	return h
}

// MailMessage returns the message as a *net/mail.Message: the fields as
// [Message.Header] returns them, and a reader of the body.
func (m *Message) MailMessage() *mail.Message {
	return &mail.Message{Header: m.Header(), Body: m.BodyReader()}
}

// FromMailMessage builds a Message from a *net/mail.Message, reading its
// body to the end and taking it apart as ReadMessage does when the
// Content-Type is multipart. A mail.Header keeps no order between names,
// so the fields are written sorted by name, each name's values in order.
// It returns a *[MessageError] for an invalid field name, and the error of
// the body's reader if that fails.
func FromMailMessage(mm *mail.Message) (*Message, error) {
	m := &Message{sep: endCRLF}
	names := make([]string, 0, len(mm.Header))
	for k := range mm.Header {
		if !validFieldName(k) {
			return nil, &MessageError{Reason: fmt.Sprintf("invalid header field name %q", k)}
		}
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range mm.Header[k] {
			m.Add(k, v)
		}
	}
	if mm.Body != nil {
		body, err := io.ReadAll(mm.Body)
		if err != nil {
			return nil, fmt.Errorf("email: reading message body: %w", err)
		}
		m.body = body
		m.takeApart()
	}
	return m, nil
}
