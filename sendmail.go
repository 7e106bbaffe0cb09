package smtplib

import (
	"context"
	"io"
	"strconv"
	"strings"

	"github.com/gosmtplib/smtplib/internal/textutil"
)

// Sendmail sends msg from from to each recipient in to, as one transaction
// (Python's sendmail), and returns the recipients refused, each with its
// reply. The package documentation gives the rules and errors of every
// sending call.
func (s *SMTP) Sendmail(from string, to []string, msg []byte, opts ...SendOption) (map[string]Reply, error) {
	return s.SendmailContext(context.Background(), from, to, msg, opts...)
}

// SendmailContext is [SMTP.Sendmail] bounded by ctx.
func (s *SMTP) SendmailContext(ctx context.Context, from string, to []string, msg []byte, opts ...SendOption) (map[string]Reply, error) {
	o, err := collectSendOptions("Sendmail", opts, true)
	if err != nil {
		return nil, err
	}
	return s.sendmail(ctx, from, to, &body{b: msg, size: len(msg)}, o)
}

// SendmailReader is [SMTP.Sendmail] streaming the message from r, in
// constant memory; SIZE is declared when r has Len() int.
func (s *SMTP) SendmailReader(from string, to []string, r io.Reader, opts ...SendOption) (map[string]Reply, error) {
	return s.SendmailReaderContext(context.Background(), from, to, r, opts...)
}

// SendmailReaderContext is [SMTP.SendmailReader] bounded by ctx.
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
// declare, -1 when unknown, and the DKIM-Signature field that goes before
// it, if any (dkim.go).
type body struct {
	b    []byte
	r    io.Reader
	size int
	sig  []byte
}

// sendSize is the size of what is sent, the signature included; -1 when
// unknown.
func (b *body) sendSize() int {
	if b.size < 0 {
		return -1
	}
	return b.size + len(b.sig)
}

// eightBit reports whether the message, known before MAIL, has a byte
// over 127, for which RFC 6152 wants BODY=8BITMIME declared. A stream is
// not read ahead: it is sent as the caller's options say.
func (b *body) eightBit() bool { return !textutil.IsASCII(b.b) }

// hasParam reports whether options hold the ESMTP parameter name
// ("body" for "BODY=7BIT"), case ignored.
func hasParam(options []string, name string) bool {
	for _, o := range options {
		key, _, _ := strings.Cut(o, "=")
		if strings.EqualFold(key, name) {
			return true
		}
	}
	return false
}

