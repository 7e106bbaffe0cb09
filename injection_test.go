package smtplib

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/emersion/go-sasl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

// namedClient is a SASL client whose Start names any mechanism, so that a
// test can pass a hostile name through Auth's empty-mechanism path.
type namedClient struct{ name string }

func (c namedClient) Start() (string, []byte, error) { return c.name, nil, nil }
func (c namedClient) Next([]byte) ([]byte, error)    { return nil, nil }

// TestInjectionRefusedBeforeWrite passes a CR, LF or NUL (or, for an
// option or a mechanism, a space) in every value a caller hands to a
// command. Each row's property: the call fails with a *CommandError, which
// is not an ErrSMTP (the caller's mistake, as Python's ValueError);
// nothing at all reaches the server after the EHLO; and the session is
// untouched, so a NOOP that follows is the only thing the server reads.
func TestInjectionRefusedBeforeWrite(t *testing.T) {
	plain := func() sasl.Client { return sasl.NewPlainClient("", "user", "pass") }
	reply := func(_ Reply, err error) error { return err }
	tests := []struct {
		name string
		call func(c *SMTP) error
	}{
		{"MAIL sender with CRLF", func(c *SMTP) error { return reply(c.Mail("a@example.com\r\nRCPT TO:<x@example.com>")) }},
		{"MAIL sender with LF", func(c *SMTP) error { return reply(c.Mail("a@example.com\nRSET")) }},
		{"MAIL sender with CR", func(c *SMTP) error { return reply(c.Mail("a@example.com\rRSET")) }},
		{"MAIL sender with NUL", func(c *SMTP) error { return reply(c.Mail("a@example.com\x00")) }},
		{"MAIL sender CRLF inside quotes", func(c *SMTP) error { return reply(c.Mail("\"a\r\nRSET\"@example.com")) }},
		{"MAIL option with CRLF", func(c *SMTP) error { return reply(c.Mail("a@example.com", "BODY=8BITMIME\r\nRSET")) }},
		{"MAIL option with NUL", func(c *SMTP) error { return reply(c.Mail("a@example.com", "BODY=8BITMIME\x00")) }},
		{"MAIL option with a space adds a parameter", func(c *SMTP) error { return reply(c.Mail("a@example.com", "BODY=8BITMIME RET=FULL")) }},
		{"MAIL option with a tab", func(c *SMTP) error { return reply(c.Mail("a@example.com", "BODY=8BITMIME\tRET=FULL")) }},
		{"MAIL option empty", func(c *SMTP) error { return reply(c.Mail("a@example.com", "")) }},
		{"RCPT recipient with CRLF", func(c *SMTP) error { return reply(c.Rcpt("b@example.com\r\nDATA")) }},
		{"RCPT recipient with LF", func(c *SMTP) error { return reply(c.Rcpt("b@example.com\nDATA")) }},
		{"RCPT recipient with CR", func(c *SMTP) error { return reply(c.Rcpt("b@example.com\rDATA")) }},
		{"RCPT recipient with NUL", func(c *SMTP) error { return reply(c.Rcpt("b\x00@example.com")) }},
		{"RCPT option with CRLF", func(c *SMTP) error { return reply(c.Rcpt("b@example.com", "NOTIFY=NEVER\r\nDATA")) }},
		{"RCPT option with LF", func(c *SMTP) error { return reply(c.Rcpt("b@example.com", "NOTIFY=NEVER\nDATA")) }},
		{"RCPT option with a space adds a parameter", func(c *SMTP) error {
			return reply(c.Rcpt("b@example.com", "NOTIFY=NEVER ORCPT=rfc822;x@example.com"))
		}},
		{"EHLO name with CRLF", func(c *SMTP) error { return reply(c.Ehlo("client.example\r\nRSET")) }},
		{"EHLO name with NUL", func(c *SMTP) error { return reply(c.Ehlo("client.example\x00")) }},
		{"HELO name with LF", func(c *SMTP) error { return reply(c.Helo("client.example\nRSET")) }},
		{"HELO name with CR", func(c *SMTP) error { return reply(c.Helo("client.example\rRSET")) }},
		{"LocalHostname with CRLF", func(c *SMTP) error {
			c.LocalHostname = "client.example\r\nRSET"
			defer func() { c.LocalHostname = "client.example" }()
			return reply(c.Ehlo(""))
		}},
		{"AUTH mechanism with CRLF", func(c *SMTP) error { return reply(c.Auth("PLAIN\r\nRSET", plain(), true)) }},
		{"AUTH mechanism with NUL", func(c *SMTP) error { return reply(c.Auth("PLAIN\x00", plain(), true)) }},
		{"AUTH mechanism with a space", func(c *SMTP) error { return reply(c.Auth("PLAIN =", plain(), true)) }},
		{"AUTH mechanism named by the object with CRLF", func(c *SMTP) error {
			return reply(c.Auth("", namedClient{"X-MECH\r\nRSET"}, true))
		}},
		{"DoCmd argument with CRLF", func(c *SMTP) error { return reply(c.DoCmd("noop", "x\r\nRSET")) }},
		{"DoCmd argument with LF", func(c *SMTP) error { return reply(c.DoCmd("noop", "x\nRSET")) }},
		{"DoCmd argument with CR", func(c *SMTP) error { return reply(c.DoCmd("noop", "x\rRSET")) }},
		{"DoCmd argument with NUL", func(c *SMTP) error { return reply(c.DoCmd("noop", "x\x00")) }},
		{"DoCmd verb with CRLF", func(c *SMTP) error { return reply(c.DoCmd("noop\r\nRSET", "")) }},
		{"PutCmd argument with CRLF", func(c *SMTP) error { return c.PutCmd("noop", "x\r\nRSET") }},
		{"HELP argument with CRLF", func(c *SMTP) error { _, err := c.Help("DATA\r\nRSET"); return err }},
		{"VRFY address with CRLF", func(c *SMTP) error { return reply(c.Verify("a@example.com\r\nRSET")) }},
		{"VRFY address with LF", func(c *SMTP) error { return reply(c.Verify("a@example.com\nRSET")) }},
		{"VRFY address with CR", func(c *SMTP) error { return reply(c.Verify("a@example.com\rRSET")) }},
		{"VRFY address with NUL", func(c *SMTP) error { return reply(c.Verify("a@example.com\x00")) }},
		{"EXPN address with CRLF", func(c *SMTP) error { return reply(c.Expn("list@example.com\r\nRSET")) }},
		{"EXPN address with LF", func(c *SMTP) error { return reply(c.Expn("list@example.com\nRSET")) }},
		{"EXPN address with NUL", func(c *SMTP) error { return reply(c.Expn("list\x00@example.com")) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.NewServer(t)
			c := robustDial(t, srv)
			_, err := c.Ehlo("")
			require.NoError(t, err)
			before := srv.Transcript()

			err = tt.call(c)

			var ce *CommandError
			require.ErrorAs(t, err, &ce)
			assert.NotErrorIs(t, err, ErrSMTP, "a caller's mistake, not the server's")
			r, err := c.Noop()
			require.NoError(t, err, "the connection stays usable")
			assert.Equal(t, 250, r.Code)
			assert.Equal(t, before+"C: noop\nS: 250 2.0.0 Ok\n", srv.Transcript(), "nothing but the NOOP was written")
		})
	}
}

