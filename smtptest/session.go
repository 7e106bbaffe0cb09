package smtptest

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

const (
	// maxCommandLine bounds a command line (CRLF excluded), so that a
	// client that never sends a newline cannot make the server grow its
	// memory. RFC 5321 allows 512 bytes; extensions add parameters.
	maxCommandLine = 4096
	// readerSize is the read buffer; data is read a buffer at a time, so
	// a larger one means fewer copies for big messages.
	readerSize = 64 << 10
)

// Replies the server gives in several places, spelled as Postfix does.
const (
	replyNotRecognized = "502 5.5.2 Error: command not recognized"
	replyNeedHelo      = "503 5.5.1 Error: send HELO/EHLO first"
	replyNeedMail      = "503 5.5.1 Error: need MAIL command"
	replyNeedRcpt      = "503 5.5.1 Error: need RCPT command"
	replyTooBig        = "552 5.3.4 Message size exceeds fixed limit"
	replyNotStored     = "451 4.3.0 Error: queue file write error"
)

// errClose ends a session on purpose: after QUIT, a 421 or a fault.
var errClose = errors.New("smtptest: session closed")

// errLineTooLong reports a line over the limit, which was discarded.
type errLineTooLong struct{ n int }

func (e errLineTooLong) Error() string { return fmt.Sprintf("line too long: %d bytes", e.n) }

// session is the server's side of one connection.
type session struct {
	s   *Server
	rec *sessionRecord
	raw net.Conn // the accepted connection, closed by Server.Close
	r   *bufio.Reader
	w   net.Conn // raw, or the TLS connection over it
	// out collects replies until no command is waiting, then goes out in
	// one write: this is what makes pipelining visible in RoundTrips.
	out bytes.Buffer

	tls         bool
	greeted     bool
	helo        string
	authUser    string
	authed      bool
	badGreeting bool // a 5xx banner was sent: only QUIT is allowed
	tx          *transaction
}

func newSession(s *Server, conn net.Conn, rec *sessionRecord) *session {
	return &session{s: s, rec: rec, raw: conn, w: conn, r: bufio.NewReaderSize(conn, readerSize)}
}

// run serves the connection until it ends; the caller closes it.
func (c *session) run() {
	err := c.serve()
	if !errors.Is(err, errClose) {
		return
	}
	// A deliberate end (QUIT, 421) still owes the client its last reply.
	c.flush()
}

func (c *session) serve() error {
	if c.s.implicitTLS {
		if err := c.fault("TLS_HANDSHAKE"); err != nil {
			return err
		}
		if err := c.handshake(); err != nil {
			return err
		}
	}
	if err := c.greet(); err != nil {
		return err
	}
	for {
		if err := c.command(); err != nil {
			return err
		}
	}
}

func (c *session) greet() error {
	if err := c.fault("GREETING"); err != nil {
		return err
	}
	text, ok := c.s.scripted("GREETING")
	if !ok {
		kind := "ESMTP"
		if c.s.LMTP {
			kind = "LMTP"
		}
		text = fmt.Sprintf("220 %s %s smtptest", c.s.Hostname, kind)
	}
	c.replyAsGiven(text)
	// The banner goes out on its own, even to a client that talks first.
	if err := c.flush(); err != nil {
		return err
	}
	if strings.HasPrefix(text, "421") {
		return errClose
	}
	// RFC 5321 section 3.1: after a 554 banner the server waits for QUIT.
	c.badGreeting = replyCode(text)/100 == 5
	return nil
}

// log adds a line to the transcripts.
func (c *session) log(prefix, line string) {
	if c.s.noRecording {
		return // before the concatenation, which a busy server feels
	}
	c.s.logLine(c.rec, prefix+line)
}

