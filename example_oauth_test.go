package smtplib_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/gosmtplib/smtplib"
	"github.com/gosmtplib/smtplib/smtptest"
)

func ExampleSMTP_LoginOAuth2() {
	srv := exampleServer(smtptest.WithOAuth("https://mail.example/smtp",
		map[string]string{"bob@example.com": "ya29.fresh"}))
	defer srv.Close()

	s, err := smtplib.Dial(srv.Host(), srv.Port())
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	// A token that is no longer accepted: the error says why, with the
	// status and scope of the server's JSON error.
	_, err = s.LoginOAuth2("bob@example.com", oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "ya29.stale"}))
	var authErr *smtplib.AuthenticationError
	if errors.As(err, &authErr) {
		fmt.Println(authErr.Code, authErr.Status, authErr.Scope)
	}
	// In a program, the source is a refresh token's, a service account's
	// or a client's credentials (see the Pool example).
	r, err := s.LoginOAuth2("bob@example.com", oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "ya29.fresh"}))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r)
	s.Quit()
	// Output:
	// 535 invalid_token https://mail.example/smtp
	// 235 2.7.0 Authentication successful
}

// A Pool sending through Microsoft 365 as an application (the OAuth 2.0
// client-credentials flow of Microsoft Entra ID): each connection logs in
// with a token from the one source, which fetches a new token shortly
// before the last one expires. The application needs the SMTP.SendAsApp
// permission, a service principal in Exchange Online with rights on the
// mailbox, and SMTP AUTH enabled for the mailbox. For Google Workspace, a
// service account's source comes from golang.org/x/oauth2/google
// (google.JWTConfigFromJSON with the scope https://mail.google.com/ and
// Subject set to the mailbox), used the same way.
func ExampleNewPool_oauth2() {
	ctx := context.Background()
	creds := clientcredentials.Config{
		ClientID:     "00000000-0000-0000-0000-000000000000", // the application (client) ID
		ClientSecret: "the client secret",
		TokenURL:     "https://login.microsoftonline.com/TENANT-ID/oauth2/v2.0/token",
		Scopes:       []string{"https://outlook.office365.com/.default"},
	}
	tokens := creds.TokenSource(ctx) // safe for concurrent use
	const mailbox = "reports@example.com"

	pool := smtplib.NewPool(func(ctx context.Context) (*smtplib.SMTP, error) {
		s, err := smtplib.DialContext(ctx, "smtp.office365.com", 587)
		if err != nil {
			return nil, err
		}
		if _, err := s.StartTLSContext(ctx, nil); err != nil {
			s.Close()
			return nil, err
		}
		if _, err := s.LoginOAuth2Context(ctx, mailbox, tokens); err != nil {
			s.Close()
			return nil, err // an *AuthenticationError says what to do about a known refusal
		}
		return s, nil
	})
	defer pool.Close()

	msg := []byte("From: " + mailbox + "\r\nTo: ann@example.org\r\nSubject: Report\r\n\r\nAttached.\r\n")
	res := pool.Send(ctx, smtplib.Mail{From: mailbox, To: []string{"ann@example.org"}, Data: msg})
	if res.Err != nil {
		log.Fatal(res.Err)
	}
}
