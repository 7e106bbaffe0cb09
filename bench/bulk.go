package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/gosmtplib/smtplib"
)

// Bulk sending (issue 14): SendBatch over one connection, and a Pool for
// concurrent callers; and the harness for cases of several connections,
// where every client runs that many sessions at once, one goroutine each.

// sendBatch sends the n messages as one SendBatch over one connection.
func sendBatch(addr string, n, size int) error {
	msg := message(size)
	mails := make([]smtplib.Mail, n)
	for i := range mails {
		mails[i] = smtplib.Mail{From: fromAddr, To: []string{toAddr}, Data: msg}
	}
	start := startClock()
	host, port := hostPort(addr)
	s, err := smtplib.Dial(host, port, smtplib.WithLocalHostname(heloName))
	if err != nil {
		return err
	}
	results, err := s.SendBatch(context.Background(), mails)
	if err != nil {
		return err
	}
	for i, r := range results {
		if r.Err != nil {
			return fmt.Errorf("mail %d: %w", i, r.Err)
		}
	}
	_, err = s.Quit()
	start.stop(n)
	return err
}

// sendPool has callers goroutines send n messages between them through a
// Pool of conns connections, each caller waiting for each result, and
// records the median and 99th percentile of those waits in the steady
// state: each caller's first wait, which includes making the connections
// (a dial, the greeting and EHLO: three round trips through the proxy),
// is left out.
func sendPool(addr string, n, size, conns, callers int) error {
	msg := message(size)
	t := time.Now()
	host, port := hostPort(addr)
	p := smtplib.NewPool(func(ctx context.Context) (*smtplib.SMTP, error) {
		return smtplib.DialContext(ctx, host, port, smtplib.WithLocalHostname(heloName))
	}, smtplib.WithPoolSize(conns))
	var mu sync.Mutex
	waits := make([]int64, 0, n)
	err := parallel(max(callers, conns), n, func(k int) error {
		own := make([]int64, 0, k)
		defer func() {
			mu.Lock()
			waits = append(waits, own...)
			mu.Unlock()
		}()
		for i := 0; i < k; i++ {
			sent := time.Now()
			r := p.Send(context.Background(), smtplib.Mail{From: fromAddr, To: []string{toAddr}, Data: msg})
			if r.Err != nil {
				return r.Err
			}
			if i > 0 {
				own = append(own, int64(time.Since(sent)))
			}
		}
		return nil
	})
	p.Close()
	result.NS = int64(time.Since(t))
	result.Msgs = n
	if len(waits) > 0 {
		slices.Sort(waits)
		result.P50NS, result.P99NS = waits[len(waits)/2], waits[len(waits)*99/100]
	}
	return err
}

// parallel runs f in conns goroutines, sharing n messages among them, and
// returns the first error.
func parallel(conns, n int, f func(k int) error) error {
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for g := 0; g < conns; g++ {
		k := n / conns
		if g < n%conns {
			k++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(k); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// runSessions runs send in conns sessions at once, sharing the n messages,
// and times the whole: each session's own clock is ignored.
func runSessions(send sendFunc, addr string, n, size, conns int) error {
	t := time.Now()
	err := parallel(conns, n, func(k int) error { return send(addr, k, size) })
	result.NS = int64(time.Since(t))
	result.Msgs = n
	return err
}
