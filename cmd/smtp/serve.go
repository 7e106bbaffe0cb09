package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/gosmtplib/smtplib/smtptest"
)

const serveUsage = `Usage: smtp serve [flags]

A mail catcher for development and tests. It listens on --listen, accepts
every message, prints each one as it arrives (envelope, header fields, MIME
parts and sizes; the bytes with --raw; one JSON object a line with --json),
and keeps it in --dir as a .eml file (a Maildir with --maildir), named so
that the files sort by arrival. It never relays anything anywhere. Ctrl-C
stops it; a message still arriving then is dropped, never kept in part.

To see what a program sends, point its SMTP settings at it, for example
host 127.0.0.1, port 1025, no TLS; Python: smtplib.SMTP("127.0.0.1", 1025).

PIPELINING, SIZE, ENHANCEDSTATUSCODES, 8BITMIME, DSN, SMTPUTF8 and
CHUNKING are offered unless --without names them. --starttls offers
STARTTLS; --tls speaks TLS from the first byte, as port 465 does. The
certificate is --cert and --key, or one made at start for localhost,
127.0.0.1, ::1 and --hostname, whose PEM goes to --cert-out (or to a
temporary file, removed at the end) for clients to trust. --auth any
offers AUTH (PLAIN, LOGIN, CRAM-MD5, XOAUTH2, OAUTHBEARER) and accepts
every login; --auth USER:PASSWORD, repeated, accepts only those (the
password is also the XOAUTH2 and OAUTHBEARER token).

To script failures: --refuse ADDR refuses that recipient with 550;
--reply STAGE=REPLY answers every STAGE with REPLY, as in
--reply "RCPT=451 4.7.1 Try again later", STAGE being one of GREETING,
EHLO, HELO, LHLO, MAIL, RCPT, DATA, BDAT, DOT (the end of the data), AUTH,
STARTTLS, RSET, NOOP, VRFY or QUIT.

The listening address and the certificate are printed on stderr; the
messages on stdout. Exit status: 0 when stopped by Ctrl-C or SIGTERM; 64
for a mistake in the flags; 75 when it cannot listen (the address is
taken, say).

Flags:
`

type serveOptions struct {
	listen   string
	hostname string
	dir      string
	maildir  bool
	raw      bool
	json     bool
	tls      bool
	starttls bool
	cert     string
	key      string
	certOut  string
	auth     stringList
	refuse   stringList
	reply    stringList
	without  stringList
	lmtp     bool
	size     int64
}

func serveFlags() (*flag.FlagSet, *serveOptions) {
	o := &serveOptions{}
	fs := newFlagSet("serve")
	fs.StringVar(&o.listen, "listen", "127.0.0.1:1025", "listen on `HOST:PORT` (port 0: any free port), or on a Unix socket /PATH")
	fs.StringVar(&o.hostname, "hostname", "localhost", "the server's `name` in its greeting and certificate")
	fs.StringVar(&o.dir, "dir", "", "keep each message in `DIR` as a .eml file")
	fs.BoolVar(&o.maildir, "maildir", false, "keep them in --dir as a Maildir (new/, cur/, tmp/)")
	fs.BoolVar(&o.raw, "raw", false, "print each message's bytes as received, not a summary")
	fs.BoolVar(&o.json, "json", false, "print one JSON object a message, on one line")
	fs.BoolVar(&o.tls, "tls", false, "speak TLS from the first byte (implicit TLS, as port 465)")
	fs.BoolVar(&o.starttls, "starttls", false, "offer STARTTLS")
	fs.StringVar(&o.cert, "cert", "", "the certificate chain, a PEM `file` (with --key)")
	fs.StringVar(&o.key, "key", "", "the private key, a PEM `file` (with --cert)")
	fs.StringVar(&o.certOut, "cert-out", "", "write the certificate made at start to this PEM `file`")
	fs.Var(&o.auth, "auth", "offer AUTH and accept `any` login, or USER:PASSWORD (repeatable)")
	fs.Var(&o.refuse, "refuse", "refuse the recipient `ADDR` with 550 (repeatable)")
	fs.Var(&o.reply, "reply", "answer a stage with a reply of your own, `STAGE=REPLY` (repeatable)")
	fs.Var(&o.without, "without", "do not offer the extension `NAME` (repeatable)")
	fs.BoolVar(&o.lmtp, "lmtp", false, "speak LMTP (LHLO, one reply per recipient)")
	fs.Int64Var(&o.size, "size", 32<<20, "the SIZE limit in `bytes` (0: none)")
	return fs, o
}

// optionalExtensions are what serve offers unless --without names them.
var optionalExtensions = []string{"PIPELINING", "SIZE", "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING"}