// reply queues one of the server's own replies (lines separated by CRLF)
// and adds the final CRLF. Under WithoutEnhancedStatusCodes the RFC 3463
// codes are taken out, as an older server would answer.
func (c *session) reply(text string) {
	if c.s.noEnhancedCodes {
		text = stripEnhancedCodes(text)
	}
	c.write(text + "\r\n")
}

// replyAsGiven queues a reply the test scripted, exactly as given.
func (c *session) replyAsGiven(text string) {
	c.write(text + "\r\n")
}

// write queues raw bytes and logs them line by line.
func (c *session) write(raw string) {
	c.out.WriteString(raw)
	lines := strings.Split(raw, "\r\n")
	if len(lines) > 1 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for _, l := range lines {
		c.log("S: ", l)
	}
}

// flush sends the queued replies in one write.
func (c *session) flush() error {
	if c.out.Len() == 0 {
		return nil
	}
	// Counted before the write, so that a client that has read the
	// replies always sees the count that includes them.
	c.s.mu.Lock()
	c.rec.roundTrips++
	c.s.mu.Unlock()
	_, err := c.w.Write(c.out.Bytes())
	c.out.Reset()
	return err
}

// flushIfIdle flushes unless a whole line is already buffered: as a
// PIPELINING server does, it answers a batch of commands in one write,
// and never waits for input with replies still unsent.
func (c *session) flushIfIdle() error {
	if n := c.r.Buffered(); n > 0 {
		if b, _ := c.r.Peek(n); bytes.IndexByte(b, '\n') >= 0 {
			return nil
		}
	}
	return c.flush()
}

// readLine reads one line of at most max bytes before its line end, and
// returns it with the line end. A longer line is read to its end and
// discarded, so memory stays bounded.
func (c *session) readLine(max int) ([]byte, error) {
	if err := c.flushIfIdle(); err != nil {
		return nil, err
	}
	var line []byte
	for {
		frag, err := c.r.ReadSlice('\n')
		if len(line)+len(frag) > max+2 {
			n := len(line) + len(frag)
			for err == bufio.ErrBufferFull {
				frag, err = c.r.ReadSlice('\n')
				n += len(frag)
			}
			if err != nil {
				return nil, err
			}
			return nil, errLineTooLong{n}
		}
		line = append(line, frag...)
		if err == bufio.ErrBufferFull {
			continue
		}
		return line, err
	}
}

// command reads and answers one command.
func (c *session) command() error {
	raw, err := c.readLine(maxCommandLine)
	var tooLong errLineTooLong
	if errors.As(err, &tooLong) {
		c.log("C: ", fmt.Sprintf("<line too long: %d bytes>", tooLong.n))
		c.reply("500 5.5.2 Line too long")
		return nil
	}
	if err != nil {
		return err
	}
	line, ok := trimCRLF(raw)
	if !ok {
		c.log("C: ", strconv.Quote(string(raw)))
		c.reply("500 5.5.2 Error: bare <CR> or <LF> or NUL in command")
		return nil
	}
	c.log("C: ", line)
	verb, arg, _ := strings.Cut(line, " ")
	verb = strings.ToUpper(verb)
	arg = strings.Trim(arg, " ")
	if verb == "" {
		c.reply("500 5.5.2 Error: bad syntax")
		return nil
	}
	if err := c.fault(verb); err != nil {
		return err
	}
	if text, ok := c.s.scripted(verb); ok {
		return c.scripted(verb, arg, text)
	}
	if c.badGreeting && verb != "QUIT" {
		c.reply("503 5.5.1 Error: no valid greeting, send QUIT")
		return nil
	}
	return c.dispatch(verb, arg)
}

// trimCRLF strips the CRLF ending a command line, and tells whether the
// line was well formed: CRLF-terminated, with no other CR or LF and no NUL
// (RFC 5321 section 2.3.8).
func trimCRLF(raw []byte) (string, bool) {
	line, ok := bytes.CutSuffix(raw, []byte("\r\n"))
	if !ok || bytes.ContainsAny(line, "\r\n\x00") {
		return "", false
	}
	return string(line), true
}

