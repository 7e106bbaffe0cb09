package smtplib

import (
	"fmt"
	"strings"

	"github.com/gosmtplib/smtplib/internal/mailaddr"
)

// The verbs as smtplib spells them on the wire: lower case, except the
// extension verbs it writes in upper case.
const (
	verbHelo     = "helo"
	verbHelp     = "help"
	verbRset     = "rset"
	verbNoop     = "noop"
	verbMail     = "mail"
	verbRcpt     = "rcpt"
	verbData     = "data"
	verbVrfy     = "vrfy"
	verbExpn     = "expn"
	verbQuit     = "quit"
	verbAuth     = "AUTH"
	verbStartTLS = "STARTTLS"
	verbBdat     = "BDAT"
)

// Help sends HELP with args and returns the text of the reply (Python's
// help), whatever its code.
func (s *SMTP) Help(args string) (string, error) {
	r, err := s.DoCmd(verbHelp, args)
	return r.Message, err
}

// Rset sends RSET, abandoning the mail transaction, and sets
// CommandEncoding back to "ascii" (Python's rset).
func (s *SMTP) Rset() (Reply, error) {
	s.CommandEncoding = "ascii"
	return s.DoCmd(verbRset, "")
}

// rsetQuietly is smtplib's _rset: a reset after a failed transaction whose
// disconnection, if any, is left for the caller's next command to find.
func (s *SMTP) rsetQuietly() error {
	_, err := s.Rset()
	if _, ok := err.(*ServerDisconnectedError); ok {
		return nil
	}
	return err
}

// Noop sends NOOP.
func (s *SMTP) Noop() (Reply, error) {
	return s.DoCmd(verbNoop, "")
}

// Mail sends MAIL FROM with sender quoted and, to an ESMTP server, the
// options (Python's mail); SMTPUTF8 makes CommandEncoding "utf-8".
func (s *SMTP) Mail(sender string, options ...string) (Reply, error) {
	args, utf8, err := s.mailArgs(sender, options)
	if err != nil {
		return Reply{}, err
	}
	if utf8 {
		s.CommandEncoding = "utf-8"
	}
	return s.DoCmd(verbMail, args)
}

// mailArgs builds MAIL's argument, applying Mail's rules, and reports
// whether the SMTPUTF8 option is among those sent.
func (s *SMTP) mailArgs(sender string, options []string) (args string, utf8 bool, err error) {
	if err := newlineInOptions(verbMail+" from:", sender, options); err != nil {
		return "", false, err
	}
	opts, err := s.optionList(options)
	if err != nil {
		return "", false, err
	}
	if opts != "" {
		for _, o := range options {
			if pyLower(o) == "smtputf8" {
				if !s.HasExtn("smtputf8") {
					return "", false, &NotSupportedError{Msg: "SMTPUTF8 not supported by server"}
				}
				utf8 = true
				break
			}
		}
	}
	addr, err := safeQuoteAddr(sender)
	if err != nil {
		return "", false, err
	}
	return "from:" + addr + opts, utf8, nil
}

// Rcpt sends RCPT TO with recip quoted by [QuoteAddr] and, when the server
// speaks ESMTP, the options (Python's rcpt), checked as Mail's are.
func (s *SMTP) Rcpt(recip string, options ...string) (Reply, error) {
	args, err := s.rcptArgs(recip, options)
	if err != nil {
		return Reply{}, err
	}
	return s.DoCmd(verbRcpt, args)
}

// rcptArgs builds RCPT's argument.
func (s *SMTP) rcptArgs(recip string, options []string) (string, error) {
	if err := newlineInOptions(verbRcpt+" to:", recip, options); err != nil {
		return "", err
	}
	opts, err := s.optionList(options)
	if err != nil {
		return "", err
	}
	addr, err := safeQuoteAddr(recip)
	if err != nil {
		return "", err
	}
	return "to:" + addr + opts, nil
}

// newlineInOptions refuses options with a CR or LF as smtplib's putcmd
// refuses the line they would make, in its words (which CPython's tests
// assert), showing that line with the line breaks escaped. The line, prefix
// then addr as QuoteAddr quotes it, is built only for the error.
func newlineInOptions(prefix, addr string, options []string) error {
	for _, o := range options {
		if strings.ContainsAny(o, "\r\n") {
			line := prefix + mailaddr.QuoteAddr(addr) + " " + strings.Join(options, " ")
			return &CommandError{Command: escapeControls(line),
				Reason: "command and arguments contain prohibited newline characters"}
		}
	}
	return nil
}

// optionList joins ESMTP parameters as smtplib does (" A B"), or returns ""
// when there are none or the server does not speak ESMTP.
// The options are checked even when they are to be dropped, so that a bad
// value is reported wherever it is passed.
func (s *SMTP) optionList(options []string) (string, error) {
	for _, o := range options {
		if o == "" || strings.IndexFunc(o, func(r rune) bool { return r <= ' ' || r == 0x7f }) >= 0 {
			return "", &CommandError{Command: fmt.Sprintf("%q", o),
				Reason: "an ESMTP option must be one non-empty word without spaces or control characters"}
		}
	}
	if len(options) == 0 || !s.DoesESMTP {
		return "", nil
	}
	return " " + strings.Join(options, " "), nil
}

// Data sends DATA and, after 354, msg and the final "." (Python's data),
// returning the reply after the data; any other answer is a [*DataError].
func (s *SMTP) Data(msg []byte) (Reply, error) {
	replies, err := s.dataReplies(msg, 1)
	if err != nil {
		return Reply{}, err
	}
	return replies[0], nil
}