// TestInjectionSendmailRefusedBeforeWrite does the same for Sendmail and
// SendmailReader in every mode: every address and option is checked before
// the first byte of the transaction, pipelined or not.
func TestInjectionSendmailRefusedBeforeWrite(t *testing.T) {
	const ok = "ok@example.com"
	tests := []struct {
		name              string
		from              string
		to                []string
		mailOpts, rcptOps []string
	}{
		{name: "sender with CRLF", from: "a@example.com\r\nRCPT TO:<x@example.com>", to: []string{ok}},
		{name: "sender with NUL", from: "a@example.com\x00", to: []string{ok}},
		{name: "second recipient with LF", from: ok, to: []string{ok, "b@example.com\nDATA"}},
		{name: "last recipient with CR", from: ok, to: []string{ok, ok, "c@example.com\rRSET"}},
		{name: "recipient that is no path", from: ok, to: []string{ok, "<<a>>"}},
		{name: "mail option with CRLF", from: ok, to: []string{ok}, mailOpts: []string{"BODY=8BITMIME\r\nRSET"}},
		{name: "mail option with a space", from: ok, to: []string{ok}, mailOpts: []string{"BODY=8BITMIME RET=FULL"}},
		{name: "rcpt option with CRLF", from: ok, to: []string{ok}, rcptOps: []string{"NOTIFY=NEVER\r\nDATA"}},
		{name: "rcpt option with NUL", from: ok, to: []string{ok}, rcptOps: []string{"NOTIFY=NEVER\x00"}},
		{name: "rcpt option with a space", from: ok, to: []string{ok}, rcptOps: []string{"NOTIFY=NEVER ORCPT=rfc822;x"}},
	}
	senders := []struct {
		name string
		send func(c *SMTP, from string, to []string, mo, ro []string) (map[string]Reply, error)
	}{
		{"[]byte", func(c *SMTP, from string, to []string, mo, ro []string) (map[string]Reply, error) {
			return c.Sendmail(from, to, []byte("Subject: x\r\n\r\nbody\r\n"), MailOptions(mo...), RcptOptions(ro...))
		}},
		{"io.Reader", func(c *SMTP, from string, to []string, mo, ro []string) (map[string]Reply, error) {
			return c.SendmailReader(from, to, strings.NewReader("Subject: x\r\n\r\nbody\r\n"), MailOptions(mo...), RcptOptions(ro...))
		}},
	}
	for _, mode := range robustModes {
		for _, snd := range senders {
			for _, tt := range tests {
				t.Run(mode.name+"/"+snd.name+"/"+tt.name, func(t *testing.T) {
					srv := smtptest.NewServer(t, smtptest.WithExtensions(mode.ext...))
					c := robustDial(t, srv)
					_, err := c.Ehlo("")
					require.NoError(t, err)
					before := srv.Transcript()

					refused, err := snd.send(c, tt.from, tt.to, tt.mailOpts, tt.rcptOps)

					assert.Nil(t, refused)
					var ce *CommandError
					require.ErrorAs(t, err, &ce)
					r, err := c.Noop()
					require.NoError(t, err, "the connection stays usable")
					assert.Equal(t, 250, r.Code)
					assert.Equal(t, before+"C: noop\nS: 250 2.0.0 Ok\n", srv.Transcript(), "nothing but the NOOP was written")
				})
			}
		}
	}
}

