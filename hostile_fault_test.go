package smtplib

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

// Tests of connections dropped, answered then dropped, or stalled at each
// point of a session: whatever happens, the error is one the package
// documents and the outcome of every recipient is one a caller can trust.

// faultBig is large enough to go in three BDAT chunks and to be still on
// its way when the server breaks off in the middle of the data; the other
// points use the small faultSmall.
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

// runFaultSession dials host and port, sends msg and quits, stopping at
// the first error. It returns the client (nil if Dial failed), the step at
// which the error came, and the error.
func runFaultSession(t *testing.T, host string, port int, msg []byte, opts ...Option) (*SMTP, faultStep, error) {
	t.Helper()
	opts = append([]Option{WithLocalHostname("client.example")}, opts...)
	c, err := Dial(host, port, opts...)
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

// TestFaultDrop makes the server close the connection at each point of a
// session, in each mode. The property of each row: the call that was
// under way returns a *ServerDisconnectedError (an ErrSMTP, not a
// timeout), the client is closed afterwards, the server has taken the
// messages it should have, and (TestMain) no goroutine is left behind.
func TestFaultDrop(t *testing.T) {
	for _, mode := range modes {
		for _, p := range faultPoints {
			t.Run(mode.name+"/"+p.name, func(t *testing.T) {
				chunking := strings.Contains(mode.name, "chunking")
				srv := smtptest.NewServer(t, smtptest.WithExtensions(mode.ext...), smtptest.WithFault(p.fault(chunking)))
				msg := faultSmall
				if p.big {
					msg = faultBig
				}

				c, step, err := runFaultSession(t, srv.Host(), srv.Port(), msg, WithTimeout(testTimeout))

				assert.Equal(t, p.step, step, "the call that failed")
				var sd *ServerDisconnectedError
				require.ErrorAs(t, err, &sd)
				assert.ErrorIs(t, err, ErrSMTP)
				assert.NotErrorIs(t, err, os.ErrDeadlineExceeded, "not a timeout: %v", err)
				assert.NotNil(t, sd.Err, "the cause is kept")
				assertClosed(t, c)
				require.NoError(t, srv.WaitSessions(1, sessionWait))
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
	for _, mode := range modes {
		for _, tt := range tests {
			t.Run(mode.name+"/"+tt.name, func(t *testing.T) {
				chunking := strings.Contains(mode.name, "chunking")
				srv := smtptest.NewServer(t, smtptest.WithExtensions(mode.ext...), smtptest.WithFault(tt.fault(chunking)))

				c, step, err := runFaultSession(t, srv.Host(), srv.Port(), faultBig, WithTimeout(testTimeout))

				assert.Equal(t, failsSendmail, step)
				assert.Equal(t, tt.want, err)
				require.NoError(t, srv.WaitSessions(1, sessionWait))
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
// mode, on the fake clock, with WithTimeout(2s). The property of each row:
// the call under way returns at the per-operation timeout (the steps
// before it take no time) with a *ServerDisconnectedError wrapping
// os.ErrDeadlineExceeded (also a net.Error whose Timeout is true), and
// the client is closed.
func TestFaultStall(t *testing.T) {
	const timeout = 2 * time.Second
	for _, mode := range modes {
		for _, p := range faultPoints {
			t.Run(mode.name+"/"+p.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					f := p.fault(strings.Contains(mode.name, "chunking"))
					f.Action = smtptest.Stall
					h := newRawSMTP(t, mode.ext, f)
					msg := faultSmall
					if p.big {
						msg = faultBig
					}
					start := time.Now()

					c, step, err := runFaultSession(t, "mx.example", 25, msg,
						WithDialer(newRawPipes(t, h.serve)), WithTimeout(timeout))

					// One timeout, on the fake clock: a write cut off by it
					// does not wait for the outstanding replies as well
					// (engine.go writeFailed).
					took := time.Since(start)
					assert.Equal(t, timeout, took, "stopped by the per-operation timeout, once")
					assert.Equal(t, p.step, step, "the call that failed")
					var sd *ServerDisconnectedError
					require.ErrorAs(t, err, &sd)
					assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
					var te interface{ Timeout() bool }
					require.True(t, errors.As(err, &te))
					assert.True(t, te.Timeout())
					assertClosed(t, c)
					assert.Equal(t, p.delivered, h.accepted())
				})
			})
		}
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
			_, _, err := runFaultSession(t, srv.Host(), srv.Port(), faultSmall, WithTimeout(testTimeout))
			assert.ErrorIs(t, err, tt.cause)
			var sd *ServerDisconnectedError
			require.ErrorAs(t, err, &sd)
			assert.Equal(t, "Connection unexpectedly closed", sd.Msg)
			assert.Equal(t, "smtplib: Connection unexpectedly closed", err.Error(), "smtplib's words for end of file")
		})
	}
}

// documentedError reports whether err is one of the errors the package
// documents for what a server can do: a nil error, or an ErrSMTP that
// errors.As finds as one of the exported error types.
func documentedError(err error) bool {
	if err == nil {
		return true
	}
	var (
		sd *ServerDisconnectedError
		re *ResponseError
		rr *RecipientsRefusedError
		ns *NotSupportedError
	)
	return errors.Is(err, ErrSMTP) &&
		(errors.As(err, &sd) || errors.As(err, &re) || errors.As(err, &rr) || errors.As(err, &ns))
}
