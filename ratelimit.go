package smtplib

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/gosmtplib/smtplib/internal/mailaddr"
)

// WithRateLimit makes a [Pool] start at most perSecond mails a second, in
// bursts of burst; a caller waits its turn within its context.
func WithRateLimit(perSecond float64, burst int) PoolOption {
	return func(c *poolConfig) { c.pacer().mails = newLimiter(perSecond, burst) }
}

// WithRecipientRateLimit is [WithRateLimit] counting recipients.
func WithRecipientRateLimit(perSecond float64, burst int) PoolOption {
	return func(c *poolConfig) { c.pacer().rcpts = newLimiter(perSecond, burst) }
}

func newLimiter(perSecond float64, burst int) *rate.Limiter {
	if perSecond <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(perSecond), max(burst, 1))
}

// pacer is what a Pool adds to its connections for a campaign: rate
// limits, a retry policy, and the pause that a throttling server puts on
// every caller.
type pacer struct {
	mails, rcpts *rate.Limiter
	retry        *RetryPolicy

	// closing ends with the pool, and with it every wait.
	closing context.Context
	stop    context.CancelFunc

	mu       sync.Mutex
	since    time.Time     // when the last pause began
	until    time.Time     // no mail is let through before it
	paused   time.Duration // the pauses in all, for the tests
	admitted int           // the mails let through, for the tests
}

// pacer returns the pool's pacer, made on first use.
func (c *poolConfig) pacer() *pacer {
	if c.pace == nil {
		c.pace = &pacer{}
		c.pace.closing, c.pace.stop = context.WithCancel(context.Background())
	}
	return c.pace
}

// waiting returns ctx for the waits of one Send: it also ends, with the
// cause ErrPoolClosed, when the pool is closed.
func (pc *pacer) waiting(ctx context.Context) (context.Context, func()) {
	wctx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(pc.closing, func() { cancel(ErrPoolClosed) })
	return wctx, func() { stop(); cancel(nil) }
}

// admit waits until m may go: after any pause of the pool, and its turn
// under the rate limits. The error says why it may not, m not sent.
func (pc *pacer) admit(ctx context.Context, m *Mail) error {
	n := 0
	if pc.rcpts != nil {
		n = min(recipientCount(m), pc.rcpts.Burst())
	}
	for {
		if err := pc.waitPause(ctx); err != nil {
			return err
		}
		if pc.mails != nil {
			if err := pc.mails.Wait(ctx); err != nil {
				return waitError(ctx, err)
			}
		}
		if n > 0 {
			if err := pc.rcpts.WaitN(ctx, n); err != nil {
				return waitError(ctx, err)
			}
		}
		pc.mu.Lock()
		again := time.Now().Before(pc.until)
		if !again {
			pc.admitted++
		}
		pc.mu.Unlock()
		if !again {
			return nil
		}
		// A pause began while m waited for its turn: m waits it out.
	}
}

// waitPause waits until the pool's pause, if any, is over.
func (pc *pacer) waitPause(ctx context.Context) error {
	for {
		pc.mu.Lock()
		d := time.Until(pc.until)
		pc.mu.Unlock()
		if d <= 0 {
			return nil
		}
		if err := sleep(ctx, d); err != nil {
			return waitError(ctx, err)
		}
	}
}

// pause keeps every mail of the pool from going for d from now, or longer
// if a pause already runs past that, for a mail let through at admitted
// and throttled. A mail let through before the last pause began was
// throttled by what caused that pause, which is not made longer for it.
func (pc *pacer) pause(admitted time.Time, d time.Duration) {
	now := time.Now()
	end := now.Add(d)
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if admitted.Before(pc.since) || !end.After(pc.until) {
		return
	}
	if !now.Before(pc.until) {
		pc.since = now
	}
	pc.paused += end.Sub(later(pc.until, now))
	pc.until = end
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// waitError is the error of a mail that could not wait for its turn:
// its context ended, or would end before the turn came.
func waitError(ctx context.Context, err error) error {
	if context.Cause(ctx) == ErrPoolClosed {
		return ErrPoolClosed
	}
	if ctx.Err() != nil {
		return fmt.Errorf("smtplib: not sent: waiting for the pool's rate limit: %w", ctx.Err())
	}
	return fmt.Errorf("smtplib: not sent: the pool's rate limit would pass the context's deadline (%v): %w",
		err, context.DeadlineExceeded)
}

// recipientCount is how many recipients m has: To, or for a Message
// without To those of its header, as SendMessage takes them.
func recipientCount(m *Mail) int {
	if m.Message == nil || m.To != nil {
		return len(m.To)
	}
	h := m.Message.Header()
	prefix := ""
	if len(h["Resent-Date"]) > 0 {
		prefix = "Resent-"
	}
	var fields []string
	for _, name := range []string{"To", "Cc", "Bcc"} {
		if vs := h[prefix+name]; vs != nil {
			fields = append(fields, vs[0])
		}
	}
	return len(mailaddr.GetAddresses(fields))
}
