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
// the body is read whole, once, and its parts are views into it: one pass
// over the body finds the delimiter lines of every multipart at once, with
// a stack of the multiparts open at that point rather than a recursion, so
// that neither a deep nesting nor many parts costs more than its bytes.

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

// takeApart takes apart the body of a multipart m, read whole (by
// ReadMessage or FromMailMessage), as ReadMessage documents; any other m
// is left as it is.
func (m *Message) takeApart() {
	if boundary, ok := m.splittable(0); ok {
		p := &partsReader{buf: m.body, nextLF: -1, keys: map[string]int{}}
		p.push(m, boundary, 0, 0)
		p.run()
	}
}

// splittable reports whether m, at depth, is a multipart to take apart,
// and its boundary; it records the defect of one that cannot be.
func (m *Message) splittable(depth int) (string, bool) {
	if m.contentMaintype() != "multipart" {
		return "", false
	}
	boundary := m.param("Content-Type", "boundary")
	switch {
	case boundary == "":
		m.addDefect(ErrNoBoundaryInMultipart)
		return "", false
	case depth >= MaxDepth:
		m.addDefect(ErrMaxDepth)
		return "", false
	}
	return boundary, true
}

// partsReader takes apart a multipart body and the multiparts in it, in
// one pass over buf, the body. A multipart is split at its delimiter lines
// (RFC 2046 section 5.1.1): "--" boundary, then "--" on the last, then
// blanks up to the line end (CRLF, LF or a lone CR, as Python's parser
// ends lines). The line break before a delimiter belongs to it. The line
// of an enclosing multipart's delimiter ends every part inside it, as the
// enclosing part's end, so that the result is that of splitting each
// multipart's body with its own boundary, outermost first.
type partsReader struct {
	buf    []byte
	nextLF int             // the first LF at or after the last place looked from, or len(buf)
	frames []frame         // the multiparts open at this point, outermost first
	keys   map[string]int  // boundary, blanks trimmed off its end -> the deepest open frame with it
	hdr    partHeaderState // the header of the top frame's current part, while it is read
}

// A frame is a multipart being taken apart: its state, the parts and the
// bytes around them so far, and the part it is in.
type frame struct {
	m         *Message
	boundary  string
	depth     int
	start     int // where m's body starts in buf
	state     int // one of the states below
	gap       int // when closed: where the close delimiter starts
	partStart int // where the current part starts
	cur       *Message
	curBody   int  // where the current part's body starts; -1 while its header is read
	curSplit  bool // the current part is a multipart, taken apart by the frame above
	parts     []*Message
	delims    [][]byte
	sameKey   int  // the next frame out with the same key, or -1
	keyed     bool // the boundary is in keys: its delimiters end parts
	digest    bool // m is a multipart/digest, whose parts are message/rfc822 by default
}

// The states of a frame.
const (
	inPreamble = iota // before the first delimiter
	inPart            // in a part
	closed            // after the close delimiter, in the epilogue
	notSplit          // the close delimiter came first: the body stays whole
)

// partHeaderState is where the header of a part being read stands.
type partHeaderState struct {
	lineNo, total int
	fieldStart    int  // where the field being read starts
	last          int  // what the last line read was (lineField, ...)
	lastStart     int  // where it starts
	lastEnd       int  // and ends
	eolKnown      bool // a line ended in LF, and gave the part its line ending
}

func (p *partsReader) push(m *Message, boundary string, depth, start int) {
	key := string(bytes.TrimRight([]byte(boundary), " \t"))
	same, ok := p.keys[key]
	if !ok {
		same = -1
	}
	p.keys[key] = len(p.frames)
	p.frames = append(p.frames, frame{m: m, boundary: boundary, depth: depth, start: start, sameKey: same, keyed: true,
		digest: m.GetContentType() == "multipart/digest"})
}

// unkey takes f's boundary out of keys: its delimiter lines are text from
// now on. f is the deepest frame with it.
func (p *partsReader) unkey(f *frame) {
	if !f.keyed {
		return
	}
	f.keyed = false
	key := string(bytes.TrimRight([]byte(f.boundary), " \t"))
	if f.sameKey < 0 {
		delete(p.keys, key)
	} else {
		p.keys[key] = f.sameKey
	}
}

// run reads buf to its end, then ends every frame there.
func (p *partsReader) run() {
	for pos := 0; pos < len(p.buf); {
		top := &p.frames[len(p.frames)-1]
		if top.state == inPart && !top.curSplit && top.curBody < 0 {
			pos = p.headerLine(pos)
		} else {
			pos = p.bodyLine(pos)
		}
	}
	for len(p.frames) > 0 {
		p.finish(len(p.buf))
	}
}

