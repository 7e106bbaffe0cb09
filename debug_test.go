package smtplib

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tests of the debug output, in smtplib's words and Python's reprs.

func TestDebugOutput(t *testing.T) {
	run := func(level int) string {
		srv := newScriptServer(t, `
			S: 220 hi
			C
			S: 250-a
			S: 250 b`)
		var out bytes.Buffer
		c := New(WithLocalHostname("h"), WithDebugOutput(&out), WithTimeout(testTimeout))
		c.SetDebugLevel(level)
		_, err := c.Connect("127.0.0.1", srv.Port())
		require.NoError(t, err)
		_, err = c.DoCmd("noop", "it's")
		require.NoError(t, err)
		c.Close()
		srv.received()
		return strings.ReplaceAll(out.String(), strconv.Itoa(srv.Port()), "PORT")
	}
	assert.Empty(t, run(0))
	assert.Equal(t, `connect: to ('127.0.0.1', PORT) None
reply: b'220 hi\r\n'
reply: retcode (220); Msg: b'hi'
connect: b'hi'
send: "noop it's\r\n"
reply: b'250-a\r\n'
reply: b'250 b\r\n'
reply: retcode (250); Msg: b'a\nb'
`, run(1))
	for _, line := range strings.Split(strings.TrimSpace(run(2)), "\n") {
		assert.Regexp(t, `^\d\d:\d\d:\d\d(\.\d{6})? (connect|send|reply): `, line)
	}
}

func TestPyRepr(t *testing.T) {
	tests := []struct {
		in        string
		str, byts string
	}{
		{"abc", `'abc'`, `b'abc'`},
		{"it's", `"it's"`, `b"it's"`},
		{`it's "x"`, `'it\'s "x"'`, `b'it\'s "x"'`},
		{"a\r\n\t\\", `'a\r\n\t\\'`, `b'a\r\n\t\\'`},
		{"\x00\x7f", `'\x00\x7f'`, `b'\x00\x7f'`},
		{"é", `'é'`, `b'\xc3\xa9'`},
		{"\u200b", `'\u200b'`, `b'\xe2\x80\x8b'`},
		{"\xff", `'\xff'`, `b'\xff'`},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.str, pyRepr(tt.in), "%q", tt.in)
		assert.Equal(t, tt.byts, pyReprBytes([]byte(tt.in)), "%q", tt.in)
	}
}