// writeTo passes the whole body through w. A message in memory goes from
// the caller's slice as it lies, without a copy: first bytes, then pieces
// of chunkSize, so that the data writer scans each piece while it is in
// the processor's cache and then hands it on, whole, to the connection or
// the chunk sender. A stream is read through a 32 KiB buffer, and only
// while the context of the operation (if any) is not done: the writes
// notice a cancelled context through the connection's deadline, but a slow
// reader must be stopped here.
func (b *body) writeTo(s *SMTP, w *dataWriter, first int) error {
	ctx := s.ctx
	if len(b.sig) > 0 {
		if _, err := w.Write(b.sig); err != nil {
			return err
		}
		first = max(first-len(b.sig), 1) // the pieces after it keep their bounds
	}
	if b.r == nil {
		p := b.b
		for n := first; len(p) > 0; n = chunkSize {
			if ctx != nil && ctx.Err() != nil {
				return ctx.Err()
			}
			n = min(n, len(p))
			if n > 1 && n < len(p) && p[n-1] == '\r' {
				// A CR at the end would be held back until the next piece
				// says whether an LF follows, and the piece passed on one
				// byte short; the CR starts the next piece instead.
				n--
			}
			if _, err := w.Write(p[:n]); err != nil {
				return err
			}
			p = p[n:]
		}
		return nil
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
		n, err := b.r.Read(buf)
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
	return s.sendOne(ctx, txn{from: from, to: to, b: b, o: o})
}

// sendOne is the one way a single transaction is sent, by Sendmail,
// SendmailReader and SendMessage alike: EHLO if needed, then the engine.
func (s *SMTP) sendOne(ctx context.Context, t txn) (map[string]Reply, error) {
	defer s.bind(ctx)()
	if err := s.EhloOrHeloIfNeeded(); err != nil {
		return nil, err
	}
	x := &oneTxn{}
	x.t[0] = t
	x.txs[0] = &x.t[0]
	eng := x.engine()
	s.initEngine(eng)
	eng.run(x.txs[:])
	return eng.outcome(&x.t[0])
}

// oneTxn is what a single transaction needs, in one allocation: the
// engine, the transaction, and a queue long enough for a small envelope.
// Sendmail is called message after message, and a Pool sends most mails
// as batches of one.
type oneTxn struct {
	eng   engine
	t     [1]txn
	txs   [1]*txn
	queue [8]inflight
}

// engine returns the engine, its queue in x.
func (x *oneTxn) engine() *engine {
	x.eng.queue = x.queue[:0]
	return &x.eng
}

// envelope holds the command lines of a transaction, built and checked
// before any is sent, and the encoding they are checked in: "utf-8" when
// the transaction uses SMTPUTF8, "ascii" otherwise. The encoding is the
// transaction's own, never what an earlier one left on the client.
type envelope struct {
	mail  string   // MAIL's argument
	rcpts []string // RCPT's argument for each
	enc   string
}

// buildEnvelope applies Sendmail's option rules and checks every line.
func (s *SMTP) buildEnvelope(from string, to []string, b *body, o *sendOptions) (*envelope, error) {
	status, err := o.statusParams(s, to)
	if err != nil {
		return nil, err
	}
	var opts []string
	if s.DoesESMTP {
		if s.HasExtn("size") && b.sendSize() >= 0 {
			opts = append(opts, "size="+strconv.Itoa(b.sendSize()))
		}
		opts = append(opts, o.mail...)
		if s.HasExtn("8bitmime") && b.eightBit() && !hasParam(o.mail, "body") {
			// RFC 6152 section 3: 8-bit data goes with BODY=8BITMIME.
			opts = append(opts, "BODY=8BITMIME")
		}
	}
	opts = append(opts, status.mail...)
	e := &envelope{rcpts: make([]string, len(to)), enc: "ascii"}
	var utf8 bool
	if e.mail, utf8, err = s.mailArgs(from, opts); err != nil {
		return nil, err
	}
	if utf8 {
		e.enc = "utf-8"
	}
	if err = checkCommand(verbMail, e.mail, e.enc); err != nil {
		return nil, err
	}
	for i, rcpt := range to {
		if e.rcpts[i], err = s.rcptArgs(rcpt, status.rcptParams(i)); err != nil {
			return nil, err
		}
		if err = checkCommand(verbRcpt, e.rcpts[i], e.enc); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// writeBody sends b through the data writer d (whose destination it sets),
// flushing as w says. The debug output shows the data as smtplib's does:
// one "send:" line with all of it.
func (s *SMTP) writeBody(d *dataWriter, b *body, w wr) error {
	if s.getConn() == nil {
		return notConnected()
	}
	s.writing(w)
	var shown *debugBuffer
	d.w = s.bw
	if s.debuglevel > 0 {
		shown = &debugBuffer{}
		d.w = io.MultiWriter(s.bw, shown)
	}
	err := b.writeTo(s, d, chunkSize)
	if err == nil {
		err = d.finish()
	}
	if err == nil && w.flush {
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
		s.closeWith(re)
		return re
	}
	return s.disconnected("Server not connected", err)
}

// debugBuffer collects the data sent, for the debug output.
type debugBuffer struct{ b []byte }

func (d *debugBuffer) Write(p []byte) (int, error) {
	d.b = append(d.b, p...)
	return len(p), nil
}