func (c *session) dispatch(verb, arg string) error {
	switch verb {
	case "EHLO", "HELO", "LHLO":
		c.hello(verb, arg)
	case "MAIL":
		return c.mail(arg)
	case "RCPT":
		return c.rcpt(arg)
	case "DATA":
		return c.data(arg)
	case "BDAT":
		return c.bdat(arg)
	case "RSET":
		if arg != "" {
			c.reply("501 5.5.4 Syntax: RSET")
			return nil
		}
		c.tx = nil
		c.reply("250 2.0.0 Ok")
	case "NOOP":
		c.reply("250 2.0.0 Ok")
	case "VRFY":
		if arg == "" {
			c.reply("501 5.5.4 Syntax: VRFY address")
			return nil
		}
		c.reply("252 2.0.0 " + arg)
	case "HELP":
		c.reply("214 2.0.0 smtptest: see RFC 5321")
	case "QUIT":
		c.reply("221 2.0.0 Bye")
		return errClose
	case "STARTTLS":
		return c.starttls(arg)
	case "AUTH":
		return c.auth(arg)
	default: // EXPN included: Postfix does not implement it either
		c.reply(replyNotRecognized)
	}
	return nil
}

// scripted sends a scripted reply and then moves to the state the reply
// implies, so that the rest of the session stays coherent.
func (c *session) scripted(verb, arg, text string) error {
	code := replyCode(text)
	ok := code >= 200 && code < 400
	if verb == "BDAT" {
		return c.scriptedBDAT(arg, text)
	}
	c.replyAsGiven(text)
	if strings.HasPrefix(text, "421") {
		return errClose
	}
	if !ok {
		return nil
	}
	switch verb {
	case "EHLO", "HELO", "LHLO":
		c.greetedAs(arg)
	case "MAIL":
		from, params, _ := parsePath(arg, "FROM:")
		c.tx = &transaction{from: from, mailOpts: params, utf8: hasParam(params, "SMTPUTF8"), dsn: c.has("DSN")}
	case "RCPT":
		to, params, _ := parsePath(arg, "TO:")
		c.transaction().addRcpt(to, params)
	case "DATA":
		return c.readData()
	case "RSET":
		c.tx = nil
	case "QUIT":
		return errClose
	case "STARTTLS":
		return c.startTLS()
	case "AUTH":
		c.authed = true
	}
	return nil
}

// transaction returns the current transaction, starting an empty one for
// a script that accepted a command out of order.
func (c *session) transaction() *transaction {
	if c.tx == nil {
		c.tx = &transaction{}
	}
	return c.tx
}

// replyCode returns the number a reply starts with, or 0.
func replyCode(text string) int {
	if len(text) < 3 {
		return 0
	}
	n, err := strconv.Atoi(text[:3])
	if err != nil {
		return 0
	}
	return n
}

// fault carries out the fault set for this occurrence of at, if any, and
// then returns errClose; without one it returns nil.
func (c *session) fault(at string) error {
	f := c.s.takeFault(at)
	if f == nil {
		return nil
	}
	if f.Reply != "" {
		c.write(f.Reply)
	}
	c.flush()
	if f.Action == Stall {
		<-c.s.done
	}
	return errClose
}

// greetedAs records a successful EHLO, HELO or LHLO, which also aborts
// any transaction (RFC 5321 section 4.1.4).
func (c *session) greetedAs(name string) {
	c.greeted = true
	c.helo = name
	c.tx = nil
	c.s.mu.Lock()
	c.rec.helo = name
	c.s.mu.Unlock()
}

