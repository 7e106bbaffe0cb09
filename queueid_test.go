package smtplib_test

import (
	"fmt"
	"log"
	"testing"

	"github.com/gosmtplib/smtplib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// queueIDCases are final replies as the servers send them, each with where
// the form comes from, and the queue id QueueID must read from it. Message
// is the reply's text as the client keeps it: after the code, its lines
// joined with "\n".
var queueIDCases = []struct {
	name string
	r    smtplib.Reply
	want string
}{
	// Postfix 3.7.11, the integration suite's (testdata/servers/start.sh).
	{"postfix", smtplib.Reply{Code: 250, Message: "2.0.0 Ok: queued as 885CC9884C0"}, "885CC9884C0"},
	// Postfix with enable_long_queue_ids = yes (postconf(5)).
	{"postfix long queue id", smtplib.Reply{Code: 250, Message: "2.0.0 Ok: queued as 4Z0hN85Q2Lz1xyX"}, "4Z0hN85Q2Lz1xyX"},
	// Postfix with ENHANCEDSTATUSCODES in smtpd_discard_ehlo_keywords,
	// which leaves the status codes out of its replies (postconf(5)).
	{"postfix no enhanced code", smtplib.Reply{Code: 250, Message: "Ok: queued as 4BXf2k0Q1z"}, "4BXf2k0Q1z"},
	// SendGrid, github.com/sendgrid/docs issue 5319 (and issue 2638).
	{"sendgrid", smtplib.Reply{Code: 250, Message: "Ok: queued as A1AywHK7T_itbGWaASw2YQ"}, "A1AywHK7T_itbGWaASw2YQ"},
	// Mailjet, github.com/PHPMailer/PHPMailer pull request 2578.
	{"mailjet", smtplib.Reply{Code: 250, Message: "OK queued as a08b7f37-ed61-423a-ba75-38ed2fd4b54c"}, "a08b7f37-ed61-423a-ba75-38ed2fd4b54c"},
	// Yandex, github.com/nodemailer/nodemailer issue 422.
	{"yandex", smtplib.Reply{Code: 250, Message: "2.0.0 Ok: queued on smtp3m.mail.yandex.net as 1430081058-6ltgNFKSir-iHEKdOrm"}, "1430081058-6ltgNFKSir-iHEKdOrm"},
	// Exim, src/src/receive.c ("250 OK id=%s"); an id of Exim 4.96 and
	// older, as quoted in github.com/voodoodyne/subethasmtp issue 55.
	{"exim", smtplib.Reply{Code: 250, Message: "OK id=1TkhHl-0006EV-R3"}, "1TkhHl-0006EV-R3"},
	// Exim 4.97 and later: the longer 6-11-4 id (exim_id_update(8); Exim's
	// test/stdout/4002).
	{"exim new id", smtplib.Reply{Code: 250, Message: "OK id=1rUjXy-00000000Ab3-2Hkq"}, "1rUjXy-00000000Ab3-2Hkq"},
	// Exim's reply to BDAT LAST is two lines (receive.c): the id is on the
	// second.
	{"exim chunking multi-line", smtplib.Reply{Code: 250, Message: "1416 byte chunk, total 1420\nOK id=1xaYJg-0004NY-1M"}, "1xaYJg-0004NY-1M"},
	// Sendmail 8.12 and later, sendmail/srvrsmtp.c ("250 2.0.0 %s Message
	// accepted for delivery", the envelope's queue id).
	{"sendmail", smtplib.Reply{Code: 250, Message: "2.0.0 5A7HNlhR012345 Message accepted for delivery"}, "5A7HNlhR012345"},
	// Sendmail 8.8, the same reply before enhanced status codes.
	{"sendmail old", smtplib.Reply{Code: 250, Message: "AAA14672 Message accepted for delivery"}, "AAA14672"},
	// OpenSMTPD, usr.sbin/smtpd/smtp_session.c ("250 %s %08x Message
	// accepted for delivery", the message id).
	{"opensmtpd", smtplib.Reply{Code: 250, Message: "2.0.0 1b2c3d4e Message accepted for delivery"}, "1b2c3d4e"},
	// Microsoft 365 (smtp-mail.outlook.com, a public session transcript):
	// the message's Internet Message-ID, which message trace searches by.
	{"microsoft 365", smtplib.Reply{Code: 250, Message: "2.0.0 OK <DBBPR03MB5414097781BC157026369C79A4069@DBBPR03MB5414.eurprd03.prod.outlook.com> [Hostname=DBBPR03MB5414.eurprd03.prod.outlook.com]"},
		"<DBBPR03MB5414097781BC157026369C79A4069@DBBPR03MB5414.eurprd03.prod.outlook.com>"},
	// Exchange Server, learn.microsoft.com "Use Telnet to test SMTP
	// communication" ("250 2.6.0 <GUID> Queued mail for delivery"; the
	// Exchange SDK's SmtpResponse.QueuedMailForDelivery takes "the Internet
	// message ID"), with a GUID for the placeholder.
	{"exchange server", smtplib.Reply{Code: 250, Message: "2.6.0 <0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0@mail1.fabrikam.com> Queued mail for delivery"},
		"<0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0@mail1.fabrikam.com>"},
	// Exchange Server with its internal id, as a Postfix log quotes it.
	{"exchange server internal id", smtplib.Reply{Code: 250, Message: "2.6.0 <20111025103822.7F94E1C0299@example.net> [InternalId=274498] Queued mail for delivery"},
		"<20111025103822.7F94E1C0299@example.net>"},
	// Amazon SES, docker-mailserver's docs/content/config/advanced/
	// mail-forwarding/aws-ses.md: the SES message id.
	{"amazon ses", smtplib.Reply{Code: 250, Message: "Ok 01000154dc729264-93fdd7ea-f039-43d6-91ed-653e8547867c-000000"},
		"01000154dc729264-93fdd7ea-f039-43d6-91ed-653e8547867c-000000"},
	// Gmail, as quoted in github.com/emersion/go-smtp issue 86: the token
	// before "- gsmtp", which Gmail's Received field gives as "id".
	{"gmail", smtplib.Reply{Code: 250, Message: "2.0.0 OK  1571601091 d44si1315748ede.149 - gsmtp"}, "d44si1315748ede.149"},
	// Dovecot 2.3.19.1 LMTP, the integration suite's: the session id, with
	// ":R2" for the second recipient (src/lmtp/lmtp-local.c, "%s Saved").
	{"dovecot lmtp", smtplib.Reply{Code: 250, Message: "2.0.0 <alice@example.com> 8MIHIs7IFmsNRQAAg+zDdQ Saved"}, "8MIHIs7IFmsNRQAAg+zDdQ"},
	{"dovecot lmtp second recipient", smtplib.Reply{Code: 250, Message: "2.0.0 <bob@example.com> 8MIHIs7IFmsNRQAAg+zDdQ:R2 Saved"}, "8MIHIs7IFmsNRQAAg+zDdQ:R2"},
	// Haraka, connection.js queue_outbound_respond: "(transaction uuid)"
	// after the message, the uuid being the connection's and a count.
	{"haraka", smtplib.Reply{Code: 250, Message: "Message Queued (4A9F3B1C-2D5E-4F60-8A7B-9C0D1E2F3A4B.1)"}, "4A9F3B1C-2D5E-4F60-8A7B-9C0D1E2F3A4B.1"},
	// Stalwart, crates/smtp/src/inbound/data.rs ("Message queued with id
	// {queue_id:x}."): the sentence's period is not the id's.
	{"stalwart", smtplib.Reply{Code: 250, Message: "2.0.0 Message queued with id 2f1a9c0b7d3e4a55."}, "2f1a9c0b7d3e4a55"},
	// Postmark: no documented final reply was found (its SMTP page says
	// nothing of it); if it says "queued as ID", the Postfix form reads it.

	// Any 2xx reply is read, the keywords in any case.
	{"251 and upper case", smtplib.Reply{Code: 251, Message: "2.0.0 OK: QUEUED AS ABC123"}, "ABC123"},
	{"first line with an id wins", smtplib.Reply{Code: 250, Message: "2.0.0 Ok: queued as AAA111\n2.0.0 Ok: queued as BBB222"}, "AAA111"},
	{"every line has its enhanced code", smtplib.Reply{Code: 250, Message: "2.0.0 Accepted\n2.0.0 1b2c3d4e Message accepted for delivery"}, "1b2c3d4e"},
	{"first of a list", smtplib.Reply{Code: 250, Message: "2.0.0 OK: queued as em_4yM2nTvR8o, em_X3uZiKeLg7"}, "em_4yM2nTvR8o"},

	// Refusals carry no queue id, whatever their text.
	{"4xx", smtplib.Reply{Code: 451, Message: "4.3.0 Error: queue file write error"}, ""},
	{"4xx mentioning queued as", smtplib.Reply{Code: 452, Message: "4.3.1 Not queued as AB12 was full"}, ""},
	{"5xx with an exim id", smtplib.Reply{Code: 550, Message: "Rejected id=1xaYJg-0004NY-1M"}, ""},
	{"5xx dovecot quota", smtplib.Reply{Code: 552, Message: "5.2.2 <full@example.com> Quota exceeded (mailbox for user is full)"}, ""},
	{"no readable code", smtplib.Reply{Code: -1, Message: "Ok: queued as 4BXf2k0Q1z"}, ""},
	{"354", smtplib.Reply{Code: 354, Message: "End data with <CR><LF>.<CR><LF>"}, ""},

	// 2xx replies that name no id.
	{"mailgun", smtplib.Reply{Code: 250, Message: "Great success"}, ""}, // PHPMailer issue 1253, mailgun-php issue 922
	{"ok alone", smtplib.Reply{Code: 250, Message: "2.0.0 Ok"}, ""},
	{"empty", smtplib.Reply{Code: 250, Message: ""}, ""},
	{"enhanced code alone", smtplib.Reply{Code: 250, Message: "2.0.0"}, ""},
	{"stalwart without id", smtplib.Reply{Code: 250, Message: "2.0.0 Message queued for delivery."}, ""},
	{"accepted without id", smtplib.Reply{Code: 250, Message: "2.0.0 Message accepted for delivery"}, ""},
	{"ok where the id would be", smtplib.Reply{Code: 250, Message: "OK Message accepted for delivery"}, ""},
	{"queued as nothing", smtplib.Reply{Code: 250, Message: "2.0.0 Ok: queued as"}, ""},
	{"queued with empty parentheses", smtplib.Reply{Code: 250, Message: "Message Queued ()"}, ""},
	{"queued with words in parentheses", smtplib.Reply{Code: 250, Message: "Message Queued (by the relay)"}, ""},
	{"id mentioned casually", smtplib.Reply{Code: 250, Message: "2.0.0 OK, the id of your message is in its header"}, ""},
	{"msgid is not id", smtplib.Reply{Code: 250, Message: "2.0.0 Ok msgid=<a@b>"}, ""},
	{"id= with nothing after", smtplib.Reply{Code: 250, Message: "OK id="}, ""},
	{"ok and a word", smtplib.Reply{Code: 250, Message: "Ok thanks"}, ""},
	{"ok and a short hex word", smtplib.Reply{Code: 250, Message: "Ok dead-beef"}, ""},
	{"an address echoed", smtplib.Reply{Code: 250, Message: "2.1.5 <bob@example.com> Recipient ok"}, ""},
	{"saved without a session id", smtplib.Reply{Code: 250, Message: "2.0.0 <bob@example.com> Saved"}, ""},
	{"gsmtp without an id", smtplib.Reply{Code: 250, Message: "2.0.0 OK - gsmtp"}, ""},
	{"multi-line without an id", smtplib.Reply{Code: 250, Message: "2.0.0 Accepted\n2.0.0 Thank you"}, ""},
}

func TestReplyQueueID(t *testing.T) {
	for _, tt := range queueIDCases {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.r.QueueID()
			assert.Equal(t, tt.want, got, "QueueID of %q", tt.r.Message)
			if got != "" {
				// The id is the server's text, not a copy or a rewrite.
				assert.Contains(t, tt.r.Message, got)
			}
		})
	}
}

