package smtplib

import (
	"bytes"
	"context"
	"io"
	"strconv"
)

// Sendmail sends msg from the envelope sender from to each of the
// recipients to, as one mail transaction (Python's sendmail), and returns
// the recipients the server refused, each with its reply; the map is empty
// when all were accepted.
//
// It says EHLO (or HELO) first if the session has not. When the server
// speaks ESMTP, "size=N" is added to the MAIL options if it offers SIZE (N
// is len(msg), as smtplib declares a bytes message), and the options of
// [MailOptions] and [RcptOptions] are passed with MAIL and each RCPT; a
// server that only took HELO gets none of them, as in smtplib. A nil or
// empty msg is sent as smtplib sends b"": an empty message. The message is sent with lone CR
// and LF made CRLF and line-starting periods doubled.
//
// Errors, as smtplib raises them:
//   - [*SenderRefusedError] when MAIL is refused; the session is reset with
//     RSET, or closed if the reply was 421.
//   - [*RecipientsRefusedError] when every recipient was refused (the
//     session is reset), or when a recipient got 421 (the client is closed).
//     Its Recipients holds the refusals so far.
//   - [*DataError] when DATA is not answered 354 (nothing is reset, as in
//     smtplib), or the message is refused after the data (reset, or closed
//     on 421).
//   - [*NotSupportedError] for an SMTPUTF8 option the server does not offer,
//     [*CommandError] for an address or option that cannot go on the wire
//     safely, [*HeloError] when the server refuses EHLO and HELO, and
//     [*ServerDisconnectedError] when the connection is lost.
//
// All addresses and options are checked before anything is sent. When the
// server offers PIPELINING (RFC 2920), MAIL, every RCPT and DATA go in one
// write and their replies are read after it; when it offers CHUNKING (RFC
// 3030), the message goes in BDAT chunks instead of DATA. Neither changes
// the results or errors above, and no message data is sent after DATA
// unless the server answered 354 and accepted a recipient. A server that
// closes the connection after the end of the data but before its reply
// leaves the delivery unknown: the mail may or may not have been accepted.
func (s *SMTP) Sendmail(from string, to []string, msg []byte, opts ...SendOption) (map[string]Reply, error) {
	return s.SendmailContext(context.Background(), from, to, msg, opts...)
}

// SendmailContext is [SMTP.Sendmail] bounded by ctx: when ctx is done the
// operation under way stops at once, the connection is closed, and the
// error, a [*ServerDisconnectedError], wraps ctx.Err().
func (s *SMTP) SendmailContext(ctx context.Context, from string, to []string, msg []byte, opts ...SendOption) (map[string]Reply, error) {
	o, err := collectSendOptions("Sendmail", opts, true)
	if err != nil {
		return nil, err
	}
	return s.sendmail(ctx, from, to, &body{b: msg, size: len(msg)}, o)
}

// SendmailReader is [SMTP.Sendmail] for a message read from r, which is
// streamed to the server in constant memory, whatever its size. SIZE is
// declared only when r tells its length with a Len() int method (as
// *bytes.Reader, *bytes.Buffer and *strings.Reader do). A nil r is refused
// with a [*CommandError] before anything is sent.
func (s *SMTP) SendmailReader(from string, to []string, r io.Reader, opts ...SendOption) (map[string]Reply, error) {
	return s.SendmailReaderContext(context.Background(), from, to, r, opts...)
}

// SendmailReaderContext is [SMTP.SendmailReader] bounded by ctx, as
// [SMTP.SendmailContext] is.
func (s *SMTP) SendmailReaderContext(ctx context.Context, from string, to []string, r io.Reader, opts ...SendOption) (map[string]Reply, error) {
	if r == nil {
		return nil, &CommandError{Reason: "SendmailReader: the message reader is nil"}
	}
	o, err := collectSendOptions("SendmailReader", opts, true)
	if err != nil {
		return nil, err
	}
	size := -1
	if l, ok := r.(interface{ Len() int }); ok {
		size = l.Len()
	}
	return s.sendmail(ctx, from, to, &body{r: r, size: size}, o)
}

// body is a message from memory (b) or from a stream (r), with the SIZE to
// declare, -1 when unknown.
type body struct {
	b    []byte
	r    io.Reader
	size int
}

