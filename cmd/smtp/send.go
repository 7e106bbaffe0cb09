package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/gosmtplib/smtplib"
	"github.com/gosmtplib/smtplib/email"
)

const sendUsage = `Usage: smtp send [flags] -f ADDR -t ADDR [-t ADDR ...]

Builds a message from the flags, or takes a ready one with --eml, and
sends it to --server (default localhost): port 25, 587 with --starttls,
465 with --tls. --from and --to are the envelope; they also go into the
header of a built message, unless --header replaces them. With --eml
they are optional and default to the message's own fields. Without
--subject the subject is "test" and the date, and without --body or
--html the body is "This is a test mailing", as swaks sends.

--user logs in; the password comes from the SMTP_PASSWORD environment
variable, from --password-file, or from a prompt on the terminal (-ap
says so, as in swaks); never from a flag, where any user of the machine
could read it.

With --oauth2-token-cmd CMD, --user logs in with OAuth 2.0 instead, as
Gmail and Microsoft 365 require: CMD is run with sh -c at the login, and
prints an access token for the mailbox on stdout, as
"gcloud auth print-access-token" does; its stderr is shown. The token goes
with OAUTHBEARER when the server offers it, else XOAUTH2, and never in
clear text to a host other than this machine's (use --starttls or --tls).

With --dkim-key FILE --dkim-domain D --dkim-selector S the message is
signed with DKIM (RSA or Ed25519, relaxed/relaxed), as Gmail and
Outlook.com require of bulk senders; its List-Unsubscribe fields, given
with --header, are signed too.

swaks users: -t, -f, -s, -au and -ap are spelled as in swaks, and
--tls-on-connect is --tls; but swaks's --tls, STARTTLS, is --starttls.

--body and --html take text, @FILE for a file's contents, or - for
standard input. Exit status: 0 sent to every recipient; 79 sent to some
and refused for others, 69 or 75 refused for all (each refused
recipient is listed on stderr); 64, 69, 75, 78 as for every command
(see smtp help).

Flags:
`

type sendOptions struct {
	connFlags
	server       string
	starttls     bool
	insecure     bool
	user         string
	passwordFile string
	from         string
	to           stringList
	subject      string
	body         string
	html         string
	attach       stringList
	header       stringList
	eml          string
	askPassword  bool
	tokenCmd     string
	dkimFlags
}

func sendFlags() (*flag.FlagSet, *sendOptions) {
	o := &sendOptions{}
	fs := newFlagSet("send")
	fs.StringVar(&o.server, "server", "localhost", "the server, `HOST[:PORT]`")
	fs.BoolVar(&o.starttls, "starttls", false, "switch to TLS with STARTTLS before anything else (port 587 by default)")
	o.register(fs)
	fs.BoolVar(&o.insecure, "insecure", false, "do not verify the server's certificate (for tests only)")
	fs.StringVar(&o.user, "user", "", "log in as `name` (the password is never a flag: see above)")
	fs.StringVar(&o.passwordFile, "password-file", "", "read the password from the first line of `file`")
	fs.StringVar(&o.from, "from", "", "the sender `address`")
	fs.Var(&o.to, "to", "a recipient `address` (repeatable)")
	fs.StringVar(&o.subject, "subject", "", "the subject, as `text`")
	fs.StringVar(&o.body, "body", "", "the plain-text body: `text`, @FILE or -")
	fs.StringVar(&o.html, "html", "", "an HTML body (an alternative to --body): `text`, @FILE or -")
	fs.Var(&o.attach, "attach", "attach `file` (repeatable)")
	fs.Var(&o.header, "header", "add or replace a header field, `\"Name: value\"` (repeatable)")
	fs.StringVar(&o.eml, "eml", "", "send this ready message `file` (- for standard input) instead of building one")
	fs.BoolVar(&o.askPassword, "ap", false, "take the password from SMTP_PASSWORD, or ask for it (swaks's -ap)")
	fs.StringVar(&o.tokenCmd, "oauth2-token-cmd", "", "log in with OAuth 2.0: `command` (run with sh -c) prints the access token")
	fs.StringVar(&o.dkimKey, "dkim-key", "", "sign with DKIM with the PEM private key (RSA or Ed25519) in `file`")
	fs.StringVar(&o.dkimDomain, "dkim-domain", "", "the DKIM signing `domain` (d=), the From address's for DMARC")
	fs.StringVar(&o.dkimSelector, "dkim-selector", "", "the DKIM `selector` (s=): the key is published at selector._domainkey.domain")
	// swaks's spellings.
	alias(fs, "t", "to")
	alias(fs, "f", "from")
	alias(fs, "s", "server")
	alias(fs, "au", "user")
	alias(fs, "auth-user", "user")
	alias(fs, "auth-password", "ap")
	return fs, o
}

