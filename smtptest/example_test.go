package smtptest_test

import (
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
