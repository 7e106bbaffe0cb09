// Command lmtp starts a fake LMTP server (RFC 2033) on a Unix socket, as
// Dovecot or Cyrus listen for the mail transfer agent in front of them,
// with one mailbox over quota. It then delivers one message to three
// mailboxes in one transaction with [smtplib.DialLMTP] and prints what
// became of each recipient: LMTP, unlike SMTP, answers for every recipient
// after the data.
//
// With -v it also prints the client's side of the dialogue.
package main

import (
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/gosmtplib/smtplib"
	"github.com/gosmtplib/smtplib/smtptest"
)

func main() {
	verbose := flag.Bool("v", false, "print the LMTP dialogue")
	flag.Parse()

	// A Unix socket path must fit in about 100 bytes, so the directory
	// is a short one of its own.
	dir, err := os.MkdirTemp("", "lmtp")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	srv, err := smtptest.New(
		smtptest.WithUnixSocket(filepath.Join(dir, "lmtp.sock")),
		smtptest.WithHostname("mail.example.org"),
		smtptest.WithLMTPReply("carol@example.org", "552 5.2.2 <carol@example.org> Quota exceeded (mailbox for user is full)"),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	l, err := smtplib.DialLMTP(srv.Addr, 0)
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()
	if *verbose {
		l.SetDebugLevel(1)
	}

	to := []string{"alice@example.org", "bob@example.org", "carol@example.org"}
	msg := []byte("From: postmaster@example.org\r\n" +
		"To: staff@example.org\r\n" +
		"Subject: Maintenance tonight\r\n" +
		"\r\n" +
		"The mail server restarts at 22:00.\r\n")
	refused, err := l.Sendmail("postmaster@example.org", to, msg)
	var allRefused *smtplib.RecipientsRefusedError
	var cut *smtplib.LMTPDeliveryError
	pending := map[string]bool{}
	switch {
	case errors.As(err, &allRefused):
		// Nobody got it; every recipient has its reply.
		refused = allRefused.Recipients
	case errors.As(err, &cut):
		// The connection broke during the replies: the recipients still
		// waiting for theirs may or may not have the message.
		refused = cut.Replies
		for _, rcpt := range cut.Pending {
			pending[rcpt] = true
		}
	case err != nil:
		log.Fatal(err)
	}

	for _, rcpt := range to {
		r, ok := refused[rcpt]
		switch {
		case pending[rcpt]:
			fmt.Printf("%-20s unknown, the connection broke: %v\n", rcpt, cut.Err)
		case !ok || r.Code/100 == 2:
			fmt.Printf("%-20s delivered\n", rcpt)
		case r.Code/100 == 4:
			fmt.Printf("%-20s deferred, try again later: %v\n", rcpt, r)
		default:
			fmt.Printf("%-20s bounced: %v\n", rcpt, r)
		}
	}
	if _, err := l.Quit(); err != nil {
		log.Fatal(err)
	}

	for _, m := range srv.Messages() {
		fmt.Printf("the server stored %d bytes for %v\n", len(m.Data), m.To)
	}
}
