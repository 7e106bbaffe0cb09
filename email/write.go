package email

import (
	"bytes"
	"io"
	"strings"

	"github.com/gosmtplib/smtplib/internal/textutil"
)

// This file writes a message that has MIME structure: its header, then
// each part between delimiters, with the data of built attachments
// base64-encoded on the way out, a few lines at a time, so that the
// encoded form of a large attachment is never whole in memory.

// segment is a piece of a message as written: bytes written as they are,
// or data written base64-encoded.
type segment struct {
	raw    []byte
	data   []byte
	isB64  bool
	header bool // raw is a header block
}

// len returns the number of bytes the segment writes.
func (s segment) len() int64 {
	if s.isB64 {
		return b64Len(len(s.data))
	}
	return int64(len(s.raw))
}

// structured reports whether m has parts or unencoded data, so that its
// body is made of segments rather than held whole.
func (m *Message) structured() bool { return m.mp != nil || m.hasData }

// segments returns m as it is written: with its mbox "From " line when
// unixFrom is true, without Bcc and Resent-Bcc when dropBcc is true. The
// boundaries of the multiparts built here are checked first.
//
// A message the builder methods changed is written as Python's generator
// writes it under policy.SMTP: parts read from elsewhere with 8-bit bodies
// are re-encoded (see reencode), and every line ends in CRLF, whatever the
// line endings of the message it was read from.
func (m *Message) segments(unixFrom, dropBcc bool) []segment {
	changed := m.treeChanged()
	if changed {
		m.reencode()
	}
	m.checkBoundaries()
	segs := m.appendSegments(nil, unixFrom, dropBcc)
	if changed {
		for i := range segs {
			segs[i].raw = toCRLF(segs[i].raw, segs[i].header)
		}
	}
	return segs
}

// toCRLF returns b with every lone LF made CRLF, and every lone CR too,
// or in a header block a space, so that it cannot start a line that is
// not a field: b itself when there is none, else a copy.
func toCRLF(b []byte, header bool) []byte {
	if textutil.CleanCRLF(b) {
		return b
	}
	out := make([]byte, 0, len(b)+len(b)/16)
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '\r':
			switch {
			case i+1 < len(b) && b[i+1] == '\n':
				i++
			case header:
				out = append(out, ' ')
				continue
			}
			out = append(out, '\r', '\n')
		case '\n':
			out = append(out, '\r', '\n')
		default:
			out = append(out, c)
		}
	}
	return out
}

func (m *Message) appendSegments(segs []segment, unixFrom, dropBcc bool) []segment {
	if !m.headless {
		segs = append(segs, segment{raw: m.headerBlock(unixFrom, dropBcc), header: true})
	}
	return m.appendBody(segs)
}

// headerBlock returns m's header as written: with its mbox "From " line
// when unixFrom is true, without Bcc and Resent-Bcc when dropBcc is true,
// and ending in the blank line that separates it from a body, when one
// follows.
func (m *Message) headerBlock(unixFrom, dropBcc bool) []byte {
	h := &Message{sep: m.sep, eol: m.eol}
	if u := m.unixFrom(); unixFrom && u != nil {
		h.more = &rare{unixFrom: u}
	}
	for _, f := range m.fields {
		if !dropBcc || !(f.is("Bcc") || f.is("Resent-Bcc")) {
			h.fields = append(h.fields, f)
		}
	}
	if h.sep == noEnding && (m.structured() || len(m.body) > 0) {
		h.ensureSep()
	}
	var head bytes.Buffer
	h.writeTo(&head, unixFrom) //nolint:errcheck // bytes.Buffer does not fail
	return head.Bytes()
}

// appendBody appends the segments of m's body.
func (m *Message) appendBody(segs []segment) []segment {
	switch {
	case m.hasData:
		return append(segs, segment{data: m.data, isB64: true})
	case m.mp != nil:
		for i, p := range m.mp.parts {
			segs = append(segs, segment{raw: m.mp.delimiter(i, m.lineEnd())})
			segs = p.appendSegments(segs, true, false)
		}
		return append(segs, segment{raw: m.mp.delimiter(len(m.mp.parts), m.lineEnd())})
	}
	return append(segs, segment{raw: m.body})
}

