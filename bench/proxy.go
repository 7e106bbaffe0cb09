package main

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// latencyProxy forwards each connection to backend, delaying every chunk of
// data by delay in each direction (so a round trip costs at least 2*delay,
// without limiting throughput: chunks queue with their due times). It counts
// the client's flights: a flight is data from the client that arrives after
// the proxy delivered server data to it, i.e. a burst the client could only
// have sent after hearing from the server. A client that pipelines a whole
// transaction makes one flight per message.
type latencyProxy struct {
	ln      net.Listener
	backend string
	delay   time.Duration
	wg      sync.WaitGroup
	flights atomic.Int64
	active  atomic.Int64
}

func startProxy(backend string, delay time.Duration) (*latencyProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &latencyProxy{ln: ln, backend: backend, delay: delay}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

func (p *latencyProxy) addr() string { return p.ln.Addr().String() }

func (p *latencyProxy) close() {
	p.ln.Close()
	p.wg.Wait()
}

// idle waits, for at most a second, until no connection is open, so that
// the flights of a finished client are all counted.
func (p *latencyProxy) idle() {
	for i := 0; i < 1000 && p.active.Load() > 0; i++ {
		time.Sleep(time.Millisecond)
	}
}

func (p *latencyProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.backend)
		if err != nil {
			c.Close()
			continue
		}
		p.active.Add(1)
		var heard atomic.Bool // server data delivered since the client's last flight
		heard.Store(true)
		var done sync.WaitGroup
		done.Add(2)
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			done.Wait()
			c.Close()
			s.Close()
			p.active.Add(-1)
		}()
		go func() {
			defer done.Done()
			p.pump(c, s, func() {
				if heard.Swap(false) {
					p.flights.Add(1)
				}
			}, nil)
		}()
		go func() {
			defer done.Done()
			p.pump(s, c, nil, func() { heard.Store(true) })
		}()
	}
}

type chunk struct {
	b   []byte
	due time.Time
}

// pump copies src to dst, each chunk delay after it was read; onRead runs
// when a chunk arrives, onWrite just before it is delivered (after, the
// client could answer before onWrite has run).
func (p *latencyProxy) pump(src, dst net.Conn, onRead, onWrite func()) {
	q := make(chan chunk, 4096)
	go func() {
		defer close(q)
		for {
			b := make([]byte, 64<<10)
			n, err := src.Read(b)
			if n > 0 {
				if onRead != nil {
					onRead()
				}
				q <- chunk{b[:n], time.Now().Add(p.delay)}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range q {
		if d := time.Until(c.due); d > 0 {
			time.Sleep(d)
		}
		if onWrite != nil {
			onWrite()
		}
		if _, err := dst.Write(c.b); err != nil {
			break
		}
	}
	// Close both ends, so the other direction ends too.
	src.Close()
	dst.Close()
	for range q {
	}
}
