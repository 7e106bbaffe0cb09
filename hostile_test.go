package smtplib

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/internal/rawsrv"
	"github.com/gosmtplib/smtplib/smtptest"
)

// Tests of the client against servers that misbehave: replies outside the
// grammar or beyond the bounds, silence and drips (on the fake clock),
// endless AUTH challenges and EHLO floods, and anything at all (the
// fuzzer). Connections dropped or stalled are in hostile_fault_test.go.
// The misbehaving server is a rawSMTP whose misbehave is one of these:
// each writes to w and says whether the server then goes mute.

// says writes s once.
func says(s string) func(io.Writer) bool {
	return func(w io.Writer) bool { io.WriteString(w, s); return false }
}

// forever writes prefix, then chunk again and again until the client goes.
func forever(prefix, chunk string) func(io.Writer) bool {
	return func(w io.Writer) bool {
		if _, err := io.WriteString(w, prefix); err != nil {
			return true
		}
		b := bytes.Repeat([]byte(chunk), max(1, 64<<10/len(chunk)))
		for {
			if _, err := w.Write(b); err != nil {
				return true
			}
		}
	}
}

// drip writes s one byte at a time, a byte each interval, repeating s
// until the client goes: a server that is never silent long enough for a
// per-read timeout, and never done. With once, s is written only once. It
// drips for a minute at most, so that a client that waits for it all
// fails its test rather than hang it; then the server goes mute.
func drip(s string, interval time.Duration, once bool) func(io.Writer) bool {
	return func(w io.Writer) bool {
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for i := 0; (!once || i < len(s)) && time.Duration(i)*interval < time.Minute; i++ {
			if _, err := w.Write([]byte{s[i%len(s)]}); err != nil {
				return true
			}
			<-tick.C
		}
		return true
	}
}

// silence sends s and then goes mute.
func silence(s string) func(io.Writer) bool {
	return func(w io.Writer) bool { io.WriteString(w, s); return true }
}

// hostileOn returns a rawSMTP that misbehaves at the first command whose
// verb is verb (or at the greeting, for "GREETING").
func hostileOn(t *testing.T, verb string, misbehave func(w io.Writer) (mute bool)) *rawSMTP {
	h := newRawSMTP(t, nil, smtptest.Fault{At: verb})
	h.misbehave = misbehave
	return h
}

// Bounds on what the client reads from a hostile server in one call. A
// reply stops at a bound of reply.go (a line of 8 KiB, 1000 lines, 1 MiB)
// plus one fill of the 16 KiB read buffer: 64 KiB covers every reply but
// one of 1 MiB of long lines. A drip at one byte per 50 ms gives a few
// dozen bytes before the one-second deadline of hostileTimeout, where a
// deadline renewed at each read would take hundreds. Rows that expect a
// timeout use hostileTimeout; the others use testTimeout, which they must
// never reach.
const (
	defaultMaxRead = 64 << 10
	dripMaxRead    = 64
	hostileTimeout = time.Second
)

