package smtptest

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/gosmtplib/smtplib/internal/textutil"
)

// maxMessage bounds what the server keeps of one message, whatever SIZE
// says, so that a runaway client cannot exhaust the test's memory. Data
// beyond it is read and dropped, and the message is refused with 552.
const maxMessage = 64 << 20

// transaction is a mail transaction from MAIL to the end of the data.
type transaction struct {
	from      string
	mailOpts  []string
	utf8      bool // MAIL had SMTPUTF8
	dsn       bool // DSN was offered: its parameters were checked
	to        []string
	rcptOpts  [][]string
	data      bytes.Buffer
	raw       bytes.Buffer
	size      int64 // data bytes received, kept or not
	wire      int64 // raw bytes received, kept or not
	keep      int64 // how much of data and raw to keep
	chunked   bool
	dataBegun bool
}

func (t *transaction) addRcpt(addr string, params []string) {
	t.to = append(t.to, addr)
	t.rcptOpts = append(t.rcptOpts, params)
}

// addRaw counts and keeps (within the limit) bytes as on the wire.
func (t *transaction) addRaw(b []byte) {
	t.wire += int64(len(b))
	if room := t.keep - int64(t.raw.Len()); room > 0 {
		t.raw.Write(b[:min(int64(len(b)), room)])
	}
}

// addData counts and keeps (within the limit) message bytes.
func (t *transaction) addData(b []byte) {
	t.size += int64(len(b))
	if room := t.keep - int64(t.data.Len()); room > 0 {
		t.data.Write(b[:min(int64(len(b)), room)])
	}
}

// tooBig tells whether the data exceeds the hard limit or limit (0: none).
func (t *transaction) tooBig(limit int64) bool {
	return t.size > maxMessage || (limit > 0 && t.size > limit)
}

func (c *session) mail(arg string) error {
	switch {
	case !c.greeted:
		c.reply(replyNeedHelo)
		return nil
	case c.tx != nil:
		c.reply("503 5.5.1 Error: nested MAIL command")
		return nil
	}
	from, params, ok := parsePath(arg, "FROM:")
	if !ok {
		c.reply("501 5.5.4 Syntax: MAIL FROM:<address>")
		return nil
	}
	utf8 := hasParam(params, "SMTPUTF8")
	if !textutil.IsASCII(from) && !(utf8 && c.has("SMTPUTF8")) {
		c.reply("553 5.6.7 Must declare SMTPUTF8 to send unicode address")
		return nil
	}
	if v, ok := paramValue(params, "SIZE"); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			c.reply("501 5.5.4 Bad SIZE parameter")
			return nil
		}
		if limit := c.sizeLimit(); limit > 0 && n > limit {
			c.reply(replyTooBig)
			return nil
		}
	}
	if text := c.checkMailStatus(params); text != "" {
		c.reply(text)
		return nil
	}
	if text, ok := c.s.refuseSender[strings.ToLower(from)]; ok {
		return c.refuse(text)
	}
	c.tx = &transaction{from: from, mailOpts: params, utf8: utf8, dsn: c.has("DSN")}
	c.reply("250 2.1.0 Ok")
	return nil
}

// refuse sends a configured refusal; 421 also ends the session, as a
// server shutting down would.
func (c *session) refuse(text string) error {
	c.replyAsGiven(text)
	if strings.HasPrefix(text, "421") {
		return errClose
	}
	return nil
}

func (c *session) rcpt(arg string) error {
	if c.tx == nil {
		c.reply(replyNeedMail)
		return nil
	}
	to, params, ok := parsePath(arg, "TO:")
	if !ok || to == "" {
		c.reply("501 5.5.4 Syntax: RCPT TO:<address>")
		return nil
	}
	if !textutil.IsASCII(to) && !(c.tx.utf8 && c.has("SMTPUTF8")) {
		c.reply("553 5.6.7 Must declare SMTPUTF8 to send unicode address")
		return nil
	}
	if c.tx.dsn {
		if _, err := rcptDSN(params); err != nil {
			c.reply("501 5.5.4 " + err.Error())
			return nil
		}
	}
	if text, ok := c.s.refuseRcpt[strings.ToLower(to)]; ok {
		return c.refuse(text)
	}
	c.tx.addRcpt(to, params)
	c.reply("250 2.1.5 Ok")
	return nil
}

