package smtplib_test

import (
	"fmt"
	"log"
	"strings"

	"github.com/gosmtplib/smtplib"
	"github.com/gosmtplib/smtplib/smtptest"
)

// A server to talk to: smtptest runs one in the process.
func exampleServer(opts ...smtptest.Option) *smtptest.Server {
	srv, err := smtptest.New(opts...)
	if err != nil {
		log.Fatal(err)
	}
	return srv
}

func ExampleDial() {
	srv := exampleServer()
	defer srv.Close()

	s, err := smtplib.Dial(srv.Host(), srv.Port())
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	r, err := s.Noop()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Code, r.Message)
	// Output: 250 2.0.0 Ok
}

func ExampleSMTP_Sendmail() {
	srv := exampleServer(smtptest.WithRefuseRecipient("gone@example.org", "550 5.1.1 No such user"))
	defer srv.Close()

	s, err := smtplib.Dial(srv.Host(), srv.Port())
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	msg := []byte("From: me@example.com\r\nSubject: hi\r\n\r\nHello.\r\n")
	refused, err := s.Sendmail("me@example.com", []string{"you@example.org", "gone@example.org"}, msg)
	if err != nil {
		log.Fatal(err)
	}
	s.Quit()
	fmt.Println("refused:", refused["gone@example.org"])
	fmt.Println("delivered to:", srv.Messages()[0].To)
	// Output:
	// refused: 550 5.1.1 No such user
	// delivered to: [you@example.org]
}

func ExampleSMTP_SendmailReader() {
	srv := exampleServer()
	defer srv.Close()

	s, err := smtplib.Dial(srv.Host(), srv.Port())
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	// Any io.Reader: a file, a pipe from a MIME writer, ... It is streamed,
	// whatever its size.
	body := strings.NewReader("Subject: big\n\n" + strings.Repeat("line\n", 3))
	if _, err := s.SendmailReader("me@example.com", []string{"you@example.org"}, body); err != nil {
		log.Fatal(err)
	}
	s.Quit()
	fmt.Printf("%q\n", srv.Messages()[0].Data)
	// Output: "Subject: big\r\n\r\nline\r\nline\r\nline\r\n"
}

func ExampleSMTP_Ehlo() {
	srv := exampleServer(smtptest.WithExtensions("SIZE 1000000", "AUTH=LOGIN", "8BITMIME"))
	defer srv.Close()

	s, err := smtplib.Dial(srv.Host(), srv.Port())
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Ehlo(""); err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.DoesESMTP, s.HasExtn("size"), s.ESMTPFeatures["size"], s.HasExtn("auth"))
	// Output: true true 1000000 true
}