// TestHostileReplies answers MAIL with a hostile reply and runs Sendmail.
// The property of each row: Sendmail returns the row's typed error (or
// its documented outcome) within the time bound, without a panic, having
// allocated no more than the row's bound, and the client is closed when
// the reply broke the session.
func TestHostileReplies(t *testing.T) {
	tooLong := ptr(respErr(Reply{500, "Line too long."}))
	refused := func(code int, msg string) error {
		return &SenderRefusedError{respErr(Reply{code, msg}), "a@example.com"}
	}
	tests := []struct {
		name       string
		reply      func(io.Writer) bool
		want       error    // compared whole, unless timeout is set
		timeout    bool     // the error is a *ServerDisconnectedError wrapping os.ErrDeadlineExceeded
		closed     bool     // the client is closed afterwards
		after      []string // the commands the client sends after the reply, a NOOP included
		maxRead    int64    // bytes the client may read in the call; 0 is defaultMaxRead
		regression string
	}{
		// Endless input: the bounds of reply.go stop it long before the
		// timeout, and the client reads what the bounds allow, not what
		// was sent.
		{name: "endless short continuation lines", reply: forever("", "250-more\r\n"),
			want: tooLong, closed: true},
		{name: "endless long continuation lines", reply: forever("", "250-"+strings.Repeat("x", 8000)+"\r\n"),
			want: tooLong, closed: true, maxRead: maxReplyBytes + defaultMaxRead},
		{name: "one endless line", reply: forever("250 ", "x"),
			want: tooLong, closed: true},
		{name: "endless lines ended by bare CR", reply: forever("", "250-x\r"),
			want: tooLong, closed: true},
		{name: "endless garbage without line ends", reply: forever("", "\x00\xff\xfe\x80\x1b[2J"),
			want: tooLong, closed: true},
		{name: "a 100 KiB line", reply: says("250 " + strings.Repeat("x", 100<<10) + "\r\n"),
			want: tooLong, closed: true},
		{name: "a line one byte over 8192", reply: says("550 " + strings.Repeat("x", maxLine-5) + "\r\n"),
			want: tooLong, closed: true},
		{name: "a line of exactly 8192 bytes is read",
			reply: says("550 " + strings.Repeat("x", maxLine-6) + "\r\n"),
			want:  refused(550, strings.Repeat("x", maxLine-6)), after: []string{"rset", "noop"}},
		{name: "1000 lines are the most a reply may have",
			reply: says(strings.Repeat("550-x\r\n", maxReplyLines) + "550 end\r\n"),
			want:  tooLong, closed: true},

		// Silence and slowness: the per-operation deadline ends them.
		{name: "no reply at all", reply: silence(""),
			timeout: true, closed: true},
		{name: "bare CR line ends then silence", reply: silence("250-a\r250 b\r"),
			timeout: true, closed: true},
		{name: "a continuation line then silence", reply: silence("250-first line\r\n"),
			timeout: true, closed: true},
		{name: "half a line then silence", reply: silence("250 2.1.0 sender o"),
			timeout: true, closed: true,
			regression: "readReply takes the bytes read before a timeout for a whole line, so the reply " +
				"\"250 2.1.0 sender o\" is accepted (reply.go readReply: only io.EOF may end a line)"},
		// On the fake clock the deadline falls after twenty bytes, two
		// continuation lines, so the reply is unfinished whatever
		// readReply makes of a cut line. A deadline renewed at each read
		// would let the drip go on (for drip's minute); one per reply
		// stops it at the timeout.
		{name: "continuation bytes every 50 ms", reply: drip("250-drip\r\n", 50*time.Millisecond, false),
			timeout: true, closed: true, maxRead: dripMaxRead},
		{name: "a final line dripped a byte every 50 ms", reply: drip("250 2.1.0 sender ok, a long time coming\r\n", 50*time.Millisecond, true),
			timeout: true, closed: true, maxRead: dripMaxRead,
			regression: "readReply takes the bytes read before a timeout for a whole line, so the partial " +
				"reply \"250 2.1.\" is accepted (reply.go readReply)"},

		// Malformed codes: a line outside RFC 5321's reply grammar, or a
		// reply whose lines disagree, has code -1 and is a refusal.
		{name: "bare CR inside a line keeps the line whole", reply: says("550 a\r250 b\r\n"),
			want: refused(550, "a\r250 b"), after: []string{"rset", "noop"}},
		{name: "two-digit code", reply: says("25 ok\r\n"),
			want: refused(-1, "k"), after: []string{"rset", "noop"}},
		{name: "four-digit code", reply: says("2500 ok\r\n"),
			want: refused(-1, "ok"), after: []string{"rset", "noop"}},
		{name: "letters for a code", reply: says("abc no code\r\n"),
			want: refused(-1, "no code"), after: []string{"rset", "noop"}},
		{name: "negative code", reply: says("-25 x\r\n"),
			want: refused(-1, "x"), after: []string{"rset", "noop"}},
		{name: "empty line", reply: says("\r\n"),
			want: refused(-1, ""), after: []string{"rset", "noop"}},
		{name: "garbage bytes", reply: says("\x00\xff\xfe\x80garbage\r\n"),
			want: refused(-1, "garbage"), after: []string{"rset", "noop"}},
		{name: "continuation then a line without a code", reply: says("250-a\r\nxyz\r\n"),
			want: refused(-1, "a\n"), after: []string{"rset", "noop"}},
		{name: "code changes from 250 to 550: no code", reply: says("250-fine\r\n550 not fine\r\n"),
			want: refused(-1, "fine\nnot fine"), after: []string{"rset", "noop"}},
		{name: "NUL in the text", reply: says("550 no\x00pe\r\n"),
			want: refused(550, "no\x00pe"), after: []string{"rset", "noop"}},
		{name: "421 closes the session", reply: says("421 4.3.2 going down\r\n"),
			want: refused(421, "4.3.2 going down"), closed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := hostileOn(t, "MAIL", tt.reply)
				srv := newRawPipes(t, h.serve)
				d := &countingDialer{inner: srv}
				timeout := testTimeout // a row that must stop by a bound never reaches it
				if tt.timeout {
					timeout = hostileTimeout
				}
				c := dialRaw(t, srv, WithTimeout(timeout), WithDialer(d))
				before := d.read.Load()
				start := time.Now()
				refusedTo, err := c.Sendmail("a@example.com", []string{"b@example.com"}, []byte("x\r\n"))
				elapsed := time.Since(start)

				assert.Nil(t, refusedTo)
				if tt.timeout {
					assert.Equal(t, hostileTimeout, elapsed, "stopped at the timeout")
				} else {
					assert.Zero(t, elapsed, "stopped by the bounds, not a timeout")
				}
				assert.LessOrEqual(t, d.read.Load()-before, cmp.Or(tt.maxRead, defaultMaxRead), "bytes the client read")
				assert.ErrorIs(t, err, ErrSMTP)
				if tt.timeout {
					var sd *ServerDisconnectedError
					require.ErrorAs(t, err, &sd)
					assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
				} else {
					assert.Equal(t, tt.want, err)
				}
				_, nerr := c.Noop()
				if tt.closed {
					var sd *ServerDisconnectedError
					require.ErrorAs(t, nerr, &sd, "the client is closed")
					assert.Equal(t, "not connected: use Dial or Connect first", sd.Msg)
				} else {
					assert.NoError(t, nerr, "the session goes on")
				}
				c.Close()
				synctest.Wait() // the server's session has ended
				assert.Equal(t, tt.after, h.sentAfter(), "what the client sent after the reply")
			})
		})
	}
}

