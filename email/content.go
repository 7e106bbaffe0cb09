package email

import (
	"iter"
	"strings"
)

// This file reads MIME messages as Python's EmailMessage does (is_multipart,
// get_content_type, get_filename, get_content, get_body, iter_attachments,
// iter_parts, walk), whether built here or read with ReadMessage, which
// took the parts apart (parts.go). None of these calls changes m.

// GetContentType returns the content type of m, lower-cased, without
// parameters, as Python's get_content_type does: the Content-Type field's
// type/subtype; without the field, "text/plain" (or "message/rfc822" for a
// part of a multipart/digest); with a value that is not type/subtype,
// "text/plain". It returns "" for a nil m.
func (m *Message) GetContentType() string {
	if m == nil {
		return ""
	}
	if !m.Has("Content-Type") {
		if m.digestPart {
			return "message/rfc822"
		}
		return "text/plain"
	}
	ct, _ := parseMediaHeader(m.raw("Content-Type"))
	maintype, subtype, ok := strings.Cut(ct, "/")
	if !ok || !isToken(maintype) || !isToken(subtype) {
		return "text/plain"
	}
	return ct
}

// contentMaintype is the part of GetContentType before the slash.
func (m *Message) contentMaintype() string {
	mt, _, _ := strings.Cut(m.GetContentType(), "/")
	return mt
}

// param returns the decoded parameter name of the field, or "".
func (m *Message) param(field, name string) string {
	if !m.Has(field) {
		return ""
	}
	_, params := parseMediaHeader(m.raw(field))
	return params[name]
}

// IsMultipart reports whether m is a multipart message with parts, as
// Python's is_multipart does. A read message whose Content-Type is
// multipart but whose body could not be taken apart (no delimiter line,
// nested too deep: see [Message.Defects]) is not: it has no parts.
func (m *Message) IsMultipart() bool {
	return m != nil && m.mp != nil
}

// parts returns the parts of m, nil when it is not multipart.
func (m *Message) parts() []*Message {
	if m.mp == nil {
		return nil
	}
	return m.mp.parts
}

// GetFilename returns the filename parameter of the Content-Disposition
// field, or failing that the name parameter of Content-Type, decoded (RFC
// 2231, or an RFC 2047 encoded-word as some mailers write) and trimmed of
// blanks, as Python's get_filename does; "" when there is none.
func (m *Message) GetFilename() string {
	if m == nil {
		return ""
	}
	name := m.param("Content-Disposition", "filename")
	if name == "" {
		name = m.param("Content-Type", "name")
	}
	return strings.TrimSpace(name)
}

// isAttachment reports whether the Content-Disposition is "attachment"
// (Python's is_attachment).
func (m *Message) isAttachment() bool {
	if !m.Has("Content-Disposition") {
		return false
	}
	d, _ := parseMediaHeader(m.raw("Content-Disposition"))
	return d == "attachment"
}

// GetContent returns the content of a part that is not multipart, with
// its transfer encoding (base64, quoted-printable) undone, as Python's
// get_content does: for text, converted from its charset to UTF-8 (what
// cannot be converted becomes U+FFFD), line endings as the message has
// them (CRLF in a built one); for other types, the bytes. A message/rfc822
// part gives the embedded message's text, which [ReadMessage] reads.
// Decoding is lenient, as Python's is: stray characters in base64 are
// skipped and a "=" that starts no escape in quoted-printable is kept.
//
// It returns a *[MessageError] for a nil or multipart m. The slice may be
// the message's own (the data of a built attachment that is not text): do
// not change it.
func (m *Message) GetContent() ([]byte, error) {
	if m == nil {
		return nil, buildError("GetContent on a nil *Message")
	}
	if m.mp != nil || m.contentMaintype() == "multipart" {
		return nil, buildError("GetContent: a %s message has no content of its own; read its parts (IterParts, GetBody, IterAttachments)", m.GetContentType())
	}
	content := m.data
	if !m.hasData {
		content = decodeTransfer(m.raw("Content-Transfer-Encoding"), m.body)
	}
	if m.contentMaintype() == "text" {
		content = toUTF8(m.param("Content-Type", "charset"), content)
	}
	return content, nil
}

// IterParts returns an iterator over the parts of a multipart m, in
// order, as Python's iter_parts does; it yields nothing for a message that
// is not multipart, or a nil m. The parts are m's own: changing one
// changes m. Parts added to m while the loop runs are not yielded.
func (m *Message) IterParts() iter.Seq[*Message] {
	return func(yield func(*Message) bool) {
		if m == nil {
			return
		}
		for _, p := range m.parts() {
			if !yield(p) {
				return
			}
		}
	}
}

