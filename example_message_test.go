package smtplib_test

import (
	"fmt"
	"log"
	"strings"

	"github.com/gosmtplib/smtplib"
	"github.com/gosmtplib/smtplib/email"
	"github.com/gosmtplib/smtplib/smtptest"
)

// This example sends a message read from its text, taking the envelope
// from its header. The Bcc field gives a recipient but is not sent.
func ExampleSMTP_SendMessage() {
	srv, err := smtptest.New()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	msg, err := email.ReadMessage(strings.NewReader("From: Alice <alice@example.com>\r\n" +
		"To: Bob <bob@example.org>\r\n" +
		"Bcc: carol@example.org\r\n" +
		"Subject: Lunch\r\n" +
		"\r\n" +
		"Noon at the usual place?\r\n"))
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

	fmt.Println("refused:", len(refused))
	for _, m := range srv.Messages() {
		fmt.Println("from:", m.From)
		fmt.Println("to:", m.To)
		fmt.Print(strings.ReplaceAll(string(m.Data), "\r\n", "\n"))
	}
	// Output:
	// refused: 0
	// from: alice@example.com
	// to: [bob@example.org carol@example.org]
	// From: Alice <alice@example.com>
	// To: Bob <bob@example.org>
	// Subject: Lunch
	//
	// Noon at the usual place?
}
