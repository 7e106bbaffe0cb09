package smtplib

import (
	"context"

	"github.com/gosmtplib/smtplib/email"
)

// Mail is one message for [SMTP.SendBatch] and [Pool.Send]: the envelope
// sender and recipients, the message, and the options of [SMTP.Sendmail]
// (FromAddr and ToAddrs are refused, as Sendmail refuses them).
//
// The message is either Data, sent as [SMTP.Sendmail] sends it, or
// Message, sent as [SMTP.SendMessage] sends it: without its Bcc and
// Resent-Bcc fields, with the sender and recipients taken from its header
// unless From (when not "") and To (when not nil) give them, as FromAddr
// and ToAddrs would. A Message cannot go with the null sender this way;
// SendMessage with FromAddr("") can send it. A Mail with both Data and
// Message gets a *[CommandError].
type Mail struct {
	From    string
	To      []string
	Data    []byte
	Message *email.Message
	Options []SendOption

	part bool // a retry for some of the recipients: ORcpt for the others is dropped
}

// Result is the outcome of one [Mail]: Refused and Err are what
// [SMTP.Sendmail] would have returned for it, and Reply is the server's
// final reply to the data (its text usually carries the queue id), when
// one was read.
//
// After a 421 or a lost connection, Err tells the mails that were not sent
// from those whose fate is unknown: errors.Is(Err, [ErrDeliveryUnknown])
// holds for a mail whose whole message went out before the connection was
// lost, and errors.Is(Err, [ErrNotSent]) for those the connection never
// carried to their end, which may be sent again. When the server sent a
// reply nobody asked for, every mail whose replies were read since the
// session was last known in step has one of the two, with
// [ErrOutOfStep]: the others keep their results.
type Result struct {
	Refused map[string]Reply
	Reply   Reply
	Err     error
	// Tries is how many times the mail was tried: 1 for SendBatch; for a
	// Pool, one more for each time it was sent again (see [Pool] and
	// [RetryPolicy]), and 0 when it never passed the Pool's rate limit.
	Tries int
}

// SendBatch sends mails over the one connection, in order, as separate
// mail transactions, and returns one [Result] per mail, in the order
// given. When the server offers PIPELINING, transactions overlap: the next
// mail's MAIL, RCPT and DATA go out behind the previous message's end of
// data, before its reply, and with CHUNKING whole transactions go out
// without waiting for any reply, so that a batch of small messages costs a
// fraction of a round trip each. Without PIPELINING the mails go one after
// another, as Sendmail sends them.
//
// A mail that is refused, or whose options or addresses are bad, does not
// stop the others: its Result says why, and the session is reset before
// the next one when the server may still hold it. The returned error is
// for the connection: EHLO failed, the server shut the session down with
// 421, or the connection was lost or ctx ended; the results are returned
// with it, those of the mails not sent carrying an error that says so. A
// transaction that overlaps a later one gets no RSET after a refusal of
// its data, which ended it (RFC 5321 section 4.1.1.4); otherwise the
// results are those of Sendmail, mail by mail.
func (s *SMTP) SendBatch(ctx context.Context, mails []Mail) ([]Result, error) {
	var (
		results []Result
		store   []txn // a mail whose options were refused has no transaction (o nil)
		bodies  []body
		txs     []*txn
		e       *engine
	)
	if len(mails) == 1 {
		x := &struct {
			oneTxn
			results [1]Result
			bodies  [1]body
		}{}
		results, store, bodies, txs, e = x.results[:], x.t[:], x.bodies[:], x.txs[:0], x.engine()
	} else {
		results = make([]Result, len(mails))
		store = make([]txn, len(mails))
		bodies = make([]body, len(mails))
		txs = make([]*txn, 0, len(mails))
		e = &engine{}
	}
	for i := range mails {
		if err := mails[i].txn("SendBatch", &store[i], &bodies[i]); err != nil {
			results[i].Err = err
			continue
		}
		txs = append(txs, &store[i])
	}
	defer s.bind(ctx)()
	for i := range results {
		results[i].Tries = 1
	}
	if err := s.EhloOrHeloIfNeeded(); err != nil {
		for i := range store {
			if store[i].o != nil {
				results[i].Err = err
			}
		}
		return results, err
	}
	s.initEngine(e)
	e.run(txs)
	for i := range store {
		if t := &store[i]; t.o != nil {
			r := &results[i]
			r.Refused, r.Err = e.outcome(t)
			r.Reply, _ = t.finalReply()
		}
	}
	return results, e.err
}

// txn makes m's transaction in t, with its body in b, or says why m
// cannot be sent (op names the call): its options are checked, and a
// Message's envelope is left for the engine to take from the header once
// EHLO has told what the server offers, as SendMessage does.
func (m *Mail) txn(op string, t *txn, b *body) error {
	o, err := collectSendOptions(op, m.Options, true)
	if err != nil {
		return err
	}
	if m.part {
		o.keepORcpt(m.To)
	}
	if m.Message == nil {
		*b = body{b: m.Data, size: len(m.Data)}
		*t = txn{from: m.From, to: m.To, b: b, o: o}
		return nil
	}
	if m.Data != nil {
		return &CommandError{Reason: op + ": a Mail carries Data or a Message, not both"}
	}
	o.from, o.fromSet = m.From, m.From != ""
	o.to, o.toSet = m.To, m.To != nil
	*t = txn{msg: m.Message, b: b, o: o}
	return nil
}
