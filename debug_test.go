package smtplib

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
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
		{"\u0085", `'\x85'`, `b'\xc2\x85'`},
		{"\U000e0001", `'\U000e0001'`, `b'\xf3\xa0\x80\x81'`},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.str, pyRepr(tt.in), "%q", tt.in)
		assert.Equal(t, tt.byts, pyReprBytes([]byte(tt.in)), "%q", tt.in)
	}
}

// TestDebugTimestamps: at level 2 each line starts with the time as
// Python's datetime.time prints it, microseconds only when there are any;
// on the fake clock, whose day starts at midnight, the times are exact.
func TestDebugTimestamps(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out strings.Builder
		c := dialRaw(t, newRawPipes(t, newRawSMTP(t, nil, smtptest.Fault{}).serve), WithDebugOutput(&out))
		c.SetDebugLevel(2)
		_, err := c.Noop()
		require.NoError(t, err)
		time.Sleep(500 * time.Microsecond) // under idleProbeAfter: no look at the connection, which would take time
		_, err = c.Noop()
		require.NoError(t, err)
		assert.Equal(t, `00:00:00 send: 'noop\r\n'
00:00:00 reply: b'250 2.0.0 ok\r\n'
00:00:00 reply: retcode (250); Msg: b'2.0.0 ok'
00:00:00.000500 send: 'noop\r\n'
00:00:00.000500 reply: b'250 2.0.0 ok\r\n'
00:00:00.000500 reply: retcode (250); Msg: b'2.0.0 ok'
`, out.String())
	})
}

// TestDebugOutputToStderr: without WithDebugOutput the debug output goes
// to the standard error, as smtplib prints it.
func TestDebugOutputToStderr(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	stderr := os.Stderr
	os.Stderr = w
	t.Cleanup(func() { os.Stderr = stderr })
	synctest.Test(t, func(t *testing.T) {
		c := dialRaw(t, newRawPipes(t, newRawSMTP(t, nil, smtptest.Fault{}).serve))
		c.SetDebugLevel(1)
		_, err := c.Noop()
		require.NoError(t, err)
	})
	os.Stderr = stderr
	require.NoError(t, w.Close())
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, "send: 'noop\\r\\n'\nreply: b'250 2.0.0 ok\\r\\n'\nreply: retcode (250); Msg: b'2.0.0 ok'\n", string(got))
}
