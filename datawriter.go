package smtplib

import (
	"bytes"
	"io"

	"github.com/gosmtplib/smtplib/internal/textutil"
)

// dataWriter is the one path message data takes to the wire, for DATA and
// BDAT, from a []byte or an io.Reader. In a single pass it turns every lone
// CR and lone LF into CRLF (so no message can end the data early: a bare
// "\n.\n" becomes "\r\n..\r\n" under DATA) and, for DATA, doubles each
// period that starts a line (RFC 5321 section 4.5.2). Its state survives
// the boundaries between writes, so a CRLF or a line-starting period split
// across two reads is treated as if it arrived whole. Clean runs of input
// go to w as they are, without a copy or an allocation per line.
type dataWriter struct {
	w     io.Writer
	stuff bool // double line-starting periods (DATA), or not (BDAT)
	state uint8
	any   bool // some input was written
	err   error
}

const (
	atLineStart = iota // nothing yet, or just after CRLF
	inLine             // within a line
	afterCR            // a CR ended the last write: CRLF or lone CR, still unknown
)

var (
	crlf    = []byte("\r\n")
	dot     = []byte{'.'}
	lineDot = []byte("\n.")
)

func newDataWriter(w io.Writer, stuff bool) *dataWriter {
	return &dataWriter{w: w, stuff: stuff}
}

// put writes b to w, keeping the first error.
func (d *dataWriter) put(b []byte) {
	if d.err == nil && len(b) > 0 {
		_, d.err = d.w.Write(b)
	}
}

// Write normalises p and passes it on; it returns len(p) unless w failed.
func (d *dataWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, d.err
	}
	d.any = true
	if d.state != afterCR && p[len(p)-1] != '\r' && textutil.CleanCRLF(p) {
		d.writeClean(p)
		return len(p), d.err
	}
	i, start := 0, 0 // p[start:i] is a clean run not yet written
	if d.state == afterCR {
		d.put(crlf)
		if p[0] == '\n' {
			i, start = 1, 1
		}
		d.state = atLineStart
	}
	for i < len(p) {
		if d.state == atLineStart && d.stuff && p[i] == '.' {
			d.put(p[start:i])
			d.put(dot)
			start = i // the period itself starts the next run
		}
		d.state = inLine
		rest := p[i:]
		nl := bytes.IndexByte(rest, '\n')
		line := rest
		if nl >= 0 {
			line = rest[:nl]
		}
		cr := bytes.IndexByte(line, '\r')
		if cr >= 0 && !(nl >= 0 && cr == nl-1) {
			// A CR that is not the first half of a CRLF.
			pos := i + cr
			d.put(p[start:pos])
			if pos == len(p)-1 {
				// The last byte: the next write tells what it is.
				d.state = afterCR
				return len(p), d.err
			}
			d.put(crlf)
			i, start = pos+1, pos+1
			d.state = atLineStart
			continue
		}
		if nl < 0 {
			i = len(p)
			break
		}
		pos := i + nl
		if cr < 0 {
			// A lone LF.
			d.put(p[start:pos])
			d.put(crlf)
			start = pos + 1
		}
		i = pos + 1
		d.state = atLineStart
	}
	d.put(p[start:i])
	return len(p), d.err
}

// writeClean writes p, whose line ends are all CRLF (textutil.CleanCRLF), doubling
// the periods that start lines when stuffing; the lines need no other
// change, so only those places break the run.
func (d *dataWriter) writeClean(p []byte) {
	start := 0
	if d.stuff {
		if d.state == atLineStart && p[0] == '.' {
			d.put(dot)
		}
		for i := 0; ; {
			j := bytes.Index(p[i:], lineDot)
			if j < 0 {
				break
			}
			k := i + j + 1 // the period
			d.put(p[start:k])
			d.put(dot)
			start, i = k, k
		}
	}
	d.put(p[start:])
	d.state = inLine
	if p[len(p)-1] == '\n' {
		d.state = atLineStart
	}
}

// flushCR settles a CR that ended the input: a lone CR becomes CRLF.
func (d *dataWriter) flushCR() error {
	if d.state == afterCR {
		d.put(crlf)
		d.state = atLineStart
	}
	return d.err
}

// finish ends the data: a pending CR is settled, a CRLF is added unless the
// data ended with one (as smtplib adds it; empty data gets one too), and for
// DATA the terminating ".\r\n" follows.
func (d *dataWriter) finish() error {
	d.flushCR()
	if !d.any || d.state != atLineStart {
		d.put(crlf)
		d.state = atLineStart
	}
	if d.stuff {
		d.put([]byte(".\r\n"))
	}
	return d.err
}