// replyStages are the stages --reply may script, smtptest's names.
var replyStages = []string{"GREETING", "EHLO", "HELO", "LHLO", "MAIL", "RCPT", "DATA", "BDAT", "DOT",
	"AUTH", "STARTTLS", "RSET", "NOOP", "VRFY", "QUIT"}

// serveConfig is what the flags come to: the server's options, and the
// certificate to print.
type serveConfig struct {
	opts     []smtptest.Option
	certPEM  []byte // a certificate made at start, for --cert-out
	authNote string // what --auth accepts, for the banner
}

// config checks the flags and turns them into the server's options.
func (o *serveOptions) config() (*serveConfig, error) {
	cfg := &serveConfig{}
	switch {
	case o.tls && o.starttls:
		return nil, usageErrorf("--tls and --starttls exclude each other: --tls is TLS from the first byte, --starttls offers to switch to it")
	case (o.cert == "") != (o.key == ""):
		return nil, usageErrorf("--cert and --key go together")
	case o.cert != "" && o.certOut != "":
		return nil, usageErrorf("--cert-out writes a certificate made at start: with --cert there is none")
	case (o.cert != "" || o.certOut != "") && !o.tls && !o.starttls:
		return nil, usageErrorf("a certificate needs --tls or --starttls")
	case o.maildir && o.dir == "":
		return nil, usageErrorf("--maildir needs --dir")
	case o.size < 0:
		return nil, usageErrorf("--size %d: want 0 or more bytes", o.size)
	}
	exts, err := o.extensions()
	if err != nil {
		return nil, err
	}
	cfg.opts = append(cfg.opts, smtptest.WithHostname(o.hostname), smtptest.WithExtensions(exts...), smtptest.WithoutRecording())
	if strings.HasPrefix(o.listen, "/") {
		cfg.opts = append(cfg.opts, smtptest.WithUnixSocket(o.listen))
	} else if _, _, err := net.SplitHostPort(o.listen); err != nil {
		return nil, usageErrorf("--listen %q: want HOST:PORT, such as 127.0.0.1:1025, or a socket's /PATH", o.listen)
	} else {
		cfg.opts = append(cfg.opts, smtptest.WithListenAddr(o.listen))
	}
	if o.lmtp {
		cfg.opts = append(cfg.opts, smtptest.WithLMTP())
	}
	if o.tls {
		cfg.opts = append(cfg.opts, smtptest.WithImplicitTLS())
	}
	if err := o.authConfig(cfg); err != nil {
		return nil, err
	}
	for _, addr := range o.refuse {
		cfg.opts = append(cfg.opts, smtptest.WithRefuseRecipient(addr,
			"550 5.1.1 <"+addr+">: Recipient address rejected: User unknown in local recipient table"))
	}
	replies, err := parseReplies(o.reply)
	if err != nil {
		return nil, err
	}
	cfg.opts = append(cfg.opts, replies...)
	if o.tls || o.starttls {
		opt, pemBytes, err := o.certificate()
		if err != nil {
			return nil, err
		}
		cfg.opts = append(cfg.opts, opt)
		cfg.certPEM = pemBytes
	}
	return cfg, nil
}

// extensions returns the EHLO lines to offer, in Postfix's order.
func (o *serveOptions) extensions() ([]string, error) {
	drop := map[string]bool{}
	for _, name := range o.without {
		name = strings.ToUpper(name)
		known := false
		for _, e := range optionalExtensions {
			known = known || e == name
		}
		if !known {
			return nil, usageErrorf("--without %s: want one of %s", name, strings.Join(optionalExtensions, ", "))
		}
		drop[name] = true
	}
	lines := []string{"PIPELINING", "SIZE " + strconv.FormatInt(o.size, 10)}
	if o.starttls {
		lines = append(lines, "STARTTLS")
	}
	if len(o.auth) > 0 {
		lines = append(lines, "AUTH PLAIN LOGIN CRAM-MD5 XOAUTH2 OAUTHBEARER")
	}
	lines = append(lines, "ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8", "CHUNKING")
	exts := lines[:0]
	for _, l := range lines {
		if kw, _, _ := strings.Cut(l, " "); !drop[kw] {
			exts = append(exts, l)
		}
	}
	return exts, nil
}

// authConfig adds what --auth says: any login, or the given users.
func (o *serveOptions) authConfig(cfg *serveConfig) error {
	users := map[string]string{}
	anyLogin := false
	for _, a := range o.auth {
		if a == "any" {
			anyLogin = true
			continue
		}
		user, pass, ok := strings.Cut(a, ":")
		if !ok || user == "" {
			return usageErrorf("--auth %q: want any, or USER:PASSWORD", a)
		}
		users[user] = pass
	}
	switch {
	case anyLogin:
		cfg.opts = append(cfg.opts, smtptest.WithAnyCredentials())
		cfg.authNote = "any login"
	case len(users) == 1:
		cfg.authNote = "1 user"
	case len(users) > 1:
		cfg.authNote = fmt.Sprintf("%d users", len(users))
	}
	if len(users) > 0 {
		cfg.opts = append(cfg.opts, smtptest.WithUsers(users))
	}
	return nil
}

