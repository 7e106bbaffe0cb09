// Command starttls starts a fake SMTP submission server on the loopback
// interface that offers STARTTLS and AUTH, then does what a mail client
// does with a real one: connect in clear, switch to TLS with
// [smtplib.SMTP.StartTLS] (verifying the server's certificate), log in,
// send a message, and quit. It prints the dialogue with
// [smtplib.SMTP.SetDebugLevel], where the password shows as "<redacted>",
// and what the server received.
//
// With a -ca flag naming a PEM file, the server's certificate must be
// signed by a CA in that file instead, as it would be for a server with a
// certificate from a private CA; the fake server's own certificate is not
// in any such file, so expect a verification error.
package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/gosmtplib/smtplib"
	"github.com/gosmtplib/smtplib/smtptest"
)

func main() {
	caFile := flag.String("ca", "", "PEM file of the CAs to trust instead of the fake server's certificate")
	flag.Parse()

	srv, err := smtptest.New(
		smtptest.WithSTARTTLS(),
		smtptest.WithAuth("PLAIN", "LOGIN"),
		smtptest.WithAuthRequiresTLS(),
		smtptest.WithUsers(map[string]string{"alice@example.com": "correct horse battery staple"}),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	// A real client would name the server's host here, port 587.
	c, err := smtplib.Dial(srv.Host(), srv.Port(), smtplib.WithDebugOutput(os.Stdout))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	c.SetDebugLevel(1)

	config, err := tlsConfig(*caFile, srv)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.StartTLS(config); err != nil {
		log.Fatal(err)
	}
	if _, err := c.Login("alice@example.com", "correct horse battery staple"); err != nil {
		log.Fatal(err)
	}
	refused, err := c.Sendmail("alice@example.com", []string{"bob@example.org"},
		[]byte("From: alice@example.com\r\nTo: bob@example.org\r\nSubject: Over TLS\r\n\r\nHello, Bob.\r\n"))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := c.Quit(); err != nil {
		log.Fatal(err)
	}

	fmt.Println()
	fmt.Println("refused recipients:", len(refused))
	for _, m := range srv.Messages() {
		fmt.Printf("message %s from %s to %v, TLS %v, authenticated as %s\n",
			m.ID, m.From, m.To, m.TLS, m.AuthUser)
	}
}

// tlsConfig returns the configuration for StartTLS. Against a server with
// a certificate from a public CA, nil is right: the system's roots verify
// it, for the host name given to Dial. For a private CA, load it from a PEM
// file into RootCAs. The fake server signs its own certificate, so by
// default it is trusted directly.
func tlsConfig(caFile string, srv *smtptest.Server) (*tls.Config, error) {
	if caFile == "" {
		return srv.TLSConfig(), nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("no certificate found in %s", caFile)
	}
	return &tls.Config{RootCAs: pool}, nil
}
