package email

// Tests of parts.go's one pass over a multipart body against the simplest
// reading, which splits each multipart's body with its own boundary,
// outermost first: on random structures, and under the fuzzer.

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadPartsAgreeWithSplit checks the one pass against the simple
// split on many random messages with the structures that make it hard:
// multiparts nested in multiparts with the same boundary or another,
// delimiter lines of an enclosing boundary inside a part, close delimiters
// missing or first, look-alike lines, headers without their empty line or
// that cannot be read, and every kind of line ending at every place.
func TestReadPartsAgreeWithSplit(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 4))
	pick := func(s ...string) string { return s[rng.IntN(len(s))] }
	eol := func() string { return pick("\r\n", "\r\n", "\n", "\r\n", "\n", "\r", "") }
	boundaries := []string{"a", "b", "c", "b ", "a--"}
	var gen func(sb *strings.Builder, depth int)
	gen = func(sb *strings.Builder, depth int) {
		boundary := ""
		if rng.IntN(4) > 0 {
			boundary = boundaries[rng.IntN(len(boundaries))]
			sb.WriteString("Content-Type: multipart/mixed; boundary=\"" + boundary + "\"" + pick("\r\n", "\n"))
		}
		for n := rng.IntN(3); n > 0; n-- {
			switch rng.IntN(6) {
			case 0, 1:
				boundary = boundaries[rng.IntN(len(boundaries))]
				sb.WriteString(pick("Content-Type: multipart/mixed; boundary=\""+boundary+"\"",
					"Content-Type: multipart/digest; boundary=\""+boundary+"\"", "Content-Type: text/plain"))
			case 2:
				sb.WriteString(pick("X: y", " cont", "From x", "not a field", "Y:", "--"+pick(boundaries...)))
			default:
				sb.WriteString("Z: z")
			}
			sb.WriteString(eol())
		}
		if rng.IntN(8) > 0 {
			sb.WriteString(pick("\r\n", "\n"))
		}
		if boundary == "" || depth > 3 || rng.IntN(6) == 0 {
			sb.WriteString(pick("", "text", "--"+pick(boundaries...), "line"+eol()+"--"+pick(boundaries...)+pick("", "--")+eol()))
			return
		}
		sb.WriteString(pick("", "preamble"+eol()))
		for n := rng.IntN(4); n > 0; n-- {
			sb.WriteString("--" + boundary + pick("", "", " ", "--", "x") + eol())
			gen(sb, depth+1)
			sb.WriteString(pick(eol(), "", "\r\n"))
		}
		if rng.IntN(4) > 0 {
			sb.WriteString("--" + boundary + "--" + pick("", " ") + eol())
		}
		sb.WriteString(pick("", "epilogue", "epilogue"+eol()+"--"+pick(boundaries...)+eol()))
	}
	nested := 0
	for i := 0; i < 30000; i++ {
		var sb strings.Builder
		sb.WriteString(pick("", "From x@y Mon\n"))
		gen(&sb, 0)
		data := []byte(sb.String())
		m, err := ReadMessage(bytes.NewReader(data))
		if err != nil {
			continue
		}
		if want, got := topDown(t, data), shapeOf(m); want != got {
			t.Fatalf("%q:\nsplit:\n%s\none pass:\n%s", data, want, got)
		}
		require.Equal(t, string(data), string(m.Bytes()), "written back byte for byte")
		for p := range m.IterParts() {
			if p.IsMultipart() {
				nested++
				break
			}
		}
	}
	assert.Greater(t, nested, 1000, "enough messages nest a multipart in a multipart")
}