// writeTo passes the whole body through w, a piece at a time. A message in
// memory is copied into the piece buffer too: the data writer scans each
// line twice, and scanning a 32 KiB piece just copied, in the processor's
// cache, is several times faster than scanning a large message where it
// lies. A stream is read only while ctx (nil for none) is not done: the
// writes notice a cancelled context through the connection's deadline,
// but a slow reader must be stopped here.
func (b *body) writeTo(s *SMTP, w *dataWriter) error {
	ctx := s.ctx
	r := b.r
	if r == nil {
		r = bytes.NewReader(b.b)
	}
	n := 32 << 10
	if b.size >= 0 {
		n = min(n, b.size+512) // a short message needs no larger buffer
	}
	buf := s.scratch(&s.pieceBuf, n)
	for {
		if ctx != nil && ctx.Err() != nil {
			return ctx.Err()
		}
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return &readError{err}
		}
	}
}

// scratch returns a buffer of n bytes, reusing *keep when it is large
// enough, and keeps a new one for the next message when it is small: a
// client sends message after message, and each needs the same buffers.
// Buffers over maxKept bytes are not kept, so that one large message does
// not hold memory for the client's life.
func (s *SMTP) scratch(keep *[]byte, n int) []byte {
	if cap(*keep) >= n {
		return (*keep)[:n]
	}
	b := make([]byte, n)
	if n <= maxKept {
		*keep = b
	}
	return b
}

// maxKept bounds the buffers a client keeps between messages.
const maxKept = 64 << 10

// readError marks a failure to read the caller's message, as opposed to a
// failure of the connection.
type readError struct{ err error }