// pathReaders are ways in which servers find the end of the path in the
// argument of MAIL or RCPT (arg starts with '<'); each returns the index of
// the '>' that closes it, or -1. An address is only safe if every one of
// them reads the same single path, ending at the last byte: a client
// that quotes for one parser and a server that reads with another is how
// a parameter gets smuggled.
var pathReaders = []struct {
	name string
	end  func(arg string) int
}{
	// smtptest's reader (and RFC 5322's lenient one): a quoted string may
	// start anywhere, and backslash escapes only inside it.
	{"quotes anywhere", func(s string) int {
		quoted := false
		for i := 1; i < len(s); i++ {
			switch {
			case quoted && s[i] == '\\':
				i++
			case s[i] == '"':
				quoted = !quoted
			case !quoted && s[i] == '>':
				return i
			}
		}
		return -1
	}},
	// A tokenizer in the manner of Postfix's, for which a backslash quotes
	// the next character everywhere, not only in a quoted string.
	{"backslash escapes anywhere", func(s string) int {
		quoted := false
		for i := 1; i < len(s); i++ {
			switch {
			case s[i] == '\\':
				i++
			case s[i] == '"':
				quoted = !quoted
			case !quoted && s[i] == '>':
				return i
			}
		}
		return -1
	}},
	// RFC 5321 section 4.1.2 read strictly: after an optional source
	// route, a Quoted-string can only be the whole local part, so a quote
	// anywhere else is an ordinary (invalid) character, and the first
	// '>' outside the quoted local part ends the path.
	{"quoted local part only (RFC 5321)", func(s string) int {
		i := 1
		if i < len(s) && s[i] == '@' {
			if j := strings.IndexByte(s, ':'); j > 0 && j < strings.IndexByte(s, '>') {
				i = j + 1
			}
		}
		if i < len(s) && s[i] == '"' {
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' {
					i++
				}
			}
			i++
		}
		if k := strings.IndexByte(s[min(i, len(s)):], '>'); k >= 0 {
			return min(i, len(s)) + k
		}
		return -1
	}},
}

// onePathForAll returns the names of the path readers that do not read q
// (a path in angle brackets) as one path with nothing after it.
func onePathForAll(q string) []string {
	var bad []string
	for _, r := range pathReaders {
		if !strings.HasPrefix(q, "<") || r.end(q) != len(q)-1 {
			bad = append(bad, r.name)
		}
	}
	return bad
}

