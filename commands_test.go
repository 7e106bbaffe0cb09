package smtplib

import (
	"errors"
	"strings"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

// Tests of the verbs: each one's line and reply, the checks of the
// arguments a caller hands to a command (line breaks, NUL, options that
// would carry a second parameter), and the quoting of addresses into one
// path that every server reads alike.

func TestCommands(t *testing.T) {
	srv := newScriptServer(t, `
		S: 220 hi
		C
		S: 214-help text
		S: 214 end
		C
		S: 250 reset
		C
		S: 250 noop
		C
		S: 252 user
		C
		S: 250-a@example.com
		S: 250 b@example.com
		C
		S: 250 sender ok
		C
		S: 550 no such user
		C
		S: 221 bye`)
	c := dialRaw(t, srv)
	help, err := c.Help("DATA")
	require.NoError(t, err)
	assert.Equal(t, "help text\nend", help)
	c.CommandEncoding = "utf-8"
	r, err := c.Rset()
	require.NoError(t, err)
	assert.Equal(t, Reply{250, "reset"}, r)
	assert.Equal(t, "ascii", c.CommandEncoding, "RSET restores ascii")
	r, err = c.Noop()
	require.NoError(t, err)
	assert.Equal(t, 250, r.Code)
	r, err = c.Verify("Joe User <joe@example.com>")
	require.NoError(t, err)
	assert.Equal(t, 252, r.Code)
	r, err = c.Expn("list")
	require.NoError(t, err)
	assert.Equal(t, "a@example.com\nb@example.com", r.Message)
	// Options are dropped before EHLO: the server does not speak ESMTP.
	r, err = c.Mail("Sender <s@example.com>", "BODY=8BITMIME")
	require.NoError(t, err)
	assert.Equal(t, 250, r.Code)
	r, err = c.Rcpt("nobody@example.com")
	require.NoError(t, err, "a refusal is a reply, not an error")
	assert.Equal(t, Reply{550, "no such user"}, r)
	r, err = c.Quit()
	require.NoError(t, err)
	assert.Equal(t, 221, r.Code)
	assert.NoError(t, c.Close())
	assert.NoError(t, c.Close())
	_, err = c.Noop()
	assert.IsType(t, &ServerDisconnectedError{}, err)
	assert.Equal(t, wire("help DATA", "rset", "noop", "vrfy joe@example.com", "expn list",
		"mail from:<s@example.com>", "rcpt to:<nobody@example.com>", "quit"), srv.received())
}

func TestMailOptionsWithESMTP(t *testing.T) {
	srv := newScriptServer(t, `
		S: 220 hi
		C
		S: 250-hi
		S: 250 SMTPUTF8
		C
		S: 250 ok
		C
		S: 250 ok
		C
		S: 250 ok`)
	c := dialRaw(t, srv)
	_, err := c.Ehlo("")
	require.NoError(t, err)
	_, err = c.Mail("s@example.com", "SMTPUTF8", "BODY=8BITMIME")
	require.NoError(t, err)
	assert.Equal(t, "utf-8", c.CommandEncoding)
	_, err = c.Rcpt("ü@example.com", "NOTIFY=NEVER")
	require.NoError(t, err)
	_, err = c.Rcpt("x@example.com", "NOTIFY=NEVER ORCPT=rfc822;evil")
	assert.IsType(t, &CommandError{}, err, "one option may not carry two")
	for addr, want := range map[string]string{
		"x> NOTIFY=NEVER <y@example.com": "to:<x>",
		"a@b> NOTIFY=NEVER":              "to:<a@b>",
		"<<a>>":                          "",
		`"a b" <c d@e>`:                  "",
		"a@b\x00c":                       "",
		"<a@b>\r\n":                      "",
	} {
		args, err := c.rcptArgs(addr, nil)
		if want == "" {
			assert.IsType(t, &CommandError{}, err, "%q cannot be one path", addr)
		} else {
			assert.Equal(t, want, args, "%q is quoted safely, as smtplib quotes it", addr)
		}
	}
	_, err = c.Rcpt(`"x> ORCPT=rfc822;y"@example.com`)
	require.NoError(t, err, "a quoted local part is one path")
	assert.Equal(t, wire("ehlo client.example", "mail from:<s@example.com> SMTPUTF8 BODY=8BITMIME",
		"rcpt to:<ü@example.com> NOTIFY=NEVER", `rcpt to:<"x> ORCPT=rfc822;y"@example.com>`), srv.received())
}

func TestMailSMTPUTF8NotSupported(t *testing.T) {
	srv := newScriptServer(t, `
		S: 220 hi
		C
		S: 250 hi`)
	c := dialRaw(t, srv)
	_, err := c.Ehlo("")
	require.NoError(t, err)
	_, err = c.Mail("s@example.com", "smtputf8")
	var ns *NotSupportedError
	require.ErrorAs(t, err, &ns)
	assert.Equal(t, "smtplib: SMTPUTF8 not supported by server", ns.Error())
	c.Close()
	assert.Equal(t, wire("ehlo client.example"), srv.received())
}

func TestData(t *testing.T) {
	srv := newScriptServer(t, `
		S: 220 hi
		C
		S: 354 go
		C
		C
		C
		S: 250 queued
		C
		S: 451 not now`)
	c := dialRaw(t, srv)
	r, err := c.Data([]byte(".hidden\nline"))
	require.NoError(t, err)
	assert.Equal(t, Reply{250, "queued"}, r)
	_, err = c.Data([]byte("x"))
	var de *DataError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, 451, de.Code)
	assert.True(t, de.Temporary())
	assert.Equal(t, wire("data", "..hidden", "line", ".", "data"), srv.received())
}