func (c *session) data(arg string) error {
	switch {
	case arg != "":
		c.reply("501 5.5.4 Syntax: DATA")
		return nil
	case c.tx == nil || len(c.tx.to) == 0:
		c.reply(replyNeedRcpt)
		return nil
	case c.tx.dataBegun:
		c.reply("503 5.5.1 Error: DATA after BDAT")
		return nil
	}
	c.reply("354 End data with <CR><LF>.<CR><LF>")
	return c.readData()
}

// readData reads the data up to the line ".\r\n", then finishes the
// message. It reads a buffer at a time rather than line by line, so that a
// client that never sends a newline costs no more memory than the limit.
func (c *session) readData() error {
	tx := c.transaction()
	tx.keep = c.keepLimit()
	tx.dataBegun = true
	atLineStart, first := true, true
	for {
		if err := c.flushIfIdle(); err != nil {
			return err
		}
		frag, err := c.r.ReadSlice('\n')
		if err != nil && err != bufio.ErrBufferFull {
			return err
		}
		if atLineStart && err == nil && string(frag) == ".\r\n" {
			tx.addRaw(frag)
			c.log("C: ", fmt.Sprintf("<data %d bytes>", tx.wire))
			return c.finish(nil)
		}
		tx.addRaw(frag)
		data := frag
		if atLineStart && len(data) > 0 && data[0] == '.' {
			data = data[1:] // RFC 5321 section 4.5.2 transparency
		}
		tx.addData(data)
		// ReadSlice without error ends at a newline. A bare LF ends a line
		// too, for unstuffing, as most servers take it.
		atLineStart = err == nil
		if first {
			first = false
			if err := c.fault("DATA_BODY"); err != nil {
				return err
			}
		}
	}
}

// keepLimit is how much of a message to keep: nothing beyond the SIZE
// limit is needed to refuse it.
func (c *session) keepLimit() int64 {
	if limit := c.sizeLimit(); limit > 0 && limit < maxMessage {
		return limit + 1
	}
	return maxMessage + 1
}

// finish ends the transaction after the data: a fault, a scripted reply
// (override, or else WithReply's "DOT"), per-recipient LMTP replies, or
// the ordinary single reply. It records the message if it was accepted.
func (c *session) finish(override *string) error {
	tx := c.transaction()
	c.tx = nil
	if err := c.fault("DOT"); err != nil {
		return err
	}
	text, scripted := c.s.scripted("DOT")
	if override != nil {
		text, scripted = *override, true
	}
	if scripted {
		code := replyCode(text)
		if code >= 200 && code < 300 {
			if _, err := c.record(tx, tx.to, tx.rcptOpts); err != nil {
				text = replyNotStored
			}
		}
		c.replyAsGiven(text)
		if strings.HasPrefix(text, "421") {
			return errClose
		}
		return nil
	}
	tooBig := tx.tooBig(c.sizeLimit())
	if c.s.LMTP {
		c.finishLMTP(tx, tooBig)
		return nil
	}
	if tooBig {
		c.reply(replyTooBig)
		return nil
	}
	id, err := c.record(tx, tx.to, tx.rcptOpts)
	switch {
	case err != nil:
		c.reply(replyNotStored)
	case tx.chunked:
		c.reply("250 2.0.0 Message accepted")
	default:
		c.reply("250 2.0.0 Ok: queued as " + id)
	}
	return nil
}

// finishLMTP sends one reply per recipient (RFC 2033 section 4.2) and
// records the message for those whose reply is 2xx; if OnMessage refuses
// it, each of those gets replyNotStored instead.
func (c *session) finishLMTP(tx *transaction, tooBig bool) {
	texts := make([]string, len(tx.to))
	given := make([]bool, len(tx.to)) // scripted: sent exactly as given
	var to []string
	var opts [][]string
	for i, rcpt := range tx.to {
		text, ok := c.s.lmtpReplies[strings.ToLower(rcpt)]
		switch {
		case tooBig:
			text = replyTooBig
		case ok:
			given[i] = true
		default:
			text = fmt.Sprintf("250 2.0.0 <%s> delivered", rcpt)
		}
		texts[i] = text
		if replyCode(text)/100 == 2 {
			to = append(to, rcpt)
			opts = append(opts, tx.rcptOpts[i])
		}
	}
	if len(to) > 0 {
		if _, err := c.record(tx, to, opts); err != nil {
			for i, text := range texts {
				if replyCode(text)/100 == 2 {
					texts[i], given[i] = replyNotStored, false
				}
			}
		}
	}
	for i, text := range texts {
		if given[i] {
			c.replyAsGiven(text)
		} else {
			c.reply(text)
		}
	}
}

