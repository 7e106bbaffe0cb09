package smtplib_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/gosmtplib/smtplib"
	"github.com/gosmtplib/smtplib/smtptest"
)

// Asking for delivery status notifications: a report on success or
// failure, with the header only, tied to the message by an envelope id,
// and the queue id from the server's final reply for its logs.
func ExampleNotify() {
	srv := exampleServer(smtptest.WithDSN())
	defer srv.Close()

	s, err := smtplib.Dial(srv.Host(), srv.Port())
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	var final smtplib.Reply
	msg := []byte("From: me@example.com\r\nSubject: hi\r\n\r\nHello.\r\n")
	_, err = s.Sendmail("me@example.com", []string{"you@example.org"}, msg,
		smtplib.Notify(smtplib.NotifySuccess, smtplib.NotifyFailure),
		smtplib.Return(smtplib.ReturnHeaders),
		smtplib.EnvID("order 1234"),
		smtplib.ORcpt("you@example.org", "you+shop@example.org"),
		smtplib.FinalReply(&final))
	if err != nil {
		log.Fatal(err)
	}
	s.Quit()
	m := srv.Messages()[0]
	fmt.Println("final reply:", final.Code, final.Message == "2.0.0 Ok: queued as "+m.ID)
	fmt.Printf("ENVID %q, NOTIFY %v, ORCPT %s\n", m.EnvID, m.DSN[0].Notify, m.DSN[0].ORcpt)
	// Output:
	// final reply: 250 true
	// ENVID "order 1234", NOTIFY [SUCCESS FAILURE], ORCPT you+shop@example.org
}

// Deciding whether to retry from the error: the enhanced status code says
// what went wrong, Temporary whether it may work later.
func ExampleResponseError_EnhancedCode() {
	srv := exampleServer(smtptest.WithRefuseSender("me@example.com", "451 4.3.0 Try again later"))
	defer srv.Close()

	s, err := smtplib.Dial(srv.Host(), srv.Port())
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	_, err = s.Sendmail("me@example.com", []string{"you@example.org"}, []byte("Subject: hi\r\n\r\nHello.\r\n"))
	var re *smtplib.ResponseError
	if errors.As(err, &re) {
		fmt.Println(re.Code, re.EnhancedCode(), "retry later:", re.Temporary())
	}
	// Output: 451 [4 3 0] retry later: true
}
