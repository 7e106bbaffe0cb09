package main

import (
	"github.com/gosmtplib/smtplib/email"
)

// buildMultipart builds a message with the library's builder, which gives
// it Python's structure (text and html make multipart/alternative,
// attachments multipart/mixed around the rest) and 7-bit encodings.
func buildMultipart(from string, to []string, subject, text, html string, atts []attachment) (*email.Message, error) {
	m := email.NewMessage(from, to, subject, "")
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