// TestReplyQueueIDAllocations checks that reading the id allocates
// nothing: it is a substring of the reply's text.
func TestReplyQueueIDAllocations(t *testing.T) {
	for _, tt := range queueIDCases {
		allocs := testing.AllocsPerRun(100, func() { _ = tt.r.QueueID() })
		assert.Zero(t, allocs, "allocations for %s", tt.name)
	}
}

// TestReplyQueueIDFromServer reads the id from a real final reply, through
// FinalReply, against the fake server, whose reply names the message's id.
func TestReplyQueueIDFromServer(t *testing.T) {
	srv := exampleServer()
	defer srv.Close()
	s, err := smtplib.Dial(srv.Host(), srv.Port())
	require.NoError(t, err)
	defer s.Close()
	var ids []string
	for i := range 3 {
		var final smtplib.Reply
		_, err := s.Sendmail("me@example.com", []string{"you@example.org"},
			[]byte(fmt.Sprintf("Subject: %d\r\n\r\nHello.\r\n", i)), smtplib.FinalReply(&final))
		require.NoError(t, err)
		ids = append(ids, final.QueueID())
	}
	msgs := srv.Messages()
	require.Len(t, msgs, 3)
	for i, m := range msgs {
		assert.Equal(t, m.ID, ids[i], "mail %d", i)
	}
}

