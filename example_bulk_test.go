package smtplib_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"sort"
	"sync"

	"github.com/gosmtplib/smtplib"
	"github.com/gosmtplib/smtplib/smtptest"
)

func ExampleSMTP_SendBatch() {
	srv := exampleServer(smtptest.WithPipelining(), smtptest.WithChunking(),
		smtptest.WithRefuseRecipient("gone@example.org", "550 5.1.1 No such user"))
	defer srv.Close()

	s, err := smtplib.Dial(srv.Host(), srv.Port())
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	var mails []smtplib.Mail
	for _, to := range []string{"ann@example.org", "gone@example.org", "bob@example.org"} {
		msg := []byte("From: news@example.com\r\nTo: " + to + "\r\nSubject: news\r\n\r\nHello.\r\n")
		mails = append(mails, smtplib.Mail{From: "news@example.com", To: []string{to}, Data: msg})
	}
	// The transactions overlap; each mail gets its own result.
	results, err := s.SendBatch(context.Background(), mails)
	if err != nil {
		log.Fatal(err) // the connection failed; results says which mails were sent
	}
	for i, r := range results {
		var refused *smtplib.RecipientsRefusedError
		switch {
		case errors.As(r.Err, &refused):
			fmt.Println(mails[i].To[0], "refused:", refused.Recipients[mails[i].To[0]])
		case r.Err != nil:
			fmt.Println(mails[i].To[0], "failed:", r.Err)
		default:
			fmt.Println(mails[i].To[0], "sent:", r.Reply.Code)
		}
	}
	s.Quit()
	// Output:
	// ann@example.org sent: 250
	// gone@example.org refused: 550 5.1.1 No such user
	// bob@example.org sent: 250
}

func ExamplePool() {
	srv := exampleServer(smtptest.WithPipelining())
	defer srv.Close()

	// dial returns a client ready to send: after StartTLS and Login, when
	// the server needs them.
	pool := smtplib.NewPool(func(ctx context.Context) (*smtplib.SMTP, error) {
		return smtplib.DialContext(ctx, srv.Host(), srv.Port())
	}, smtplib.WithPoolSize(2), smtplib.WithMaxMessagesPerConn(100))

	var wg sync.WaitGroup
	for i := range 5 {
		wg.Add(1)
		go func() { // any number of goroutines share the pool
			defer wg.Done()
			to := fmt.Sprintf("user%d@example.org", i)
			r := pool.Send(context.Background(), smtplib.Mail{
				From: "app@example.com",
				To:   []string{to},
				Data: []byte("Subject: your order\r\n\r\nShipped.\r\n"),
			})
			switch {
			case errors.Is(r.Err, smtplib.ErrDeliveryUnknown):
				log.Printf("%s: may have been delivered: %v", to, r.Err)
			case r.Err != nil:
				log.Printf("%s: not delivered, may be sent again: %v", to, r.Err)
			}
		}()
	}
	wg.Wait()
	pool.Close() // QUIT on every connection

	var to []string
	for _, m := range srv.Messages() {
		to = append(to, m.To...)
	}
	sort.Strings(to)
	fmt.Println(to)
	// Output: [user0@example.org user1@example.org user2@example.org user3@example.org user4@example.org]
}
