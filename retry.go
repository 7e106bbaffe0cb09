package smtplib

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"time"
)

// RetryPolicy says which mails are sent again, when and how often (the zero
// value: the default): never one delivered, refused with 5xx or unknown
// (unless RetryUnknown); only its recipients refused with 4xx.
type RetryPolicy struct {
	MaxTries int // tries of a mail, the first included: 5 when 0
	// The backoff before try n+1 is MinDelay×2^(n-1), at most MaxDelay,
	// less up to half at random (1 s and 5 min when 0); a try past the
	// context's deadline is not made.
	MinDelay, MaxDelay time.Duration
	RetryUnknown       bool               // allow resending a mail that may have gone
	Decide             func(Result) Retry // DefaultRetry when nil
}

// Retry is a [RetryPolicy]'s decision about one result.
type Retry struct {
	Again   bool          // send it again
	Delay   time.Duration // wait this long first, instead of the backoff
	Pool    bool          // the whole pool waits as long: the server throttles
	NewConn bool          // on another connection than the one that answered
}

// DefaultRetry is the default decision, from the enhanced code:
//
//	not sent, 4.4.x, 4xx before MAIL  again, on another connection
//	4.7.x, 454 (throttling)           again, the whole pool pausing
//	421, 4.2.2 and other 4xx          again, that mail or its 4xx recipients
//	sent, 5xx, unknown, AUTH refused  never
func DefaultRetry(r Result) Retry {
	switch OutcomeOf(r.Err) {
	case OutcomeSent:
		return decideReplies(r.Refused)
	case OutcomeUnknown, OutcomeNotSent:
		if errors.Is(r.Err, ErrNotSent) || errors.Is(r.Err, ErrDeliveryUnknown) {
			return Retry{Again: true, NewConn: true}
		}
		return Retry{}
	}
	var (
		ae *AuthenticationError
		rr *RecipientsRefusedError
		se *SenderRefusedError
		de *DataError
		re *ResponseError
	)
	switch {
	case errors.As(r.Err, &ae):
		return Retry{}
	case errors.As(r.Err, &rr):
		return decideReplies(rr.Recipients)
	case errors.As(r.Err, &se):
		return decideReply(se.Reply())
	case errors.As(r.Err, &de):
		return decideReply(de.Reply())
	case errors.As(r.Err, &re) && re.Temporary():
		return Retry{Again: true, NewConn: true} // the session's set-up
	}
	return Retry{}
}

// decideReply is DefaultRetry's decision for a transaction's refusal r.
func decideReply(r Reply) Retry {
	if !r.Temporary() {
		return Retry{}
	}
	switch ec := r.EnhancedCode(); {
	case ec[1] == 7, ec == [3]int{} && r.Code == 454:
		return Retry{Again: true, Pool: true}
	case ec[1] == 4:
		return Retry{Again: true, NewConn: true}
	}
	return Retry{Again: true}
}

// decideReplies is DefaultRetry's decision for the recipients refused in
// refused: again when some were refused with 4xx, the strongest of their
// decisions.
func decideReplies(refused map[string]Reply) Retry {
	var d Retry
	for _, r := range refused {
		x := decideReply(r)
		d.Again = d.Again || x.Again
		d.Pool = d.Pool || x.Pool
		d.NewConn = d.NewConn || x.NewConn
	}
	return d
}

// WithRetry makes a [Pool] send mails again as p says (nil: the default).
func WithRetry(p *RetryPolicy) PoolOption {
	if p == nil {
		p = &RetryPolicy{}
	}
	return func(c *poolConfig) { c.pacer().retry = p }
}