// TestInjectionAddressQuoting sends addresses that hold a '>' or white
// space, the characters that end a path and start a parameter. The
// property of each row: the address is either refused with a
// *CommandError before anything is written, or sent as one path that
// every path reader above reads whole, with no parameter after it; and
// the server's parsed address is the row's want, with no parameters, as
// sender and as recipient alike.
func TestInjectionAddressQuoting(t *testing.T) {
	tests := []struct {
		name       string
		addr       string
		want       string // the address the server parses; "" means refused
		regression string // a known bug, for which the row is skipped
	}{
		{name: "quoted local part holding '>' and a parameter",
			addr: `"x> ORCPT=rfc822;y"@example.com`, want: `"x> ORCPT=rfc822;y"@example.com`},
		{name: "quoted local part with an escaped '>'",
			addr: `"a\> b"@example.com`, want: `"a> b"@example.com`},
		{name: "'>' then a parameter: the parser keeps the address only",
			addr: `a@example.com> NOTIFY=NEVER`, want: `a@example.com`},
		{name: "bracketed path then a parameter",
			addr: `<a@example.com> NOTIFY=NEVER`, want: `a@example.com`},
		{name: "bracketed path then text",
			addr: `<a@example.com>x`, want: `a@example.com`},
		{name: "space then a parameter: the parser joins the words",
			addr: `a@example.com NOTIFY=NEVER`, want: `a@example.comNOTIFY=NEVER`},
		{name: "comment holding '>'",
			addr: `a@example.com (c> NOTIFY=NEVER)`, want: `a@example.com`},
		{name: "display name and a list",
			addr: `Name <a@example.com> , <c@example.com>`, want: `a@example.com`},
		{name: "nested brackets", addr: `<<a@example.com>>`},
		{name: "nested brackets with a parameter", addr: `<<a@example.com> NOTIFY=NEVER>`},
		{name: "display name and a space in the address", addr: `"a b" <c d@example.com>`},
		{name: "space in the local part", addr: `a b@example.com`},
		{name: "tab in the local part", addr: "a\tb@example.com"},
		{name: "'>' in an address literal", addr: `a@[192.0.2.1> NOTIFY=NEVER]`},
		{name: "quote in the middle of the local part", addr: `a"b> NOTIFY=NEVER"@example.com`,
			regression: "a quote that does not start the local part is taken as quoting by safeQuoteAddr's onePath only"},
		{name: "quoted word after a dot", addr: `a."b> NOTIFY=NEVER"@example.com`,
			regression: "a quote that does not start the local part is taken as quoting by safeQuoteAddr's onePath only"},
		{name: "quoted domain", addr: `a@"b> NOTIFY=NEVER"`,
			regression: "a domain cannot be quoted, but onePath lets quotes in it hide a '>'"},
		{name: "backslash before a quote outside quotes", addr: `\"a@example.com> NOTIFY=NEVER"@example.com`,
			regression: "a backslash outside quotes escapes the quote for some servers, so the '>' ends the path there"},
	}
	roles := []struct {
		name string
		send func(c *SMTP, addr string) (map[string]Reply, error)
		got  func(m smtptest.Message) (string, []string)
	}{
		{"sender", func(c *SMTP, addr string) (map[string]Reply, error) {
			return c.Sendmail(addr, []string{"ok@example.com"}, []byte("x\r\n"))
		}, func(m smtptest.Message) (string, []string) { return m.From, m.MailOptions }},
		{"recipient", func(c *SMTP, addr string) (map[string]Reply, error) {
			return c.Sendmail("ok@example.com", []string{addr}, []byte("x\r\n"))
		}, func(m smtptest.Message) (string, []string) {
			if len(m.To) != 1 {
				return strings.Join(m.To, ","), nil
			}
			return m.To[0], m.RcptOptions[0]
		}},
	}
	for _, tt := range tests {
		for _, role := range roles {
			t.Run(tt.name+"/"+role.name, func(t *testing.T) {
				q, qerr := safeQuoteAddr(tt.addr)
				if qerr == nil {
					assert.Empty(t, onePathForAll(q), "%s must be one path for every reader", q)
				}

				srv := smtptest.NewServer(t, smtptest.WithExtensions("8BITMIME", "PIPELINING"))
				c := robustDial(t, srv)
				_, err := c.Ehlo("")
				require.NoError(t, err)
				before := srv.Transcript()
				refused, err := role.send(c, tt.addr)

				if tt.want == "" {
					var ce *CommandError
					require.ErrorAs(t, err, &ce)
					assert.Error(t, qerr)
					_, err = c.Noop()
					require.NoError(t, err)
					assert.Equal(t, before+"C: noop\nS: 250 2.0.0 Ok\n", srv.Transcript(), "refused before writing")
					return
				}
				require.NoError(t, err)
				assert.Empty(t, refused)
				msgs := srv.Messages()
				require.Len(t, msgs, 1)
				addr, params := role.got(msgs[0])
				assert.Equal(t, tt.want, addr, "the server's parsed address")
				assert.Empty(t, params, "no parameter reached the server")
				assert.Equal(t, "<"+tt.want+">", q)
			})
		}
	}
}

