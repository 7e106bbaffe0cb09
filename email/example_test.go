package email_test

import (
	"bytes"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/gosmtplib/smtplib/email"
)

// This example builds what Python's EmailMessage builds for the same calls:
// a plain text with an HTML alternative, an image the HTML shows, and an
// attachment with a non-ASCII name. Each call puts the right multipart
// around what is there; Walk goes through the tree depth first.
func ExampleMessage_AddAttachment() {
	msg := email.NewMessage("Jörg <joerg@example.de>", []string{"bob@example.org"}, "Bericht für März", "")
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

	for part := range msg.Walk() {
		fmt.Println(strings.TrimSpace(part.GetContentType() + " " + part.Header().Get("Content-Disposition")))
	}
	fmt.Println(msg.Get("Subject"))
	fmt.Println(msg.Header().Get("Subject"))
	// Output:
	// multipart/mixed
	// multipart/alternative
	// text/plain
	// multipart/related
	// text/html
	// image/png inline
	// application/pdf attachment; filename*=utf-8''Bericht%20M%C3%A4rz.pdf
	// Bericht für März
	// =?utf-8?q?Bericht_f=C3=BCr_M=C3=A4rz?=
}

// This example is a test of code that mails a report: it builds the
// message as the code under test would, then reads the bytes that would be
// sent as Python's get_body and iter_attachments would.
func ExampleMessage_IterAttachments() {
	// The code under test.
	msg := email.NewMessage("reports@example.com", []string{"boss@example.org"}, "Figures", "See the attachments.\n")
	if err := msg.AddAttachment([]byte("month,total\nMarch,1234\n"), "text", "csv", "figures.csv"); err != nil {
		log.Fatal(err)
	}
	if err := msg.AddAttachment([]byte{0x50, 0x4b, 0x03, 0x04}, "application", "zip", "Übersicht.zip"); err != nil {
		log.Fatal(err)
	}
	var sent bytes.Buffer
	if _, err := msg.WriteTo(&sent); err != nil {
		log.Fatal(err)
	}

	// The test's checks.
	got, err := email.ReadMessage(&sent)
	if err != nil {
		log.Fatal(err)
	}
	body, _ := got.GetBody("plain").GetContent()
	fmt.Printf("body: %q\n", body)
	for a := range got.IterAttachments() {
		data, _ := a.GetContent()
		fmt.Printf("%s %s %q\n", a.GetFilename(), a.GetContentType(), data)
	}
	// Output:
	// body: "See the attachments.\r\n"
	// figures.csv text/csv "month,total\nMarch,1234\n"
	// Übersicht.zip application/zip "PK\x03\x04"
}

// This example reads a message another program wrote: the header values
// decoded, the body Python's get_body would show, and every part in
// order.
func ExampleReadMessage() {
	msg, err := email.ReadMessage(strings.NewReader("From: =?utf-8?q?J=C3=B6rg?= <joerg@example.de>\r\n" +
		"Subject: Rechnung =?utf-8?q?f=C3=BCr?= Dezember\r\n" +
		"Content-Type: multipart/alternative; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain\r\n\r\nHello.\r\n" +
		"--b\r\nContent-Type: text/html; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>Gr=FC=DFe</p>\r\n" +
		"--b--\r\n"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(msg.Get("From"))
	fmt.Println(msg.Get("Subject"))
	html, _ := msg.GetBody().GetContent() // HTML is preferred to plain text
	plain, _ := msg.GetBody("plain").GetContent()
	fmt.Printf("%q\n%q\n", html, plain)
	for part := range msg.Walk() {
		fmt.Println(part.GetContentType())
	}
	// Output:
	// Jörg <joerg@example.de>
	// Rechnung für Dezember
	// "<p>Grüße</p>"
	// "Hello."
	// multipart/alternative
	// text/plain
	// text/html
}

// This example walks a received message, as Python's walk() does: the
// message, then each part and the parts under it, depth first, here to
// list every file it carries.
func ExampleMessage_Walk() {
	msg, err := email.ReadMessage(strings.NewReader("Content-Type: multipart/mixed; boundary=out\r\n\r\n" +
		"--out\r\nContent-Type: multipart/alternative; boundary=in\r\n\r\n" +
		"--in\r\nContent-Type: text/plain\r\n\r\nHi.\r\n" +
		"--in\r\nContent-Type: text/html\r\n\r\n<p>Hi.</p>\r\n--in--\r\n" +
		"--out\r\nContent-Type: text/csv\r\nContent-Disposition: attachment; filename=a.csv\r\n\r\nx,y\r\n" +
		"--out\r\nContent-Type: image/png; name=\"b.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw==\r\n" +
		"--out--\r\n"))
	if err != nil {
		log.Fatal(err)
	}
	for part := range msg.Walk() {
		if name := part.GetFilename(); name != "" {
			data, _ := part.GetContent()
			fmt.Printf("%s (%s): %d bytes\n", name, part.GetContentType(), len(data))
			continue
		}
		fmt.Println(part.GetContentType())
	}
	// Output:
	// multipart/mixed
	// multipart/alternative
	// text/plain
	// text/html
	// a.csv (text/csv): 3 bytes
	// b.png (image/png): 4 bytes
}

func ExampleMakeMsgid() {
	msg := email.NewMessage("alice@example.com", []string{"bob@example.org"}, "Hi", "Hi.\n")
	id := email.MakeMsgid("newsletter", "example.com")
	msg.Set("Message-ID", id)
	fmt.Println(strings.HasPrefix(id, "<"), strings.HasSuffix(id, ".newsletter@example.com>"))
	// Output: true true
}

func ExampleFormatDatetime() {
	t := time.Date(2026, time.March, 5, 9, 30, 0, 0, time.FixedZone("CET", 3600))
	fmt.Println(email.FormatDatetime(t))
	// Output: Thu, 05 Mar 2026 09:30:00 +0100
}

// This example builds a message with non-ASCII text: the subject and the
// display name become encoded-words and the body quoted-printable, so the
// message is ASCII throughout. Header gives the fields as they are sent,
// Get as they read.
func ExampleNewMessage() {
	msg := email.NewMessage("Jörg <joerg@example.de>", []string{"bob@example.org"},
		"Grüße", "Bis bald,\nJörg\n")

	h := msg.Header()
	for _, name := range msg.Fields() {
		switch name {
		case "Date", "Message-ID":
			fmt.Printf("%s: (varies)\n", name)
		default:
			fmt.Printf("%s: %s\n", name, h.Get(name))
		}
	}
	fmt.Println()
	fmt.Print(strings.ReplaceAll(string(msg.Body()), "\r\n", "\n"))
	fmt.Println()
	fmt.Println(msg.Get("From"), "/", msg.Get("Subject"))
	// Output:
	// From: =?utf-8?q?J=C3=B6rg?= <joerg@example.de>
	// To: bob@example.org
	// Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=
	// Date: (varies)
	// Message-ID: (varies)
	// MIME-Version: 1.0
	// Content-Type: text/plain; charset=utf-8
	// Content-Transfer-Encoding: quoted-printable
	//
	// Bis bald,
	// J=C3=B6rg
	//
	// Jörg <joerg@example.de> / Grüße
}
