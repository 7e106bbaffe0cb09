// Command gomessage builds a MIME message with an attachment using
// github.com/emersion/go-message, reads its bytes with email.ReadMessage
// into an *email.Message and sends that with SendMessage, which takes the
// envelope from its headers and drops the Bcc field. It lives in its own module so that go-message stays
// out of the library's go.mod; run it from this directory with `go run .`.
package main

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"time"

	"github.com/emersion/go-message/mail"
	"github.com/gosmtplib/smtplib"
	"github.com/gosmtplib/smtplib/email"
	"github.com/gosmtplib/smtplib/smtptest"
)

// build writes a multipart/mixed message: a text part and a small
// attachment.
func build() []byte {
	var h mail.Header
	h.SetDate(time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	h.SetAddressList("From", []*mail.Address{{Name: "Alice", Address: "alice@example.com"}})
	h.SetAddressList("To", []*mail.Address{{Name: "Bob", Address: "bob@example.org"}})
	h.SetAddressList("Bcc", []*mail.Address{{Address: "archive@example.com"}})
	h.SetSubject("Report, with attachment")
	h.SetMessageID("report-1@example.com")

	var buf bytes.Buffer
	mw, err := mail.CreateWriter(&buf, h)
	if err != nil {
		log.Fatal(err)
	}
	var th mail.InlineHeader
	th.Set("Content-Type", "text/plain; charset=utf-8")
	tw, err := mw.CreateSingleInline(th)
	if err != nil {
		log.Fatal(err)
	}
	io.WriteString(tw, "The report is attached.\r\n")
	tw.Close()

	var ah mail.AttachmentHeader
	ah.Set("Content-Type", "text/csv")
	ah.SetFilename("report.csv")
	aw, err := mw.CreateAttachment(ah)
	if err != nil {
		log.Fatal(err)
	}
	io.WriteString(aw, "month,total\r\nnovember,42\r\n")
	aw.Close()
	mw.Close()
	return buf.Bytes()
}

func main() {
	srv, err := smtptest.New()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	msg, err := email.ReadMessage(bytes.NewReader(build()))
	if err != nil {
		log.Fatal(err)
	}
	s, err := smtplib.Dial(srv.Host(), srv.Port())
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	if _, err := s.SendMessage(msg); err != nil {
		log.Fatal(err)
	}
	s.Quit()

	m := srv.Messages()[0]
	fmt.Println("from:", m.From)
	fmt.Println("to:", m.To)
	fmt.Println("Bcc sent:", bytes.Contains(m.Data, []byte("Bcc:")))
	fmt.Println("attachment sent:", bytes.Contains(m.Data, []byte(`filename=report.csv`)))
}