// TestInjectionDataBody sends bodies that hold, or end with, what would end
// the data early if sent as is. The property of each row: in every mode,
// from a []byte, from an io.Reader that gives one byte at a time (so every
// CR, LF and period falls on a read boundary) and through Data, exactly one
// message arrives, its data is the body with every lone CR and LF made
// CRLF (and a final CRLF added), and nothing in it was read as a command.
func TestInjectionDataBody(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{"lone LF", "a\nb", "a\r\nb\r\n"},
		{"lone CR", "a\rb", "a\r\nb\r\n"},
		{"LF dot LF in the middle", "a\n.\nRSET\nMAIL FROM:<evil@example.com>\n", "a\r\n.\r\nRSET\r\nMAIL FROM:<evil@example.com>\r\n"},
		{"CR dot CR in the middle", "a\r.\rQUIT\r", "a\r\n.\r\nQUIT\r\n"},
		{"CRLF dot CRLF in the middle", "a\r\n.\r\nMAIL FROM:<evil@example.com>\r\nRCPT TO:<x@example.com>\r\nDATA\r\n",
			"a\r\n.\r\nMAIL FROM:<evil@example.com>\r\nRCPT TO:<x@example.com>\r\nDATA\r\n"},
		{"LF dot CRLF", "a\n.\r\nQUIT\r\n", "a\r\n.\r\nQUIT\r\n"},
		{"CR dot LF", "a\r.\nQUIT\n", "a\r\n.\r\nQUIT\r\n"},
		{"CR CR LF dot", "a\r\r\n.\r\nx", "a\r\n\r\n.\r\nx\r\n"},
		{"LF CR dot", "a\n\r.\n\r", "a\r\n\r\n.\r\n\r\n"},
		{"ends in CRLF dot", "a\r\n.", "a\r\n.\r\n"},
		{"ends in LF dot", "a\n.", "a\r\n.\r\n"},
		{"ends in CR dot", "a\r.", "a\r\n.\r\n"},
		{"ends in CRLF dot CR", "a\r\n.\r", "a\r\n.\r\n"},
		{"ends in CRLF dot CRLF", "a\r\n.\r\n", "a\r\n.\r\n"},
		{"only a dot", ".", ".\r\n"},
		{"only dot CRLF", ".\r\n", ".\r\n"},
		{"starts with dot CRLF", ".\r\nQUIT\r\n", ".\r\nQUIT\r\n"},
		{"two dots", "..\r\n..", "..\r\n..\r\n"},
		{"empty", "", "\r\n"},
		{"NUL and high bytes", "a\x00b\xff\r\n\x00.\r\n", "a\x00b\xff\r\n\x00.\r\n"},
		{"a BDAT command in the body", "BDAT 5 LAST\r\nRSET\r\n", "BDAT 5 LAST\r\nRSET\r\n"},
	}
	sources := []struct {
		name string
		send func(c *SMTP, body string) error
	}{
		{"Sendmail []byte", func(c *SMTP, body string) error {
			_, err := c.Sendmail("a@example.com", []string{"b@example.com"}, []byte(body))
			return err
		}},
		{"SendmailReader one byte at a time", func(c *SMTP, body string) error {
			_, err := c.SendmailReader("a@example.com", []string{"b@example.com"},
				iotest.OneByteReader(strings.NewReader(body)))
			return err
		}},
		{"SendmailReader in one read", func(c *SMTP, body string) error {
			_, err := c.SendmailReader("a@example.com", []string{"b@example.com"},
				io.MultiReader(strings.NewReader(body)))
			return err
		}},
		{"Data", func(c *SMTP, body string) error {
			if err := c.EhloOrHeloIfNeeded(); err != nil {
				return err
			}
			if r, err := c.Mail("a@example.com"); err != nil || r.Code != 250 {
				return errors.Join(err, &SenderRefusedError{respErr(r), "a@example.com"})
			}
			if r, err := c.Rcpt("b@example.com"); err != nil || r.Code != 250 {
				return errors.Join(err, &RecipientsRefusedError{Recipients: map[string]Reply{"b@example.com": r}})
			}
			r, err := c.Data([]byte(body))
			if err == nil && r.Code != 250 {
				return &DataError{respErr(r)}
			}
			return err
		}},
	}
	for _, mode := range robustModes {
		for _, src := range sources {
			for _, tt := range tests {
				t.Run(mode.name+"/"+src.name+"/"+tt.name, func(t *testing.T) {
					srv := smtptest.NewServer(t, smtptest.WithExtensions(mode.ext...))
					c := robustDial(t, srv)

					require.NoError(t, src.send(c, tt.body))
					_, err := c.Quit()
					require.NoError(t, err)
					require.NoError(t, srv.WaitSessions(1, robustWait))

					msgs := srv.Messages()
					require.Len(t, msgs, 1, "one message")
					assert.Equal(t, tt.want, string(msgs[0].Data), "the body arrived as text")
					chunked := strings.Contains(mode.name, "chunking") && src.name != "Data"
					assert.Equal(t, chunked, msgs[0].Chunked)
					if !msgs[0].Chunked {
						assert.True(t, bytes.HasSuffix(msgs[0].Raw, []byte("\r\n.\r\n")))
						assert.Equal(t, 1, bytes.Count(append([]byte("\r\n"), msgs[0].Raw...), []byte("\r\n.\r\n")),
							"one end of data on the wire")
					}
					cmds := 0
					for _, l := range strings.Split(srv.Transcript(), "\n") {
						if strings.HasPrefix(l, "C: ") && !strings.HasPrefix(l, "C: <") {
							cmds++
						}
					}
					wantCmds := 5 // EHLO, MAIL, RCPT, DATA or BDAT, QUIT
					assert.Equal(t, wantCmds, cmds, "no command came from the body:\n%s", srv.Transcript())
				})
			}
		}
	}
}