// passwordFlags are the flags a user may try for a password, which send
// answers with the ways it takes one.
var passwordFlags = []string{"password", "pass", "pw"}

// checkPasswordFlag refuses a password given on the command line, before
// the flags are parsed, with the ways a password can be given.
func checkPasswordFlag(args []string) error {
	for i, a := range args {
		if a == "--" {
			return nil
		}
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		isPassword := false
		for _, p := range passwordFlags {
			isPassword = isPassword || (strings.HasPrefix(a, "-") && name == p)
		}
		// swaks's "-ap SECRET": -ap takes no value here.
		apValue := (a == "-ap" || a == "--ap" || a == "--auth-password" || a == "-auth-password") &&
			i+1 < len(args) && !strings.HasPrefix(args[i+1], "-")
		if isPassword || apValue || strings.HasPrefix(a, "-ap=") || strings.HasPrefix(a, "--ap=") {
			return usageErrorf("%s: a password is never given as a flag, where any user of the machine could read it; "+
				"set SMTP_PASSWORD, give --password-file FILE, or give -ap (or just --user) to be asked on the terminal",
				strings.SplitN(a, "=", 2)[0])
		}
	}
	return nil
}

// check refuses contradictory or incomplete flags, before any file is
// read or any connection made.
func (o *sendOptions) check(fs *flag.FlagSet) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case o.implicitTLS && o.starttls:
		return usageErrorf("--tls and --starttls exclude each other: --tls is TLS from the start, --starttls switches to it")
	case o.passwordFile != "" && o.user == "":
		return usageErrorf("--password-file needs --user")
	case o.askPassword && o.user == "":
		return usageErrorf("-ap needs --user (-au): say who logs in")
	case o.askPassword && o.passwordFile != "":
		return usageErrorf("-ap and --password-file exclude each other: -ap takes SMTP_PASSWORD or asks")
	case o.tokenCmd != "" && o.user == "":
		return usageErrorf("--oauth2-token-cmd needs --user: say which mailbox logs in")
	case o.tokenCmd != "" && (o.passwordFile != "" || o.askPassword):
		return usageErrorf("--oauth2-token-cmd logs in with a token, not a password: drop --password-file and -ap")
	case o.eml != "":
		for _, name := range []string{"subject", "body", "html", "attach"} {
			if set[name] {
				return usageErrorf("--eml sends the file as it is: --%s does not apply", name)
			}
		}
	case len(o.to) == 0:
		return usageErrorf("missing --to: say who gets the message")
	case o.from == "":
		return usageErrorf("missing --from: say who sends the message")
	}
	stdin := 0
	for _, v := range []string{o.eml, o.body, o.html} {
		if v == "-" {
			stdin++
		}
	}
	if stdin > 1 {
		return usageErrorf("only one of --eml, --body and --html can read standard input")
	}
	return nil
}

