package email

import "bytes"

// A multipart body is taken apart in one pass: the delimiter lines of
// every multipart in it are found at once, with a stack of the multiparts
// open at each line rather than a recursion, and the parts, their header
// fields, bodies and the bytes between them are views into the body, not
// copies, so that neither a deep nesting nor many parts costs more than
// its bytes.

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