// BenchmarkQueueID reads the id of the common final replies, and of one
// that names none (every rule is tried).
func BenchmarkQueueID(b *testing.B) {
	replies := []struct {
		name string
		r    smtplib.Reply
	}{
		{"postfix", smtplib.Reply{Code: 250, Message: "2.0.0 Ok: queued as 885CC9884C0"}},
		{"exim", smtplib.Reply{Code: 250, Message: "OK id=1rUjXy-00000000Ab3-2Hkq"}},
		{"ses", smtplib.Reply{Code: 250, Message: "Ok 01000154dc729264-93fdd7ea-f039-43d6-91ed-653e8547867c-000000"}},
		{"microsoft365", smtplib.Reply{Code: 250, Message: "2.0.0 OK <DBBPR03MB5414097781BC157026369C79A4069@DBBPR03MB5414.eurprd03.prod.outlook.com> [Hostname=DBBPR03MB5414.eurprd03.prod.outlook.com]"}},
		{"dovecot", smtplib.Reply{Code: 250, Message: "2.0.0 <bob@example.com> 8MIHIs7IFmsNRQAAg+zDdQ:R2 Saved"}},
		{"none", smtplib.Reply{Code: 250, Message: "Great success"}},
	}
	for _, c := range replies {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				_ = c.r.QueueID()
			}
		})
	}
}

// Reading the queue id of each mail from the server's final reply, to log
// it beside the mail: the id the relay's own logs and support desk know
// the mail by.
func ExampleReply_QueueID() {
	srv := exampleServer()
	defer srv.Close()

	s, err := smtplib.Dial(srv.Host(), srv.Port())
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	var final smtplib.Reply
	_, err = s.Sendmail("me@example.com", []string{"you@example.org"},
		[]byte("Subject: hi\r\n\r\nHello.\r\n"), smtplib.FinalReply(&final))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d %s\n", final.Code, final.Message)
	fmt.Println("queued as", final.QueueID())
	// Output:
	// 250 2.0.0 Ok: queued as 00000001
	// queued as 00000001
}