// TestHostileGreeting covers a server that misbehaves before its first
// reply. The property of each row: Dial (with hostileTimeout) returns
// a nil client and the row's typed error, having read no more than the
// row's bound.
func TestHostileGreeting(t *testing.T) {
	tests := []struct {
		name       string
		greet      func(w io.Writer) bool // nil: the server hangs up at once
		check      func(t *testing.T, err error)
		maxRead    int64 // 0 is defaultMaxRead
		timeout    bool
		regression string
	}{
		{name: "the greeting never comes", greet: silence(""), timeout: true},
		{name: "a continued greeting drips a byte every 50 ms", greet: drip("220-slow\r\n", 50*time.Millisecond, false),
			timeout: true, maxRead: dripMaxRead},
		{name: "the greeting drips a byte every 50 ms", greet: drip("220 slow.example ESMTP at last\r\n", 50*time.Millisecond, true),
			timeout: true, maxRead: dripMaxRead, regression: "readReply takes the bytes read before the timeout for the whole greeting, " +
				"so Dial succeeds on \"220 slo\" (reply.go readReply: only io.EOF may end a line)"},
		{name: "half a greeting then silence", greet: silence("220 hal"), timeout: true,
			regression: "readReply takes the bytes read before the timeout for the whole greeting, " +
				"so Dial succeeds on \"220 hal\" (reply.go readReply: only io.EOF may end a line)"},
		{name: "an endless greeting", greet: forever("", "220-welcome\r\n"),
			check: func(t *testing.T, err error) { assert.Equal(t, ptr(respErr(Reply{500, "Line too long."})), err) }},
		{name: "a greeting that is one endless line", greet: forever("220 ", "x"),
			check: func(t *testing.T, err error) { assert.Equal(t, ptr(respErr(Reply{500, "Line too long."})), err) }},
		{name: "closed at once",
			check: func(t *testing.T, err error) {
				var sd *ServerDisconnectedError
				require.ErrorAs(t, err, &sd)
				assert.ErrorIs(t, err, io.EOF)
			}},
		{name: "a refusal", greet: silence("554 5.3.2 not now\r\n"),
			check: func(t *testing.T, err error) {
				assert.Equal(t, &ConnectError{respErr(Reply{554, "5.3.2 not now"})}, err)
			}},
		{name: "garbage", greet: silence("\xff\xfe\x00\r\n"),
			check: func(t *testing.T, err error) {
				assert.Equal(t, &ConnectError{respErr(Reply{-1, ""})}, err)
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := hostileOn(t, "GREETING", tt.greet)
				if tt.greet == nil {
					h.misbehave, h.fault.Action = nil, smtptest.Drop
				}
				d := &countingDialer{inner: newRawPipes(t, h.serve)}
				start := time.Now()
				c, err := Dial("mx.example", 25, WithLocalHostname("client.example"),
					WithTimeout(hostileTimeout), WithDialer(d))
				if tt.timeout {
					assert.Equal(t, hostileTimeout, time.Since(start), "stopped at the timeout")
				} else {
					assert.Zero(t, time.Since(start), "stopped by the bounds, not a timeout")
				}
				assert.Nil(t, c)
				require.Error(t, err)
				assert.ErrorIs(t, err, ErrSMTP)
				assert.LessOrEqual(t, d.read.Load(), cmp.Or(tt.maxRead, defaultMaxRead), "bytes the client read")
				if tt.timeout {
					var sd *ServerDisconnectedError
					require.ErrorAs(t, err, &sd)
					assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
					var ne net.Error
					require.ErrorAs(t, err, &ne)
					assert.True(t, ne.Timeout())
				} else {
					tt.check(t, err)
				}
			})
		})
	}
}

