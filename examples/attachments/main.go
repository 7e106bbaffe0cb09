// Command attachments sends what a Python program builds with
// EmailMessage: a message with a plain text, an HTML alternative that shows
// an inline image, and a PDF attachment, to a fake submission server on the
// loopback interface that offers STARTTLS and AUTH. It connects in clear,
// switches to TLS with [smtplib.SMTP.StartTLS], logs in, and sends the
// message with [smtplib.SMTP.SendMessage], which takes the envelope from
// the header (the Bcc recipient included, the Bcc field left out). Then it
// reads the message the server received, as a test would, and lists its
// parts.
//
// The Python program it mirrors:
//
//	msg = EmailMessage()
//	msg["From"], msg["To"], msg["Bcc"] = "Jörg <joerg@example.de>", "bob@example.org", "archive@example.de"
//	msg["Subject"] = "Bericht für März"
//	msg.set_content("The report is attached.")
//	msg.add_alternative('<p>The report is attached.</p><img src="cid:logo@example.de">', subtype="html")
//	msg.get_payload()[1].add_related(png, "image", "png", cid="<logo@example.de>")
//	msg.add_attachment(pdf, "application", "pdf", filename="Bericht März.pdf")
//	with smtplib.SMTP(host, 587) as s:
//	    s.starttls(context=ctx)
//	    s.login(user, password)
//	    s.send_message(msg)
package main

import (
	"bytes"
	"fmt"
	"log"
	"strings"

	"github.com/gosmtplib/smtplib"
	"github.com/gosmtplib/smtplib/email"
	"github.com/gosmtplib/smtplib/smtptest"
)

func main() {
	srv, err := smtptest.New(
		smtptest.WithSTARTTLS(),
		smtptest.WithAuth("PLAIN", "LOGIN"),
		smtptest.WithAuthRequiresTLS(),
		smtptest.WithUsers(map[string]string{"joerg@example.de": "correct horse battery staple"}),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	msg, err := build()
	if err != nil {
		log.Fatal(err)
	}

	// A real client would name the server's host here, port 587.
	c, err := smtplib.Dial(srv.Host(), srv.Port())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	// The fake server signs its own certificate, so trust it; nil would
	// verify a real server's against the system's roots.
	if _, err := c.StartTLS(srv.TLSConfig()); err != nil {
		log.Fatal(err)
	}
	if _, err := c.Login("joerg@example.de", "correct horse battery staple"); err != nil {
		log.Fatal(err)
	}
	refused, err := c.SendMessage(msg)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Quit(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("refused recipients:", len(refused))

	for _, m := range srv.Messages() {
		fmt.Printf("received from %s for %v over TLS %v, %d bytes\n", m.From, m.To, m.TLS, len(m.Data))
		got, err := email.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			log.Fatal(err)
		}
		show(got, 0)
		body := got.GetBody() // the HTML and its image: multipart/related
		html, err := got.GetBody("html").GetContent()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("body: %s, HTML %q\n", body.GetContentType(), html)
		for a := range got.IterAttachments() {
			data, err := a.GetContent()
			if err != nil {
				log.Fatal(err)
			}
			fmt.Printf("attachment %q, %s, %d bytes\n", a.GetFilename(), a.GetContentType(), len(data))
		}
	}
}

// build makes the message, as the Python program in the package comment.
func build() (*email.Message, error) {
	png := []byte("\x89PNG\r\n\x1a\n(an image)")
	pdf := []byte("%PDF-1.4\n(a report)\n%%EOF\n")
	msg := email.NewMessage("Jörg <joerg@example.de>", []string{"bob@example.org"}, "Bericht für März", "")
	msg.Set("Bcc", "archive@example.de")
	if err := msg.SetContent("The report is attached.", ""); err != nil {
		return nil, err
	}
	if err := msg.AddAlternative(`<p>The report is attached.</p><img src="cid:logo@example.de">`, "html"); err != nil {
		return nil, err
	}
	// Python adds the image through the HTML part (msg.get_payload()[1]);
	// AddRelated on the message finds that part itself.
	if err := msg.AddRelated(png, "image", "png", "<logo@example.de>"); err != nil {
		return nil, err
	}
	if err := msg.AddAttachment(pdf, "application", "pdf", "Bericht März.pdf"); err != nil {
		return nil, err
	}
	return msg, nil
}

// show prints the tree of parts.
func show(m *email.Message, depth int) {
	fmt.Printf("%s%s", strings.Repeat("  ", depth), m.GetContentType())
	if name := m.GetFilename(); name != "" {
		fmt.Printf(" %q", name)
	}
	fmt.Println()
	for p := range m.IterParts() {
		show(p, depth+1)
	}
}