// lf returns where the first LF at or after pos is, or len(buf). It
// remembers the last one found, so that a run of lines that end in lone
// CRs does not search the same bytes for an LF again and again.
func (p *partsReader) lf(pos int) int {
	if p.nextLF < pos {
		p.nextLF = len(p.buf)
		if i := bytes.IndexByte(p.buf[pos:], '\n'); i >= 0 {
			p.nextLF = pos + i
		}
	}
	return p.nextLF
}

// lineAt returns the end of the line that starts at pos, without its line
// ending, and where the next line starts.
func (p *partsReader) lineAt(pos int) (end, next int) {
	b := p.buf[pos:]
	lf := p.lf(pos) - pos
	if cr := bytes.IndexByte(b[:lf], '\r'); cr >= 0 && (cr+1 < lf || lf == len(b)) {
		return pos + cr, pos + cr + 1 // a lone CR
	}
	switch {
	case lf == len(b):
		return len(p.buf), len(p.buf)
	case lf > 0 && b[lf-1] == '\r':
		return pos + lf - 1, pos + lf + 1
	}
	return pos + lf, pos + lf + 1
}

// bodyLine looks at the line at pos of a body, preamble or epilogue,
// which is text unless it is a delimiter, and returns where the next line
// starts.
func (p *partsReader) bodyLine(pos int) int {
	end, next := p.lineAt(pos)
	if j, closing := p.delimiter(pos, end); j >= 0 {
		p.atDelimiter(j, closing, pos, next)
	}
	return next
}

// headerLine reads the physical line at pos of the header of the top
// frame's current part, up to its LF. A lone CR inside it may start a
// delimiter line, which cuts the header line short there.
func (p *partsReader) headerLine(pos int) int {
	le := min(p.lf(pos)+1, len(p.buf))
	for s := pos; s < le; {
		end, next := p.lineAt(s)
		if j, closing := p.delimiter(s, end); j >= 0 {
			if s-1 > pos {
				p.addHeaderLine(pos, s-1) // up to the lone CR before it
			}
			p.atDelimiter(j, closing, s, next)
			return next
		}
		s = next
	}
	p.addHeaderLine(pos, le)
	return le
}

// addHeaderLine adds buf[s:e] to the header of the top frame's current
// part, as ReadMessage reads a line.
func (p *partsReader) addHeaderLine(s, e int) {
	f := &p.frames[len(p.frames)-1]
	cur, h, line := f.cur, &p.hdr, p.buf[s:e:e]
	h.lineNo++
	h.total += len(line)
	kind, err := classifyLine(line, h.lineNo, h.total, len(cur.fields) > 0)
	if err != nil {
		// Python reads such a part as a body without a header.
		cur.fields, cur.more, cur.headless = nil, nil, true
		cur.addDefect(ErrMissingHeaderBodySeparator)
		f.curBody = f.partStart
		return
	}
	if !h.eolKnown && line[len(line)-1] == '\n' {
		cur.eol, h.eolKnown = endingOf(line), true
	}
	h.last, h.lastStart, h.lastEnd = kind, s, e
	switch kind {
	case lineSep:
		cur.sep = endingOf(line)
		f.curBody = e
		if boundary, ok := cur.splittable(f.depth + 1); ok {
			f.curSplit = true
			p.push(cur, boundary, f.depth+1, e)
		}
	case lineCont:
		cur.fields[len(cur.fields)-1].raw = p.buf[h.fieldStart:e:e]
	case lineField:
		h.fieldStart = s
		cur.fields = append(cur.fields, headerField{raw: line})
	case lineUnixFrom:
		cur.extra().unixFrom = line
	}
}

// delimiter reports which open multipart the line buf[s:e] is a
// delimiter of, the outermost if several (-1 for none), and whether it is
// a close delimiter. Only lines that start with "--" are looked up, by
// the boundary they would carry.
func (p *partsReader) delimiter(s, e int) (j int, closing bool) {
	line := p.buf[s:e]
	if len(line) < 2 || line[0] != '-' || line[1] != '-' {
		return -1, false
	}
	j = -1
	t := bytes.TrimRight(line[2:], " \t")
	for k := 0; k < 2; k++ {
		if k == 1 {
			// A close delimiter: its boundary is before the "--".
			if !bytes.HasSuffix(t, []byte("--")) {
				break
			}
			t = bytes.TrimRight(t[:len(t)-2], " \t")
		}
		i, ok := p.keys[string(t)]
		for ok && i >= 0 {
			if is, c := isDelimiter(line, p.frames[i].boundary); is && (j < 0 || i < j) {
				j, closing = i, c
			}
			i = p.frames[i].sameKey
		}
	}
	return j, closing
}

