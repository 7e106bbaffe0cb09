//go:build smtplib_builder

// This file builds multipart messages with the library's builder (issue
// 15). It is behind a build constraint until the builder is on main;
// then the constraint goes, and so does compose_parts.go.

package main

import "github.com/gosmtplib/smtplib"

// buildMultipart builds a message with Python's structure: text and html
// make multipart/alternative, attachments make multipart/mixed around the
// rest (smtplib's builder does the structure and the encodings).
func buildMultipart(from string, to []string, subject, text, html string, atts []attachment) (*smtplib.Message, error) {
	m := smtplib.NewMessage(from, to, subject, "")
	var err error
	switch {
	case html == "":
		err = m.SetContent(text, "plain")
	case text == "":
		err = m.SetContent(html, "html")
	default:
		if err = m.SetContent(text, "plain"); err == nil {
			err = m.AddAlternative(html, "html")
		}
	}
	if err != nil {
		return nil, err
	}
	for _, a := range atts {
		if err := m.AddAttachment(a.data, a.maintype, a.subtype, a.filename); err != nil {
			return nil, err
		}
	}
	return m, nil
}
