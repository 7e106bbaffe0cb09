package main

import (
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

// sendArgs are the arguments of a plain send to srv.
func sendArgs(srv *smtptest.Server, more ...string) []string {
	return append([]string{"send", "--server", srv.Addr, "--ehlo", "client.example",
		"--from", "Alice <alice@example.com>", "--to", "bob@example.org"}, more...)
}

// received parses the one message srv received.
func received(t *testing.T, srv *smtptest.Server) (smtptest.Message, *mail.Message) {
	t.Helper()
	msgs := srv.Messages()
	require.Len(t, msgs, 1)
	m, err := mail.ReadMessage(strings.NewReader(string(msgs[0].Data)))
	require.NoError(t, err)
	return msgs[0], m
}

func TestSendBuilt(t *testing.T) {
	srv := smtptest.NewServer(t)
	r := run1(t, sendArgs(srv, "--to", "carol@example.net", "--subject", "Hello", "--body", "Hi there.\nBye.\n")...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, r.stderr)
	got, m := received(t, srv)
	assert.Equal(t, "alice@example.com", got.From)
	assert.Equal(t, []string{"bob@example.org", "carol@example.net"}, got.To)
	assert.Equal(t, "Alice <alice@example.com>", m.Header.Get("From"))
	assert.Equal(t, "bob@example.org, carol@example.net", m.Header.Get("To"))
	assert.Equal(t, "Hello", m.Header.Get("Subject"))
	assert.NotEmpty(t, m.Header.Get("Message-ID"))
	assert.NotEmpty(t, m.Header.Get("Date"))
	assert.True(t, strings.HasSuffix(string(got.Data), "\r\n\r\nHi there.\r\nBye.\r\n"), string(got.Data))
	assert.Equal(t, "sent "+itoa(len(got.Data))+" bytes to "+srv.Addr+" for 2 of 2 recipients: 250 2.0.0 Ok: queued as "+got.ID+"\n", r.stdout)
}

func TestSendBodySources(t *testing.T) {
	file := writeFile(t, "body.txt", "from a file\n")
	tests := []struct {
		name, body, stdin, want string
	}{
		{"text", "as given", "", "as given\r\n"},
		{"file", "@" + file, "", "from a file\r\n"},
		{"stdin", "-", "from stdin\n", "from stdin\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.NewServer(t)
			h := newHarness()
			h.stdin = tt.stdin
			r := h.run(t, sendArgs(srv, "--body", tt.body)...)
			require.Equal(t, 0, r.code, r.stderr)
			got, _ := received(t, srv)
			assert.True(t, strings.HasSuffix(string(got.Data), "\r\n\r\n"+tt.want), string(got.Data))
		})
	}
}

func TestSendHeaders(t *testing.T) {
	srv := smtptest.NewServer(t)
	r := run1(t, sendArgs(srv, "--subject", "old",
		"--header", "Subject: new", "--header", "X-Tag: one", "--header", "X-Tag: two",
		"--header", "To: list@example.org")...)
	require.Equal(t, 0, r.code, r.stderr)
	got, m := received(t, srv)
	assert.Equal(t, "new", m.Header.Get("Subject"))
	assert.Equal(t, []string{"one", "two"}, m.Header["X-Tag"])
	// --to is the envelope; --header changed only what the header says.
	assert.Equal(t, "list@example.org", m.Header.Get("To"))
	assert.Equal(t, []string{"bob@example.org"}, got.To)
}

func TestSendEML(t *testing.T) {
	const eml = "From: Carol <carol@example.com>\r\nTo: dave@example.org\r\nCc: erin@example.org\r\n" +
		"Bcc: frank@example.org\r\nSubject: ready\r\n\r\nready-made body\r\n"
	file := writeFile(t, "m.eml", eml)

	t.Run("envelope from the header", func(t *testing.T) {
		srv := smtptest.NewServer(t)
		r := run1(t, "send", "--server", srv.Addr, "--eml", file)
		require.Equal(t, 0, r.code, r.stderr)
		got := srv.Messages()[0]
		assert.Equal(t, "carol@example.com", got.From)
		assert.Equal(t, []string{"dave@example.org", "frank@example.org", "erin@example.org"}, got.To)
		// Sent as it is, but without its Bcc field.
		assert.Equal(t, strings.Replace(eml, "Bcc: frank@example.org\r\n", "", 1), string(got.Data))
		assert.Equal(t, "sent "+itoa(len(eml))+" bytes to "+srv.Addr+": 250 2.0.0 Ok: queued as "+got.ID+"\n", r.stdout)
	})
	t.Run("envelope from the flags, message from stdin", func(t *testing.T) {
		srv := smtptest.NewServer(t)
		h := newHarness()
		h.stdin = eml
		r := h.run(t, "send", "--server", srv.Addr, "--eml", "-", "--from", "bounce@example.com", "--to", "x@example.org")
		require.Equal(t, 0, r.code, r.stderr)
		got := srv.Messages()[0]
		assert.Equal(t, "bounce@example.com", got.From)
		assert.Equal(t, []string{"x@example.org"}, got.To)
	})
}

