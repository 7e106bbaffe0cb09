package smtplib_test

import (
	"bytes"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/gosmtplib/smtplib"
	"github.com/gosmtplib/smtplib/smtptest"
)

// This example builds what Python's EmailMessage builds for the same calls:
// a plain text with an HTML alternative, an image the HTML shows, and an
// attachment with a non-ASCII name. Each call puts the right multipart
// around what is there.
func ExampleMessage_AddAttachment() {
	msg := smtplib.NewMessage("Jörg <joerg@example.de>", []string{"bob@example.org"}, "Bericht für März", "")
	for _, err := range []error{
		msg.SetContent("The report is attached.\n", ""),
		msg.AddAlternative(`<p>The report is attached.</p><img src="cid:logo@example.de">`, "html"),
		msg.AddRelated([]byte("\x89PNG\r\n\x1a\n"), "image", "png", "<logo@example.de>"),
		msg.AddAttachment([]byte("%PDF-1.4\n"), "application", "pdf", "Bericht März.pdf"),
	} {
		if err != nil {
			log.Fatal(err)
		}
	}

	var show func(m *smtplib.Message, depth int)
	show = func(m *smtplib.Message, depth int) {
		fmt.Println(strings.TrimRight(strings.Repeat("  ", depth)+m.GetContentType()+" "+m.Get("Content-Disposition"), " "))
		for _, p := range m.IterParts() {
			show(p, depth+1)
		}
	}
	show(msg, 0)
	fmt.Println(msg.Get("Subject"))
	// Output:
	// multipart/mixed
	//   multipart/alternative
	//     text/plain
	//     multipart/related
	//       text/html
	//       image/png inline
	//   application/pdf attachment; filename*=utf-8''Bericht%20M%C3%A4rz.pdf
	// =?utf-8?q?Bericht_f=C3=BCr_M=C3=A4rz?=
}

// This example is a test of code that mails a report: it sends through a
// fake server, then reads the message the server received as Python's
// get_body and iter_attachments would.
func ExampleMessage_IterAttachments() {
	srv, err := smtptest.New()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	// The code under test.
	msg := smtplib.NewMessage("reports@example.com", []string{"boss@example.org"}, "Figures", "See the attachments.\n")
	if err := msg.AddAttachment([]byte("month,total\nMarch,1234\n"), "text", "csv", "figures.csv"); err != nil {
		log.Fatal(err)
	}
	if err := msg.AddAttachment([]byte{0x50, 0x4b, 0x03, 0x04}, "application", "zip", "Übersicht.zip"); err != nil {
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

	// The test's checks.
	got, err := smtplib.ReadMessage(bytes.NewReader(srv.Messages()[0].Data))
	if err != nil {
		log.Fatal(err)
	}
	body, _ := got.GetBody("plain").GetContent()
	fmt.Printf("body: %q\n", body)
	for _, a := range got.IterAttachments() {
		data, _ := a.GetContent()
		fmt.Printf("%s %s %q\n", a.GetFilename(), a.GetContentType(), data)
	}
	// Output:
	// body: "See the attachments.\r\n"
	// figures.csv text/csv "month,total\nMarch,1234\n"
	// Übersicht.zip application/zip "PK\x03\x04"
}

func ExampleMessage_GetBody() {
	msg, err := smtplib.ReadMessage(strings.NewReader("Content-Type: multipart/alternative; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nHello.\r\n" +
		"--b\r\nContent-Type: text/html; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>Gr=FC=DFe</p>\r\n" +
		"--b--\r\n"))
	if err != nil {
		log.Fatal(err)
	}
	html, _ := msg.GetBody().GetContent() // HTML is preferred to plain text
	plain, _ := msg.GetBody("plain").GetContent()
	fmt.Printf("%q\n%q\n", html, plain)
	// Output:
	// "<p>Grüße</p>"
	// "Hello."
}

func ExampleMakeMsgid() {
	msg := smtplib.NewMessage("alice@example.com", []string{"bob@example.org"}, "Hi", "Hi.\n")
	id := smtplib.MakeMsgid("newsletter", "example.com")
	msg.Set("Message-ID", id)
	fmt.Println(strings.HasPrefix(id, "<"), strings.HasSuffix(id, ".newsletter@example.com>"))
	// Output: true true
}

func ExampleFormatDatetime() {
	t := time.Date(2026, time.March, 5, 9, 30, 0, 0, time.FixedZone("CET", 3600))
	fmt.Println(smtplib.FormatDatetime(t))
	// Output: Thu, 05 Mar 2026 09:30:00 +0100
}
