package email

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/gosmtplib/smtplib/internal/textutil"
)

// This file builds MIME messages as Python's email.message.EmailMessage
// does (its set_content, add_alternative, add_related, add_attachment and
// the make_* methods behind them), so that the same calls in the same order
// give the same tree: text alone is one part; an alternative makes
// multipart/alternative; an inline part makes multipart/related; an
// attachment puts multipart/mixed around the rest.

// buildError is the error of a builder method: what was asked, and why it
// cannot be done.
func buildError(format string, args ...any) error {
	return &MessageError{Reason: fmt.Sprintf(format, args...)}
}

// maxCIDLength keeps "Content-ID: <cid>" within the 998 bytes of a line.
const maxCIDLength = maxLineLength - len("Content-ID: <>")

// newPart returns an empty part of a message being built.
func newPart() *Message {
	return &Message{sep: endCRLF, isPart: true}
}

// SetContent makes text the content of m, as Python's set_content(text,
// subtype=subtype) does: Content-Type text/subtype with charset utf-8
// ("" means "plain"), and the transfer encoding Python chooses under a
// 7-bit policy: "7bit" when the text is ASCII with no line over 78 bytes,
// else quoted-printable or base64, whichever is shorter on the first ten
// lines. Line endings become CRLF and the text gets a final one. Every
// Content- field m had is removed first, and a message (not a part) gets
// MIME-Version: 1.0 if it has none.
//
// It returns a *[MessageError] when m is nil or multipart, or when subtype
// is not a MIME token (a CR or LF can never reach the header).
func (m *Message) SetContent(text, subtype string) error {
	if m == nil {
		return buildError("SetContent on a nil *Message")
	}
	if subtype == "" {
		subtype = "plain"
	}
	if err := checkType("SetContent", "text", subtype); err != nil {
		return err
	}
	if m.contentMaintype() == "multipart" {
		return buildError("SetContent is not valid on a %s message: add parts to it, or set the content of one of its parts", m.GetContentType())
	}
	m.clearContent()
	m.changed = true
	cte, encoded := encodeText([]byte(text))
	m.setMediaField("Content-Type", "text/"+subtype, mediaParam{"charset", "utf-8"})
	m.Add("Content-Transfer-Encoding", cte)
	m.body = encoded
	m.ensureSep()
	if !m.isPart && !m.Has("MIME-Version") {
		m.Add("MIME-Version", "1.0")
	}
	return nil
}

// AddAlternative adds text as another form of the content of m (Python's
// add_alternative(text, subtype=subtype); "" means "plain", as in Python,
// so an HTML version needs "html"). m becomes multipart/alternative if it
// is not already, its content moving into the first part, and the text
// becomes the last part, encoded as [Message.SetContent] encodes it.
//
// On a multipart/mixed message (one with attachments), where Python raises
// ValueError, it adds the alternative to the message's body part (its first
// part, when that is text, multipart/alternative or multipart/related and
// not an attachment), which is what Python's documentation does by hand;
// without such a part it returns a *[MessageError]. It also returns one for
// a nil m or a subtype that is not a MIME token.
func (m *Message) AddAlternative(text, subtype string) error {
	if m == nil {
		return buildError("AddAlternative on a nil *Message")
	}
	if subtype == "" {
		subtype = "plain"
	}
	if err := checkType("AddAlternative", "text", subtype); err != nil {
		return err
	}
	if m.GetContentType() == "multipart/mixed" {
		body := m.bodyPart("text/", "multipart/alternative", "multipart/related")
		if body == nil {
			return buildError("cannot convert multipart/mixed to multipart/alternative: the message has no body part to add the alternative to")
		}
		return body.AddAlternative(text, subtype)
	}
	part := newPart()
	if err := part.SetContent(text, subtype); err != nil {
		return err
	}
	return m.addMultipart("alternative", []string{"mixed"}, part)
}