// delimiter returns the bytes before part i of a multipart, or after its
// last part when i is len(mp.parts): the read ones, or for a built message
// Python's layout (no preamble, no epilogue), with the line ending eol.
func (mp *multipart) delimiter(i int, eol string) []byte {
	if mp.delims != nil {
		return mp.delims[i]
	}
	switch {
	case i == len(mp.parts):
		return []byte(eol + "--" + mp.boundary + "--" + eol)
	case i == 0:
		return []byte("--" + mp.boundary + eol)
	}
	return []byte(eol + "--" + mp.boundary + eol)
}

// checkBoundaries gives each multipart built here a new boundary if the
// text of a part within it holds a line that would read as its delimiter,
// as Python's generator does. Encoded data cannot: base64 and
// quoted-printable never start a line with "=", which the boundary does
// after "--".
func (m *Message) checkBoundaries() {
	if m.mp == nil {
		return
	}
	for _, p := range m.mp.parts {
		p.checkBoundaries()
	}
	if m.mp.delims != nil {
		return
	}
	for m.holds([]byte("--" + m.mp.boundary)) {
		m.mp.boundary = newBoundary()
		ct, _ := parseMediaHeader(m.raw("Content-Type"))
		m.setMediaField("Content-Type", ct, mediaParam{"boundary", m.mp.boundary})
	}
}

// holds reports whether the text of a part under m contains s.
func (m *Message) holds(s []byte) bool {
	if m.mp == nil {
		return !m.hasData && bytes.Contains(m.body, s)
	}
	for _, d := range m.mp.delims {
		if bytes.Contains(d, s) {
			return true
		}
	}
	for _, p := range m.mp.parts {
		if p.holds(s) {
			return true
		}
	}
	return false
}

// treeChanged reports whether a builder method changed m or a part of it.
func (m *Message) treeChanged() bool {
	if m.changed {
		return true
	}
	for _, p := range m.parts() {
		if p.treeChanged() {
			return true
		}
	}
	return false
}

// reencode gives each part under m that was read from elsewhere and whose
// body has 8-bit bytes a 7-bit transfer encoding, as Python's
// BytesGenerator does under cte_type="7bit" for a text part with a
// charset: quoted-printable for the charsets Python's email.charset
// encodes that way (the ISO 8859 Latin ones, windows-1252, viscii),
// base64 for the others. Unlike Python, which leaves them 8-bit, a part
// with no charset or that is not text gets base64 too. A us-ascii or
// ISO-2022-JP text keeps its bytes, as in Python.
func (m *Message) reencode() {
	if m.mp != nil {
		for _, p := range m.mp.parts {
			p.reencode()
		}
		return
	}
	if m.hasData || m.headless || textutil.IsASCII(m.body) {
		return
	}
	switch strings.ToLower(m.raw("Content-Transfer-Encoding")) {
	case "base64", "quoted-printable":
		return // encoded already: 8-bit bytes in it are junk the decoder skips
	}
	charset := strings.ToLower(m.param("Content-Type", "charset"))
	text := m.contentMaintype() == "text"
	switch {
	case text && (charset == "us-ascii" || charset == "ascii" || strings.HasPrefix(charset, "iso-2022-jp")):
	case text && qpCharsets[charset]:
		m.Set("Content-Transfer-Encoding", "quoted-printable")
		m.body = qpEncode(m.body, qpLineLen, m.lineEnd())
	default:
		m.Set("Content-Transfer-Encoding", "base64")
		m.data, m.hasData, m.body = m.body, true, nil
	}
	m.ensureSep()
}

// qpCharsets are the charsets whose text Python's email.charset encodes as
// quoted-printable, with their aliases.
var qpCharsets = map[string]bool{
	"iso-8859-1": true, "iso-8859-2": true, "iso-8859-3": true, "iso-8859-4": true, "iso-8859-9": true,
	"iso-8859-10": true, "iso-8859-13": true, "iso-8859-14": true, "iso-8859-15": true, "iso-8859-16": true,
	"windows-1252": true, "viscii": true,
	"latin-1": true, "latin_1": true, "latin-2": true, "latin_2": true, "latin-3": true, "latin_3": true,
	"latin-4": true, "latin_4": true, "latin-5": true, "latin_5": true, "latin-6": true, "latin_6": true,
	"latin-7": true, "latin_7": true, "latin-8": true, "latin_8": true, "latin-9": true, "latin_9": true,
	"latin-10": true, "latin_10": true,
}

