package smtplib_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/gosmtplib/smtplib"
	"github.com/gosmtplib/smtplib/email"
	"github.com/gosmtplib/smtplib/smtptest"
)

// A context bounds a whole send: the dial, the EHLO, every command and the
// data. When it ends, the call stops and the connection is closed.
func ExampleSMTP_SendmailContext() {
	// This server accepts the data and then never answers it.
	srv := exampleServer(smtptest.WithFault(smtptest.Fault{At: "DOT", Action: smtptest.Stall}))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	s, err := smtplib.DialContext(ctx, srv.Host(), srv.Port())
	if err == nil {
		defer s.Close()
		_, err = s.SendmailContext(ctx, "me@example.com", []string{"you@example.org"}, []byte("Subject: hi\r\n\r\nHello.\r\n"))
	}
	var sd *smtplib.ServerDisconnectedError
	fmt.Println(errors.As(err, &sd), errors.Is(err, context.DeadlineExceeded))
	// Output: true true
}

// WithTimeout bounds each step of the session (the dial, each command's
// reply, each write of data) instead of RFC 5321's minutes.
func ExampleWithTimeout() {
	srv := exampleServer(smtptest.WithFault(smtptest.Fault{At: "NOOP", Action: smtptest.Stall}))
	defer srv.Close()

	s, err := smtplib.Dial(srv.Host(), srv.Port(), smtplib.WithTimeout(100*time.Millisecond))
	if err == nil {
		defer s.Close()
		_, err = s.Noop()
	}
	fmt.Println(errors.Is(err, smtplib.ErrSMTP))
	// Output: true
}

// The debug output is smtplib's, into any writer; credentials never show.
func ExampleSMTP_SetDebugLevel() {
	srv := exampleServer()
	defer srv.Close()

	var transcript bytes.Buffer
	s, err := smtplib.Dial(srv.Host(), srv.Port(), smtplib.WithDebugOutput(&transcript),
		smtplib.WithLocalHostname("client.example"))
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	s.SetDebugLevel(1)
	s.Noop()
	fmt.Print(transcript.String())
	// Output:
	// send: 'noop\r\n'
	// reply: b'250 2.0.0 Ok\r\n'
	// reply: retcode (250); Msg: b'2.0.0 Ok'
}

// Each of smtplib's exceptions is an error type; errors.As picks the one
// to handle, and *ResponseError matches every error that carries a reply.
func Example_errors() {
	srv := exampleServer(
		smtptest.WithRefuseSender("spammer@example.com", "550 5.7.1 Sender rejected"),
		smtptest.WithRefuseRecipient("gone@example.org", "550 5.1.1 No such user"))
	defer srv.Close()
	s, err := smtplib.Dial(srv.Host(), srv.Port())
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	for _, from := range []string{"spammer@example.com", "me@example.com"} {
		_, err := s.Sendmail(from, []string{"gone@example.org"}, []byte("Subject: hi\r\n\r\nHello.\r\n"))
		var (
			sender *smtplib.SenderRefusedError
			rcpts  *smtplib.RecipientsRefusedError
			data   *smtplib.DataError
			gone   *smtplib.ServerDisconnectedError
			resp   *smtplib.ResponseError
		)
		switch {
		case errors.As(err, &sender):
			fmt.Println("sender refused:", sender.Sender, sender.Code)
		case errors.As(err, &rcpts):
			for rcpt, r := range rcpts.Recipients {
				fmt.Println("recipient refused:", rcpt, r.Code)
			}
		case errors.As(err, &data):
			fmt.Println("message refused:", data.Code)
		case errors.As(err, &gone):
			fmt.Println("connection lost:", gone)
		}
		if errors.As(err, &resp) {
			fmt.Println("  the reply:", resp.Code, resp.Message)
		}
	}
	// Output:
	// sender refused: spammer@example.com 550
	//   the reply: 550 5.7.1 Sender rejected
	// recipient refused: gone@example.org 550
}

// notifier is user code under test: it sends an alert through whatever
// server it is given.
type notifier struct {
	host string
	port int
}

func (n notifier) alert(text string) error {
	s, err := smtplib.Dial(n.host, n.port)
	if err != nil {
		return err
	}
	defer s.Close()
	msg := email.NewMessage("alerts@example.com", []string{"oncall@example.org"}, "ALERT", text)
	if _, err := s.SendMessage(msg); err != nil {
		return err
	}
	_, err = s.Quit()
	return err
}

// A test of user code: smtptest receives what the code sends, and the test
// reads it back. (In a real test, smtptest.NewServer(t) closes the server
// at the end of the test.)
func Example_testingUserCode() {
	srv := exampleServer()
	defer srv.Close()

	if err := (notifier{srv.Host(), srv.Port()}).alert("disk full"); err != nil {
		log.Fatal(err)
	}
	got := srv.Messages()[0]
	m, err := email.ReadMessage(bytes.NewReader(got.Data))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(got.From, got.To, m.Get("Subject"), strings.TrimSpace(string(m.Body())))
	// Output: alerts@example.com [oncall@example.org] ALERT disk full
}
