package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/textproto"
	"strings"
)

// Bounds on what summarize reads of a message, so that a hostile or
// broken one costs little: nesting of multiparts, and parts in all.
const (
	maxPartDepth = 8
	maxParts     = 200
)

// headerField is one field of a message's header, unfolded, in order.
type headerField struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// partInfo describes one MIME part: a leaf, or a multipart container.
type partInfo struct {
	Depth       int    `json:"depth"` // 0 for the message itself
	ContentType string `json:"content_type"`
	Encoding    string `json:"encoding,omitempty"`
	Filename    string `json:"filename,omitempty"`
	Size        int64  `json:"size"` // the body as sent, still encoded
}

// summary is what serve prints of a message besides its envelope.
type summary struct {
	Header []headerField
	Parts  []partInfo
	// Err says why the message could not be read whole; Header and Parts
	// hold what was read before. With no Header at all the message is
	// not a message, and is printed raw.
	Err string
}

// summarize reads the header fields of data in order and walks its MIME
// tree. It never fails: what it cannot read is said in Err.
func summarize(data []byte) summary {
	var s summary
	header, body, err := splitHeader(data)
	s.Header = header
	if err != nil {
		s.Err = err.Error()
		return s
	}
	h := textproto.MIMEHeader{}
	for _, f := range header {
		h.Add(f.Name, f.Value)
	}
	if err := s.walk(h, bytes.NewReader(body), 0); err != nil {
		s.Err = err.Error()
	}
	return s
}

// splitHeader returns the header fields of data, unfolded, and the body
// after the blank line. A message without a body (no blank line) is all
// header; a line that is neither a field nor a continuation is an error.
func splitHeader(data []byte) ([]headerField, []byte, error) {
	var fields []headerField
	rest := data
	for len(rest) > 0 {
		line, after, found := bytes.Cut(rest, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		if !found {
			after = nil
		}
		switch {
		case len(line) == 0:
			return fields, after, nil
		case line[0] == ' ' || line[0] == '\t':
			if len(fields) == 0 {
				return nil, nil, errors.New("the message starts with a continuation line")
			}
			// RFC 5322 section 2.2.3: unfolding removes the line break.
			fields[len(fields)-1].Value += string(line)
		default:
			name, value, ok := bytes.Cut(line, []byte(":"))
			if !ok || len(name) == 0 || bytes.ContainsAny(name, " \t") {
				return fields, nil, fmt.Errorf("header line %d is not a field: %q", len(fields)+1, truncate(string(line), 60))
			}
			fields = append(fields, headerField{Name: string(name), Value: string(bytes.TrimLeft(value, " \t"))})
		}
		rest = after
	}
	return fields, nil, nil
}

// walk adds the part with header h and body r, and its parts if it is a
// multipart, to s.Parts.
func (s *summary) walk(h textproto.MIMEHeader, r io.Reader, depth int) error {
	if len(s.Parts) >= maxParts {
		return fmt.Errorf("more than %d parts: the rest is not shown", maxParts)
	}
	ctype := h.Get("Content-Type")
	mediatype, params, err := mime.ParseMediaType(ctype)
	if ctype == "" || err != nil {
		mediatype, params = "text/plain", nil // RFC 2045 section 5.2's default
	}
	p := partInfo{
		Depth:       depth,
		ContentType: mediatype,
		Encoding:    strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))),
		Filename:    filename(h, params),
	}
	if cs := params["charset"]; cs != "" {
		p.ContentType += "; charset=" + strings.ToLower(cs)
	}
	idx := len(s.Parts)
	s.Parts = append(s.Parts, p)
	cr := &countReader{r: r}
	var walkErr error
	if boundary := params["boundary"]; strings.HasPrefix(mediatype, "multipart/") && boundary != "" {
		if depth >= maxPartDepth {
			walkErr = fmt.Errorf("multiparts nested deeper than %d: the rest is not shown", maxPartDepth)
		} else {
			walkErr = s.walkMultipart(cr, boundary, depth)
		}
	}
	io.Copy(io.Discard, cr) //nolint:errcheck // a bytes.Reader underneath: counting only
	s.Parts[idx].Size = cr.n
	return walkErr
}

// walkMultipart walks the parts of a multipart body.
func (s *summary) walkMultipart(r io.Reader, boundary string, depth int) error {
	mr := multipart.NewReader(r, boundary)
	for {
		// NextRawPart leaves quoted-printable alone: sizes are as sent.
		part, err := mr.NextRawPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err // "multipart: ..." already
		}
		if err := s.walk(part.Header, part, depth+1); err != nil {
			return err
		}
	}
}

// filename returns a part's file name: Content-Disposition's filename
// parameter, or else Content-Type's old name parameter, RFC 2231 and
// RFC 2047 encodings decoded.
func filename(h textproto.MIMEHeader, ctypeParams map[string]string) string {
	name := ""
	if _, params, err := mime.ParseMediaType(h.Get("Content-Disposition")); err == nil {
		name = params["filename"]
	}
	if name == "" {
		name = ctypeParams["name"]
	}
	return decodeWords(name)
}

// decodeWords decodes RFC 2047 encoded words, leaving text it cannot
// decode as it is.
func decodeWords(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	if d, err := new(mime.WordDecoder).DecodeHeader(s); err == nil {
		return d
	}
	return s
}

// subject returns the decoded Subject of a header, "" if none.
func subject(header []headerField) string {
	for _, f := range header {
		if strings.EqualFold(f.Name, "Subject") {
			return decodeWords(f.Value)
		}
	}
	return ""
}

// addresses returns the addresses of an address field, decoded, for the
// summary; the field as it is when it does not parse.
func addresses(value string) string {
	list, err := mail.ParseAddressList(value)
	if err != nil {
		return decodeWords(value)
	}
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = a.Address
		if a.Name != "" {
			out[i] = a.Name + " <" + a.Address + ">"
		}
	}
	return strings.Join(out, ", ")
}

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// truncate shortens s to at most n runes, marking the cut with "...".
func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "..."
}