func TestQuoteData(t *testing.T) {
	// Python: smtplib.quotedata(s), which adds no terminator.
	tests := map[string]string{
		"":               "",
		"a\n.b\r.c\r\n":  "a\r\n..b\r\n..c\r\n",
		".":              "..",
		"x\r":            "x\r\n",
		"no newline":     "no newline",
		"\n\n":           "\r\n\r\n",
		"..\r\n...":      "...\r\n....",
		"a\r\r\n\n\r\r.": "a\r\n\r\n\r\n\r\n\r\n..",
	}
	for in, want := range tests {
		assert.Equal(t, want, QuoteData(in), "%q", in)
	}
}

// TestDataDeliveryUnknown checks the plain Data command: a connection lost
// after the final dot leaves the delivery unknown; one lost at DATA, or
// while the body was being written, does not.
func TestDataDeliveryUnknown(t *testing.T) {
	long := []byte(strings.Repeat("a line of a message the server stops reading\r\n", 4000))
	for _, tt := range []struct {
		at      string
		msg     []byte
		unknown bool
	}{{"DOT", []byte("x\r\n"), true}, {"DATA", []byte("x\r\n"), false}, {"DATA_BODY", long, false}} {
		t.Run(tt.at, func(t *testing.T) {
			h := newRawSMTP(t, nil, smtptest.Fault{At: tt.at, Action: smtptest.Drop})
			c := dialRaw(t, newRawPipes(t, h.serve))
			require.NoError(t, c.EhloOrHeloIfNeeded())
			r, err := c.Mail("s@example.com")
			require.NoError(t, err)
			require.Equal(t, 250, r.Code)
			r, err = c.Rcpt("a@example.com")
			require.NoError(t, err)
			require.Equal(t, 250, r.Code)
			_, err = c.Data(tt.msg)
			var sd *ServerDisconnectedError
			require.ErrorAs(t, err, &sd)
			assert.Equal(t, tt.unknown, errors.Is(err, ErrDeliveryUnknown), "%v", err)
			assertClosed(t, c)
		})
	}
}

// TestDataFinalReplyTooLong: a reply to the final dot over the bounds is
// that error, as any reply's, not a lost connection of unknown outcome.
func TestDataFinalReplyTooLong(t *testing.T) {
	srv := newScriptServer(t, "S: 220 hi\nC\nS: 354 go\nC\nC\nS: 250 "+strings.Repeat("x", 9000))
	c := dialRaw(t, srv)
	_, err := c.Data([]byte("x\r\n"))
	assert.Equal(t, ptr(respErr(Reply{500, "Line too long."})), err)
	assert.NotErrorIs(t, err, ErrDeliveryUnknown)
	assert.Equal(t, wire("data", "x", "."), srv.received())
}

// namedClient is a SASL client whose Start names any mechanism, so that a
// test can pass a hostile name through Auth's empty-mechanism path.
type namedClient struct{ name string }

func (c namedClient) Start() (string, []byte, error) { return c.name, nil, nil }

func (c namedClient) Next([]byte) ([]byte, error) { return nil, nil }

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
			c := dialTest(t, srv)
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
				c := dialTest(t, srv)
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

// FuzzQuoteAddr checks safeQuoteAddr, the one gate between a caller's
// address and the MAIL and RCPT lines: it either refuses the address with
// a *CommandError, or returns "<...>" that every path reader above reads
// as one path ending at the last byte, with no
// parameter after it and no line break, NUL or other control character
// that could end or split the command, however strictly the reader
// parses quotes and backslashes.
func FuzzQuoteAddr(f *testing.F) {
	for _, s := range []string{
		"a@example.com", "Name <a@example.com>", `"x> ORCPT=rfc822;y"@example.com`, "a@b> NOTIFY=NEVER",
		"<<a>>", `"a b" <c d@e>`, "a@b NOTIFY=NEVER", `"a\> b"@c`, "<@x,@y:a@b>", "", "<>", `""`,
		`a"b> X=Y"@c`, `a@"b> X=Y"`, `\"a@b> X=Y"@c`, "a@b\r\nRSET", "a\x00@b", "(c> d) a@b", "a@[1.2.3.4> X]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		q, err := safeQuoteAddr(addr)
		if err != nil {
			var ce *CommandError
			require.ErrorAs(t, err, &ce)
			assert.Empty(t, q)
			return
		}
		require.True(t, len(q) >= 2 && q[0] == '<' && q[len(q)-1] == '>', "%q", q)
		for i := 0; i < len(q); i++ {
			require.False(t, q[i] == '\r' || q[i] == '\n' || q[i] == 0, "no line break or NUL in %q", q)
		}
		for _, r := range pathReaders {
			assert.Equal(t, len(q)-1, r.end(q), "%s reads %q as one path", r.name, q)
		}
	})
}