// AddRelated adds data as a part that the content of m refers to, such as
// an image an HTML text shows (Python's add_related(data, maintype,
// subtype, cid=cid)). m becomes multipart/related if it is not already, its
// content moving into the first part; the new part is base64-encoded, with
// Content-Disposition: inline and, when cid is not empty, Content-ID: cid
// (angle brackets are added when cid has none; the HTML refers to the part
// as "cid:" and cid without them, RFC 2392).
//
// Python raises ValueError for add_related on multipart/alternative or
// multipart/mixed; AddRelated builds instead the structure Python's
// documentation builds by hand: on multipart/alternative it adds the part
// to the last HTML alternative (making that multipart/related), and on
// multipart/mixed to the message's body part, as AddAlternative does.
// Where there is no such part, it returns a *[MessageError].
//
// data is kept, not copied, and encoded only when the message is written:
// it must not change until then. A maintype of multipart or message, a
// type or subtype that is not a MIME token of at most 127 characters, a
// CR, LF or NUL in cid, a cid that is not ASCII, or one too long for a
// header line (over 984 bytes) is refused with a *[MessageError].
func (m *Message) AddRelated(data []byte, maintype, subtype, cid string) error {
	if m == nil {
		return buildError("AddRelated on a nil *Message")
	}
	part, err := dataPart("AddRelated", data, maintype, subtype)
	if err != nil {
		return err
	}
	if cid != "" {
		if strings.ContainsAny(cid, "\r\n\x00") {
			return buildError("AddRelated: the content ID %q contains a line break or NUL", cid)
		}
		if !textutil.IsASCII(cid) {
			return buildError("AddRelated: the content ID %q is not ASCII; an HTML cid: URL could not name it (RFC 2392)", cid)
		}
		if len(cid) > maxCIDLength {
			return buildError("AddRelated: the content ID is %d bytes long; at most %d fit on a header line", len(cid), maxCIDLength)
		}
		if !strings.HasPrefix(cid, "<") || !strings.HasSuffix(cid, ">") {
			cid = "<" + cid + ">"
		}
		part.Add("Content-ID", cid)
	}
	part.Add("Content-Disposition", "inline")
	return m.addRelatedPart(part)
}

// addRelatedPart finds where a related part goes, as AddRelated explains.
func (m *Message) addRelatedPart(part *Message) error {
	switch m.GetContentType() {
	case "multipart/alternative":
		for i := len(m.mp.parts) - 1; i >= 0; i-- {
			if p := m.mp.parts[i]; !p.isAttachment() && (p.GetContentType() == "text/html" || p.GetContentType() == "multipart/related") {
				return p.addRelatedPart(part)
			}
		}
		return buildError("cannot convert multipart/alternative to multipart/related: it has no HTML part to relate to")
	case "multipart/mixed":
		body := m.bodyPart("text/", "multipart/alternative", "multipart/related")
		if body == nil {
			return buildError("cannot convert multipart/mixed to multipart/related: the message has no body part to relate to")
		}
		return body.addRelatedPart(part)
	}
	return m.addMultipart("related", []string{"alternative", "mixed"}, part)
}

// AddAttachment attaches data to m (Python's add_attachment(data,
// maintype, subtype, filename=filename)): m becomes multipart/mixed if it
// is not already, its content moving into the first part, and the new part
// is base64-encoded with Content-Disposition: attachment and, when filename
// is not empty, its filename parameter, in RFC 2231 form where the name is
// not ASCII or is too long for one line.
//
// data is kept, not copied, and encoded only when the message is written,
// a piece at a time, so that a large attachment is never held twice: it
// must not change until then. A maintype of multipart or message, a type
// or subtype that is not a MIME token of at most 127 characters, or a CR,
// LF or NUL in filename is refused with a *[MessageError], and m is left
// as it was.
func (m *Message) AddAttachment(data []byte, maintype, subtype, filename string) error {
	if m == nil {
		return buildError("AddAttachment on a nil *Message")
	}
	part, err := dataPart("AddAttachment", data, maintype, subtype)
	if err != nil {
		return err
	}
	if strings.ContainsAny(filename, "\r\n\x00") {
		return buildError("AddAttachment: the filename %q contains a line break or NUL", filename)
	}
	var params []mediaParam
	if filename != "" {
		params = append(params, mediaParam{"filename", filename})
	}
	part.setMediaField("Content-Disposition", "attachment", params...)
	return m.addMultipart("mixed", nil, part)
}

// dataPart builds the part of AddAttachment or AddRelated: its type, base64
// and the data, unencoded until written.
func dataPart(op string, data []byte, maintype, subtype string) (*Message, error) {
	if err := checkType(op, maintype, subtype); err != nil {
		return nil, err
	}
	if mt := strings.ToLower(maintype); mt == "multipart" || mt == "message" {
		return nil, buildError("%s: a %s/%s part cannot be built from bytes; its structure would be lost", op, maintype, subtype)
	}
	part := newPart()
	part.Add("Content-Type", maintype+"/"+subtype)
	part.Add("Content-Transfer-Encoding", "base64")
	part.data, part.hasData = data, true
	return part, nil
}

// checkType refuses a type or subtype that is not a MIME token, which also
// keeps CR and LF out of the header, or that is longer than the 127
// characters RFC 6838 section 4.2 allows.
func checkType(op, maintype, subtype string) error {
	if !isToken(maintype) || !isToken(subtype) || len(maintype) > 127 || len(subtype) > 127 {
		return buildError("%s: %q is not a valid content type (type/subtype, each a MIME token)", op, maintype+"/"+subtype)
	}
	return nil
}

