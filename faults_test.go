package smtplib

import (
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

// faultBig is large enough to go in three BDAT chunks and to be still on
// its way when the server breaks off in the middle of the data; the other
// points use the small faultSmall, so that a session without a fault
// stays well within a 300 ms timeout even under the race detector.
var (
	faultBig   = []byte("Subject: faults\r\n\r\n" + strings.Repeat("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\n", 40000))
	faultSmall = []byte("Subject: faults\r\n\r\nbody\r\n")
)

var faultRecipients = []string{"r1@example.com", "r2@example.com", "r3@example.com"}

// faultStep is where in a session a fault shows: the call that fails.
type faultStep int

const (
	failsDial faultStep = iota
	failsSendmail
	failsQuit
)

// faultPoints are the points of a session at which a server can break
// off. fault gives the smtptest fault for a mode (chunking tells whether
// the message goes with BDAT); step is the call that must fail; delivered
// is how many messages the server has taken when it breaks off; big
// sends faultBig rather than faultSmall.
var faultPoints = []struct {
	name      string
	fault     func(chunking bool) smtptest.Fault
	step      faultStep
	delivered int
	big       bool
}{
	{"before the greeting", func(bool) smtptest.Fault { return smtptest.Fault{At: "GREETING"} }, failsDial, 0, false},
	{"after the greeting, at EHLO", func(bool) smtptest.Fault { return smtptest.Fault{At: "EHLO"} }, failsSendmail, 0, false},
	{"in the middle of the EHLO reply", func(bool) smtptest.Fault {
		return smtptest.Fault{At: "EHLO", Reply: "250-smtptest.example\r\n250-8BITM"}
	}, failsSendmail, 0, false},
	{"after MAIL", func(bool) smtptest.Fault { return smtptest.Fault{At: "MAIL"} }, failsSendmail, 0, false},
	{"after the first RCPT", func(bool) smtptest.Fault { return smtptest.Fault{At: "RCPT", N: 1} }, failsSendmail, 0, false},
	{"after the second RCPT", func(bool) smtptest.Fault { return smtptest.Fault{At: "RCPT", N: 2} }, failsSendmail, 0, false},
	{"after the last RCPT", func(bool) smtptest.Fault { return smtptest.Fault{At: "RCPT", N: 3} }, failsSendmail, 0, false},
	{"at the data command (after DATA's 354, or at the first BDAT)", func(chunking bool) smtptest.Fault {
		if chunking {
			return smtptest.Fault{At: "BDAT"}
		}
		return smtptest.Fault{At: "DATA", Reply: "354 End data with <CR><LF>.<CR><LF>\r\n"}
	}, failsSendmail, 0, false},
	{"in the middle of the data", func(chunking bool) smtptest.Fault {
		if chunking {
			return smtptest.Fault{At: "BDAT", N: 2}
		}
		return smtptest.Fault{At: "DATA_BODY"}
	}, failsSendmail, 0, true},
	{"after the final dot, before its reply", func(bool) smtptest.Fault { return smtptest.Fault{At: "DOT"} }, failsSendmail, 0, false},
	{"before the reply to QUIT", func(bool) smtptest.Fault { return smtptest.Fault{At: "QUIT"} }, failsQuit, 1, false},
}

// runFaultSession dials srv, sends msg and quits, stopping at the first
// error. It returns the client (nil if Dial failed), the step at which
// the error came, and the error.
func runFaultSession(t *testing.T, srv *smtptest.Server, msg []byte, opts ...Option) (*SMTP, faultStep, error) {
	t.Helper()
	opts = append([]Option{WithLocalHostname("client.example")}, opts...)
	c, err := Dial(srv.Host(), srv.Port(), opts...)
	if err != nil {
		return nil, failsDial, err
	}
	t.Cleanup(func() { c.Close() })
	refused, err := c.Sendmail("s@example.com", faultRecipients, msg)
	if err != nil {
		assert.Nil(t, refused)
		return c, failsSendmail, err
	}
	assert.Empty(t, refused)
	_, err = c.Quit()
	return c, failsQuit, err
}

// assertClosed checks that a client is closed: its next command fails
// without touching the network.
func assertClosed(t *testing.T, c *SMTP) {
	t.Helper()
	if c == nil {
		return
	}
	_, err := c.Noop()
	var sd *ServerDisconnectedError
	require.ErrorAs(t, err, &sd, "the client is closed")
	assert.Equal(t, "not connected: use Dial or Connect first", sd.Msg)
	assert.Equal(t, "smtplib: not connected: use Dial or Connect first", err.Error())
}

// TestFaultDrop makes the server close the connection at each point of a
// session, in each mode. The property of each row: the call that was
// under way returns a *ServerDisconnectedError (an ErrSMTP, not a
// timeout), the client is closed afterwards, the server has taken the
// messages it should have, and (TestMain) no goroutine is left behind.
func TestFaultDrop(t *testing.T) {
	for _, mode := range robustModes {
		for _, p := range faultPoints {
			t.Run(mode.name+"/"+p.name, func(t *testing.T) {
				chunking := strings.Contains(mode.name, "chunking")
				srv := smtptest.NewServer(t, smtptest.WithExtensions(mode.ext...), smtptest.WithFault(p.fault(chunking)))
				msg := faultSmall
				if p.big {
					msg = faultBig
				}

				c, step, err := runFaultSession(t, srv, msg, WithTimeout(testTimeout))

				assert.Equal(t, p.step, step, "the call that failed")
				var sd *ServerDisconnectedError
				require.ErrorAs(t, err, &sd)
				assert.ErrorIs(t, err, ErrSMTP)
				assert.NotErrorIs(t, err, os.ErrDeadlineExceeded, "not a timeout: %v", err)
				assert.NotNil(t, sd.Err, "the cause is kept")
				assertClosed(t, c)
				require.NoError(t, srv.WaitSessions(1, robustWait))
				assert.Len(t, srv.Messages(), p.delivered)
			})
		}
	}
}

// TestFaultReplyThenDrop gives a 421 at a point and closes: the error is
// the one Sendmail documents for a 421 there, whatever the mode, and the
// client is closed. The message is faultBig, so that the first BDAT chunk
// pipelined with the envelope is still being written when the server
// hangs up.
func TestFaultReplyThenDrop(t *testing.T) {
	tests := []struct {
		name  string
		fault func(chunking bool) smtptest.Fault
		want  error
	}{
		{"421 to MAIL", func(bool) smtptest.Fault { return smtptest.Fault{At: "MAIL", Reply: "421 4.3.0 crash\r\n"} },
			&SenderRefusedError{respErr(Reply{421, "4.3.0 crash"}), "s@example.com"}},
		{"421 to the second RCPT", func(bool) smtptest.Fault {
			return smtptest.Fault{At: "RCPT", N: 2, Reply: "421 4.3.0 crash\r\n"}
		}, &RecipientsRefusedError{Recipients: map[string]Reply{"r2@example.com": {421, "4.3.0 crash"}}}},
		{"421 to the data command", func(chunking bool) smtptest.Fault {
			if chunking {
				return smtptest.Fault{At: "BDAT", N: 2, Reply: "421 4.3.0 crash\r\n"}
			}
			return smtptest.Fault{At: "DATA", Reply: "421 4.3.0 crash\r\n"}
		}, &DataError{respErr(Reply{421, "4.3.0 crash"})}},
		{"421 after the data", func(bool) smtptest.Fault { return smtptest.Fault{At: "DOT", Reply: "421 4.3.0 crash\r\n"} },
			&DataError{respErr(Reply{421, "4.3.0 crash"})}},
	}
	for _, mode := range robustModes {
		for _, tt := range tests {
			t.Run(mode.name+"/"+tt.name, func(t *testing.T) {
				chunking := strings.Contains(mode.name, "chunking")
				srv := smtptest.NewServer(t, smtptest.WithExtensions(mode.ext...), smtptest.WithFault(tt.fault(chunking)))

				c, step, err := runFaultSession(t, srv, faultBig, WithTimeout(testTimeout))

				assert.Equal(t, failsSendmail, step)
				assert.Equal(t, tt.want, err)
				require.NoError(t, srv.WaitSessions(1, robustWait))
				assert.Empty(t, srv.Messages())
				if tt.name == "421 to the data command" && !chunking {
					// smtplib's data() raises before sendmail's 421 check,
					// so the client stays open; its next call finds the
					// connection gone.
					// That is smtplib's behaviour, which the one-at-a-time
					// dialogue follows.
					_, err := c.Noop()
					var sd *ServerDisconnectedError
					require.ErrorAs(t, err, &sd)
				}
				assertClosed(t, c)
			})
		}
	}
}

// TestFaultStall makes the server hang at each point of a session, in each
// mode, with WithTimeout(2s), long enough that a busy machine gets to the
// stall first, short enough to keep the test short. The property of each row: the call under
// way returns, at the per-operation timeout, a *ServerDisconnectedError
// wrapping os.ErrDeadlineExceeded (also a net.Error whose Timeout is
// true), and the client is closed.
func TestFaultStall(t *testing.T) {
	const timeout = 2 * time.Second
	// Every session stalls for the timeout: they all run at once, rather
	// than as parallel subtests, which go only GOMAXPROCS at a time.
	type row struct {
		name string
		p    int
		srv  *smtptest.Server
		c    *SMTP
		step faultStep
		err  error
		took time.Duration
	}
	var rows []*row
	var wg sync.WaitGroup
	for _, mode := range robustModes {
		for i, p := range faultPoints {
			chunking := strings.Contains(mode.name, "chunking")
			f := p.fault(chunking)
			f.Action = smtptest.Stall
			r := &row{name: mode.name + "/" + p.name, p: i,
				srv: smtptest.NewServer(t, smtptest.WithExtensions(mode.ext...), smtptest.WithFault(f))}
			rows = append(rows, r)
			msg := faultSmall
			if p.big {
				msg = faultBig
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				start := time.Now()
				r.c, r.step, r.err = runFaultSession(t, r.srv, msg, WithTimeout(timeout))
				r.took = time.Since(start)
			}()
		}
	}
	wg.Wait()
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			p := faultPoints[r.p]
			assert.Equal(t, p.step, r.step, "the call that failed")
			var sd *ServerDisconnectedError
			require.ErrorAs(t, r.err, &sd)
			assert.ErrorIs(t, r.err, os.ErrDeadlineExceeded)
			var te interface{ Timeout() bool }
			require.True(t, errors.As(r.err, &te))
			assert.True(t, te.Timeout())
			assert.Less(t, r.took, notStuck, "stopped by the per-operation timeout, not the RFC's minutes")
			assertClosed(t, r.c)
			assert.Len(t, r.srv.Messages(), p.delivered)
		})
	}
}

// TestFaultCauses checks what a dropped connection's error unwraps to:
// io.EOF when the server closed in silence, so that callers can tell it
// from a timeout or a reset.
func TestFaultCauses(t *testing.T) {
	tests := []struct {
		name  string
		fault smtptest.Fault
		cause error
	}{
		{"closed before the greeting", smtptest.Fault{At: "GREETING"}, io.EOF},
		{"closed at MAIL", smtptest.Fault{At: "MAIL"}, io.EOF},
		{"closed before QUIT's reply", smtptest.Fault{At: "QUIT"}, io.EOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, smtptest.WithExtensions("8BITMIME"), smtptest.WithFault(tt.fault))
			_, _, err := runFaultSession(t, srv, faultSmall, WithTimeout(testTimeout))
			assert.ErrorIs(t, err, tt.cause)
			var sd *ServerDisconnectedError
			require.ErrorAs(t, err, &sd)
			assert.Equal(t, "Connection unexpectedly closed", sd.Msg)
			assert.Equal(t, "smtplib: Connection unexpectedly closed", err.Error(), "smtplib's words for end of file")
		})
	}
}