// TestHostileAuthLoop is a server that answers every AUTH step with
// another challenge. The client stops after smtplib's five, cancels, and
// returns an ErrSMTP; the session stays usable.
func TestHostileAuthLoop(t *testing.T) {
	srv := newRawServer(t, func(conn net.Conn) {
		io.WriteString(conn, "220 hostile.example\r\n")
		r := bufio.NewReader(conn)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			switch strings.TrimRight(line, "\r\n") {
			case "*":
				io.WriteString(conn, "501 5.7.0 cancelled\r\n")
			case "noop":
				io.WriteString(conn, "250 2.0.0 ok\r\n")
			default:
				io.WriteString(conn, "334 \r\n")
			}
		}
	})
	c := dialRaw(t, srv, WithTimeout(time.Second))
	c.User, c.Password = "user", "secret"
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		_, err = c.Auth("LOGIN", c.AuthLogin(), true)
	}()
	select {
	case <-done:
	case <-time.After(sessionWait):
		c.Close()
		<-done
		t.Fatal("Auth did not stop")
	}
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrSMTP)
	assert.Contains(t, err.Error(), "infinite loop")
	r, err := c.Noop()
	require.NoError(t, err)
	assert.Equal(t, 250, r.Code)
}

// TestHostileEHLOFlood answers EHLO with as many extension lines as a
// reply may hold, each a different keyword: the client reads them all
// into ESMTPFeatures, within its bounds, and one more line makes the reply
// too long.
func TestHostileEHLOFlood(t *testing.T) {
	tests := []struct {
		name  string
		lines int
		err   error
	}{
		{"the most lines a reply may have", maxReplyLines, nil},
		{"one line too many", maxReplyLines + 1, ptr(respErr(Reply{500, "Line too long."}))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			b.WriteString("250-hostile.example\r\n")
			for i := 1; i < tt.lines-1; i++ {
				b.WriteString("250-X-EXT" + strconv.Itoa(i) + " " + strings.Repeat("p", 100) + "\r\n")
			}
			b.WriteString("250 LAST\r\n")
			c := dialRaw(t, newRawServer(t, hostileOn(t, "EHLO", says(b.String())).serve))
			_, err := c.Ehlo("")
			if tt.err != nil {
				assert.Equal(t, tt.err, err)
				return
			}
			require.NoError(t, err)
			assert.Len(t, c.ESMTPFeatures, tt.lines-1)
		})
	}
}