// TestInjectionErrorTextEscaped checks the text of the refusals: a
// CommandError names the offending line with CR, LF and NUL escaped, so
// that logging the error cannot forge log lines either.
func TestInjectionErrorTextEscaped(t *testing.T) {
	tests := []struct {
		name       string
		call       func(c *SMTP) error
		regression string
	}{
		{"PutCmd", func(c *SMTP) error { return c.PutCmd("noop", "x\r\nFORGED: line\x00") }, ""},
		{"Mail sender", func(c *SMTP) error { _, err := c.Mail("a@example.com\r\nFORGED: line"); return err }, ""},
		{"Rcpt option", func(c *SMTP) error { _, err := c.Rcpt("b@example.com", "X=1\r\nFORGED: line"); return err }, ""},
		{"Ehlo name", func(c *SMTP) error { _, err := c.Ehlo("client\r\nFORGED: line"); return err }, ""},
		{"Sendmail recipient", func(c *SMTP) error {
			_, err := c.Sendmail("a@example.com", []string{"b@example.com\nFORGED: line"}, []byte("x"))
			return err
		}, ""},
		{"Auth mechanism", func(c *SMTP) error {
			_, err := c.Auth("PLAIN\r\nFORGED: line", sasl.NewPlainClient("", "u", "p"), true)
			return err
		}, "Auth's CommandError for an invalid mechanism name quotes the name raw (auth.go, the validMechanism check)"},
		{"Auth mechanism named by the object", func(c *SMTP) error {
			_, err := c.Auth("", namedClient{"X\nFORGED: line"}, true)
			return err
		}, "Auth's CommandError for an invalid mechanism name quotes the name raw (auth.go, the validMechanism check)"},
	}
	srv := smtptest.NewServer(t)
	c := robustDial(t, srv)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call(c)
			var ce *CommandError
			require.ErrorAs(t, err, &ce)
			assert.NotContains(t, err.Error(), "\r")
			assert.NotContains(t, err.Error(), "\n")
			assert.NotContains(t, err.Error(), "\x00")
			assert.Contains(t, strings.ToUpper(err.Error()), "FORGED: LINE", "the offending value is still shown")
		})
	}
}
