// Command quickstart shows the library's main call: it starts a fake SMTP
// server in the process (package smtptest, so no real server is needed),
// sends it a message with Sendmail, one recipient of which the server
// refuses, and prints what the server received and what was refused.
package main

import (
	"fmt"
	"log"
	"sort"

	"github.com/gosmtplib/smtplib"
	"github.com/gosmtplib/smtplib/smtptest"
)

func main() {
	srv, err := smtptest.New(smtptest.WithRefuseRecipient("nobody@example.org", "550 5.1.1 No such user"))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	s, err := smtplib.Dial(srv.Host(), srv.Port())
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	msg := []byte("From: alice@example.com\r\n" +
		"To: bob@example.org\r\n" +
		"Subject: Hello\r\n" +
		"\r\n" +
		"Hello from Go's smtplib.\r\n")
	refused, err := s.Sendmail("alice@example.com", []string{"bob@example.org", "nobody@example.org"}, msg)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := s.Quit(); err != nil {
		log.Fatal(err)
	}

	for _, m := range srv.Messages() {
		fmt.Printf("server received a message from %s for %v:\n%s", m.From, m.To, m.Data)
	}
	addrs := make([]string, 0, len(refused))
	for a := range refused {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	fmt.Printf("refused: %d\n", len(refused))
	for _, a := range addrs {
		fmt.Printf("  %s: %d %s\n", a, refused[a].Code, refused[a].Message)
	}
}