// FuzzReadParts reads any message and takes it apart: the reading methods
// never panic, the parts are those that splitting each multipart with its
// own boundary gives (topDown), the message is still written back byte for
// byte, and once an attachment is added to it, it is written with CRLF
// throughout and the attachment is there when it is read back.
func FuzzReadParts(f *testing.F) {
	f.Add([]byte("Content-Type: multipart/mixed; boundary=b\r\n\r\npre\r\n--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\nepi\r\n"))
	f.Add([]byte("Content-Type: multipart/alternative; boundary=\"a b\"\n\n--a b\n\nplain\n--a b\nContent-Type: text/html; charset=latin-1\n\n\xe9\n--a b--"))
	f.Add([]byte("Content-Type: multipart/related; boundary=r; start=\"<s>\"\r\n\r\n--r\r\nContent-ID: <s>\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\n\r\n--m--\r\n--r--"))
	f.Add([]byte("Content-Type: text/plain; charset*=utf-8''%E2%82%AC\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=E2=82=AC=\r\n"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: multipart/mixed; boundary=b\n\n--b\rX: y\r\n--a\n\n--b\n--a--\n"))
	f.Add([]byte("Content-Type: multipart/digest; boundary=\"b \"\r\n\r\n--b \r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n--b --\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ReadMessage(bytes.NewReader(data))
		if err != nil {
			return
		}
		if want, got := topDown(t, data), shapeOf(m); want != got {
			t.Fatalf("the parts differ from those of the simple split:\n%s\nvs\n%s", want, got)
		}
		before := flatten(m)
		contents := make([][]byte, len(before))
		for i, p := range before {
			contents[i], _ = p.GetContent()
			p.GetFilename()
			attachmentsOf(p)
		}
		m.GetBody()
		if got := m.Bytes(); !bytes.Equal(got, data) {
			t.Fatalf("not written back byte for byte:\n%q\nvs\n%q", got, data)
		}
		if err := m.AddAttachment([]byte("added"), "application", "octet-stream", "added.bin"); err != nil {
			var me *MessageError
			if !errors.As(err, &me) {
				t.Fatalf("%T %v", err, err)
			}
			return
		}
		out := m.Bytes()
		if !bytes.Equal(toCRLF(out, false), out) {
			t.Fatalf("a changed message is not CRLF throughout:\n%q", out)
		}
		back, err := ReadMessage(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("cannot read back: %v", err)
		}
		atts := attachmentsOf(back)
		if len(atts) == 0 {
			t.Fatalf("the attachment is not there:\n%q", m.Bytes())
		}
		last := atts[len(atts)-1]
		if c, err := last.GetContent(); err != nil || string(c) != "added" || last.GetFilename() != "added.bin" {
			t.Fatalf("the last attachment is %q %q (%v)", last.GetFilename(), c, err)
		}
	})
}

// shapeOf describes m's tree for the tests of this file: each message's
// mbox line, header lines, the empty line after them, and its body or its
// parts with the bytes around them.
func shapeOf(m *Message) string {
	var sb strings.Builder
	var walk func(m *Message, depth int)
	walk = func(m *Message, depth int) {
		in := strings.Repeat("  ", depth)
		fmt.Fprintf(&sb, "%sfrom %q headless %v\n", in, m.unixFrom(), m.headless)
		for _, f := range m.fields {
			fmt.Fprintf(&sb, "%sfield %q\n", in, f.raw)
		}
		fmt.Fprintf(&sb, "%ssep %q\n", in, m.sep.bytes())
		if m.mp == nil {
			fmt.Fprintf(&sb, "%sbody %q\n", in, m.body)
			return
		}
		for i, p := range m.mp.parts {
			fmt.Fprintf(&sb, "%sdelim %q\n", in, m.mp.delims[i])
			walk(p, depth+1)
		}
		fmt.Fprintf(&sb, "%send %q\n", in, m.mp.delims[len(m.mp.parts)])
	}
	walk(m, 0)
	return sb.String()
}

// topDown describes, as shapeOf does, the tree that the simplest reading
// gives: each multipart's body split at the delimiter lines of its own
// boundary, outermost first, and each part read as a message, its header
// to the first empty line. ReadMessage's one pass must give the same.
func topDown(t *testing.T, data []byte) string {
	m, err := ReadMessage(bytes.NewReader(data))
	require.NoError(t, err)
	head := m.Clone()
	head.mp, head.body = nil, nil
	var body []byte
	if m.sep != noEnding {
		body = data[len(head.Bytes()):] // the header as written, mbox line included
	}
	var sb strings.Builder
	var walk func(m *Message, body []byte, depth int)
	walk = func(m *Message, body []byte, depth int) {
		in := strings.Repeat("  ", depth)
		fmt.Fprintf(&sb, "%sfrom %q headless %v\n", in, m.unixFrom(), m.headless)
		for _, f := range m.fields {
			fmt.Fprintf(&sb, "%sfield %q\n", in, f.raw)
		}
		fmt.Fprintf(&sb, "%ssep %q\n", in, m.sep.bytes())
		boundary := m.param("Content-Type", "boundary")
		var segs, delims [][]byte
		ok := false
		if m.contentMaintype() == "multipart" && boundary != "" && depth < MaxDepth {
			segs, delims, ok = splitMultipart(body, boundary)
		}
		if !ok {
			fmt.Fprintf(&sb, "%sbody %q\n", in, body)
			return
		}
		for i, seg := range segs {
			fmt.Fprintf(&sb, "%sdelim %q\n", in, delims[i])
			p, pbody := readPartHeader(seg)
			walk(p, pbody, depth+1)
		}
		fmt.Fprintf(&sb, "%send %q\n", in, delims[len(segs)])
	}
	walk(head, body, 0)
	return sb.String()
}

// readPartHeader reads the header of a part as ReadMessage reads one, and
// returns the part and its body; a part whose header cannot be read is all
// body.
func readPartHeader(seg []byte) (*Message, []byte) {
	p := &Message{}
	total := 0
	for lineNo, rest := 1, seg; len(rest) > 0; lineNo++ {
		n := bytes.IndexByte(rest, '\n') + 1
		if n == 0 {
			n = len(rest)
		}
		line := rest[:n]
		rest = rest[n:]
		total += len(line)
		kind, err := classifyLine(line, lineNo, total, len(p.fields) > 0)
		if err != nil {
			return &Message{headless: true}, seg
		}
		switch kind {
		case lineSep:
			p.sep = endingOf(line)
			return p, rest
		case lineCont:
			p.fields[len(p.fields)-1].raw = append(p.fields[len(p.fields)-1].raw, line...)
		case lineField:
			p.fields = append(p.fields, headerField{raw: bytes.Clone(line)})
		case lineUnixFrom:
			p.extra().unixFrom = line
		}
	}
	return p, nil
}

// splitMultipart cuts a multipart body at its delimiter lines, as
// partsReader documents: it returns the parts, the bytes around them (the
// preamble with the first delimiter, each delimiter, and the close
// delimiter with the epilogue), and false when there is no delimiter at
// all or the close delimiter comes first.
func splitMultipart(body []byte, boundary string) (parts, delims [][]byte, ok bool) {
	partStart := -1 // where the current part starts; -1 before the first delimiter
	gapStart := 0   // where the bytes before the current part start
	for pos := 0; pos < len(body); {
		end, next := len(body), len(body)
		if i := bytes.IndexAny(body[pos:], "\r\n"); i >= 0 {
			end, next = pos+i, pos+i+1
			if body[end] == '\r' && next < len(body) && body[next] == '\n' {
				next++
			}
		}
		isDelim, closing := false, false
		if line := body[pos:end]; len(line) >= 2 && line[0] == '-' && line[1] == '-' {
			isDelim, closing = isDelimiter(line, boundary)
		}
		if isDelim {
			if partStart >= 0 {
				partEnd := pos
				if partEnd > partStart { // the line break before the delimiter
					partEnd--
					if body[partEnd] == '\n' && partEnd > partStart && body[partEnd-1] == '\r' {
						partEnd--
					}
				}
				parts = append(parts, body[partStart:partEnd])
				gapStart = partEnd
			} else if closing {
				return nil, nil, false
			}
			if closing {
				return parts, append(delims, body[gapStart:]), true
			}
			delims = append(delims, body[gapStart:next])
			partStart = next
		}
		pos = next
	}
	if partStart < 0 {
		return nil, nil, false
	}
	return append(parts, body[partStart:]), append(delims, body[len(body):]), true
}