// isDelimiter reports whether line is a delimiter line of boundary, and
// whether it is the close delimiter.
func isDelimiter(line []byte, boundary string) (is, closing bool) {
	rest := line[2:]
	if len(rest) < len(boundary) || string(rest[:len(boundary)]) != boundary {
		return false, false
	}
	rest = rest[len(boundary):]
	if closing = bytes.HasPrefix(rest, []byte("--")); closing {
		rest = rest[2:]
	}
	return len(bytes.Trim(rest, " \t")) == 0, closing
}

// atDelimiter handles the delimiter line of frame j that starts at d, and
// whose line ending ends at next: the frames inside j end where j's
// current part ends, and j's next part, if any, starts.
func (p *partsReader) atDelimiter(j int, closing bool, d, next int) {
	f := &p.frames[j]
	if f.state == inPreamble {
		if closing { // before any delimiter: not a multipart after all
			f.state = notSplit
			p.unkey(f)
			return
		}
		f.delims = append(f.delims, p.buf[f.start:next:next])
		f.state = inPart
		p.startPart(f, next)
		return
	}
	// The line break before the delimiter belongs to it, unless the part
	// is empty.
	end := d
	if end > f.partStart {
		end--
		if p.buf[end] == '\n' && end > f.partStart && p.buf[end-1] == '\r' {
			end--
		}
	}
	for len(p.frames)-1 > j {
		p.finish(end)
	}
	f = &p.frames[j]
	p.endPart(f, end)
	if closing {
		f.state, f.gap = closed, end
		p.unkey(f)
		return
	}
	f.delims = append(f.delims, p.buf[end:next:next])
	p.startPart(f, next)
}

// startPart starts the next part of f at pos, its header first.
func (p *partsReader) startPart(f *frame, pos int) {
	f.partStart, f.curBody, f.curSplit = pos, -1, false
	f.cur = &Message{isPart: true, eol: f.m.eol, digestPart: f.digest}
	p.hdr = partHeaderState{}
}

// endPart ends f's current part at end, where its delimiter starts, and
// adds it to f's parts. What was read past end, the line break before the
// delimiter, is given back: a header line loses it, and an empty line
// that would have ended the header is not one (the part is all header).
func (p *partsReader) endPart(f *frame, end int) {
	cur := f.cur
	switch {
	case f.curSplit: // the frame above took it apart and ended it
	case f.curBody < 0:
		if h := &p.hdr; h.lineNo > 0 && h.lastEnd > end {
			switch h.last {
			case lineField, lineCont:
				cur.fields[len(cur.fields)-1].raw = p.buf[h.fieldStart:end:end]
			case lineUnixFrom:
				cur.more.unixFrom = p.buf[h.lastStart:end:end]
			}
		}
	case f.curBody > end:
		cur.sep = noEnding
	default:
		cur.body = p.buf[f.curBody:end:end]
	}
	f.parts = append(f.parts, cur)
	f.cur = nil
}

// finish ends the top frame at end, the end of its body, and pops it.
func (p *partsReader) finish(end int) {
	f := &p.frames[len(p.frames)-1]
	m := f.m
	switch f.state {
	case inPreamble, notSplit:
		// Kept whole, as Python keeps a multipart it cannot split.
		if f.start > end {
			m.sep = noEnding // the empty line after the header was the line break before the delimiter
		} else {
			m.body = p.buf[f.start:end:end]
		}
		m.addDefect(ErrStartBoundaryNotFound)
	case inPart:
		if f.partStart > end {
			// The line ending of f's last delimiter is the line break
			// before the enclosing delimiter: the last part is empty.
			last := f.delims[len(f.delims)-1]
			n := len(last) - (f.partStart - end)
			f.delims[len(f.delims)-1] = last[:n:n]
		}
		p.endPart(f, end)
		f.delims = append(f.delims, p.buf[end:end:end])
		m.addDefect(ErrCloseBoundaryNotFound)
	case closed:
		f.delims = append(f.delims, p.buf[f.gap:end:end])
	}
	if f.state == inPart || f.state == closed {
		m.mp = &multipart{parts: f.parts, boundary: f.boundary, delims: f.delims}
		m.body = nil
	}
	p.unkey(f)
	p.frames = p.frames[:len(p.frames)-1]
}
