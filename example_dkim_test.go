package smtplib_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"log"

	"github.com/emersion/go-msgauth/dkim"
	"golang.org/x/oauth2"

	"github.com/gosmtplib/smtplib"
	"github.com/gosmtplib/smtplib/email"
	"github.com/gosmtplib/smtplib/smtptest"
)

// What Gmail and Outlook.com ask of a bulk sender, in one send: an OAuth
// 2.0 login, one-click unsubscribe (RFC 8058) and a DKIM signature aligned
// with From that covers it. Here against the fake server; for real, dial
// smtp.gmail.com or smtp.office365.com, StartTLS, and take the tokens from
// an oauth2.TokenSource as in the Pool example. The key's public half is
// published as a TXT record at news._domainkey.example.com.
func ExampleDKIM() {
	srv := exampleServer(smtptest.WithOAuth("https://mail.google.com/",
		map[string]string{"news@example.com": "ya29.token"}))
	defer srv.Close()
	key := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize)) // in a program: read from a PEM file

	s, err := smtplib.Dial(srv.Host(), srv.Port())
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	tokens := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "ya29.token"})
	if _, err := s.LoginOAuth2("news@example.com", tokens); err != nil {
		log.Fatal(err)
	}

	msg := email.NewMessage("Example News <news@example.com>", []string{"ann@example.org"}, "This week", "Hello Ann,\n")
	if err := msg.SetListUnsubscribe("https://example.com/unsubscribe?u=8f2a1c", "unsubscribe@example.com"); err != nil {
		log.Fatal(err)
	}
	sign := smtplib.DKIM(&dkim.SignOptions{Domain: "example.com", Selector: "news", Signer: key})
	if _, err := s.SendMessage(msg, sign); err != nil {
		log.Fatal(err)
	}
	s.Quit()

	// What a receiver sees: the signature verifies, and covers both
	// unsubscribe fields.
	record := "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey))
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(srv.Messages()[0].Data), &dkim.VerifyOptions{
		LookupTXT: func(string) ([]string, error) { return []string{record}, nil },
	})
	if err != nil || len(vs) != 1 {
		log.Fatal(err)
	}
	fmt.Println("verified:", vs[0].Err == nil, vs[0].Domain)
	fmt.Println("signed:", vs[0].HeaderKeys)
	// Output:
	// verified: true example.com
	// signed: [From To Subject Date Message-ID MIME-Version Content-Type Content-Transfer-Encoding List-Unsubscribe List-Unsubscribe-Post]
}