// addMultipart appends part to m, first turning m into multipart/subtype
// when it is not one, as Python's _add_multipart does.
func (m *Message) addMultipart(subtype string, disallowed []string, part *Message) error {
	if m.GetContentType() != "multipart/"+subtype || m.mp == nil {
		if err := m.makeMultipart(subtype, disallowed); err != nil {
			return err
		}
	}
	mp := m.mp
	mp.parts = append(mp.parts, part)
	m.changed = true
	if mp.delims != nil {
		// A message that was read keeps its own delimiters; the new part
		// gets a new one before the closing delimiter, which a message cut
		// short gets too.
		eol := m.lineEnd()
		n := len(mp.delims)
		last := mp.delims[n-1]
		mp.delims[n-1] = []byte(eol + "--" + mp.boundary + eol)
		if !closesMultipart(last, mp.boundary) {
			last = []byte(eol + "--" + mp.boundary + "--" + eol)
		}
		mp.delims = append(mp.delims, last)
	}
	return nil
}

// closesMultipart reports whether the bytes after a read multipart's last
// part start with its close delimiter.
func closesMultipart(b []byte, boundary string) bool {
	s := strings.TrimLeft(string(b[:min(len(b), len(boundary)+8)]), "\r\n")
	return strings.HasPrefix(s, "--"+boundary+"--")
}

// makeMultipart turns m into an empty multipart/subtype whose first part,
// if m had content, is that content: its Content- fields and body. The
// other fields stay on m. It refuses, as Python does, to turn a multipart
// of a subtype in disallowed (or of subtype itself) into another.
func (m *Message) makeMultipart(subtype string, disallowed []string) error {
	if m.contentMaintype() == "multipart" {
		existing := strings.TrimPrefix(m.GetContentType(), "multipart/")
		if existing == subtype {
			// A read multipart that could not be taken apart.
			return buildError("cannot add a part to this multipart/%s message: its body was not taken apart into parts (see its Defects)", existing)
		}
		for _, d := range append(disallowed, subtype) {
			if existing == d {
				return buildError("cannot convert multipart/%s to multipart/%s", existing, subtype)
			}
		}
	}
	content := newPart()
	var kept []headerField
	for _, f := range m.fields {
		if isContentField(f.name()) {
			content.fields = append(content.fields, f)
		} else {
			kept = append(kept, f)
		}
	}
	// Python drops a body that no Content- field describes; here it
	// becomes the first part (text/plain by default), so no text is lost.
	hasContent := len(content.fields) > 0 || len(m.body) > 0 || m.mp != nil || m.hasData
	content.body, content.data, content.hasData, content.mp = m.body, m.data, m.hasData, m.mp
	content.eol = m.eol
	content.sep = endCRLF
	if m.eol == endLF {
		content.sep = endLF
	}
	m.fields = kept
	m.body, m.data, m.hasData = nil, nil, false
	m.mp = &multipart{boundary: newBoundary()}
	if hasContent {
		m.mp.parts = []*Message{content}
	}
	m.setMediaField("Content-Type", "multipart/"+subtype, mediaParam{"boundary", m.mp.boundary})
	m.ensureSep()
	if !m.isPart && !m.Has("MIME-Version") {
		m.Add("MIME-Version", "1.0")
	}
	return nil
}

// bodyPart returns the first part of a multipart m when it is not an
// attachment and its type starts with one of prefixes, else nil.
func (m *Message) bodyPart(prefixes ...string) *Message {
	parts := m.parts()
	if len(parts) == 0 || parts[0].isAttachment() {
		return nil
	}
	ct := parts[0].GetContentType()
	for _, p := range prefixes {
		if strings.HasPrefix(ct, p) {
			return parts[0]
		}
	}
	return nil
}

// isContentField reports whether a field describes the content (RFC 2045
// section 9: the Content- fields), so that it moves with the content.
func isContentField(name []byte) bool {
	return len(name) >= 8 && asciiEqualFold(name[:8], "content-")
}

// clearContent removes the content: the Content- fields and the body or
// parts (Python's clear_content).
func (m *Message) clearContent() {
	m.deleteFields(0, isContentField)
	m.body, m.data, m.hasData, m.mp = nil, nil, false, nil
}

// setMediaField sets a Content-Type or Content-Disposition field: the value
// and its parameters, folded to 78 characters a line.
func (m *Message) setMediaField(name, value string, params ...mediaParam) {
	m.Set(name, formatMediaHeader(len(name)+2, value, params))
}

// ensureSep gives m the empty line that ends a header, which a built
// message always writes.
func (m *Message) ensureSep() {
	if m.sep == noEnding {
		m.sep = endCRLF
		if m.eol == endLF {
			m.sep = endLF
		}
	}
	m.headless = false
}

// newBoundary returns a multipart boundary in Python's style: fifteen "=",
// twenty random digits and "==". A "=" never starts a line of base64 or
// quoted-printable text, so only a 7bit part could hold it, and writing
// checks those (see [Message.WriteTo]).
func newBoundary() string {
	var b [8]byte
	rand.Read(b[:]) //nolint:errcheck // crypto/rand.Read does not fail
	return fmt.Sprintf("===============%020d==", binary.BigEndian.Uint64(b[:]))
}
