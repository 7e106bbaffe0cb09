package smtplib

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

// replyLineRE is RFC 5321's reply line (section 4.2), written apart from
// reply.go so that the fuzz targets check the reader against a second
// reading: three digits (2-5, 0-5, 0-9), then '-' or a space and any
// text, or the end of the line.
var replyLineRE = regexp.MustCompile(`(?s)^([2-5][0-5][0-9])(?:([- ]).*|\r\n|\n|)$`)

// grammarCode is the code that the raw lines of one reply, line ends
// included, have by the grammar: the code every line shares, when each
// line but the last continues with '-' and the last does not, else -1.
func grammarCode(lines [][]byte) int {
	code := ""
	for i, l := range lines {
		m := replyLineRE.FindSubmatch(l)
		if m == nil || code != "" && string(m[1]) != code {
			return -1
		}
		code = string(m[1])
		if (string(m[2]) == "-") != (i < len(lines)-1) {
			return -1
		}
	}
	if code == "" {
		return -1
	}
	n, _ := strconv.Atoi(code)
	return n
}

// splitLines splits b after each LF, keeping the line ends.
func splitLines(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n') + 1
		if i == 0 {
			i = len(b)
		}
		out = append(out, b[:i])
		b = b[i:]
	}
	return out
}

func TestGrammarCode(t *testing.T) {
	tests := []struct {
		lines []string
		want  int
	}{
		{[]string{"250 ok\r\n"}, 250},
		{[]string{"250\r\n"}, 250},
		{[]string{"250"}, 250},
		{[]string{"250-a\r\n", "250 b\r\n"}, 250},
		{[]string{"250-a\r\n", "550 b\r\n"}, -1},
		{[]string{"250-a\r\n"}, -1},
		{[]string{"250 a\r\n", "250 b\r\n"}, -1},
		{[]string{"2500 ok\r\n"}, -1},
		{[]string{" 250 ok\r\n"}, -1},
		{[]string{"150 ok\r\n"}, -1},
		{[]string{"260 ok\r\n"}, -1},
		{[]string{"250\r"}, -1},
		{[]string{"250\tok\r\n"}, -1},
	}
	for _, tt := range tests {
		var lines [][]byte
		for _, l := range tt.lines {
			lines = append(lines, []byte(l))
		}
		assert.Equal(t, tt.want, grammarCode(lines), "%q", tt.lines)
	}
}

// replyTrace is a debug output that checks, for each reply the client
// read, that the code it gave is the grammar's code for the raw lines it
// traced ("reply: b'...'" lines, then "reply: retcode (N); ...").
type replyTrace struct {
	mu    sync.Mutex
	lines [][]byte
	bad   []string
}

func (r *replyTrace) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, line := range strings.Split(strings.TrimSuffix(string(p), "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "reply: retcode ("):
			code, _ := strconv.Atoi(strings.TrimPrefix(line, "reply: retcode (")[:strings.IndexByte(line[16:], ')')])
			if want := grammarCode(r.lines); code != want {
				r.bad = append(r.bad, line+" for lines "+strconv.Quote(string(bytes.Join(r.lines, nil)))+
					", whose code by the grammar is "+strconv.Itoa(want))
			}
			r.lines = nil
		case strings.HasPrefix(line, "reply: b"):
			r.lines = append(r.lines, unreprBytes(strings.TrimPrefix(line, "reply: ")))
		}
	}
	return len(p), nil
}

// check reports every reply whose code was not the grammar's.
func (r *replyTrace) check(t *testing.T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	assert.Empty(t, r.bad, "replies whose code is not the grammar's")
}

// unreprBytes reverses pyReprBytes: b'...' or b"..." with \\, \', \", \t,
// \n, \r and \xNN escapes.
func unreprBytes(s string) []byte {
	s = s[2 : len(s)-1]
	var out []byte
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			out = append(out, s[i])
			continue
		}
		i++
		switch s[i] {
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'x':
			v, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
			out = append(out, byte(v))
			i += 2
		default:
			out = append(out, s[i])
		}
	}
	return out
}

func TestUnreprBytes(t *testing.T) {
	for _, b := range []string{"250 ok\r\n", "it's \"x\"\t\\\x00\xff", "'", `"`, ""} {
		assert.Equal(t, []byte(b), append([]byte{}, unreprBytes(pyReprBytes([]byte(b)))...), "%q", b)
	}
}
