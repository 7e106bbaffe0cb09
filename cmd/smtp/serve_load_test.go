package main

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib"
)

// loadClients is how many clients send at once in the load runs.
const loadClients = 8

// loadMessage is a 1 KB message with a header and a body, as an
// application's notification might be.
var loadMessage = []byte("From: app@example.com\r\nTo: user@example.org\r\nSubject: Your order\r\n" +
	"Message-ID: <1@example.com>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
	strings.Repeat("Thank you for your order; it ships tomorrow.\r\n", 20))

// sendLoad sends n messages to srv from loadClients clients at once, each
// on its own connection, and returns how long that took. A failure is
// reported through fail, from whichever goroutine meets it.
func sendLoad(srv *serving, n int64, fail func(error)) time.Duration {
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range loadClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := smtplib.Dial(srv.host, srv.port)
			if err != nil {
				fail(err)
				return
			}
			defer s.Close()
			for next.Add(1) <= n {
				if _, err := s.Sendmail("app@example.com", []string{"user@example.org"}, loadMessage); err != nil {
					fail(err)
					return
				}
			}
			s.Quit()
		}()
	}
	wg.Wait()
	return time.Since(start)
}

// heapAfterGC returns the live heap, in bytes, after a collection.
func heapAfterGC() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkServe measures how many 1 KB messages a second serve takes
// from 8 clients at once, printing each one's summary (to a discarded
// stdout), with and without keeping them in --dir. The clients run in
// the same process, on the same CPUs.
func BenchmarkServe(b *testing.B) {
	for _, withDir := range []bool{false, true} {
		name := "print"
		if withDir {
			name = "print+dir"
		}
		b.Run(name, func(b *testing.B) {
			var args []string
			if withDir {
				args = []string{"--dir", b.TempDir()}
			}
			srv := startServeDiscard(b, args...)
			var once sync.Once
			var failed error
			b.ResetTimer()
			took := sendLoad(srv, int64(b.N), func(err error) { once.Do(func() { failed = err }) })
			b.StopTimer()
			require.NoError(b, failed)
			b.ReportMetric(float64(b.N)/took.Seconds(), "msgs/s")
		})
	}
}

// BenchmarkServeMemory sends 100,000 messages, whatever b.N, and reports
// the live heap after 10,000 and after 100,000: serve keeps nothing of a
// message once it is printed and written, so the two are close. Run it
// with -benchtime 1x.
func BenchmarkServeMemory(b *testing.B) {
	srv := startServeDiscard(b, "--dir", b.TempDir())
	var once sync.Once
	var failed error
	fail := func(err error) { once.Do(func() { failed = err }) }
	took := sendLoad(srv, 10_000, fail)
	at10k := heapAfterGC()
	took += sendLoad(srv, 90_000, fail)
	at100k := heapAfterGC()
	require.NoError(b, failed)
	b.ReportMetric(float64(at10k)/(1<<20), "MiB-heap-at-10k")
	b.ReportMetric(float64(at100k)/(1<<20), "MiB-heap-at-100k")
	b.ReportMetric(100_000/took.Seconds(), "msgs/s")
}

// TestServeMemoryFlat is the short form of BenchmarkServeMemory that
// every run of the tests makes: the live heap after 20,000 messages is
// within a few MiB of what it was after 2,000.
func TestServeMemoryFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 20,000 messages")
	}
	srv := startServeDiscard(t)
	var once sync.Once
	var failed error
	fail := func(err error) { once.Do(func() { failed = err }) }
	sendLoad(srv, 2_000, fail)
	before := heapAfterGC()
	sendLoad(srv, 18_000, fail)
	after := heapAfterGC()
	require.NoError(t, failed)
	grew := int64(after) - int64(before)
	t.Logf("live heap %d KiB after 2,000 messages, %d KiB after 20,000", before>>10, after>>10)
	// 18,000 messages of 1 KB kept would be 18 MiB at the least.
	assert.Less(t, grew, int64(4<<20), fmt.Sprintf("the heap grew by %d KiB", grew>>10))
}
