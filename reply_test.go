package smtplib

import (
	"bufio"
	"bytes"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tests of the reply reader: RFC 5321's grammar (checked against a second
// reading of it, grammarCode, which the fuzz targets share), and the
// bounds on what one reply may take.

func TestReadReply(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Reply
		err  error
	}{
		{"single", "250 ok\r\n", Reply{250, "ok"}, nil},
		{"multi", "250-a\r\n250-b c\r\n250 d\r\n", Reply{250, "a\nb c\nd"}, nil},
		{"bare LF", "250-a\n250 b\n", Reply{250, "a\nb"}, nil},
		{"trailing blanks stripped", "250 ok \t \r\n", Reply{250, "ok"}, nil},
		{"code only", "250\r\n", Reply{250, ""}, nil},
		{"code and space", "250 \r\n", Reply{250, ""}, nil},
		{"no code", "hello there\r\n", Reply{-1, "o there"}, nil},
		{"no code ends reply", "abc-def\r\n250 ok\r\n", Reply{-1, "def"}, nil},
		{"one digit", "2\r\n", Reply{-1, ""}, nil},
		{"two digit code", "25 x\r\n", Reply{-1, ""}, nil},
		{"four digit code", "2500 ok\r\n", Reply{-1, "ok"}, nil},
		{"leading space code", " 220 x\r\n", Reply{-1, "x"}, nil},
		{"signed code", "+20 ok\r\n", Reply{-1, "ok"}, nil},
		{"negative code", "-25 ok\r\n", Reply{-1, "ok"}, nil},
		{"underscore code", "2_5 ok\r\n", Reply{-1, "ok"}, nil},
		{"first digit 1", "150 x\r\n", Reply{-1, "x"}, nil},
		{"first digit 6", "650 x\r\n", Reply{-1, "x"}, nil},
		{"second digit 6", "260 x\r\n", Reply{-1, "x"}, nil},
		{"codes at the edges", "559 x\r\n", Reply{559, "x"}, nil},
		{"code then CR only", "250\r", Reply{-1, ""}, nil},
		{"code then LF", "250\n", Reply{250, ""}, nil},
		{"code then tab", "250\tok\r\n", Reply{-1, "ok"}, nil},
		{"code at the end of the stream", "250", Reply{250, ""}, nil},
		{"mismatched continuation", "250-a\r\n550 b\r\n", Reply{-1, "a\nb"}, nil},
		{"mismatch read to the end", "250-a\r\n550-b\r\n550 c\r\nnext", Reply{-1, "a\nb\nc"}, nil},
		{"continuation then garbage", "250-a\r\nxyz\r\n", Reply{-1, "a\n"}, nil},
		{"continuation then bad code", "250-a\r\n25 b\r\n", Reply{-1, "a\n"}, nil},
		{"EOF after partial line", "250 ok", Reply{250, "ok"}, nil},
		{"EOF mid continuation", "250-a\r\n", Reply{}, io.EOF},
		{"EOF mid continuation no LF", "250-a", Reply{}, io.EOF},
		{"empty", "", Reply{}, io.EOF},
		{"fourth byte not dash", "250+a\r\n", Reply{-1, "a"}, nil},
		{"latin1 bytes kept", "250 caf\xe9\r\n", Reply{250, "caf\xe9"}, nil},
		{"line of exactly 8192", "250 " + strings.Repeat("x", 8186) + "\r\n", Reply{250, strings.Repeat("x", 8186)}, nil},
		{"line of 8193", "250 " + strings.Repeat("x", 8187) + "\r\n", Reply{}, errTooLong},
		{"endless line", "250 " + strings.Repeat("x", 1<<20), Reply{}, errTooLong},
		{"too many lines", strings.Repeat("250-x\r\n", maxReplyLines+5) + "250 end\r\n", Reply{}, errTooLong},
		{"too many bytes", strings.Repeat("250-"+strings.Repeat("y", 8000)+"\r\n", 200) + "250 end\r\n", Reply{}, errTooLong},
		{"bare CR is not a line end", "250-a\r250 b\r\n", Reply{}, io.EOF},
	}
	for _, tt := range tests {
		// Whatever the read buffer's size, the client's or the smallest
		// bufio allows, a line is read whole, up to the bounds.
		for _, size := range []int{defaultReadBufSize, 16} {
			t.Run(tt.name+"/buffer "+strconv.Itoa(size), func(t *testing.T) {
				var traced []string
				r, err := readReply(bufio.NewReaderSize(strings.NewReader(tt.in), size),
					func(l []byte) { traced = append(traced, string(l)) })
				if tt.err != nil {
					require.ErrorIs(t, err, tt.err)
					return
				}
				require.NoError(t, err)
				assert.Equal(t, tt.want, r)
				assert.True(t, strings.HasPrefix(tt.in, strings.Join(traced, "")), "every line read is traced")
			})
		}
	}
}

func TestLineTooLong(t *testing.T) {
	srv := newScriptServer(t, "S: 220 hi\nC\nS: 250-"+strings.Repeat("x", 9000))
	c := dialRaw(t, srv)
	_, err := c.Noop()
	var re *ResponseError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, ptr(respErr(Reply{500, "Line too long."})), re)
	assert.Nil(t, c.conn, "closed")
}

func TestEndlessContinuation(t *testing.T) {
	srv := newScriptServer(t, "S: 220 hi\nC\n"+strings.Repeat("S: 250-more\n", maxReplyLines+10)+"S: 250 end")
	c := dialRaw(t, srv)
	_, err := c.Noop()
	assert.Equal(t, ptr(respErr(Reply{500, "Line too long."})), err)
	assert.Nil(t, c.conn)
}

func TestPyInt(t *testing.T) {
	tests := []struct {
		in   string
		want int
		ok   bool
	}{
		{"250", 250, true}, {" 25", 25, true}, {"25 ", 25, true}, {"\t2\n", 2, true},
		{"+12", 12, true}, {"-12", -12, true}, {"1_2", 12, true}, {"_12", 0, false},
		{"12_", 0, false}, {"1__2", 0, false}, {"", 0, false}, {" ", 0, false},
		{"+", 0, false}, {"2a5", 0, false}, {"0x1", 0, false}, {"007", 7, true},
		{"+-1", 0, false}, {"\v1\f", 1, true},
	}
	for _, tt := range tests {
		got, ok := pyInt([]byte(tt.in))
		assert.Equal(t, tt.ok, ok, "%q", tt.in)
		assert.Equal(t, tt.want, got, "%q", tt.in)
	}
}

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

// FuzzReply checks that the reply reader never panics, stays within its
// bounds, and gives each reply the code that RFC 5321's grammar gives its
// lines, read apart by grammarCode: -1 unless every line matched.
func FuzzReply(f *testing.F) {
	for _, s := range []string{"250 ok\r\n", "250-a\r\n250 b\r\n", "xyz\r\n", "250-", "25", "-1 x\n", "250-a\r250 b\n", "\xff\xfe\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := readReply(bufio.NewReaderSize(strings.NewReader(string(in)), defaultReadBufSize), nil)
		if err != nil {
			return
		}
		assert.LessOrEqual(t, strings.Count(r.Message, "\n"), maxReplyLines)
		assert.LessOrEqual(t, len(r.Message), maxReplyBytes+maxLine)
		lines := splitLines(in)
		n := strings.Count(r.Message, "\n") + 1
		require.LessOrEqual(t, n, len(lines))
		assert.Equal(t, grammarCode(lines[:n]), r.Code, "the grammar's code for %q", lines[:n])
	})
}
