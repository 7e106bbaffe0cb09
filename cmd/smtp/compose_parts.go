//go:build !smtplib_builder

// This file builds multipart messages with mime/multipart until the
// library's builder (issue 15: SetContent, AddAlternative, AddAttachment
// on *smtplib.Message) is on main. compose_builder.go is the same
// function on the builder; when the builder lands, delete this file and
// the build constraint there.

package main

import (
	"bytes"
	"encoding/base64"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/textproto"
	"strings"

	"github.com/gosmtplib/smtplib"
)

// buildMultipart builds a message with Python's structure: text and html
// make multipart/alternative, attachments make multipart/mixed around the
// rest. Every part is 7-bit: text as it is or quoted-printable,
// attachments in base64.
func buildMultipart(from string, to []string, subject, text, html string, atts []attachment) (*smtplib.Message, error) {
	var content part
	switch {
	case html == "":
		content = textPart("plain", text)
	case text == "":
		content = textPart("html", html)
	default:
		content = multipartOf("alternative", textPart("plain", text), textPart("html", html))
	}
	if len(atts) > 0 {
		parts := []part{content}
		for _, a := range atts {
			parts = append(parts, attachmentPart(a))
		}
		content = multipartOf("mixed", parts...)
	}
	m := smtplib.NewMessage(from, to, subject, "")
	m.Del("Content-Transfer-Encoding")
	m.Set("Content-Type", content.header.Get("Content-Type"))
	if cte := content.header.Get("Content-Transfer-Encoding"); cte != "" {
		m.Set("Content-Transfer-Encoding", cte)
	}
	m.SetBody(content.body)
	return m, nil
}

// part is one MIME part: its header fields and its encoded body.
type part struct {
	header textproto.MIMEHeader
	body   []byte
}

// textPart encodes text as a text/subtype part: 7bit when it is ASCII with
// short lines, quoted-printable otherwise.
func textPart(subtype, text string) part {
	h := textproto.MIMEHeader{"Content-Type": {"text/" + subtype + "; charset=utf-8"}}
	crlf := toCRLF(text)
	if is7bit(crlf) {
		h.Set("Content-Transfer-Encoding", "7bit")
		return part{h, crlf}
	}
	h.Set("Content-Transfer-Encoding", "quoted-printable")
	var b bytes.Buffer
	qp := quotedprintable.NewWriter(&b)
	qp.Write(crlf) //nolint:errcheck // bytes.Buffer does not fail
	qp.Close()     //nolint:errcheck // nor does flushing to it
	return part{h, b.Bytes()}
}

// attachmentPart encodes an attachment in base64, in lines of 76.
func attachmentPart(a attachment) part {
	h := textproto.MIMEHeader{
		"Content-Type":              {a.maintype + "/" + a.subtype},
		"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": a.filename})},
		"Content-Transfer-Encoding": {"base64"},
	}
	var b bytes.Buffer
	enc := base64.StdEncoding.EncodeToString(a.data)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n")
	return part{h, b.Bytes()}
}

// multipartOf joins parts into one multipart/subtype part.
func multipartOf(subtype string, parts ...part) part {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, p := range parts {
		pw, _ := w.CreatePart(p.header) // into a bytes.Buffer: cannot fail
		pw.Write(p.body)                //nolint:errcheck // nor can this
	}
	w.Close() //nolint:errcheck // nor this
	ctype := mime.FormatMediaType("multipart/"+subtype, map[string]string{"boundary": w.Boundary()})
	return part{textproto.MIMEHeader{"Content-Type": {ctype}}, b.Bytes()}
}

// is7bit reports whether b is ASCII without NUL and with lines of at
// most 998 bytes, so that it can be sent as it is (RFC 5322 section 2.1.1).
func is7bit(b []byte) bool {
	line := 0
	for _, c := range b {
		switch {
		case c == 0 || c >= 0x80:
			return false
		case c == '\n':
			line = 0
		default:
			if line++; line > 998 {
				return false
			}
		}
	}
	return true
}

// toCRLF gives text CRLF line ends, whatever it had.
func toCRLF(s string) []byte {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return bytes.ReplaceAll([]byte(s), []byte("\n"), []byte("\r\n"))
}
