package email

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Reading costs time and memory in proportion to the message, whatever
// its shape. The header of the message is read line by line and copied;
// the body is read whole, once, and taken apart in one pass (parts.go).

// Limits on what ReadMessage takes apart. RFC 5322 allows 998 characters
// on a line; real mail breaks that, so the bounds only keep a hostile
// input from using unbounded memory.
const (
	// MaxHeaderLineLength is the longest physical header line ReadMessage
	// accepts, line ending included: 64 KiB.
	MaxHeaderLineLength = 64 << 10
	// MaxHeaderBytes is the largest header block ReadMessage accepts, the
	// empty line that ends it included: 1 MiB.
	MaxHeaderBytes = 1 << 20
	// MaxDepth is how deep ReadMessage takes multiparts apart: the message
	// is at depth 0, its parts at 1, theirs at 2. A multipart at depth
	// MaxDepth is kept whole, its body unparsed, with [ErrMaxDepth] among
	// its defects, as Python keeps a part it cannot parse. Python's parser
	// has no limit; mail programs nest a handful of levels.
	MaxDepth = 256
)

// The defects ReadMessage records on a message or part it reads around
// ([Message.Defects]), named after Python's email.errors classes. None of
// them makes ReadMessage fail, and the message is still written back byte
// for byte.
var (
	// ErrNoBoundaryInMultipart: a multipart Content-Type without a
	// boundary parameter; the body is kept whole.
	ErrNoBoundaryInMultipart = errors.New("email: multipart message without a boundary parameter")
	// ErrStartBoundaryNotFound: a multipart body without a delimiter line
	// for its boundary, or with the close delimiter first; the body is
	// kept whole.
	ErrStartBoundaryNotFound = errors.New("email: multipart body without a delimiter line for its boundary")
	// ErrCloseBoundaryNotFound: a multipart body that ends without its
	// close delimiter; the last part runs to the end.
	ErrCloseBoundaryNotFound = errors.New("email: multipart body without its close delimiter")
	// ErrMissingHeaderBodySeparator: a part whose first lines are not a
	// header block; all its text is its body.
	ErrMissingHeaderBodySeparator = errors.New("email: part without a header block")
	// ErrMaxDepth: a multipart nested deeper than [MaxDepth] allows; its
	// body is kept whole.
	ErrMaxDepth = errors.New("email: multipart nested too deep to take apart")
)

// ReadMessage reads a message from r: the header block up to the first
// empty line, then the body up to the end of r. A message without that
// empty line is all header and no body, as with net/mail.ReadMessage. A
// multipart body is taken apart into its parts at once, down to
// [MaxDepth]; a structure it cannot take apart is kept as it is, with a
// defect recorded ([Message.Defects]), never an error.
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
// A part with such a header is read as a part without one. Errors from r
// are returned wrapped.
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
		total += len(line)
		kind, cerr := classifyLine(line, lineNo, total, len(m.fields) > 0)
		if cerr != nil {
			return nil, cerr
		}
		if m.eol == noEnding && line[len(line)-1] == '\n' {
			m.eol = endingOf(line)
		}
		switch kind {
		case lineSep:
			m.sep = endingOf(line)
		case lineCont:
			f := &m.fields[len(m.fields)-1]
			f.raw = append(f.raw, line...)
		case lineField:
			m.fields = append(m.fields, headerField{raw: line})
		case lineUnixFrom:
			// An mbox separator; Python's parser sets it aside as the
			// "unixfrom". Unlike Python, "From : x" is the From field.
			m.extra().unixFrom = line
		}
		if m.sep != noEnding || err == io.EOF {
			break
		}
	}
	if m.sep != noEnding {
		body, err := io.ReadAll(br)
		if err != nil {
			return nil, fmt.Errorf("email: reading message body: %w", err)
		}
		m.body = body
		m.takeApart()
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

// What a physical line of a header block is.
const (
	lineField    = iota // the first line of a field
	lineCont            // a continuation line of the field before it
	lineSep             // the empty line that ends the block
	lineUnixFrom        // an mbox "From " line, first of all
)

// classifyLine tells what line (with its line ending, if any), the
// lineNo-th of a header block whose lines so far, this one included, take
// total bytes, is; or returns the *MessageError that ReadMessage reports
// for it. haveField tells whether a field came before it.
func classifyLine(line []byte, lineNo, total int, haveField bool) (int, error) {
	switch {
	case len(line) > MaxHeaderLineLength:
		return 0, &MessageError{Line: lineNo, Reason: fmt.Sprintf("line longer than %d bytes", MaxHeaderLineLength)}
	case total > MaxHeaderBytes:
		return 0, &MessageError{Line: lineNo, Reason: fmt.Sprintf("header block longer than %d bytes", MaxHeaderBytes)}
	case bytes.IndexByte(line, 0) >= 0:
		return 0, &MessageError{Line: lineNo, Reason: "NUL byte in header"}
	}
	content := trimLineEnd(line)
	switch {
	case len(content) == 0 && line[len(line)-1] == '\n':
		return lineSep, nil
	case line[0] == ' ' || line[0] == '\t':
		if !haveField {
			return 0, &MessageError{Line: lineNo, Reason: "continuation line with no field before it"}
		}
		return lineCont, nil
	case isFieldLine(content):
		return lineField, nil
	case lineNo == 1 && bytes.HasPrefix(line, []byte("From ")):
		return lineUnixFrom, nil
	}
	return 0, &MessageError{Line: lineNo, Reason: fmt.Sprintf("not a header field: %q", clipText(content, 40))}
}

// isFieldLine reports whether a line's content starts a field: a name,
// blanks (RFC 5322 section 4.5, obs-optional), and a colon.
func isFieldLine(content []byte) bool {
	i := bytes.IndexByte(content, ':')
	return i >= 0 && validFieldName(bytes.TrimRight(content[:i], " \t"))
}

// validFieldName reports whether name is a non-empty run of printable
// ASCII characters other than the colon.
func validFieldName[T ~string | ~[]byte](name T) bool {
	if len(name) == 0 {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < '!' || c > '~' || c == ':' {
			return false
		}
	}
	return true
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