// dataReplies sends DATA and, after a 354, msg and the final "."; then it
// reads n replies. Those that came before a failure are returned with it;
// a connection lost after the final dot is [ErrDeliveryUnknown].
func (s *SMTP) dataReplies(msg []byte, n int) ([]Reply, error) {
	r, err := s.docmdPhase(phaseDataInit, verbData, "")
	if err != nil {
		return nil, err
	}
	s.debugData(r)
	if r.Code != 354 {
		return nil, &DataError{respErr(r)}
	}
	if err := s.writeBody(newDataWriter(nil, true), &body{b: msg, size: len(msg)}, wr{phase: phaseDataBlock, flush: true}); err != nil {
		return nil, err
	}
	var replies []Reply
	for i := 0; i < n; i++ {
		r, err := s.readReplyPhase(phaseDataTermReply)
		if err != nil {
			return replies, deliveryUnknown(err)
		}
		s.debugData(r)
		replies = append(replies, r)
	}
	return replies, nil
}

// Verify sends VRFY with the bare address of address (Python's verify).
func (s *SMTP) Verify(address string) (Reply, error) {
	if err := checkAddrChars(address); err != nil {
		return Reply{}, err
	}
	return s.DoCmd(verbVrfy, mailaddr.AddrOnly(address))
}

// Expn sends EXPN with the bare address of address (Python's expn).
func (s *SMTP) Expn(address string) (Reply, error) {
	if err := checkAddrChars(address); err != nil {
		return Reply{}, err
	}
	return s.DoCmd(verbExpn, mailaddr.AddrOnly(address))
}

// Quit sends QUIT, forgets what EHLO and HELO said (a new connection must
// greet again), and closes the connection (Python's quit).
func (s *SMTP) Quit() (Reply, error) {
	r, err := s.DoCmd(verbQuit, "")
	if err != nil {
		// As in smtplib, a failed QUIT forgets nothing; the failure has
		// closed the client already, unless the command was refused
		// before it was sent.
		return r, err
	}
	s.forgetGreeting()
	s.noteClose(closeNote{quit: true, reply: r})
	s.Close()
	return r, nil
}

// forgetGreeting resets what EHLO and HELO established.
func (s *SMTP) forgetGreeting() {
	s.HeloResp, s.EhloResp = "", ""
	s.heloDone, s.ehloDone = false, false
	s.ESMTPFeatures = map[string]string{}
	s.DoesESMTP = false
}

// QuoteAddr quotes an address for MAIL and RCPT (Python's quoteaddr).
func QuoteAddr(addr string) string { return mailaddr.QuoteAddr(addr) }

// safeQuoteAddr is QuoteAddr for the envelope: it refuses a result that
// would not be one path, such as a string the parser could not read that
// carries a '>' or a space outside quotes, which would end the address and
// start a parameter, and an address with a CR, LF or NUL anywhere.
func safeQuoteAddr(addr string) (string, error) {
	if err := checkAddrChars(addr); err != nil {
		return "", err
	}
	// smtplib passes an unparsable string that starts with "<" as it is,
	// spaces around it included (" <> "); the spaces would not survive a
	// strict server, so they go.
	q := strings.TrimSpace(mailaddr.QuoteAddr(addr))
	if !strings.HasPrefix(q, "<") || !strings.HasSuffix(q, ">") || len(q) < 2 || !onePath(q[1:len(q)-1]) {
		return "", &CommandError{Command: q, Reason: "address cannot be quoted safely as one path"}
	}
	return q, nil
}

// checkAddrChars refuses an address with a CR, LF or NUL: the address
// parser would drop what follows the line break and use another address
// than the caller's, so refuse rather than guess.
func checkAddrChars(addr string) error {
	if strings.ContainsAny(addr, "\r\n\x00") {
		return &CommandError{Command: escapeControls(addr), Reason: "address contains prohibited newline or NUL characters"}
	}
	return nil
}

// escapeControls shows CR, LF and NUL as Python's repr does, so that an
// error's text cannot forge a log line.
func escapeControls(s string) string {
	return controlEscaper.Replace(s)
}

var controlEscaper = strings.NewReplacer("\r", `\r`, "\n", `\n`, "\x00", `\x00`)

// onePath reports whether p, the text between the angle brackets of a
// path, reads as one path however strictly a server parses it: empty (the
// null path), or an optional source route, then a local part and an
// optional "@domain". A quoted string is accepted only as the whole local
// part (RFC 5321 section 4.1.2); anywhere else, a quote, a backslash, an
// angle bracket or white space could end the path early for one server and
// not for another, and is refused.
func onePath(p string) bool {
	if p == "" {
		return true
	}
	if i := strings.IndexByte(p, ':'); p[0] == '@' && i >= 0 {
		// A source route, "@relay,@relay:", as RFC 5321 still allows.
		if !plainPathText(p[:i]) {
			return false
		}
		p = p[i+1:]
	}
	if !strings.HasPrefix(p, `"`) {
		return p != "" && plainPathText(p)
	}
	for i := 1; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '"':
			rest := p[i+1:]
			return rest == "" || rest[0] == '@' && len(rest) > 1 && plainPathText(rest[1:])
		}
	}
	return false
}

// plainPathText reports whether s has nothing that needs quoting in a path:
// no white space, control character, quote, backslash or angle bracket.
func plainPathText(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool {
		return r <= ' ' || r == 0x7f || r == '"' || r == '\\' || r == '<' || r == '>'
	})
}

// QuoteData doubles leading periods and makes lone CR and LF CRLF (Python's
// quotedata).
func QuoteData(data string) string {
	var b strings.Builder
	w := newDataWriter(&b, true)
	w.Write([]byte(data))
	w.flushCR()
	return b.String()
}