func TestSendBadInput(t *testing.T) {
	srv := smtptest.NewServer(t)
	bad := writeFile(t, "bad.eml", "no colon here\r\n\r\nbody\r\n")
	noFrom := writeFile(t, "nofrom.eml", "To: b@example.org\r\n\r\nbody\r\n")
	noTo := writeFile(t, "noto.eml", "From: a@example.org\r\n\r\nbody\r\n")
	undisclosed := writeFile(t, "undisclosed.eml", "From: a@example.org\r\nTo: undisclosed-recipients:;\r\n\r\nbody\r\n")
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"no --to", []string{"send", "--server", srv.Addr, "--from", "a@example.com"},
			"missing --to: say who gets the message"},
		{"no --from", []string{"send", "--server", srv.Addr, "--to", "b@example.com"},
			"missing --from: say who sends the message"},
		{"unreadable body", sendArgs(srv, "--body", "@/nonexistent/body.txt"),
			"--body: open /nonexistent/body.txt: no such file or directory"},
		{"unreadable attachment", sendArgs(srv, "--attach", "/nonexistent/a.pdf"),
			"--attach: open /nonexistent/a.pdf: no such file or directory"},
		{"unreadable eml", []string{"send", "--server", srv.Addr, "--eml", "/nonexistent/m.eml"},
			"--eml: open /nonexistent/m.eml: no such file or directory"},
		{"bad eml", []string{"send", "--server", srv.Addr, "--eml", bad},
			"--eml " + bad + ": message header line 1: "},
		{"eml without From", []string{"send", "--server", srv.Addr, "--eml", noFrom},
			"missing --from: " + noFrom + " has no From or Sender field"},
		{"eml without To", []string{"send", "--server", srv.Addr, "--eml", noTo},
			"missing --to: " + noTo + " has no To, Cc or Bcc field"},
		{"header with a newline", sendArgs(srv, "--header", "X-A: one\nX-B: two"),
			"--header X-A: the value holds a line break; give each field its own --header"},
		{"header without a colon", sendArgs(srv, "--header", "X-A one"),
			`--header "X-A one": want "Name: value"`},
		{"header name with a space", sendArgs(srv, "--header", "X A: one"),
			`--header "X A: one": the field name may hold only printable ASCII characters without spaces`},
		{"tls and starttls", sendArgs(srv, "--tls", "--starttls"),
			"--tls and --starttls exclude each other"},
		{"eml and subject", []string{"send", "--eml", bad, "--subject", "x"},
			"--eml sends the file as it is: --subject does not apply"},
		{"stdin twice", sendArgs(srv, "--body", "-", "--html", "-"),
			"only one of --eml, --body and --html can read standard input"},
		{"password file without user", sendArgs(srv, "--password-file", bad),
			"--password-file needs --user"},
		{"user without password", sendArgs(srv, "--user", "alice"),
			"--user alice needs a password: set SMTP_PASSWORD, give --password-file, or run on a terminal to be asked"},
		{"positional argument", []string{"send", "mail.example.com"},
			`unexpected argument "mail.example.com" (the server is --server HOST[:PORT])`},
		{"bad address", sendArgs(srv, "--to", "x@example.org\r\nRSET"),
			""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run1(t, tt.args...)
			assert.Equal(t, exitUsage, r.code)
			require.Equal(t, 1, strings.Count(r.stderr, "\n"), r.stderr)
			assert.True(t, strings.HasPrefix(r.stderr, "smtp: "+tt.stderr), r.stderr)
		})
	}
	assert.Empty(t, srv.Messages())

	// An empty group is one empty recipient, as in Python, which the
	// server refuses.
	r := run1(t, "send", "--server", srv.Addr, "--eml", undisclosed)
	assert.Equal(t, exitRefused, r.code)
	assert.Equal(t, "smtp: sending to "+srv.Addr+": every recipient was refused\n"+
		`smtp: refused "": 501 5.5.4 Syntax: RCPT TO:<address>`+"\n", r.stderr)
}