// parseReplies turns each --reply STAGE=REPLY into smtptest's WithReply.
func parseReplies(list []string) ([]smtptest.Option, error) {
	var opts []smtptest.Option
	seen := map[string]bool{}
	for _, r := range list {
		stage, reply, ok := strings.Cut(r, "=")
		stage = strings.ToUpper(strings.TrimSpace(stage))
		known := false
		for _, s := range replyStages {
			known = known || s == stage
		}
		switch {
		case !ok || !known:
			return nil, usageErrorf("--reply %q: want STAGE=REPLY, STAGE one of %s", r, strings.Join(replyStages, ", "))
		case seen[stage]:
			return nil, usageErrorf("--reply %q: %s has a reply already", r, stage)
		case len(reply) < 3 || reply[0] < '2' || reply[0] > '5' || !isDigits(reply[1:3]) || (len(reply) > 3 && reply[3] != ' '):
			return nil, usageErrorf("--reply %q: the reply starts with a code from 200 to 599, as in \"451 4.7.1 Try again later\"", r)
		case strings.ContainsAny(reply, "\r\n"):
			return nil, usageErrorf("--reply %q: the reply is one line", r)
		}
		seen[stage] = true
		opts = append(opts, smtptest.WithReply(stage, reply))
	}
	return opts, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func (c *cli) serve(args []string) error {
	fs, o := serveFlags()
	pos, err := c.parse(fs, serveUsage, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageErrorf("unexpected argument %q (the address is --listen HOST:PORT)", pos[0])
	}
	cfg, err := o.config()
	if err != nil {
		return err
	}
	var st *store
	if o.dir != "" {
		if st, err = newStore(o.dir, o.maildir, c.now); err != nil {
			return err
		}
	}
	p := newPrinter(c.stdout, o.raw, o.json)
	var seq, kept atomic.Int64 // messages seen, and accepted
	hook := func(m smtptest.Message) error {
		n := seq.Add(1)
		at := c.now()
		var file string
		if st != nil {
			var err error
			if file, err = st.save(m.Data); err != nil {
				// The client gets a 451 and may send it again.
				fmt.Fprintf(c.stderr, "smtp serve: %v\n", err)
				return err
			}
		}
		p.print(n, at, m, file)
		kept.Add(1)
		return nil
	}
	srv, err := smtptest.New(append(cfg.opts, smtptest.WithMessageHook(hook))...)
	if err != nil {
		return listenError(o.listen, err)
	}
	defer srv.Close()
	certNote, cleanup, err := c.writeCert(o, cfg.certPEM)
	if err != nil {
		return err
	}
	defer cleanup()
	// Ctrl-C is caught before anyone is told where the server listens,
	// so that a signal sent at once stops it cleanly too.
	ctx, stop := signal.NotifyContext(c.ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	c.banner(o, cfg, srv.Addr, certNote)
	if c.listening != nil {
		c.listening(srv.Addr)
	}
	srv.Serve(ctx) //nolint:errcheck // started above: Serve returns nil
	fmt.Fprintf(c.stderr, "smtp serve: stopped after %d messages\n", kept.Load())
	return nil
}

// listenError says why the server could not listen, with a hint for the
// usual reason.
func listenError(addr string, err error) error {
	var op *net.OpError
	if errors.As(err, &op) && errors.Is(op.Err, syscall.EADDRINUSE) {
		return &stepError{step: "listen on " + addr, err: errors.New("the address is in use: another server is there (choose another with --listen)")}
	}
	return &stepError{step: "listen on " + addr, err: err}
}

// banner prints on stderr where the server listens and what it offers.
func (c *cli) banner(o *serveOptions, cfg *serveConfig, addr, certNote string) {
	proto := "SMTP"
	if o.lmtp {
		proto = "LMTP"
	}
	var what []string
	switch {
	case o.tls:
		what = append(what, proto+" over TLS")
	case o.starttls:
		what = append(what, proto+" with STARTTLS")
	default:
		what = append(what, proto)
	}
	if cfg.authNote != "" {
		what = append(what, "AUTH ("+cfg.authNote+")")
	}
	fmt.Fprintf(c.stderr, "smtp serve: listening on %s: %s; nothing is relayed; Ctrl-C stops\n", addr, strings.Join(what, ", "))
	if certNote != "" {
		fmt.Fprintf(c.stderr, "smtp serve: %s\n", certNote)
	}
	if o.dir != "" {
		kind := "one .eml file a message"
		if o.maildir {
			kind = "a Maildir"
		}
		fmt.Fprintf(c.stderr, "smtp serve: keeping messages in %s (%s)\n", o.dir, kind)
	}
}
