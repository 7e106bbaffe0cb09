package smtplib_test

import (
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/gosmtplib/smtplib"
	"github.com/gosmtplib/smtplib/smtptest"
)

// An LMTP server answers for each recipient after the data, so one
// transaction can deliver to some mailboxes and not to others. Here a fake
// server on a Unix socket has one mailbox over quota.
func ExampleDialLMTP() {
	dir, err := os.MkdirTemp("", "lmtp")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	srv, err := smtptest.New(
		smtptest.WithUnixSocket(filepath.Join(dir, "lmtp.sock")),
		smtptest.WithLMTPReply("carol@example.org", "552 5.2.2 <carol@example.org> Mailbox full"),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	// A host starting with "/" is a Unix socket; the port is not used.
	l, err := smtplib.DialLMTP(srv.Addr, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	to := []string{"alice@example.org", "bob@example.org", "carol@example.org"}
	msg := []byte("From: postmaster@example.org\r\nSubject: Maintenance\r\n\r\nTonight at ten.\r\n")
	refused, err := l.Sendmail("postmaster@example.org", to, msg)
	if err != nil {
		log.Fatal(err)
	}
	for _, rcpt := range to {
		if r, ok := refused[rcpt]; ok {
			fmt.Printf("%s: not delivered: %v\n", rcpt, r)
		} else {
			fmt.Printf("%s: delivered\n", rcpt)
		}
	}
	if _, err := l.Quit(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// alice@example.org: delivered
	// bob@example.org: delivered
	// carol@example.org: not delivered: 552 5.2.2 <carol@example.org> Mailbox full
}

// When no recipient gets the message, Sendmail returns a
// RecipientsRefusedError with every recipient's reply, whether they were
// refused at RCPT or after the data. The session goes on.
func ExampleLMTP_Sendmail() {
	srv, err := smtptest.New(
		smtptest.WithLMTPReply("alice@example.org", "452 4.2.2 <alice@example.org> Over quota, try later"),
		smtptest.WithRefuseRecipient("nobody@example.org", "550 5.1.1 <nobody@example.org> User unknown"),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	l, err := smtplib.DialLMTP(srv.Host(), srv.Port())
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	to := []string{"alice@example.org", "nobody@example.org"}
	_, err = l.Sendmail("postmaster@example.org", to, []byte("Subject: Hello\r\n\r\nHi.\r\n"))
	var refused *smtplib.RecipientsRefusedError
	if !errors.As(err, &refused) {
		log.Fatal(err)
	}
	for _, rcpt := range to {
		// A 4xx reply is worth retrying later; a 5xx is final.
		r := refused.Recipients[rcpt]
		fmt.Printf("%s: %v\n", rcpt, r)
	}
	r, err := l.Noop()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("NOOP:", r.Code)
	// Output:
	// alice@example.org: 452 4.2.2 <alice@example.org> Over quota, try later
	// nobody@example.org: 550 5.1.1 <nobody@example.org> User unknown
	// NOOP: 250
}
