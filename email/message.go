package email

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/mail"
	"net/textproto"
	"sort"
	"strings"
)

// Limits on the header block that ReadMessage accepts. RFC 5322 allows 998
// characters on a line; real mail breaks that, so the bounds only keep a
// hostile input from using unbounded memory.
const (
	// MaxHeaderLineLength is the longest physical header line ReadMessage
	// accepts, line ending included: 64 KiB.
	MaxHeaderLineLength = 64 << 10
	// MaxHeaderBytes is the largest header block ReadMessage accepts, the
	// empty line that ends it included: 1 MiB.
	MaxHeaderBytes = 1 << 20
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
// [Message.GetContent]) take apart a built or a read one. A read
// multipart body is taken apart by the first reading method that needs
// its parts; the message is still written back byte for byte.
//
// A Message is not safe for concurrent use when one of the goroutines
// changes it; the reading methods count as changes the first time they
// take a multipart body apart.
//
// A message built by another library goes through [ReadMessage]: the
// program in the repository's examples/gomessage builds a multipart message
// with github.com/emersion/go-message and sends it with SendMessage
// (https://github.com/gosmtplib/smtplib/tree/main/examples/gomessage).
type Message struct {
	unixFrom []byte        // the mbox "From " line, line ending included, or nil
	fields   []headerField // in their original order
	sep      []byte        // the empty line after the header; nil when there was none
	body     []byte
	eol      string // the line ending of the message, used for new lines

	// The MIME structure (build.go, build_read.go): a multipart message
	// holds its parts instead of a body once it is built or taken apart;
	// a part built from bytes holds them unencoded until it is written.
	multipart bool
	parts     []*Message
	boundary  string
	delims    [][]byte // a read multipart's bytes around its parts, len(parts)+1; nil when built
	data      []byte   // a built leaf's content, written as base64 (hasData)
	hasData   bool
	headless  bool   // a read part with no header block: written as its body alone
	isPart    bool   // a part of another message (no MIME-Version of its own)
	changed   bool   // a builder method changed it (see build_write.go's reencode)
	defaultCT string // the content type when there is no Content-Type field
}

// headerField is one header field: every physical line of it, each with its line
// ending (only a final line at the end of the input may lack one).
type headerField struct {
	name string // as written, blanks before the colon removed
	raw  []byte
}

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

// ReadMessage reads a message from r: the header block up to the first
// empty line, then the body up to the end of r. A message without that
// empty line is all header and no body, as with net/mail.ReadMessage.
//
// ReadMessage keeps every byte: [Message.WriteTo] writes exactly what was
// read until the message is changed. It accepts LF as well as CRLF line
// endings, bytes beyond ASCII in field values (RFC 6532), obsolete blanks
// between a field name and its colon, and an mbox "From " line as the very
// first line (when it is not a field: "From : x" is one), which is kept
// apart (see [Message.UnixFrom]).
//
// It returns a *[MessageError] for an empty input, a NUL byte in the header
// block, a physical header line longer than [MaxHeaderLineLength], a header
// block longer than [MaxHeaderBytes], a continuation line with no field
// before it, and any other line that is not "name: value" with a name of
// printable ASCII characters other than the colon (RFC 5322 section 3.6.8).
// Errors from r are returned wrapped.
func ReadMessage(r io.Reader) (*Message, error) {
	br := bufio.NewReader(r)
	m := &Message{}
	total := 0
	for lineNo := 1; ; lineNo++ {
		line, err := readHeaderLine(br, lineNo)
		if err != nil && err != io.EOF {
			return nil, err
		}
		if len(line) == 0 { // the end, with no empty line
			if lineNo == 1 {
				return nil, &MessageError{Reason: "empty message"}
			}
			break
		}
		if total += len(line); total > MaxHeaderBytes {
			return nil, &MessageError{Line: lineNo, Reason: fmt.Sprintf("header block longer than %d bytes", MaxHeaderBytes)}
		}
		if bytes.IndexByte(line, 0) >= 0 {
			return nil, &MessageError{Line: lineNo, Reason: "NUL byte in header"}
		}
		if m.eol == "" && line[len(line)-1] == '\n' {
			m.eol = eolOf(line)
		}
		content := trimLineEnd(line)
		name, isField := fieldName(content)
		switch {
		case len(content) == 0 && line[len(line)-1] == '\n':
			m.sep = line
		case line[0] == ' ' || line[0] == '\t':
			if len(m.fields) == 0 {
				return nil, &MessageError{Line: lineNo, Reason: "continuation line with no field before it"}
			}
			f := &m.fields[len(m.fields)-1]
			f.raw = append(f.raw, line...)
		case isField:
			m.fields = append(m.fields, headerField{name: name, raw: line})
		case lineNo == 1 && bytes.HasPrefix(line, []byte("From ")):
			// An mbox separator; Python's parser sets it aside as the
			// "unixfrom". Unlike Python, "From : x" is the From field.
			m.unixFrom = line
		default:
			return nil, &MessageError{Line: lineNo, Reason: fmt.Sprintf("not a header field: %q", clipText(content, 40))}
		}
		if m.sep != nil || err == io.EOF {
			break
		}
	}
	if m.sep != nil {
		body, err := io.ReadAll(br)
		if err != nil {
			return nil, fmt.Errorf("email: reading message body: %w", err)
		}
		m.body = body
	}
	if m.eol == "" {
		m.eol = "\r\n"
	}
	return m, nil
}

// readHeaderLine reads one line, its LF included; at the end of the input
// it returns what is left with io.EOF.
func readHeaderLine(br *bufio.Reader, lineNo int) ([]byte, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		if len(line)+len(frag) > MaxHeaderLineLength {
			return nil, &MessageError{Line: lineNo, Reason: fmt.Sprintf("line longer than %d bytes", MaxHeaderLineLength)}
		}
		line = append(line, frag...)
		switch err {
		case nil, io.EOF:
			return line, err
		case bufio.ErrBufferFull:
			continue
		default:
			return nil, fmt.Errorf("email: reading message header: %w", err)
		}
	}
}

