package main

import (
	"context"
	"sync"
	"testing"

	"github.com/gosmtplib/smtplib"
)

// BenchmarkPool4 has 4 goroutines send 1 KB mails through a Pool of 4
// connections; BenchmarkSendmail4 has 4 goroutines with a client each: the
// difference is what the pool costs. BenchmarkPool32 has 32 goroutines
// share the 4 connections, whose pipelines then carry several mails each.
func BenchmarkPool4(b *testing.B) { benchPool(b, 4) }

func BenchmarkPool32(b *testing.B) { benchPool(b, 32) }

func benchPool(b *testing.B, callers int) {
	sink, err := startFastSink(false)
	if err != nil {
		b.Fatal(err)
	}
	defer sink.close()
	host, port := hostPort(sink.addr())
	p := smtplib.NewPool(func(ctx context.Context) (*smtplib.SMTP, error) {
		return smtplib.DialContext(ctx, host, port, smtplib.WithLocalHostname(heloName))
	}, smtplib.WithPoolSize(4))
	defer p.Close()
	msg := message(1024)
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for g := 0; g < callers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < b.N/callers; i++ {
				if r := p.Send(context.Background(), smtplib.Mail{From: fromAddr, To: []string{toAddr}, Data: msg}); r.Err != nil {
					b.Error(r.Err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func BenchmarkSendmail4(b *testing.B) {
	sink, err := startFastSink(false)
	if err != nil {
		b.Fatal(err)
	}
	defer sink.close()
	host, port := hostPort(sink.addr())
	msg := message(1024)
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := smtplib.Dial(host, port, smtplib.WithLocalHostname(heloName))
			if err != nil {
				b.Error(err)
				return
			}
			defer s.Quit()
			for i := 0; i < b.N/4; i++ {
				if _, err := s.Sendmail(fromAddr, []string{toAddr}, msg); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
