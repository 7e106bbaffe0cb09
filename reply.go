package smtplib

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

// Reply is one server reply: Python's (code, msg) tuple.
type Reply struct {
	Code    int    // three-digit code; -1 when a line broke RFC 5321's reply grammar or the lines' codes disagree
	Message string // text of every line, joined with "\n" (as smtplib joins them)
}

// String formats the reply as "250 text" (continuation lines on their own
// lines), for logs and test failures.
func (r Reply) String() string { return fmt.Sprintf("%d %s", r.Code, r.Message) }

// Bounds on what one reply may take. maxLine is smtplib's _MAXLINE, eight
// times RFC 5321's 512-byte limit (section 4.5.3.1.5). A reply is bounded as
// a whole too, because smtplib's per-line limit alone lets a server send
// continuation lines for ever; the largest honest replies (EHLO with every
// extension, HELP) are a few kilobytes and a few dozen lines.
const (
	maxLine       = 8192
	maxReplyLines = 1000
	maxReplyBytes = 1 << 20
)

// replyTooLong is what a reply over the bounds gives, after the connection
// is closed: smtplib's answer to an over-long line.
func replyTooLong() error { return ptr(respErr(Reply{Code: 500, Message: "Line too long."})) }

// replyLine is one line of a reply.
type replyLine struct {
	code int    // the reply code, -1 when the line is not a reply line
	more bool   // the fourth byte is '-': a continuation follows
	text []byte // bytes from the fifth on, stripped of " \t\r\n" at both ends
}

// parseReplyLine splits a line by RFC 5321's grammar for replies (section
// 4.2): three digits, the first 2 to 5 and the second 0 to 5, then a space,
// a '-' or the end of the line. Any other line has code -1 and ends the
// reply, whatever its fourth byte, as a line without digits does in
// smtplib. The text is taken as smtplib takes it, from the fifth byte on,
// for conforming lines and others alike.
//
// smtplib reads the code with Python's int(), so " 220 x" is 22, "2500 ok"
// 250, "+20 x" 20 and "25 x" 25; each of them is a server speaking
// something else than SMTP, or a stream that has lost its place, and
// taking a code from it would act on a reply the server never gave.
func parseReplyLine(line []byte) replyLine {
	var l replyLine
	if len(line) > 4 {
		l.text = bytes.Trim(line[4:], " \t\r\n")
	}
	if !replyCodeOK(line) {
		l.code = -1
		return l
	}
	l.code = int(line[0]-'0')*100 + int(line[1]-'0')*10 + int(line[2]-'0')
	l.more = len(line) > 3 && line[3] == '-'
	return l
}

// replyCodeOK reports whether line starts with a reply code that RFC 5321
// allows, followed by a space, a '-' or the end of the line (LF or CRLF,
// or the end of the stream).
func replyCodeOK(line []byte) bool {
	if len(line) < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '5' || line[2] < '0' || line[2] > '9' {
		return false
	}
	rest := line[3:]
	switch {
	case len(rest) == 0:
		return true
	case rest[0] == ' ' || rest[0] == '-':
		return true
	}
	return string(rest) == "\n" || string(rest) == "\r\n"
}

// pyInt parses b as Python's int(bytes) does: surrounding ASCII white
// space, an optional sign, digits with single underscores between them.
// smtplib reads the port of "host:port" with it, and so does Connect.
func pyInt(b []byte) (int, bool) {
	b = bytes.Trim(b, " \t\n\r\v\f")
	neg := false
	if len(b) > 0 && (b[0] == '+' || b[0] == '-') {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	n := 0
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9':
			n = n*10 + int(c-'0')
		case c == '_' && i > 0 && i < len(b)-1 && b[i-1] != '_':
		default:
			return 0, false
		}
	}
	if neg {
		n = -n
	}
	return n, true
}

// readReply reads one whole reply from r: smtplib's getreply loop, with the
// bounds above and RFC 5321's grammar: a line that is not a reply line
// ends the reply with code -1, and a reply whose lines disagree on the
// code is -1 too (a reply has one code, section 4.2.1: "250-a" then "550
// b" is neither a 250 nor a 550). Each raw line is passed to trace (for the debug output)
// before it is judged. A line that arrives without its LF because the
// server closed the connection counts as a line, as in Python; a read error
// with nothing read is returned as is for the caller to wrap. errTooLong
// reports a reply over the bounds.
func readReply(r *bufio.Reader, trace func(line []byte)) (Reply, error) {
	var msg []byte
	lines, code := 0, 0
	for {
		line, err := readLine(r)
		if err != nil && (err != io.EOF || len(line) == 0) {
			// Only the end of the stream completes a line without LF, as
			// in Python; bytes cut off by a timeout are not a reply.
			return Reply{}, err
		}
		if trace != nil {
			trace(line)
		}
		if len(line) > maxLine {
			return Reply{}, errTooLong
		}
		l := parseReplyLine(line)
		if lines == 0 && !l.more {
			// A reply of one line, the usual case: its text is copied
			// once, straight from the reader's buffer.
			return Reply{Code: l.code, Message: string(l.text)}, nil
		}
		if lines > 0 {
			msg = append(msg, '\n')
		}
		msg = append(msg, l.text...)
		if lines == 0 {
			code = l.code
		} else if l.code != code {
			// Read on to the reply's last line all the same, so that
			// the session stays in step with the server.
			code = -1
		}
		lines++
		if !l.more {
			return Reply{Code: code, Message: string(msg)}, nil
		}
		if err != nil {
			// The server closed the connection in the middle of a
			// continuation: the next read would report it, so do it now.
			return Reply{}, err
		}
		if lines >= maxReplyLines || len(msg) >= maxReplyBytes {
			return Reply{}, errTooLong
		}
	}
}

// errTooLong is readReply's report of a line or reply over the bounds.
var errTooLong = fmt.Errorf("reply over the size bounds")

// readLine returns the next line including its LF, or what there is before
// an error. It stops reading once the line passes maxLine bytes, so a
// server that never sends LF costs at most the reader's buffer.
func readLine(r *bufio.Reader) ([]byte, error) {
	frag, err := r.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return frag, err
	}
	// Longer than the buffer: gather at most maxLine+1 bytes.
	line := append([]byte(nil), frag...)
	for len(line) <= maxLine {
		frag, err = r.ReadSlice('\n')
		line = append(line, frag...)
		if err != bufio.ErrBufferFull {
			return line, err
		}
	}
	return line, nil
}