func (e *readError) Error() string { return "smtplib: reading the message: " + e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

func (s *SMTP) sendmail(ctx context.Context, from string, to []string, b *body, o *sendOptions) (map[string]Reply, error) {
	t, err := s.transact(ctx, from, to, b, o)
	if s.lmtp {
		return s.lmtpOutcome(t, err)
	}
	if err != nil {
		return nil, err
	}
	if r := t.final[0]; r.Code != 250 {
		if r.Code == 421 {
			s.Close()
		} else {
			s.rsetQuietly()
		}
		return nil, &DataError{ResponseError(r)}
	}
	return t.refused, nil
}

// txn is the outcome of a mail transaction that got as far as the data.
type txn struct {
	refused  map[string]Reply
	accepted []string
	final    []Reply // the replies after the data: one, or for LMTP one per accepted recipient
	dataSent bool    // the whole message went out, and the replies after it are awaited
}

// envelope holds the command lines of a transaction, built and checked
// before any is sent.
type envelope struct {
	from  string
	mail  string   // MAIL's argument
	to    []string // the recipients as given
	rcpts []string // RCPT's argument for each
}

// buildEnvelope applies Sendmail's option rules and checks every line.
func (s *SMTP) buildEnvelope(from string, to []string, size int, o *sendOptions) (*envelope, error) {
	var opts []string
	if s.DoesESMTP {
		if s.HasExtn("size") && size >= 0 {
			opts = append(opts, "size="+strconv.Itoa(size))
		}
		opts = append(opts, o.mail...)
	}
	e := &envelope{from: from, to: to, rcpts: make([]string, len(to))}
	var err error
	if e.mail, err = s.mailArgs(from, opts); err != nil {
		return nil, err
	}
	if err = s.checkCommand(verbMail, e.mail); err != nil {
		return nil, err
	}
	for i, rcpt := range to {
		if e.rcpts[i], err = s.rcptArgs(rcpt, o.rcpt); err != nil {
			return nil, err
		}
		if err = s.checkCommand(verbRcpt, e.rcpts[i]); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// transact runs MAIL, RCPT and the data, one command at a time as smtplib
// does or pipelined when the server allows it, and returns the replies
// after the data. Every failure before them is returned as smtplib's
// sendmail reports it.
func (s *SMTP) transact(ctx context.Context, from string, to []string, b *body, o *sendOptions) (*txn, error) {
	defer s.bind(ctx)()
	if err := s.EhloOrHeloIfNeeded(); err != nil {
		return nil, err
	}
	e, err := s.buildEnvelope(from, to, b.size, o)
	if err != nil {
		return nil, err
	}
	chunking := s.DoesESMTP && s.HasExtn("chunking") && !s.cfg.noChunking
	if s.DoesESMTP && s.HasExtn("pipelining") && !s.cfg.noPipelining {
		return s.transactPipelined(e, b, chunking)
	}
	r, err := s.docmdPhase(phaseCommand, verbMail, e.mail)
	if err != nil {
		return nil, err
	}
	if err := s.checkSender(e, r); err != nil {
		return nil, err
	}
	t := &txn{refused: map[string]Reply{}}
	for i := range e.rcpts {
		r, err := s.docmdPhase(phaseCommand, verbRcpt, e.rcpts[i])
		if err != nil {
			return nil, err
		}
		if err := s.noteRecipient(t, e.to[i], r); err != nil {
			return nil, err
		}
	}
	if err := s.checkSomeAccepted(t, e); err != nil {
		return nil, err
	}
	if chunking {
		return t, s.sendChunks(t, b, false)
	}
	r, err = s.docmdPhase(phaseDataInit, verbData, "")
	if err != nil {
		return nil, err
	}
	return t, s.sendData(t, b, r)
}

// checkSender judges MAIL's reply as smtplib's sendmail does.
func (s *SMTP) checkSender(e *envelope, r Reply) error {
	if r.Code == 250 {
		return nil
	}
	if r.Code == 421 {
		s.Close()
	} else {
		s.rsetQuietly()
	}
	return &SenderRefusedError{ResponseError(r), e.from}
}

// noteRecipient records one RCPT reply; a 421 ends the transaction.
func (s *SMTP) noteRecipient(t *txn, rcpt string, r Reply) error {
	if r.Code != 250 && r.Code != 251 {
		t.refused[rcpt] = r
	} else {
		t.accepted = append(t.accepted, rcpt)
	}
	if r.Code == 421 {
		s.Close()
		return &RecipientsRefusedError{Recipients: t.refused}
	}
	return nil
}

// checkSomeAccepted ends the transaction when every recipient was refused.
// Like smtplib it compares the number of refused addresses with the number
// given, so a refused address listed twice counts once.
func (s *SMTP) checkSomeAccepted(t *txn, e *envelope) error {
	if len(t.refused) != len(e.to) {
		return nil
	}
	s.rsetQuietly()
	return &RecipientsRefusedError{Recipients: t.refused}
}

// sendData sends the message after DATA got reply r (Python's data, from
// its check of the 354) and reads the replies after the final dot.
func (s *SMTP) sendData(t *txn, b *body, r Reply) error {
	if s.debuglevel > 0 {
		s.debugf("data: (%d, %s)", r.Code, pyReprBytes([]byte(r.Message)))
	}
	if r.Code != 354 {
		// smtplib neither resets nor closes here, even on 421.
		return &DataError{ResponseError(r)}
	}
	if err := s.writeBody(newDataWriter(nil, true), b); err != nil {
		return err
	}
	return s.readFinal(t, s.finalReplies(t))
}

// finalReplies is how many replies follow the end of the data: one for
// SMTP, one per accepted recipient for LMTP (RFC 2033 section 4.2).
func (s *SMTP) finalReplies(t *txn) int {
	if s.lmtp && t.refused != nil {
		return len(t.accepted)
	}
	return 1
}

// writeBody sends b through the data writer d (whose destination it sets)
// and flushes, within the data-block timeout. The debug output shows the
// data as smtplib's does: one "send:" line with all of it.
func (s *SMTP) writeBody(d *dataWriter, b *body) error {
	if s.getConn() == nil {
		return notConnected()
	}
	s.wphase = phaseDataBlock
	var shown *debugBuffer
	d.w = s.bw
	if s.debuglevel > 0 {
		shown = &debugBuffer{}
		d.w = io.MultiWriter(s.bw, shown)
	}
	err := b.writeTo(s, d)
	if err == nil {
		err = d.finish()
	}
	if err == nil {
		err = s.bw.Flush()
	}
	if shown != nil {
		s.debugf("send: %s", pyReprBytes(shown.b))
	}
	if err != nil {
		return s.bodyFailed(err)
	}
	return nil
}

// bodyFailed closes the client after a failed transfer of message data:
// the server is in the middle of the data and cannot be brought back.
func (s *SMTP) bodyFailed(err error) error {
	if re, ok := err.(*readError); ok {
		s.Close()
		return re
	}
	return s.disconnected("Server not connected", err)
}

// readFinal reads the n replies after the end of the data. Those that came
// before a failure are kept in t.final.
func (s *SMTP) readFinal(t *txn, n int) error {
	t.dataSent = true
	for i := 0; i < n; i++ {
		r, err := s.readReplyPhase(phaseDataTermReply)
		if err != nil {
			return err
		}
		if s.debuglevel > 0 {
			s.debugf("data: (%d, %s)", r.Code, pyReprBytes([]byte(r.Message)))
		}
		t.final = append(t.final, r)
	}
	return nil
}

// debugBuffer collects the data sent, for the debug output.
type debugBuffer struct{ b []byte }

func (d *debugBuffer) Write(p []byte) (int, error) {
	d.b = append(d.b, p...)
	return len(p), nil
}
