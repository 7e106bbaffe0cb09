package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
)

// fastSink is an SMTP server that accepts and discards mail as fast as a
// loopback socket delivers it, so that it is never what a benchmark
// measures: one goroutine per connection, a 1 MiB read buffer, DATA ended by
// a vectorised search for CRLF.CRLF, BDAT skipped by count, and replies
// gathered and written only when the input is drained (so a pipelined group
// gets one write back). It offers PIPELINING, CHUNKING (unless noChunking),
// SIZE and 8BITMIME.
type fastSink struct {
	ln         net.Listener
	noChunking bool
	wg         sync.WaitGroup
	messages   atomic.Int64
	bytes      atomic.Int64
	errors     atomic.Int64
}

func startFastSink(noChunking bool) (*fastSink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &fastSink{ln: ln, noChunking: noChunking}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

func (s *fastSink) addr() string { return s.ln.Addr().String() }

func (s *fastSink) close() {
	s.ln.Close()
	s.wg.Wait()
}

func (s *fastSink) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			sc := &sinkConn{sink: s, c: c, buf: make([]byte, 1<<20)}
			if err := sc.run(); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.errors.Add(1)
			}
		}()
	}
}

type sinkConn struct {
	sink *fastSink
	c    net.Conn
	buf  []byte
	r, w int    // buf[r:w] is read and not consumed
	out  []byte // replies not written yet
}

var errProtocol = errors.New("sink: protocol error")

func (c *sinkConn) reply(s string) { c.out = append(c.out, s...) }

// fill reads more input, writing the pending replies first: the client may
// be waiting for them before it sends anything else.
func (c *sinkConn) fill() error {
	if len(c.out) > 0 {
		if _, err := c.c.Write(c.out); err != nil {
			return err
		}
		c.out = c.out[:0]
	}
	if c.r > 0 {
		c.w = copy(c.buf, c.buf[c.r:c.w])
		c.r = 0
	}
	if c.w == len(c.buf) {
		return errProtocol // a command line of 1 MiB
	}
	n, err := c.c.Read(c.buf[c.w:])
	c.w += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// line returns the next command line without its CRLF.
func (c *sinkConn) line() ([]byte, error) {
	for {
		if i := bytes.IndexByte(c.buf[c.r:c.w], '\n'); i >= 0 {
			l := c.buf[c.r : c.r+i]
			c.r += i + 1
			return bytes.TrimSuffix(l, []byte("\r")), nil
		}
		if err := c.fill(); err != nil {
			return nil, err
		}
	}
}

var endOfData = []byte("\r\n.\r\n")

// data consumes a DATA transfer up to and including its final dot.
func (c *sinkConn) data() error {
	n := 0
	atStart := true // the data begins at a line start: ".\r\n" alone ends it
	for {
		avail := c.buf[c.r:c.w]
		if atStart {
			if len(avail) < 3 {
				if err := c.fill(); err != nil {
					return err
				}
				continue
			}
			if bytes.HasPrefix(avail, []byte(".\r\n")) {
				c.r += 3
				break
			}
			atStart = false
		}
		if i := bytes.Index(avail, endOfData); i >= 0 {
			c.r += i + len(endOfData)
			n += i + 2
			break
		}
		// Keep the last four bytes: they may begin the terminator.
		if k := len(avail) - 4; k > 0 {
			c.r += k
			n += k
		}
		if err := c.fill(); err != nil {
			return err
		}
	}
	c.sink.messages.Add(1)
	c.sink.bytes.Add(int64(n))
	return nil
}

// skip consumes n bytes of a BDAT chunk, reading straight into the buffer.
func (c *sinkConn) skip(n int64) error {
	c.sink.bytes.Add(n)
	for n > 0 {
		if c.r == c.w {
			if err := c.fill(); err != nil {
				return err
			}
		}
		k := min(int64(c.w-c.r), n)
		c.r += int(k)
		n -= k
	}
	return nil
}

// verb tells whether line l is the command v (upper case, four letters).
func verb(l []byte, v string) bool {
	return len(l) >= 4 && (len(l) == 4 || l[4] == ' ') && bytes.EqualFold(l[:4], []byte(v))
}

// bdatArgs parses "BDAT n" or "BDAT n LAST" without allocating.
func bdatArgs(l []byte) (n int64, last, ok bool) {
	rest, found := bytes.CutPrefix(l[4:], []byte(" "))
	if !found {
		return 0, false, false
	}
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' && i < 18 {
		n = n*10 + int64(rest[i]-'0')
		i++
	}
	switch {
	case i == 0:
		return 0, false, false
	case i == len(rest):
		return n, false, true
	case bytes.EqualFold(rest[i:], []byte(" LAST")):
		return n, true, true
	}
	return 0, false, false
}

func (c *sinkConn) run() error {
	c.reply("220 fastsink ESMTP\r\n")
	inMail := false
	for {
		l, err := c.line()
		if err != nil {
			return err
		}
		switch {
		case verb(l, "EHLO"):
			ext := "250-fastsink\r\n250-PIPELINING\r\n250-SIZE 1073741824\r\n250-8BITMIME\r\n"
			if !c.sink.noChunking {
				ext += "250-CHUNKING\r\n"
			}
			c.reply(ext + "250 ENHANCEDSTATUSCODES\r\n")
		case verb(l, "HELO"):
			c.reply("250 fastsink\r\n")
		case verb(l, "MAIL"):
			inMail = true
			c.reply("250 2.1.0 Ok\r\n")
		case verb(l, "RCPT"):
			c.reply("250 2.1.5 Ok\r\n")
		case verb(l, "DATA"):
			c.reply("354 End data with <CR><LF>.<CR><LF>\r\n")
			if err := c.data(); err != nil {
				return err
			}
			inMail = false
			c.reply("250 2.0.0 Ok: queued\r\n")
		case verb(l, "BDAT"):
			n, last, ok := bdatArgs(l)
			if !ok || !inMail {
				return errProtocol
			}
			if err := c.skip(n); err != nil { // l is invalid after this
				return err
			}
			if last {
				inMail = false
				c.sink.messages.Add(1)
				c.reply("250 2.0.0 Ok: queued\r\n")
			} else {
				c.out = append(c.out, "250 2.0.0 Ok: "...)
				c.out = strconv.AppendInt(c.out, n, 10)
				c.reply(" octets\r\n")
			}
		case verb(l, "RSET"):
			inMail = false
			c.reply("250 2.0.0 Ok\r\n")
		case verb(l, "NOOP"):
			c.reply("250 2.0.0 Ok\r\n")
		case verb(l, "QUIT"):
			c.reply("221 2.0.0 Bye\r\n")
			_, err := c.c.Write(c.out)
			return err
		default:
			c.reply("502 5.5.2 Error: command not recognized\r\n")
		}
	}
}
