package main

import (
	"bytes"
	"fmt"
	"io"
)

// The messages every client sends: CRLF lines of 78 bytes (76 characters),
// the shape of a base64 or quoted-printable body, with no line starting with
// a period, so the bytes on the wire are the same for every client and every
// transfer mode.

const (
	fromAddr = "sender@bench.example"
	toAddr   = "rcpt@bench.example"
	heloName = "bench.example"
)

// header is the fixed header block of every message, blank line included.
func header(size int) []byte {
	return []byte(fmt.Sprintf("From: <%s>\r\nTo: <%s>\r\nSubject: bench %d\r\n"+
		"Message-ID: <bench-%d@bench.example>\r\nMIME-Version: 1.0\r\n"+
		"Content-Type: text/plain; charset=us-ascii\r\n\r\n", fromAddr, toAddr, size, size))
}

// bodyBlock is 64 lines of 78 bytes (4,992 bytes) that bodies repeat.
var bodyBlock = func() []byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var b bytes.Buffer
	for l := 0; l < 64; l++ {
		for i := 0; i < 76; i++ {
			b.WriteByte(alphabet[(l*7+i*13)%len(alphabet)])
		}
		b.WriteString("\r\n")
	}
	return b.Bytes()
}()

// message returns a message of exactly size bytes (size >= len(header)+2):
// the header, then body lines cut from bodyBlock, the last one shortened so
// that the total is exact; it ends with CRLF.
func message(size int) []byte {
	b := make([]byte, size)
	io.ReadFull(newMessageReader(size), b)
	return b
}

// messageReader generates message(size) on the fly, in constant memory. Its
// Len lets SendmailReader declare SIZE, as a *bytes.Reader would.
type messageReader struct {
	hdr       []byte
	remaining int // bytes still to produce, header included
	bodyPos   int // position in bodyBlock
}

func newMessageReader(size int) *messageReader {
	return &messageReader{hdr: header(size), remaining: size}
}

func (m *messageReader) Len() int { return m.remaining }

func (m *messageReader) Read(p []byte) (int, error) {
	if m.remaining == 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && m.remaining > 0 {
		var k int
		switch {
		case len(m.hdr) > 0:
			k = copy(p[n:min(len(p), n+m.remaining)], m.hdr)
			m.hdr = m.hdr[k:]
		case m.remaining <= 2:
			k = copy(p[n:n+min(len(p)-n, m.remaining)], "\r\n"[2-m.remaining:])
		default:
			// Body bytes, keeping the last two for the final CRLF.
			src := bodyBlock[m.bodyPos:]
			src = src[:min(len(src), m.remaining-2)]
			k = copy(p[n:], src)
			m.bodyPos = (m.bodyPos + k) % len(bodyBlock)
			if m.remaining-k == 2 && p[n+k-1] == '\r' {
				p[n+k-1] = '=' // no lone CR before the final CRLF
			}
		}
		n += k
		m.remaining -= k
	}
	return n, nil
}
