package smtplib

import (
	"context"

	"github.com/gosmtplib/smtplib/email"
)

// Mail is one message for [SMTP.SendBatch] and [Pool.Send]: Data, sent as
// Sendmail sends it, or Message, as SendMessage does (From and To, when
// set, override its header), with Sendmail's options.
type Mail struct {
	From    string
	To      []string
	Data    []byte
	Message *email.Message
	Options []SendOption

	part bool // a retry for some of the recipients: ORcpt for the others is dropped
}

// Result is the outcome of one [Mail]: Refused and Err as Sendmail returns
// them, Reply the server's final reply to the data if one came, and the
// number of Tries.
type Result struct {
	Refused map[string]Reply
	Reply   Reply
	Err     error
	// Tries is how many times the mail was tried: 1 for SendBatch; for a
	// Pool, one more for each time it was sent again (see [Pool] and
	// [RetryPolicy]), and 0 when it never passed the Pool's rate limit.
	Tries int
}

// SendBatch sends mails over the connection as separate transactions,
// overlapping them as PIPELINING and CHUNKING allow (a fraction of a round
// trip each for small mails), and returns their results in order. A mail
// refused does not stop the others; the error is the connection's,
// returned with the results.
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
