package smtplib

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/email"
	"github.com/gosmtplib/smtplib/internal/rawsrv"
)

// TestDefaultRetry is DefaultRetry's table, row by row.
func TestDefaultRetry(t *testing.T) {
	lost := &ServerDisconnectedError{Msg: "lost", Err: errors.New("reset")}
	rr := func(replies ...Reply) error {
		m := map[string]Reply{}
		for i, r := range replies {
			m[string(rune('a'+i))+"@example.org"] = r
		}
		return &RecipientsRefusedError{Recipients: m}
	}
	tests := []struct {
		name string
		r    Result
		want Retry
	}{
		{"sent", Result{Refused: map[string]Reply{}}, Retry{}},
		{"sent, a recipient refused for good", Result{Refused: map[string]Reply{"a@b": {550, "5.1.1 no"}}}, Retry{}},
		{"sent, a mailbox full", Result{Refused: map[string]Reply{"a@b": {452, "4.2.2 Mailbox full"}}}, Retry{Again: true}},
		{"unknown", Result{Err: deliveryUnknown(lost)}, Retry{Again: true, NewConn: true}},
		{"not sent", Result{Err: lost}, Retry{Again: true, NewConn: true}},
		{"SES throttling at MAIL", Result{Err: &SenderRefusedError{respErr(Reply{454, "4.7.0 Throttling failure"}), "a@b"}},
			Retry{Again: true, Pool: true}},
		{"SES throttling without a code", Result{Err: &DataError{respErr(Reply{454, "Throttling failure: Maximum sending rate exceeded"})}},
			Retry{Again: true, Pool: true}},
		{"421 4.7.0 at MAIL", Result{Err: &SenderRefusedError{respErr(Reply{421, "4.7.0 Try again later"}), "a@b"}},
			Retry{Again: true, Pool: true}},
		{"421 at the end of data", Result{Err: &DataError{respErr(Reply{421, "Service not available"})}}, Retry{Again: true}},
		{"next hop failed", Result{Err: &DataError{respErr(Reply{451, "4.4.1 No answer from host"})}}, Retry{Again: true, NewConn: true}},
		{"local error", Result{Err: &DataError{respErr(Reply{451, "4.3.0 Local error"})}}, Retry{Again: true}},
		{"every recipient full", Result{Err: rr(Reply{452, "4.2.2 Mailbox full"})}, Retry{Again: true}},
		{"recipients refused for good", Result{Err: rr(Reply{550, "5.1.1 no"}, Reply{553, "5.1.3 bad"})}, Retry{}},
		{"recipients, one greylisted", Result{Err: rr(Reply{550, "5.1.1 no"}, Reply{451, "4.7.1 greylisted"})},
			Retry{Again: true, Pool: true}},
		{"data refused for good", Result{Err: &DataError{respErr(Reply{554, "5.7.1 spam"})}}, Retry{}},
		{"STARTTLS unavailable", Result{Err: ptr(respErr(Reply{454, "4.7.0 TLS not available"}))}, Retry{Again: true, NewConn: true}},
		{"greeting 421", Result{Err: &ConnectError{respErr(Reply{421, "4.3.2 busy"})}}, Retry{Again: true, NewConn: true}},
		{"AUTH refused, temporarily", Result{Err: &AuthenticationError{ResponseError: respErr(Reply{454, "4.7.0 Temporary authentication failure"})}}, Retry{}},
		{"AUTH refused", Result{Err: &AuthenticationError{ResponseError: respErr(Reply{535, "5.7.8 bad"})}}, Retry{}},
		{"the caller's mistake", Result{Err: &CommandError{Reason: "bad"}}, Retry{}},
		{"not supported", Result{Err: &NotSupportedError{Msg: "SMTPUTF8"}}, Retry{}},
		{"pool closed", Result{Err: ErrPoolClosed}, Retry{}},
		{"insecure auth", Result{Err: ErrInsecureAuth}, Retry{}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, DefaultRetry(tt.r), tt.name)
	}
}