// Walk returns an iterator over m and every part under it, depth first:
// m, then its first part and that part's parts, then its second part, and
// so on, as Python's walk() goes. It yields nothing for a nil m. The
// parts are m's own. Walk keeps its own stack, so no depth of nesting
// makes it recurse.
func (m *Message) Walk() iter.Seq[*Message] {
	return func(yield func(*Message) bool) {
		if m == nil {
			return
		}
		stack := []*Message{m}
		for len(stack) > 0 {
			p := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if !yield(p) {
				return
			}
			parts := p.parts()
			for i := len(parts) - 1; i >= 0; i-- {
				stack = append(stack, parts[i])
			}
		}
	}
}

// GetBody returns the part of m best suited to show as its body, as
// Python's get_body does: a depth-first search for the first part of each
// type in preferencelist, whose entries are "related", "html" and "plain"
// (the default, in that order), returning the part that matches the
// earliest entry. Attachments are skipped; in a multipart/related only the
// root part (named by the start parameter, else the first) is searched.
// It returns nil when no part matches, and m's own part, not a copy.
func (m *Message) GetBody(preferencelist ...string) *Message {
	if m == nil {
		return nil
	}
	if len(preferencelist) == 0 {
		preferencelist = []string{"related", "html", "plain"}
	}
	best, body := len(preferencelist), (*Message)(nil)
	m.findBody(preferencelist, func(prio int, p *Message) bool {
		if prio < best {
			best, body = prio, p
		}
		return prio == 0
	})
	return body
}

// findBody calls found for each candidate part under m, in depth-first
// order, with its rank in preferencelist, until found returns true.
func (m *Message) findBody(preferencelist []string, found func(int, *Message) bool) bool {
	if m.isAttachment() {
		return false
	}
	rank := func(name string) int {
		for i, p := range preferencelist {
			if p == name {
				return i
			}
		}
		return -1
	}
	maintype, subtype, _ := strings.Cut(m.GetContentType(), "/")
	if maintype == "text" {
		if r := rank(subtype); r >= 0 {
			return found(r, m)
		}
		return false
	}
	if maintype != "multipart" || !m.IsMultipart() {
		return false
	}
	if subtype != "related" {
		for _, p := range m.mp.parts {
			if p.findBody(preferencelist, found) {
				return true
			}
		}
		return false
	}
	if r := rank("related"); r >= 0 && found(r, m) {
		return true
	}
	if root := m.relatedRoot(); root != nil {
		return root.findBody(preferencelist, found)
	}
	return false
}

// relatedRoot returns the root part of a multipart/related: the one its
// start parameter names, else the first.
func (m *Message) relatedRoot() *Message {
	parts := m.parts()
	if start := m.param("Content-Type", "start"); start != "" {
		for _, p := range parts {
			if p.raw("Content-ID") == start {
				return p
			}
		}
	}
	if len(parts) > 0 {
		return parts[0]
	}
	return nil
}

// IterAttachments returns an iterator over the parts of m that are not
// its body, as Python's iter_attachments does: in a multipart/related,
// every part but the root; in another multipart (but alternative), every
// part except the first text/plain, text/html, multipart/alternative and
// multipart/related of each kind that is not marked as an attachment. It
// yields nothing for a multipart/alternative and for a message that is not
// multipart. The parts are m's own.
func (m *Message) IterAttachments() iter.Seq[*Message] {
	return func(yield func(*Message) bool) {
		if m == nil {
			return
		}
		ct := m.GetContentType()
		if m.mp == nil || !strings.HasPrefix(ct, "multipart/") || ct == "multipart/alternative" {
			return
		}
		if ct == "multipart/related" {
			root := m.relatedRoot()
			for _, p := range m.mp.parts {
				if p != root && !yield(p) {
					return
				}
			}
			return
		}
		var seen [4]bool // the body types met, by bodyKind
		for _, p := range m.mp.parts {
			if k := bodyKind(p.GetContentType()); k >= 0 && !p.isAttachment() && !seen[k] {
				seen[k] = true
				continue
			}
			if !yield(p) {
				return
			}
		}
	}
}

// bodyKind is the index of one of the four types that IterAttachments
// takes for a body part (Python's _body_types), -1 for any other type.
func bodyKind(ct string) int {
	switch ct {
	case "text/plain":
		return 0
	case "text/html":
		return 1
	case "multipart/alternative":
		return 2
	case "multipart/related":
		return 3
	}
	return -1
}
