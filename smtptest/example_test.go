package smtptest_test

import (
	"context"
	"fmt"
	"net/textproto"
	"strings"

	"github.com/gosmtplib/smtplib/smtptest"
)

// This example starts a server that refuses one recipient, sends it a
// message over a plain textproto connection, and prints what arrived.
func Example() {
	s, err := smtptest.New(smtptest.WithRefuseRecipient("nobody@example.com", "550 5.1.1 No such user"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	c, err := textproto.Dial("tcp", s.Addr)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	c.ReadResponse(220)
	for _, cmd := range []string{
		"EHLO client.example",
		"MAIL FROM:<alice@example.com>",
		"RCPT TO:<bob@example.com>",
		"RCPT TO:<nobody@example.com>",
	} {
		c.PrintfLine("%s", cmd)
		code, msg, _ := c.ReadResponse(0)
		fmt.Println(code, msg)
	}
	c.PrintfLine("DATA")
	c.ReadResponse(354)
	w := c.DotWriter()
	fmt.Fprint(w, "Subject: hello\r\n\r\nHi Bob.\r\n")
	w.Close()
	c.ReadResponse(250)
	c.PrintfLine("QUIT")
	c.ReadResponse(221)

	for _, m := range s.Messages() {
		fmt.Printf("from %s to %v:\n", m.From, m.To)
		fmt.Print(strings.ReplaceAll(string(m.Data), "\r\n", "\n"))
	}
	// Output:
	// 250 smtptest.example
	// 8BITMIME
	// SIZE 33554432
	// PIPELINING
	// HELP
	// 250 2.1.0 Ok
	// 250 2.1.5 Ok
	// 550 5.1.1 No such user
	// from alice@example.com to [bob@example.com]:
	// Subject: hello
	//
	// Hi Bob.
}

// This example runs a server as a program of its own would, as "smtp
// serve" does: on an address of its choosing, seeing each message through
// a hook and keeping nothing itself, until its context ends.
func ExampleServer_Serve() {
	srv, err := smtptest.New(
		smtptest.WithListenAddr("127.0.0.1:0"), // ":1025" for every interface
		smtptest.WithMessageHook(func(m smtptest.Message) error {
			fmt.Printf("message %s from %s to %v, %d bytes\n", m.ID, m.From, m.To, len(m.Data))
			return nil // an error would make the reply 451
		}),
		smtptest.WithoutRecording())
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error)
	go func() { done <- srv.Serve(ctx) }()

	c, err := textproto.Dial("tcp", srv.Addr)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	c.ReadResponse(220)
	for _, cmd := range []string{"EHLO client.example", "MAIL FROM:<app@example.com>", "RCPT TO:<dev@example.org>"} {
		c.PrintfLine("%s", cmd)
		c.ReadResponse(250)
	}
	c.PrintfLine("DATA")
	c.ReadResponse(354)
	w := c.DotWriter()
	fmt.Fprint(w, "Subject: hello\r\n\r\nHi.\r\n")
	w.Close()
	_, msg, _ := c.ReadResponse(250)
	fmt.Println(msg)

	cancel() // as Ctrl-C would, through signal.NotifyContext
	fmt.Println("Serve returned", <-done)
	fmt.Println(len(srv.Messages()), "messages recorded")
	// Output:
	// message 00000001 from app@example.com to [dev@example.org], 23 bytes
	// 2.0.0 Ok: queued as 00000001
	// Serve returned <nil>
	// 0 messages recorded
}