// TestRetryPolicyNever checks what no Decide can override: a mail
// delivered, refused with 5xx or of unknown delivery is done, and so is one
// after MaxTries, one whose context ended, and one whose next try the
// context's deadline would not leave time for.
func TestRetryPolicyNever(t *testing.T) {
	always := func(Result) Retry { return Retry{Again: true} }
	lost := &ServerDisconnectedError{Msg: "lost", Err: errors.New("reset")}
	later := &DataError{respErr(Reply{451, "4.3.0 later"})}
	next := func(p *RetryPolicy, ctx context.Context, tries int, r Result) bool {
		a := newAttempt(Mail{To: []string{"a@example.org"}})
		r.Tries = tries
		a.add(r)
		_, ok := p.next(ctx, a)
		return ok
	}
	bg := context.Background()
	p := &RetryPolicy{Decide: always}
	assert.False(t, next(p, bg, 1, Result{}), "sent")
	assert.False(t, next(p, bg, 1, Result{Err: &DataError{respErr(Reply{554, "5.7.1 no"})}}), "5xx")
	assert.False(t, next(p, bg, 1, Result{Err: &RecipientsRefusedError{Recipients: map[string]Reply{"a@example.org": {550, "5.1.1 no"}}}}), "5xx")
	assert.False(t, next(p, bg, 1, Result{Err: deliveryUnknown(lost)}), "unknown")
	assert.True(t, next(&RetryPolicy{RetryUnknown: true}, bg, 1, Result{Err: deliveryUnknown(lost)}), "unknown, allowed")
	assert.True(t, next(p, bg, 1, Result{Err: lost}), "not sent")
	assert.True(t, next(p, bg, 4, Result{Err: later}), "the 5th try")
	assert.False(t, next(p, bg, 5, Result{Err: later}), "no 6th")
	assert.False(t, next(&RetryPolicy{MaxTries: 2}, bg, 2, Result{Err: later}), "no 3rd")
	assert.False(t, next(nil, bg, 1, Result{Err: later}), "no policy")
	ended, cancel := context.WithCancel(bg)
	cancel()
	assert.False(t, next(p, ended, 1, Result{Err: later}), "the context ended")
	short, cancel := context.WithTimeout(bg, 400*time.Millisecond)
	defer cancel()
	assert.False(t, next(&RetryPolicy{MinDelay: time.Second}, short, 1, Result{Err: later}), "no time left")
	assert.True(t, next(&RetryPolicy{MinDelay: time.Millisecond}, short, 1, Result{Err: later}), "time left")
}

// TestRetryBackoff checks the backoff's bounds: doubling from MinDelay up
// to MaxDelay, each wait between half and the whole of it.
func TestRetryBackoff(t *testing.T) {
	p := &RetryPolicy{MinDelay: 100 * time.Millisecond, MaxDelay: time.Second}
	for n, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond,
		4: 800 * time.Millisecond, 5: time.Second, 40: time.Second} {
		assert.Equal(t, want, p.backoff(n), "after try %d", n)
	}
	assert.Equal(t, time.Second, (&RetryPolicy{}).backoff(1))
	assert.Equal(t, 5*time.Minute, (&RetryPolicy{}).backoff(30))
	a := newAttempt(Mail{})
	a.add(Result{Err: &DataError{respErr(Reply{451, "4.3.0 later"})}, Tries: 3})
	for range 100 {
		d, ok := p.next(context.Background(), a)
		require.True(t, ok)
		assert.GreaterOrEqual(t, d.Delay, 200*time.Millisecond)
		assert.LessOrEqual(t, d.Delay, 400*time.Millisecond)
	}
}

// TestPoolRetryNewConn answers a mail's end of data with 451 4.4.1 once:
// the mail is sent again after the backoff on a new connection, and the
// connection that answered is closed with QUIT.
func TestPoolRetryNewConn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var sessions []int
		cs := &campaignServer{dotReply: func(id string, session int) string {
			mu.Lock()
			defer mu.Unlock()
			sessions = append(sessions, session)
			if len(sessions) == 1 {
				return "451 4.4.1 No answer from next hop"
			}
			return ""
		}}
		p, pipes := campaignPool(cs, WithRetry(nil))
		start := time.Now()
		r := p.Send(context.Background(), campaignMail(0))
		require.NoError(t, r.Err)
		assert.Equal(t, 2, r.Tries)
		assert.GreaterOrEqual(t, time.Since(start), 500*time.Millisecond, "the backoff")
		assert.Equal(t, []int{1, 2}, sessions)
		synctest.Wait()
		cs.mu.Lock()
		assert.Equal(t, 1, cs.quits, "the first connection was closed with QUIT")
		cs.mu.Unlock()
		closePool(t, p)
		pipes.Wait()
	})
}

// TestPoolRetryPartial sends a Message to two recipients with ORcpt for
// each: one mailbox is full at first, so the mail goes to it alone in a
// second transaction, with its own ORcpt only; the Result is one
// delivery in two tries, and each recipient has the mail once.
func TestPoolRetryPartial(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cs := &campaignServer{fullTimes: 1, ext: []string{"DSN"}}
		p, pipes := campaignPool(cs, WithRetry(&RetryPolicy{MinDelay: time.Millisecond}))
		msg := email.NewMessage("news@example.com", []string{"u1@example.org", "full-1@example.org"}, "hi", "")
		msg.Set("Message-ID", "<p1@campaign.example>")
		r := p.Send(context.Background(), Mail{Message: msg, Options: []SendOption{
			ORcpt("u1@example.org", "old-u1@example.org"), ORcpt("full-1@example.org", "old-full@example.org")}})
		require.NoError(t, r.Err)
		assert.Empty(t, r.Refused)
		assert.Equal(t, 2, r.Tries)
		assert.NotEmpty(t, r.Reply.QueueID(), "the reply of the first delivery")
		closePool(t, p)
		pipes.Wait()
		assert.Equal(t, map[string]int{"u1@example.org": 1, "full-1@example.org": 1}, cs.got["<p1@campaign.example>"])
	})
}