// writeSegments writes segs to w, encoding data as it goes.
func writeSegments(w io.Writer, segs []segment) (int64, error) {
	var n int64
	for _, s := range segs {
		var k int64
		var err error
		if s.isB64 {
			k, err = writeBase64Lines(w, s.data)
		} else if len(s.raw) > 0 {
			var ki int
			ki, err = w.Write(s.raw)
			k = int64(ki)
		}
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// segReader reads segments, encoding data as it is read, and knows how
// many bytes are left.
type segReader struct {
	segs    []segment
	pending []byte // encoded bytes not yet read
	line    []byte // room for one base64 line, for a short read
	left    int64
}

func newSegReader(segs []segment) *segReader {
	r := &segReader{segs: segs}
	for _, s := range segs {
		r.left += s.len()
	}
	return r
}

// Read reads the segments into p, base64-encoding data a line at a time.
func (r *segReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(r.pending) > 0 {
			k := copy(p[n:], r.pending)
			r.pending = r.pending[k:]
			n += k
			continue
		}
		if len(r.segs) == 0 {
			break
		}
		s := &r.segs[0]
		switch {
		case !s.isB64 && len(s.raw) > 0:
			k := copy(p[n:], s.raw)
			s.raw = s.raw[k:]
			n += k
		case s.isB64 && len(s.data) > 0:
			if lines := (len(p) - n) / b64LineLen; lines > 0 {
				// Whole lines go straight into p.
				out, used := appendBase64Lines(p[n:n], s.data, lines)
				n += len(out)
				s.data = s.data[used:]
			} else {
				var used int
				r.line, used = appendBase64Lines(r.line[:0], s.data, 1)
				s.data = s.data[used:]
				r.pending = r.line
			}
		default:
			r.segs = r.segs[1:]
		}
	}
	r.left -= int64(n)
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

// Len returns the number of bytes not yet read.
func (r *segReader) Len() int { return int(r.left) }

// Reader returns a reader of the message as it is sent, and the size of
// what it reads as it goes on the wire. The reader gives the message as
// [Message.WriteTo] writes it, without its mbox "From " line, and when
// dropBcc is true without its Bcc and Resent-Bcc fields (which Python's
// send_message leaves out). Only the header is copied: the body is read
// where it lies, and the data of built attachments is base64-encoded as it
// is read, so that a message of any size is sent in constant memory. The
// message must not change until the reader is done.
//
// size is the number of bytes read once every lone CR and lone LF is made
// CRLF, the form SMTP carries (RFC 5321 section 2.3.8), which a client
// declares with SIZE (RFC 1870). For a nil m the reader is empty.
func (m *Message) Reader(dropBcc bool) (r io.Reader, size int64) {
	if m == nil {
		return bytes.NewReader(nil), 0
	}
	if m.structured() {
		segs := m.segments(false, dropBcc)
		var raws [][]byte
		for _, s := range segs {
			if s.isB64 {
				size += s.len() // base64 lines end in CRLF already
			} else {
				raws = append(raws, s.raw)
			}
		}
		return newSegReader(segs), size + crlfLen(raws...)
	}
	head := m.headerBlock(false, dropBcc)
	return newSegReader([]segment{{raw: head, header: true}, {raw: m.body}}), crlfLen(head, m.body)
}

// crlfLen is the length of the parts, one after the other, once every
// lone CR and lone LF is made a CRLF.
func crlfLen(parts ...[]byte) int64 {
	var n int64
	cr := false
	for _, p := range parts {
		n += int64(len(p))
		if !cr && textutil.CleanCRLF(p) {
			continue // nothing to add, and p does not end in a CR
		}
		for _, c := range p {
			if c == '\n' && !cr || cr && c != '\n' {
				n++ // a lone LF gains its CR; a lone CR its LF
			}
			cr = c == '\r'
		}
	}
	if cr {
		n++
	}
	return n
}