func (c *session) hello(verb, arg string) {
	switch {
	case c.s.LMTP != (verb == "LHLO"):
		// RFC 2033 section 4.1: LMTP has LHLO only, and SMTP has no LHLO.
		c.reply(replyNotRecognized)
		return
	case verb == "EHLO" && c.s.DisableEHLO:
		c.reply(replyNotRecognized)
		return
	case arg == "":
		c.reply("501 5.5.4 Syntax: " + verb + " hostname")
		return
	}
	c.greetedAs(arg)
	if verb == "HELO" {
		c.reply("250 " + c.s.Hostname)
		return
	}
	exts := c.extensions()
	var b strings.Builder
	for i, line := range append([]string{c.s.Hostname}, exts...) {
		sep := "-"
		if i == len(exts) {
			sep = " "
		}
		if i > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString("250" + sep + line)
	}
	c.reply(b.String())
}

// extensions returns what EHLO offers now: STARTTLS goes once TLS is on.
func (c *session) extensions() []string {
	exts := c.s.Extensions
	if exts == nil {
		exts = defaultExtensions
	}
	out := make([]string, 0, len(exts))
	for _, line := range exts {
		if c.tls && strings.EqualFold(keyword(line), "STARTTLS") {
			continue
		}
		if !c.tls && c.s.requireTLSOnlyTLS && strings.EqualFold(keyword(line), "REQUIRETLS") {
			continue
		}
		out = append(out, line)
	}
	return out
}

// has tells whether the session is offered the extension kw.
func (c *session) has(kw string) bool {
	for _, line := range c.extensions() {
		if strings.EqualFold(keyword(line), kw) {
			return true
		}
	}
	return false
}

// keyword returns an EHLO line's keyword; "AUTH=LOGIN" counts as AUTH, as
// old Microsoft servers spell it.
func keyword(line string) string {
	if i := strings.IndexAny(line, " ="); i >= 0 {
		return line[:i]
	}
	return line
}

// sizeLimit returns the enforced SIZE limit, 0 for none.
func (c *session) sizeLimit() int64 {
	for _, line := range c.extensions() {
		if strings.EqualFold(keyword(line), "SIZE") {
			n, _ := strconv.ParseInt(strings.TrimSpace(line[len("SIZE"):]), 10, 64)
			return max(n, 0)
		}
	}
	return 0
}

func (c *session) starttls(arg string) error {
	switch {
	case c.tls:
		c.reply("554 5.5.1 Error: TLS already active")
		return nil
	case !c.has("STARTTLS"):
		c.reply(replyNotRecognized)
		return nil
	case arg != "":
		c.reply("501 5.5.4 Syntax: STARTTLS")
		return nil
	}
	c.reply("220 2.0.0 Ready to start TLS")
	return c.startTLS()
}

// startTLS sends the pending 220 and runs the handshake.
func (c *session) startTLS() error {
	if err := c.flush(); err != nil {
		return err
	}
	// RFC 3207 section 5: anything the client sent after STARTTLS but
	// before the handshake is plaintext an attacker may have injected.
	if n := c.r.Buffered(); n > 0 {
		c.r.Discard(n)
		c.log("C: ", fmt.Sprintf("<%d bytes discarded before TLS>", n))
	}
	if err := c.fault("TLS_HANDSHAKE"); err != nil {
		return err
	}
	if err := c.handshake(); err != nil {
		return err
	}
	// RFC 3207 section 4.2: the server forgets what the client said.
	c.greeted, c.helo, c.tx = false, "", nil
	c.authed, c.authUser = false, ""
	c.s.mu.Lock()
	c.rec.helo, c.rec.authUser = "", ""
	c.s.mu.Unlock()
	return nil
}

func (c *session) handshake() error {
	cfg, err := c.s.tlsConfig()
	if err != nil {
		return err
	}
	tc := tls.Server(c.raw, cfg)
	if err := tc.Handshake(); err != nil {
		return err
	}
	c.w = tc
	c.r = bufio.NewReaderSize(tc, readerSize)
	c.tls = true
	c.s.mu.Lock()
	c.rec.tls = true
	c.s.mu.Unlock()
	return nil
}
