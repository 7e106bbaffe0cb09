package smtplib_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/gosmtplib/smtplib"
	"github.com/gosmtplib/smtplib/smtptest"
)

// users are the accounts of the examples' fake server.
var users = map[string]string{"alice": "s3cret", "bob@example.com": "ya29.access-token"}

func ExampleSMTP_Login() {
	srv, err := smtptest.New(smtptest.WithAuth("PLAIN", "LOGIN"), smtptest.WithUsers(users))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	c, err := smtplib.Dial(srv.Host(), srv.Port())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	// The server is on this machine, so PLAIN may go in clear; to a
	// distant server, call StartTLS first (or use DialSSL).
	_, err = c.Login("alice", "wrong")
	var authErr *smtplib.AuthenticationError
	if errors.As(err, &authErr) {
		// PLAIN was refused, then LOGIN: this is LOGIN's refusal.
		fmt.Println("refused:", authErr.Code)
	}
	r, err := c.Login("alice", "s3cret")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r)
	// Output:
	// refused: 535
	// 235 2.7.0 Authentication successful
}

func ExampleSMTP_StartTLS() {
	srv, err := smtptest.New(smtptest.WithSTARTTLS(), smtptest.WithAuth("PLAIN"), smtptest.WithUsers(users))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	c, err := smtplib.Dial(srv.Host(), srv.Port())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	// A nil configuration verifies the server's certificate against the
	// system's roots; the fake server's certificate is its own, so trust
	// it. For a private CA kept in a file, put it in RootCAs:
	//
	//	pem, err := os.ReadFile("/etc/ssl/private-ca.pem")
	//	pool := x509.NewCertPool()
	//	pool.AppendCertsFromPEM(pem)
	//	c.StartTLS(&tls.Config{RootCAs: pool})
	r, err := c.StartTLS(srv.TLSConfig())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r)
	if _, err := c.Login("alice", "s3cret"); err != nil {
		log.Fatal(err)
	}
	refused, err := c.Sendmail("alice@example.com", []string{"bob@example.com"},
		[]byte("Subject: hello\r\n\r\nOver TLS.\r\n"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("refused:", len(refused))
	if _, err := c.Quit(); err != nil {
		log.Fatal(err)
	}
	m := srv.Messages()[0]
	fmt.Println("TLS:", m.TLS, "user:", m.AuthUser)
	// Output:
	// 220 2.0.0 Ready to start TLS
	// refused: 0
	// TLS: true user: alice
}

func ExampleDialSSL() {
	srv := smtptest.NewUnstartedServer(nil, smtptest.WithAuth("XOAUTH2"), smtptest.WithUsers(users))
	srv.StartTLS() // implicit TLS, as on port 465
	defer srv.Close()

	// Without WithTLSConfig the system's roots would be used.
	c, err := smtplib.DialSSL(srv.Host(), srv.Port(), smtplib.WithTLSConfig(srv.TLSConfig()))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if err := c.EhloOrHeloIfNeeded(); err != nil {
		log.Fatal(err)
	}
	r, err := c.Auth("XOAUTH2", smtplib.XOAuth2("bob@example.com", "ya29.access-token"), true)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r)
	r, err = c.Quit()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r)
	// Output:
	// 235 2.7.0 Authentication successful
	// 221 2.0.0 Bye
}