func (c *cli) send(args []string) error {
	if err := checkPasswordFlag(args); err != nil {
		return err
	}
	fs, o := sendFlags()
	pos, err := c.parse(fs, sendUsage, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf("unexpected argument %q (the server is --server HOST[:PORT])", pos[0])
	}
	if err := o.check(fs); err != nil {
		return err
	}
	if err := o.checkDKIM(); err != nil {
		return err
	}
	o.defaults(fs, c.now())
	def := smtplib.SMTPPort
	switch {
	case o.implicitTLS:
		def = smtplib.SMTPSSLPort
	case o.starttls:
		def = 587
	}
	host, port, err := splitHostPort(o.server, def)
	if err != nil {
		return err
	}
	// Everything that can be wrong with the input is found before the
	// connection is made.
	msg, err := c.message(o)
	if err != nil {
		return err
	}
	password, err := c.password(o)
	if err != nil {
		return err
	}
	if err := o.loadDKIM(); err != nil {
		return err
	}
	roots, err := o.roots()
	if err != nil {
		return err
	}
	cfg := &tls.Config{RootCAs: roots, ServerName: o.servername, InsecureSkipVerify: o.insecure} //nolint:gosec // only with --insecure
	return c.deliver(o, host, port, cfg, msg, password)
}

// defaults gives a built message swaks's subject and body when the flags
// give none: "test" and the date, and "This is a test mailing". An empty
// --subject "" is kept as given.
func (o *sendOptions) defaults(fs *flag.FlagSet, now time.Time) {
	if o.eml != "" {
		return
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["subject"] {
		o.subject = "test " + now.Format(time.RFC1123Z)
	}
	if !set["body"] && !set["html"] {
		o.body = "This is a test mailing\n"
	}
}

// deliver connects, starts TLS and logs in as o says, sends msg, and
// reports on stdout what was sent.
func (c *cli) deliver(o *sendOptions, host string, port int, cfg *tls.Config, msg *email.Message, password string) error {
	size, _ := msg.WriteTo(io.Discard) // the size, without a copy of a large message
	progress := size >= progressMin && !o.debug && c.isTerminal(c.stderr)
	var d *countingDialer
	if progress {
		d = &countingDialer{now: c.now}
	}
	s, _, err := c.connect(&o.connFlags, host, port, cfg, d)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.EhloOrHeloIfNeeded(); err != nil {
		return s.fail("EHLO", err)
	}
	if o.starttls {
		if _, err := s.StartTLS(nil); err != nil {
			return s.fail("STARTTLS", &tlsError{err})
		}
		if err := s.EhloOrHeloIfNeeded(); err != nil {
			return s.fail("EHLO after STARTTLS", err)
		}
	}
	if o.user != "" {
		if o.tokenCmd != "" {
			_, err = s.LoginOAuth2(o.user, &commandTokenSource{ctx: c.ctx, command: o.tokenCmd, stderr: c.stderr, timeout: o.timeout})
		} else {
			_, err = s.Login(o.user, password)
		}
		if err != nil {
			var ns *smtplib.NotSupportedError
			if errors.As(err, &ns) && !o.starttls && !o.implicitTLS {
				err = fmt.Errorf("%w (many servers offer AUTH only after STARTTLS: try --starttls)", err)
			}
			return s.fail("login as "+o.user, err)
		}
	}

	// --from and --to are the envelope; without them SendMessage takes
	// it from the header (only --eml may leave them out).
	var final smtplib.Reply // the reply with the queue id, to trace the message
	opts := []smtplib.SendOption{smtplib.FinalReply(&final)}
	if o.from != "" {
		opts = append(opts, smtplib.FromAddr(o.from))
	}
	if len(o.to) > 0 {
		opts = append(opts, smtplib.ToAddrs(o.to...))
	}
	if o.dkimSign != nil {
		opts = append(opts, smtplib.DKIM(o.dkimSign))
	}
	if progress {
		bar := newProgressBar(c.stderr, size)
		d.watch(bar.update)
		defer bar.done()
	}
	refused, err := s.SendMessage(msg, opts...)
	d.watch(nil)
	if err != nil {
		return s.fail("sending to "+s.addr, err)
	}
	s.Quit() //nolint:errcheck // the message is accepted; a failed QUIT changes nothing
	fmt.Fprintf(c.stdout, "sent %d bytes to %s", size, s.addr)
	if len(o.to) > 0 {
		fmt.Fprintf(c.stdout, " for %d of %d recipients", len(o.to)-len(refused), len(o.to))
	}
	fmt.Fprintf(c.stdout, ": %d %s\n", final.Code, clean(final.Message))
	if len(refused) > 0 {
		return &refusedError{refused: refused, total: len(o.to)}
	}
	return nil
}