func TestSendSwaksSpellings(t *testing.T) {
	srv := submission(t)
	h := newHarness()
	h.env["SMTP_PASSWORD"] = "s3cret"
	r := h.run(t, "send", "-s", srv.Addr, "-f", "alice@example.com", "-t", "bob@example.org", "-t", "carol@example.org",
		"--starttls", "--cafile", caFile(t, srv), "-au", "alice", "-ap")
	require.Equal(t, 0, r.code, r.stderr)
	got, _ := received(t, srv)
	assert.Equal(t, "alice@example.com", got.From)
	assert.Equal(t, []string{"bob@example.org", "carol@example.org"}, got.To)
	assert.Equal(t, "alice", got.AuthUser)

	h.env = map[string]string{}
	h.terminal, h.typed = true, "s3cret"
	r = h.run(t, "send", "--server", srv.Addr, "--from", "alice@example.com", "--to", "bob@example.org",
		"--starttls", "--cafile", caFile(t, srv), "--auth-user", "alice", "--auth-password")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "Password for alice: \n", r.stderr, "-ap asks when SMTP_PASSWORD is not set")
}

func TestSendPasswordFlag(t *testing.T) {
	const ways = ": a password is never given as a flag, where any user of the machine could read it; " +
		"set SMTP_PASSWORD, give --password-file FILE, or give -ap (or just --user) to be asked on the terminal\n"
	tests := []struct {
		args []string
		flag string
	}{
		{[]string{"--password", "s3cret"}, "--password"},
		{[]string{"--password=s3cret"}, "--password"},
		{[]string{"-pass", "s3cret"}, "-pass"},
		{[]string{"--pw", "s3cret"}, "--pw"},
		{[]string{"-ap", "s3cret"}, "-ap"},
		{[]string{"--auth-password", "s3cret"}, "--auth-password"},
		{[]string{"--ap=s3cret"}, "--ap"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := run1(t, append([]string{"send", "-f", "a@example.com", "-t", "b@example.org", "-au", "alice"}, tt.args...)...)
			assert.Equal(t, exitUsage, r.code)
			assert.Equal(t, "smtp: "+tt.flag+ways, r.stderr)
		})
	}
	r := run1(t, "send", "-f", "a@example.com", "-t", "b@example.org", "-ap")
	assert.Equal(t, exitUsage, r.code)
	assert.Equal(t, "smtp: -ap needs --user (-au): say who logs in\n", r.stderr)
	r = run1(t, "send", "-f", "a@example.com", "-t", "b@example.org", "-au", "alice", "-ap", "--password-file", "pw")
	assert.Equal(t, exitUsage, r.code)
	assert.Equal(t, "smtp: -ap and --password-file exclude each other: -ap takes SMTP_PASSWORD or asks\n", r.stderr)
}

func TestSendDefaults(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		subject     string // "" for a test of the date
		body        string
		wantDefault bool
	}{
		{"none given", nil, "", "This is a test mailing\r\n", true},
		{"subject given", []string{"--subject", "Hello"}, "Hello", "This is a test mailing\r\n", false},
		{"empty subject kept", []string{"--subject", "", "--body", "x"}, "", "x\r\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.NewServer(t)
			h := newHarness()
			r := h.run(t, append([]string{"send", "-s", srv.Addr, "-f", "a@example.com", "-t", "b@example.org"}, tt.args...)...)
			require.Equal(t, 0, r.code, r.stderr)
			got, m := received(t, srv)
			if tt.wantDefault {
				subject := m.Header.Get("Subject")
				require.True(t, strings.HasPrefix(subject, "test "), subject)
				date, err := time.Parse(time.RFC1123Z, strings.TrimPrefix(subject, "test "))
				require.NoError(t, err, "swaks's subject is test and the date")
				assert.WithinDuration(t, h.base, date, time.Minute)
			} else {
				assert.Equal(t, tt.subject, m.Header.Get("Subject"))
			}
			assert.True(t, strings.HasSuffix(string(got.Data), "\r\n\r\n"+tt.body), string(got.Data))
		})
	}
}
