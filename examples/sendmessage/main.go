// Command sendmessage starts a fake SMTP server on the loopback interface,
// sends it a message with [smtplib.SMTP.SendMessage], and prints what the
// server received: the envelope and the data, Bcc field gone.
package main

import (
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/gosmtplib/smtplib"
	"github.com/gosmtplib/smtplib/email"
	"github.com/gosmtplib/smtplib/smtptest"
)

const message = "From: Alice <alice@example.com>\r\n" +
	"To: Bob <bob@example.org>, carol@bücher.example\r\n" +
	"Bcc: dave@example.net\r\n" +
	"Subject: Status\r\n" +
	"\r\n" +
	"All green.\r\n"

func main() {
	// The server does not offer SMTPUTF8, so the non-ASCII domain goes out
	// as its IDNA A-label.
	srv, err := smtptest.New()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	msg, err := email.ReadMessage(strings.NewReader(message))
	if err != nil {
		log.Fatal(err)
	}
	s, err := smtplib.Dial(srv.Host(), srv.Port())
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	refused, err := s.SendMessage(msg)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := s.Quit(); err != nil {
		log.Fatal(err)
	}
	for rcpt, r := range refused {
		fmt.Printf("refused %s: %d %s\n", rcpt, r.Code, r.Message)
	}

	for _, m := range srv.Messages() {
		fmt.Printf("MAIL FROM:<%s>\n", m.From)
		for _, to := range m.To {
			fmt.Printf("RCPT TO:<%s>\n", to)
		}
		fmt.Println("DATA")
		os.Stdout.Write(m.Data)
	}
}