// next decides what follows try a.tries of a mail, whose last result is
// a.last: the decision with its delay, or false when the mail is done.
func (p *RetryPolicy) next(ctx context.Context, a *attempt) (Retry, bool) {
	if p == nil || ctx.Err() != nil {
		return Retry{}, false
	}
	r := a.last
	if a.tries >= cmp0(p.MaxTries, 5) {
		return Retry{}, false
	}
	var rr *RecipientsRefusedError
	switch out := OutcomeOf(r.Err); {
	case r.Err == nil || errors.As(r.Err, &rr):
		if len(a.pending(r)) == 0 {
			return Retry{}, false // delivered, or refused with 5xx only
		}
	case out == OutcomeUnknown && !p.RetryUnknown:
		return Retry{}, false
	case out == OutcomeRefused:
		if rep, ok := refusal(r.Err); ok && !rep.Temporary() {
			return Retry{}, false
		}
	}
	decide := p.Decide
	if decide == nil {
		decide = DefaultRetry
	}
	d := decide(r)
	if !d.Again {
		return Retry{}, false
	}
	if d.Delay <= 0 {
		full := p.backoff(a.tries)
		d.Delay = full/2 + rand.N(full/2+1)
		if d.Pool {
			// One pause for all: the rate limit spreads the mails that
			// resume, as the random part spreads a mail's own retries.
			d.Delay = full
		}
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= d.Delay {
		return Retry{}, false
	}
	return d, true
}

// backoff is the longest wait before the try after try n.
func (p *RetryPolicy) backoff(n int) time.Duration {
	lo, hi := cmp0(p.MinDelay, time.Second), cmp0(p.MaxDelay, 5*time.Minute)
	d := lo
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	return min(d, hi)
}

// cmp0 is v, or def when v is zero or less.
func cmp0[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// attempt is one mail through its tries.
type attempt struct {
	mail      Mail // as the caller gave it
	next      Mail // the next try: mail, or mail for some of its recipients
	tries     int
	last      Result
	delivered bool
	reply     Reply            // the reply that delivered it
	refused   map[string]Reply // each recipient refused so far, with the last refusal
}

func newAttempt(m Mail) *attempt { return &attempt{mail: m, next: m, refused: map[string]Reply{}} }

// add takes a try's result.
func (a *attempt) add(r Result) {
	a.tries += r.Tries
	a.last = r
	var refused map[string]Reply
	var rr *RecipientsRefusedError
	switch {
	case r.Err == nil:
		if !a.delivered {
			a.delivered, a.reply = true, r.Reply
		}
		refused = r.Refused
	case errors.As(r.Err, &rr):
		refused = rr.Recipients
	default:
		return
	}
	for _, rcpt := range a.next.To {
		delete(a.refused, rcpt)
	}
	for rcpt, rep := range refused {
		a.refused[rcpt] = rep
	}
}

// pending returns the recipients of the last try that r refused with a
// 4xx reply, in order, when it refused some and not the mail as a whole.
func (a *attempt) pending(r Result) []string {
	var refused map[string]Reply
	var rr *RecipientsRefusedError
	switch {
	case r.Err == nil:
		refused = r.Refused
	case errors.As(r.Err, &rr):
		refused = rr.Recipients
	default:
		return nil
	}
	var to []string
	for rcpt, rep := range refused {
		if rep.Temporary() {
			to = append(to, rcpt)
		}
	}
	slices.Sort(to)
	return to
}

// again makes the next try after the last: the same, or for the
// recipients refused with 4xx only.
func (a *attempt) again() {
	if to := a.pending(a.last); to != nil {
		a.next = a.mail
		a.next.To, a.next.part = to, true
	}
}

// result is the mail's Result after its last try.
func (a *attempt) result() Result {
	last := a.last
	if !a.delivered {
		var rr *RecipientsRefusedError
		if errors.As(last.Err, &rr) && len(a.refused) > len(rr.Recipients) {
			last.Err = &RecipientsRefusedError{Recipients: a.refused}
		}
		last.Tries = a.tries
		return last
	}
	res := Result{Refused: a.refused, Reply: a.reply, Tries: a.tries}
	if last.Err == nil {
		return res
	}
	// The try for some recipients failed as a whole.
	if OutcomeOf(last.Err) == OutcomeUnknown {
		for _, rcpt := range a.next.To {
			delete(a.refused, rcpt)
		}
		res.Err = last.Err
	} else if rep, ok := refusal(last.Err); ok && OutcomeOf(last.Err) == OutcomeRefused {
		for _, rcpt := range a.next.To {
			a.refused[rcpt] = rep
		}
	}
	return res
}

// send is Pool.Send: one try, or with rate limits and retries as the pool
// has them.
func (p *Pool) send(ctx context.Context, m Mail) Result {
	pc := p.cfg.pace
	if pc == nil {
		r := p.try(&poolReq{ctx: ctx, m: m})
		r.Tries = max(r.Tries, 1)
		return r
	}
	wctx, done := pc.waiting(ctx)
	defer done()
	a := newAttempt(m)
	for {
		if err := pc.admit(wctx, &a.next); err != nil {
			if a.tries == 0 {
				return Result{Err: err}
			}
			return a.result()
		}
		admitted := time.Now()
		req := &poolReq{ctx: ctx, m: a.next}
		r := p.try(req)
		r.Tries = max(r.Tries, 1)
		a.add(r)
		d, ok := pc.retry.next(ctx, a)
		if !ok {
			return a.result()
		}
		if d.NewConn && req.conn != nil {
			p.avoid(req.conn)
		}
		if d.Pool {
			pc.pause(admitted, d.Delay)
		}
		if sleep(wctx, d.Delay) != nil {
			return a.result()
		}
		a.again()
	}
}

// avoid has pc replaced: it takes no more mails, and is closed once those
// in flight are in, at once if it is free.
func (p *Pool) avoid(pc *poolConn) {
	p.mu.Lock()
	if pc.stale || p.closed {
		p.mu.Unlock()
		return
	}
	pc.stale = true
	if !pc.free {
		p.mu.Unlock()
		return // its driver retires it when its pipeline is empty
	}
	pc.free = false
	if i := slices.Index(p.free, pc); i >= 0 {
		p.free = slices.Delete(p.free, i, i+1)
	}
	p.forgetLocked(pc)
	p.wg.Add(1) // p.closed is false: Close has not started waiting
	p.mu.Unlock()
	p.retire(pc)
}

// RetryBatch sends mails with send, then again those whose results call for
// it, as policy says, until every outcome is final.
func RetryBatch(ctx context.Context, policy *RetryPolicy, mails []Mail,
	send func(ctx context.Context, mails []Mail, newConn bool) ([]Result, error)) []Result {
	if policy == nil {
		policy = &RetryPolicy{}
	}
	atts := make([]*attempt, len(mails))
	round := make([]int, len(mails)) // the mails of the next round
	for i := range mails {
		atts[i], round[i] = newAttempt(mails[i]), i
	}
	newConn := false
	for len(round) > 0 {
		batch := make([]Mail, len(round))
		for k, i := range round {
			batch[k] = atts[i].next
		}
		results, err := send(ctx, batch, newConn)
		newConn = err != nil
		var wait time.Duration
		again := round[:0]
		for k, i := range round {
			r := Result{Err: err}
			switch {
			case k < len(results):
				r = results[k]
			case err == nil:
				r.Err = &CommandError{Reason: "RetryBatch: send returned fewer results than mails"}
			}
			r.Tries = max(r.Tries, 1)
			a := atts[i]
			a.add(r)
			if d, ok := policy.next(ctx, a); ok {
				wait = max(wait, d.Delay)
				newConn = newConn || d.NewConn
				a.again()
				again = append(again, i)
			}
		}
		round = again
		if len(round) > 0 && sleep(ctx, wait) != nil {
			break
		}
	}
	out := make([]Result, len(mails))
	for i, a := range atts {
		out[i] = a.result()
	}
	return out
}

// keepORcpt drops the ORcpt options of recipients not in to, for a retry
// to some of a mail's recipients.
func (o *sendOptions) keepORcpt(to []string) {
	o.orcpt = slices.DeleteFunc(slices.Clone(o.orcpt), func(oc orcptOption) bool {
		return !slices.ContainsFunc(to, func(addr string) bool { return sameRecipient(oc.rcpt, addr) })
	})
}