// FuzzClientReplies plays the fuzzer's bytes as everything a server says
// in a session, over net.Pipe, while a client dials, says EHLO and sends a
// message to two recipients (and quits, if it got that far). Whatever the
// bytes, the client must not panic, must never wait for a timeout (the
// server hangs up when its bytes run out), must keep every reply within
// its bounds, must give every reply the code RFC 5321's grammar gives it
// (checked line by line in the debug output by replyTrace), and every
// error it returns must be one of the documented types.
func FuzzClientReplies(f *testing.F) {
	seeds := []string{
		"220 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n250 queued\r\n221 bye\r\n",
		"220 ok\r\n250-x\r\n250-PIPELINING\r\n250 SIZE 100\r\n250 ok\r\n250 ok\r\n550 no\r\n354 go\r\n250 q\r\n221 bye\r\n",
		"220 ok\r\n250-x\r\n250-CHUNKING\r\n250 PIPELINING\r\n250 ok\r\n250 ok\r\n250 ok\r\n250 done\r\n221 bye\r\n",
		"220 ok\r\n250-x\r\n250 CHUNKING\r\n250 ok\r\n250 ok\r\n250 ok\r\n250 done\r\n221 bye\r\n",
		"220 ok\r\n502 no\r\n250 helo\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n250 q\r\n",
		"220 ok\r\n250 ok\r\n421 bye\r\n",
		"220 ok\r\n250 ok\r\n250 ok\r\n550 a\r\n550 b\r\n250 rset\r\n",
		"554 go away\r\n",
		"220-a\r\n220 b\r\n250-x\r\n550 y\r\n",
		"220 ok\r\n250-\r\n250-\xff\xfe\r\n250 AUTH=LOGIN\r\n",
		"220 ok\r250 ok\r",
		"220 ok\n250 ok\n250 ok\n250 ok\n250 ok\n354 go\n250 q\n",
		"",
		"2",
		"220 ok\r\n250-x\r\n250-PIPELINING\r\n250 CHUNKING\r\n250 ok\r\n421 bye\r\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, script []byte) {
		// A pipe's Write returns once the client has read it all, so
		// hanging up then leaves the client every byte of the script
		// before its end of file. A client that stops reading ends the
		// Write by closing its end.
		pipes := rawsrv.NewPipes(func(conn net.Conn) {
			drained := make(chan struct{})
			go func() {
				io.Copy(io.Discard, conn)
				close(drained)
			}()
			conn.Write(script)
			conn.Close()
			<-drained
		})
		defer pipes.Wait()

		// The server hangs up when its script is read, so no operation
		// waits for its timeout: a deadline error would be a hang. The
		// timeout is long enough that a busy machine never reaches it.
		const timeout = 10 * time.Second
		tr := &replyTrace{}
		c := New(WithDialer(pipes), WithTimeout(timeout), WithLocalHostname("client.example"),
			WithDebugOutput(tr))
		defer c.Close()
		c.SetDebugLevel(1)
		defer tr.check(t)
		err := c.dialGreet(context.Background(), "fuzz.example", 25)
		require.True(t, documentedError(err), "Dial: %T %v", err, err)
		require.NotErrorIs(t, err, os.ErrDeadlineExceeded)
		if err != nil {
			return
		}
		to := []string{"a@example.com", "b@example.com"}
		refused, err := c.Sendmail("s@example.com", to, []byte("Subject: x\r\n\r\n.body\n"))
		require.True(t, documentedError(err), "Sendmail: %T %v", err, err)
		require.NotErrorIs(t, err, os.ErrDeadlineExceeded)
		for k := range c.ESMTPFeatures {
			assert.Equal(t, strings.ToLower(k), k)
		}
		if err == nil {
			for a, r := range refused {
				assert.Contains(t, to, a)
				assert.LessOrEqual(t, len(r.Message), maxReplyBytes+maxLine)
			}
			_, err = c.Quit()
			require.True(t, documentedError(err), "Quit: %T %v", err, err)
			require.NotErrorIs(t, err, os.ErrDeadlineExceeded)
		}
		var re *ResponseError
		if errors.As(err, &re) {
			assert.LessOrEqual(t, len(re.Message), maxReplyBytes+maxLine)
		}
	})
}