func (c *session) record(tx *transaction, to []string, opts [][]string) (string, error) {
	m := Message{
		From:        tx.from,
		MailOptions: tx.mailOpts,
		To:          to,
		RcptOptions: opts,
		Data:        tx.data.Bytes(),
		Raw:         tx.raw.Bytes(),
		Chunked:     tx.chunked,
		TLS:         c.tls,
		AuthUser:    c.authUser,
		Helo:        c.helo,
		RemoteAddr:  c.rec.remote,
		RequireTLS:  hasParam(tx.mailOpts, "REQUIRETLS"),
	}
	if tx.dsn {
		// Both were checked when the commands arrived.
		m.Ret, m.EnvID, _ = mailDSN(tx.mailOpts)
		m.DSN = make([]RcptDSN, len(opts))
		for i, p := range opts {
			m.DSN[i], _ = rcptDSN(p)
		}
	}
	return c.s.record(m)
}

// parseBDAT parses "size [LAST]".
func parseBDAT(arg string) (size int64, last, ok bool) {
	f := strings.Fields(arg)
	if len(f) == 0 || len(f) > 2 {
		return 0, false, false
	}
	size, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || size < 0 || f[0][0] == '+' {
		return 0, false, false
	}
	if len(f) == 2 {
		if !strings.EqualFold(f[1], "LAST") {
			return 0, false, false
		}
		last = true
	}
	return size, last, true
}

func (c *session) bdat(arg string) error {
	if !c.has("CHUNKING") {
		// A server without CHUNKING does not know the chunk follows.
		c.reply(replyNotRecognized)
		return nil
	}
	size, last, ok := parseBDAT(arg)
	if !ok {
		c.reply("501 5.5.4 Syntax: BDAT count [LAST]")
		return nil
	}
	// RFC 3030 section 3: the chunk is read even when BDAT is refused,
	// or its bytes would be taken for commands.
	var refusal string
	switch {
	case !c.greeted:
		refusal = replyNeedHelo
	case c.tx == nil:
		refusal = replyNeedMail
	case len(c.tx.to) == 0:
		refusal = replyNeedRcpt
	}
	var tx *transaction
	if refusal == "" {
		tx = c.tx
	}
	if err := c.readChunk(size, tx); err != nil {
		return err
	}
	if refusal != "" {
		c.reply(refusal)
		return nil
	}
	tx.chunked = true
	if tx.tooBig(c.sizeLimit()) {
		// RFC 3030: after a failed chunk the client sends no more.
		c.tx = nil
		c.reply(replyTooBig)
		return nil
	}
	if last {
		return c.finish(nil)
	}
	c.reply(fmt.Sprintf("250 2.0.0 %d bytes received", size))
	return nil
}

// scriptedBDAT reads the chunk, which follows whatever the reply, then
// answers with text and acts on it.
func (c *session) scriptedBDAT(arg, text string) error {
	size, last, ok := parseBDAT(arg)
	if !ok {
		// Without a size the chunk cannot be found; answer as scripted.
		c.replyAsGiven(text)
		return nil
	}
	tx := c.transaction()
	if err := c.readChunk(size, tx); err != nil {
		return err
	}
	tx.chunked = true
	if last {
		return c.finish(&text)
	}
	c.replyAsGiven(text)
	if code := replyCode(text); code < 200 || code >= 400 {
		c.tx = nil
	}
	if strings.HasPrefix(text, "421") {
		return errClose
	}
	return nil
}

// readChunk reads exactly size bytes into tx, or discards them if tx is
// nil.
func (c *session) readChunk(size int64, tx *transaction) error {
	if tx == nil {
		tx = &transaction{}
	}
	if !tx.dataBegun {
		tx.keep = c.keepLimit()
		tx.dataBegun = true
	}
	buf := make([]byte, min(size, readerSize))
	for left := size; left > 0; {
		// Only a client waiting for replies leaves the buffer empty.
		if c.r.Buffered() == 0 {
			if err := c.flush(); err != nil {
				return err
			}
		}
		n, err := c.r.Read(buf[:min(left, int64(len(buf)))])
		tx.addRaw(buf[:n])
		tx.addData(buf[:n])
		left -= int64(n)
		if err != nil {
			return err
		}
	}
	c.log("C: ", fmt.Sprintf("<chunk %d bytes>", size))
	return nil
}