// fieldName returns the name of the field that starts the line content, and
// whether the line starts a field at all.
func fieldName(content []byte) (string, bool) {
	i := bytes.IndexByte(content, ':')
	if i < 0 {
		return "", false
	}
	// RFC 5322 section 4.5 (obs-optional) allows blanks before the colon.
	name := bytes.TrimRight(content[:i], " \t")
	if !validFieldName(string(name)) {
		return "", false
	}
	return string(name), true
}

// validFieldName reports whether name is a non-empty run of printable
// ASCII characters other than the colon.
func validFieldName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < '!' || c > '~' || c == ':' {
			return false
		}
	}
	return true
}

// eolOf returns the line ending of a line that ends in LF.
func eolOf(line []byte) string {
	if bytes.HasSuffix(line, []byte("\r\n")) {
		return "\r\n"
	}
	return "\n"
}

// trimLineEnd removes a final LF or CRLF.
func trimLineEnd(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
	}
	return line
}

func clipText(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
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
func (m *Message) UnixFrom() string { return string(trimLineEnd(m.unixFrom)) }

// SetUnixFrom sets the mbox "From " line written before the header; "" (or
// any line not starting with "From ") removes it. Line breaks are cut off.
func (m *Message) SetUnixFrom(line string) {
	line, _, _ = strings.Cut(strings.ReplaceAll(line, "\r", "\n"), "\n")
	if !strings.HasPrefix(line, "From ") || strings.IndexByte(line, 0) >= 0 {
		m.unixFrom = nil
		return
	}
	m.unixFrom = []byte(line + m.lineEnd())
}

func (m *Message) lineEnd() string {
	if m.eol == "" {
		return "\r\n"
	}
	return m.eol
}

// Body returns the body: every byte after the empty line that ends the
// header. The slice is the message's own, not a copy, except for a message
// with parts (built with [Message.AddAttachment] and the like, or taken
// apart by [Message.IterParts] and the like), whose body is written out
// into a new slice.
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
// written as it is; an SMTP client repairs line endings on the wire.
func (m *Message) SetBody(b []byte) {
	m.body = b
	m.multipart, m.parts, m.delims, m.data, m.hasData = false, nil, nil, nil, false
}

// BodyReader returns a reader of the body. The data of built attachments
// is encoded as it is read.
func (m *Message) BodyReader() io.Reader {
	if m.structured() {
		return newSegReader(m.appendBody(nil))
	}
	return bytes.NewReader(m.body)
}

// Clone returns a deep copy of the message.
func (m *Message) Clone() *Message {
	c := &Message{
		unixFrom: bytes.Clone(m.unixFrom),
		fields:   make([]headerField, len(m.fields)),
		sep:      bytes.Clone(m.sep),
		body:     bytes.Clone(m.body),
		eol:      m.eol,
	}
	for i, f := range m.fields {
		c.fields[i] = headerField{name: f.name, raw: bytes.Clone(f.raw)}
	}
	c.multipart, c.boundary, c.hasData, c.headless, c.defaultCT, c.isPart, c.changed = m.multipart, m.boundary, m.hasData, m.headless, m.defaultCT, m.isPart, m.changed
	c.data = bytes.Clone(m.data)
	for _, d := range m.delims {
		c.delims = append(c.delims, bytes.Clone(d))
	}
	for _, p := range m.parts {
		c.parts = append(c.parts, p.Clone())
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
	eol := []byte(m.lineEnd())
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
		if err := put(m.unixFrom); err != nil {
			return n, err
		}
	}
	for i := range m.fields {
		if err := put(m.fields[i].raw); err != nil {
			return n, err
		}
	}
	sep := m.sep
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

// Header returns the header fields as a net/mail Header: canonical names,
// unfolded values in order. It is a copy; changing it changes nothing.
func (m *Message) Header() mail.Header {
	h := make(mail.Header, len(m.fields))
	for i := range m.fields {
		k := textproto.CanonicalMIMEHeaderKey(m.fields[i].name)
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
// body to the end. A mail.Header keeps no order between names, so the
// fields are written sorted by name, each name's values in order. It
// returns a *[MessageError] for an invalid field name, and the error of the
// body's reader if that fails.
func FromMailMessage(mm *mail.Message) (*Message, error) {
	m := &Message{sep: []byte("\r\n"), eol: "\r\n"}
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
	}
	return m, nil
}