// TestPoolRetryGivesUp throttles every try: the mail is tried MaxTries
// times, the pool pausing for each backoff, and ends refused with the
// last 454; a context's deadline stops it sooner, before the try it would
// not leave time for.
func TestPoolRetryGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cs := &campaignServer{dotReply: func(string, int) string { return "454 4.7.0 Throttling failure" }}
		p, pipes := campaignPool(cs, WithRetry(&RetryPolicy{MaxTries: 4, MinDelay: time.Second}))
		start := time.Now()
		r := p.Send(context.Background(), campaignMail(0))
		var de *DataError
		require.ErrorAs(t, r.Err, &de)
		assert.Equal(t, 454, de.Code)
		assert.Equal(t, 4, r.Tries)
		assert.InDelta(t, float64(7*time.Second), float64(time.Since(start)), float64(10*time.Millisecond), "1+2+4 s")

		ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
		defer cancel()
		start = time.Now()
		r = p.Send(ctx, campaignMail(1))
		assert.Equal(t, 2, r.Tries, "tried at 0 s and 1 s; 3 s would pass the deadline")
		assert.Less(t, time.Since(start), 2500*time.Millisecond)
		closePool(t, p)
		pipes.Wait()
	})
}

// TestPoolRetryAuthRefused has the dial's login refused with 454 4.7.0:
// the mail is not tried again, and no second login is attempted.
func TestPoolRetryAuthRefused(t *testing.T) {
	dials := 0
	p := NewPool(func(ctx context.Context) (*SMTP, error) {
		dials++
		return nil, &AuthenticationError{ResponseError: respErr(Reply{454, "4.7.0 Temporary authentication failure"})}
	}, WithRetry(&RetryPolicy{MinDelay: time.Millisecond}))
	r := p.Send(context.Background(), campaignMail(0))
	var ae *AuthenticationError
	assert.ErrorAs(t, r.Err, &ae)
	assert.Equal(t, 1, r.Tries)
	assert.Equal(t, 1, dials)
	closePool(t, p)
}

// TestRetryBatch sends a batch with RetryBatch over SendBatch: a mail
// throttled at its end of data, one whose only mailbox is full, one
// delivered to one recipient of two at first, one refused for good, and
// one whose MAIL the server drops the connection at; each ends as it
// should, with its tries, and the second round, after the pause for the
// throttling, goes on a new connection.
func TestRetryBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var once sync.Once
		cs := &campaignServer{fullTimes: 1, dropMailEvery: 5, dotReply: func(id string, _ int) string {
			reply := ""
			if id == campaignID(0) {
				once.Do(func() { reply = "454 4.7.0 Throttling failure" })
			}
			return reply
		}}
		pipes := rawsrv.NewPipes(cs.serve)
		var c *SMTP
		var fresh []bool
		send := func(ctx context.Context, mails []Mail, newConn bool) ([]Result, error) {
			fresh = append(fresh, newConn)
			if c == nil || newConn {
				c.Close()
				var err error
				if c, err = DialContext(ctx, "relay.example", 25, WithDialer(pipes)); err != nil {
					return nil, err
				}
			}
			return c.SendBatch(ctx, mails)
		}
		mails := []Mail{campaignMail(0), campaignMail(17), campaignMail(7), campaignMail(3), campaignMail(1)}
		start := time.Now()
		results := RetryBatch(context.Background(), nil, mails, send)
		elapsed := time.Since(start)
		c.Close()
		pipes.Wait()
		require.Len(t, results, 5)
		for i, want := range []struct {
			outcome Outcome
			tries   int
		}{{OutcomeSent, 2}, {OutcomeSent, 2}, {OutcomeSent, 2}, {OutcomeRefused, 1}, {OutcomeSent, 2}} {
			assert.Equal(t, want.outcome, results[i].Outcome(), "mail %d: %v", i, results[i].Err)
			assert.Equal(t, want.tries, results[i].Tries, "mail %d", i)
		}
		assert.Empty(t, results[2].Refused, "the full mailbox took it on the second try")
		assert.Equal(t, []bool{false, true}, fresh, "a new connection after the drop")
		assert.GreaterOrEqual(t, elapsed, time.Second, "the pause for the throttling")
		for _, id := range []string{campaignID(0), campaignID(17), campaignID(7), campaignID(1)} {
			for rcpt, n := range cs.got[id] {
				assert.Equal(t, 1, n, "%s to %s", id, rcpt)
			}
		}
	})
}
