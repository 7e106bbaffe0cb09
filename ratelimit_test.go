package smtplib

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/email"
)

// sendAll has callers goroutines send mails through p, and returns the
// results in order and the time it took.
func sendAll(p *Pool, callers int, mails []Mail) ([]Result, time.Duration) {
	results := make([]Result, len(mails))
	next := make(chan int)
	var wg sync.WaitGroup
	start := time.Now()
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = p.Send(context.Background(), mails[i])
			}
		}()
	}
	for i := range mails {
		next <- i
	}
	close(next)
	wg.Wait()
	return results, time.Since(start)
}

// busiest is the most of times that fall in one second.
func busiest(times []time.Time) int {
	most, j := 0, 0
	for i, at := range times {
		for at.Sub(times[j]) >= time.Second {
			j++
		}
		most = max(most, i-j+1)
	}
	return most
}

// TestPoolRateLimit sends 300 mails from 16 callers at 100 a second with
// bursts of 10, to a server that could take far more: the burst goes at
// once, the rest at the rate, so the run takes 2.9 s on the fake clock
// and no second sees more than 110 mails.
func TestPoolRateLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cs := &campaignServer{rtt: time.Millisecond}
		p, pipes := campaignPool(cs, WithRateLimit(100, 10))
		mails := make([]Mail, 300)
		for i := range mails {
			mails[i] = campaignMail(i * 40) // one recipient each
		}
		results, elapsed := sendAll(p, 16, mails)
		closePool(t, p)
		pipes.Wait()
		for i, r := range results {
			require.NoError(t, r.Err, "mail %d", i)
			assert.Equal(t, 1, r.Tries)
		}
		assert.GreaterOrEqual(t, elapsed, 2900*time.Millisecond)
		assert.Less(t, elapsed, 2950*time.Millisecond, "the round trips of the last mail")
		assert.LessOrEqual(t, busiest(cs.mailTimes), 110)
	})
}

// TestPoolRecipientRateLimit limits recipients to 40 a second (bursts of
// 4): mails of 4 recipients go at 10 a second, and a Message without To
// counts the recipients of its header.
func TestPoolRecipientRateLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cs := &campaignServer{}
		p, pipes := campaignPool(cs, WithRecipientRateLimit(40, 4))
		mails := make([]Mail, 20)
		for i := range mails {
			to := []string{}
			for j := range 4 {
				to = append(to, fmt.Sprintf("u%d-%d@example.org", i, j))
			}
			mails[i] = Mail{From: "news@example.com", To: to, Data: campaignMail(i).Data}
		}
		msg := email.NewMessage("news@example.com", []string{"a@example.org", "b@example.org"}, "hi", "")
		msg.Set("Cc", "c@example.org, d@example.org")
		mails[19] = Mail{Message: msg}
		results, elapsed := sendAll(p, 4, mails)
		closePool(t, p)
		pipes.Wait()
		for i, r := range results {
			require.NoError(t, r.Err, "mail %d", i)
		}
		// Give or take the looks at connections that sat idle (probe.go).
		assert.InDelta(t, float64((20*4-4)*time.Second/40), float64(elapsed), float64(time.Millisecond))
		assert.Equal(t, 4, recipientCount(&mails[19]))
	})
}

// TestPoolRateLimitContext has a caller give up while it waits for its
// turn: it returns when its context ends, or at once when the turn would
// come after its deadline, the mail not sent and never tried; the mail
// that had the turn is sent.
func TestPoolRateLimitContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cs := &campaignServer{}
		p, pipes := campaignPool(cs, WithRateLimit(1, 1))
		require.NoError(t, p.Send(context.Background(), campaignMail(0)).Err)

		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		r := p.Send(ctx, campaignMail(1))
		assert.Zero(t, time.Since(start), "the turn comes after the deadline: no wait")
		assert.ErrorIs(t, r.Err, context.DeadlineExceeded)
		assert.Equal(t, OutcomeNotSent, r.Outcome())
		assert.Zero(t, r.Tries)

		ctx, cancel = context.WithCancel(context.Background())
		time.AfterFunc(300*time.Millisecond, cancel)
		r = p.Send(ctx, campaignMail(2))
		assert.Equal(t, 300*time.Millisecond, time.Since(start))
		assert.ErrorIs(t, r.Err, context.Canceled)
		assert.Zero(t, r.Tries)

		closePool(t, p)
		pipes.Wait()
		assert.Equal(t, 1, cs.mails, "only the first mail reached the server")
	})
}

// TestPoolPause throttles one mail (454 4.7.0 at its end of data): the
// whole pool waits the backoff, a mail sent meanwhile by another caller
// included, and then both go.
func TestPoolPause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var once sync.Once
		cs := &campaignServer{dotReply: func(id string, _ int) string {
			reply := ""
			once.Do(func() { reply = "454 4.7.0 Throttling failure: Maximum sending rate exceeded" })
			return reply
		}}
		p, pipes := campaignPool(cs, WithRetry(&RetryPolicy{MinDelay: time.Second}))
		first := make(chan Result, 1)
		go func() { first <- p.Send(context.Background(), campaignMail(0)) }()
		synctest.Wait() // throttled, the pool paused
		time.Sleep(200 * time.Millisecond)
		r := p.Send(context.Background(), campaignMail(1))
		require.NoError(t, r.Err)
		cs.mu.Lock()
		throttledAt := cs.mailTimes[0]
		cs.mu.Unlock()
		assert.InDelta(t, float64(time.Second), float64(time.Since(throttledAt)), float64(time.Millisecond),
			"sent when the pause ended")
		assert.Equal(t, 1, r.Tries)
		r = <-first
		require.NoError(t, r.Err)
		assert.Equal(t, 2, r.Tries)
		closePool(t, p)
		pipes.Wait()
		assert.Equal(t, time.Second, p.cfg.pace.paused)
	})
}

// TestPoolCloseStopsWaits closes a pool while one caller waits for its
// turn under the rate limit and another for its mail's next try: both
// return at once, the first with ErrPoolClosed (not sent, never tried),
// the second with its last try's result.
func TestPoolCloseStopsWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cs := &campaignServer{dotReply: func(id string, _ int) string {
			if id == campaignID(1) {
				return "451 4.3.0 Try again later"
			}
			return ""
		}}
		p, pipes := campaignPool(cs, WithRateLimit(0.1, 2), WithRetry(&RetryPolicy{MinDelay: time.Minute}))
		require.NoError(t, p.Send(context.Background(), campaignMail(0)).Err)
		retried, waiting := make(chan Result, 1), make(chan Result, 1)
		go func() { retried <- p.Send(context.Background(), campaignMail(1)) }()
		synctest.Wait() // mail 1 waits for its next try
		go func() { waiting <- p.Send(context.Background(), campaignMail(2)) }()
		synctest.Wait() // mail 2 waits for its turn, 10 s away
		start := time.Now()
		closePool(t, p)
		r := <-waiting
		assert.ErrorIs(t, r.Err, ErrPoolClosed)
		assert.Zero(t, r.Tries)
		r = <-retried
		var de *DataError
		assert.ErrorAs(t, r.Err, &de)
		assert.Equal(t, 1, r.Tries)
		assert.Zero(t, time.Since(start))
		pipes.Wait()
		assert.Equal(t, 2, cs.mails)
	})
}
