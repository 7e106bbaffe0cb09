package smtplib

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/email"
	"github.com/gosmtplib/smtplib/internal/rawsrv"
	"github.com/gosmtplib/smtplib/smtptest"
)

// flightServer is a small SMTP server on the suite's raw-connection server,
// for what smtptest will not do on purpose: close a connection between
// two mails, or answer a command twice. Like Postfix, it gathers its
// replies while more commands wait to be read and writes them when it
// would block for input (RFC 2920 section 3.1 lets a server do so), so a
// client's pipelined flight gets its replies in one write.
type flightServer struct {
	*rawsrv.Server
	ext []string
	// replies, when set, may replace the replies to the n-th use (from
	// 1, over every session) of verb: MAIL, RCPT, DATA, BDAT (a chunk
	// that is not the last), DOT (the end of DATA's data or BDAT LAST).
	replies func(verb string, n int) []string
	// afterMail, when set, runs once the final reply to a session's i-th
	// mail (from 1) has been written; false ends the session there.
	afterMail func(conn net.Conn, session, i int) bool

	mu       sync.Mutex
	uses     map[string]int
	sessions int
	from     []string // MAIL FROM of each mail whose data was received, in order
}

// newFlightServer starts a flightServer offering ext after EHLO.
func newFlightServer(t *testing.T, ext []string, configure func(ws *flightServer)) *flightServer {
	t.Helper()
	ws := &flightServer{ext: ext, uses: map[string]int{}}
	if configure != nil {
		configure(ws)
	}
	ws.Server = newRawServer(t, ws.serve)
	return ws
}

// answer returns the replies to verb: the script's, or def.
func (ws *flightServer) answer(verb string, def ...string) []string {
	ws.mu.Lock()
	ws.uses[verb]++
	n := ws.uses[verb]
	ws.mu.Unlock()
	if ws.replies != nil {
		if r := ws.replies(verb, n); r != nil {
			return r
		}
	}
	return def
}

// received lists the senders of the mails whose data arrived.
func (ws *flightServer) received() []string {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return append([]string(nil), ws.from...)
}

func (ws *flightServer) serve(conn net.Conn) {
	ws.mu.Lock()
	ws.sessions++
	session := ws.sessions
	ws.mu.Unlock()
	r := bufio.NewReader(conn)
	var out bytes.Buffer
	say := func(lines []string) {
		for _, l := range lines {
			out.WriteString(l + "\r\n")
		}
	}
	flush := func() bool {
		_, err := conn.Write(out.Bytes())
		out.Reset()
		return err == nil
	}
	say([]string{"220 wire.example ESMTP"})
	mails, from := 0, ""
	ended := func() bool { // a mail's data is in: its final reply goes
		mails++
		ws.mu.Lock()
		ws.from = append(ws.from, from)
		ws.mu.Unlock()
		say(ws.answer("DOT", "250 2.0.0 Ok: queued as WIRE"+strconv.Itoa(mails)))
		if ws.afterMail == nil {
			return true
		}
		return flush() && ws.afterMail(conn, session, mails)
	}
	for {
		if r.Buffered() == 0 && out.Len() > 0 && !flush() {
			return
		}
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.TrimRight(line, "\r\n")
		verb, args, _ := strings.Cut(cmd, " ")
		switch verb = strings.ToUpper(verb); verb {
		case "EHLO":
			lines := []string{"250-wire.example"}
			for _, e := range ws.ext {
				lines = append(lines, "250-"+e)
			}
			lines[len(lines)-1] = "250 " + lines[len(lines)-1][4:]
			say(lines)
		case "MAIL":
			from = strings.Trim(strings.Fields(args[len("FROM:"):])[0], "<>")
			say(ws.answer("MAIL", "250 2.1.0 sender ok"))
		case "RCPT":
			say(ws.answer("RCPT", "250 2.1.5 recipient ok"))
		case "DATA":
			say(ws.answer("DATA", "354 end with <CRLF>.<CRLF>"))
			if !flush() {
				return
			}
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
			}
			if !ended() {
				return
			}
		case "BDAT":
			f := strings.Fields(args)
			n, _ := strconv.Atoi(f[0])
			if _, err := io.CopyN(io.Discard, r, int64(n)); err != nil {
				return
			}
			if len(f) < 2 {
				say(ws.answer("BDAT", "250 2.0.0 chunk ok"))
				continue
			}
			if !ended() {
				return
			}
		case "QUIT":
			say([]string{"221 2.0.0 bye"})
			flush()
			return
		default:
			say([]string{"250 2.0.0 ok"})
		}
	}
}

// probeAlways makes the client look at the socket before every command
// written with no reply outstanding, as it does after idleProbeAfter: a
// test's connection is never quiet for long.
func probeAlways() Option { return func(c *config) { c.probeAfter = -1 } }

// idleClose makes a flightServer end its first session once the first mail
// is answered, when close is closed: with "421 4.4.2 ..." first, if
// with421, else silently, as a server that restarts. closed is closed
// once the connection is.
func idleClose(with421 bool) (configure func(*flightServer), close, closed chan struct{}) {
	close, closed = make(chan struct{}), make(chan struct{})
	configure = func(ws *flightServer) {
		ws.afterMail = func(conn net.Conn, session, i int) bool {
			if session > 1 {
				return true
			}
			<-close
			if with421 {
				conn.Write([]byte("421 4.4.2 wire.example Error: timeout exceeded\r\n"))
			}
			conn.Close()
			closeOnce(closed)
			return false
		}
	}
	return configure, close, closed
}

func closeOnce(ch chan struct{}) {
	select {
	case <-ch:
	default:
		close(ch)
	}
}

// idleWays are the two ways a server closes an idle connection.
var idleWays = []struct {
	name    string
	with421 bool
}{{"silently", false}, {"after 421", true}}

// assertClosedIdle checks err, the failure of a send on a connection the
// server had closed while it sat idle: not sent, never a delivery
// unknown nor a refusal, with the server's 421 when it gave one.
func assertClosedIdle(t *testing.T, err error, with421 bool) {
	t.Helper()
	require.Error(t, err)
	var sd *ServerDisconnectedError
	assert.ErrorAs(t, err, &sd)
	assert.ErrorIs(t, err, ErrNotSent)
	assert.NotErrorIs(t, err, ErrDeliveryUnknown)
	var refused *SenderRefusedError
	assert.False(t, errors.As(err, &refused), "not a refusal of the sender: %v", err)
	var re *ResponseError
	if with421 {
		require.ErrorAs(t, err, &re, "the server's 421 is the cause: %v", err)
		assert.Equal(t, 421, re.Code)
		assert.Equal(t, "4.4.2 wire.example Error: timeout exceeded", re.Message)
		assert.True(t, re.Temporary())
	} else {
		assert.False(t, errors.As(err, &re), "no reply: %v", err)
		assert.Contains(t, err.Error(), "closed the connection while it was idle")
	}
}

// TestEngineIdleConnectionClosed has the server close a connection that
// sat idle after a first mail, silently or after a 421, in every mode: the
// next Sendmail and SendBatch find it closed before writing a byte, and
// report the mails not sent, never unknown (under CHUNKING they used to
// go out whole into the closed connection and come back "delivery
// unknown").
func TestEngineIdleConnectionClosed(t *testing.T) {
	msg := []byte("Subject: x\r\n\r\nbody\r\n")
	calls := []struct {
		name string
		send func(c *SMTP) []error
	}{
		{"Sendmail", func(c *SMTP) []error {
			_, err := c.Sendmail("second@example.com", []string{"r@example.com"}, msg)
			return []error{err}
		}},
		{"SendBatch", func(c *SMTP) []error {
			results, err := c.SendBatch(context.Background(), batchOf(3))
			errs := []error{err}
			for _, r := range results {
				errs = append(errs, r.Err)
			}
			return errs
		}},
	}
	// Without and with a dialer that counts the bytes written (which
	// gives the client its socket, for the look at an idle connection).
	for _, wrapped := range []bool{false, true} {
		for _, mode := range modes {
			for _, way := range idleWays {
				for _, call := range calls {
					name := fmt.Sprintf("%s/%s/%s/wrapped=%v", mode.name, way.name, call.name, wrapped)
					t.Run(name, func(t *testing.T) {
						configure, closeNow, closed := idleClose(way.with421)
						ws := newFlightServer(t, mode.ext, configure)
						d := &countingDialer{}
						opts := []Option{probeAlways()}
						if wrapped {
							opts = append(opts, WithDialer(d))
						}
						c := dialRaw(t, ws.Server, opts...)
						_, err := c.Sendmail("first@example.com", []string{"r@example.com"}, msg)
						require.NoError(t, err)
						close(closeNow)
						<-closed
						written := d.written.Load()

						for _, err := range call.send(c) {
							assertClosedIdle(t, err, way.with421)
						}
						assert.Equal(t, written, d.written.Load(), "nothing was written into the closed connection")
						assert.Nil(t, c.getConn(), "the client is closed")
						assert.Equal(t, []string{"first@example.com"}, ws.received())
					})
				}
			}
		}
	}
}

// strayScript has the server answer the first MAIL twice and refuse the
// data of the mail numbered refuse with 554: every reply after the first
// MAIL's then belongs to the command before the one it is read for.
func strayScript(refuse int) func(*flightServer) {
	return func(ws *flightServer) {
		ws.replies = func(verb string, n int) []string {
			switch {
			case verb == "MAIL" && n == 1:
				return []string{"250 2.1.0 sender ok", "250 2.1.0 sender ok"}
			case verb == "DOT" && n == refuse:
				return []string{"554 5.7.1 message refused"}
			}
			return nil
		}
	}
}

// assertOutOfStep checks the error of a mail whose replies may have been
// shifted by a stray one: never delivered nor refused, out of step (and
// not sent), or unknown once its end of data had left.
func assertOutOfStep(t *testing.T, i int, r Result) {
	t.Helper()
	require.Error(t, r.Err, "mail %d is not reported delivered", i)
	assert.ErrorIs(t, r.Err, ErrOutOfStep, "mail %d", i)
	assert.True(t, errors.Is(r.Err, ErrNotSent) != errors.Is(r.Err, ErrDeliveryUnknown),
		"mail %d is either not sent or unknown: %v", i, r.Err)
	var re *ResponseError
	assert.False(t, errors.As(r.Err, &re), "mail %d: no reply is taken as its answer: %v", i, r.Err)
	assert.Nil(t, r.Refused)
	assert.Zero(t, r.Reply, "mail %d has no final reply", i)
}

// TestEngineStrayReply has the server answer a MAIL twice, then refuse a
// message, in every mode: in a batch of five and in one Sendmail, no
// mail is reported delivered or refused on a reply that may belong to
// another command, and the session ends out of step. (With CHUNKING, all
// five used to be reported delivered, the replies matched to the wrong
// commands.)
func TestEngineStrayReply(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name+"/SendBatch", func(t *testing.T) {
			ws := newFlightServer(t, mode.ext, strayScript(3))
			c := dialRaw(t, ws.Server)
			results, err := c.SendBatch(context.Background(), batchOf(5))
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrOutOfStep)
			require.Len(t, results, 5)
			for i, r := range results {
				assertOutOfStep(t, i, r)
			}
			assert.Nil(t, c.getConn(), "the client is closed")
		})
		t.Run(mode.name+"/Sendmail", func(t *testing.T) {
			ws := newFlightServer(t, mode.ext, strayScript(1))
			c := dialRaw(t, ws.Server)
			var final Reply
			refused, err := c.Sendmail("s@example.com", []string{"r@example.com"},
				[]byte("Subject: x\r\n\r\nbody\r\n"), FinalReply(&final))
			assertOutOfStep(t, 0, Result{Refused: refused, Reply: final, Err: err})
			assert.Nil(t, c.getConn(), "the client is closed")
		})
	}
}

// TestEngineStrayAfterLastReply has the server send one reply too many
// after the final reply to the data: the Sendmail that read it cannot
// tell whether its final reply was its own, so its delivery is unknown
// and the session out of step, and the next command is never written.
func TestEngineStrayAfterLastReply(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			ws := newFlightServer(t, mode.ext, func(ws *flightServer) {
				ws.replies = func(verb string, n int) []string {
					if verb == "DOT" {
						return []string{"250 2.0.0 queued", "250 2.0.0 stray"}
					}
					return nil
				}
			})
			c := dialRaw(t, ws.Server)
			_, err := c.Sendmail("s@example.com", []string{"r@example.com"}, []byte("Subject: x\r\n\r\nbody\r\n"))
			assert.ErrorIs(t, err, ErrOutOfStep)
			assert.ErrorIs(t, err, ErrDeliveryUnknown)
			assert.Contains(t, err.Error(), `b'250 2.0.0 stray\r\n'`, "the error shows what arrived")
			_, err = c.Noop()
			assert.ErrorIs(t, err, errConnClosed, "nothing more is written")
		})
	}
}

// TestEngineStrayKeepsEarlierResults has a batch without PIPELINING whose
// third mail's MAIL is answered twice: the mails answered before, while
// the session was known in step, keep their results, and only the third
// and those after it fail.
func TestEngineStrayKeepsEarlierResults(t *testing.T) {
	ws := newFlightServer(t, []string{"8BITMIME"}, func(ws *flightServer) {
		ws.replies = func(verb string, n int) []string {
			if verb == "MAIL" && n == 3 {
				return []string{"250 2.1.0 ok", "250 2.1.0 ok"}
			}
			return nil
		}
	})
	c := dialRaw(t, ws.Server)
	results, err := c.SendBatch(context.Background(), batchOf(5))
	assert.ErrorIs(t, err, ErrOutOfStep)
	require.Len(t, results, 5)
	for i, r := range results[:2] {
		assert.NoError(t, r.Err, "mail %d", i)
		assert.Equal(t, fmt.Sprintf("2.0.0 Ok: queued as WIRE%d", i+1), r.Reply.Message)
	}
	for i, r := range results[2:] {
		assertOutOfStep(t, i+2, r)
		assert.ErrorIs(t, r.Err, ErrNotSent, "mail %d never got to its data", i+2)
	}
	assert.Equal(t, []string{"m0@example.com", "m1@example.com"}, ws.received())
}

// outcomeOf is a send's outcome, for comparing paths: the error's type
// and code, and the refused recipients with theirs.
func outcomeOf(refused map[string]Reply, err error) string {
	var b strings.Builder
	if err != nil {
		fmt.Fprintf(&b, "%T", err)
		var re *ResponseError
		if errors.As(err, &re) {
			fmt.Fprintf(&b, " %d", re.Code)
		}
	} else {
		b.WriteString("sent")
	}
	keys := make([]string, 0, len(refused))
	for k := range refused {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%d", k, refused[k].Code)
	}
	return b.String()
}

// TestSameOutcomeEveryPath sends the same mails through Sendmail,
// SendMessage, SendBatch and a Pool, in each server mode, and expects the
// same outcomes and the same commands on the wire: one envelope path. A
// non-ASCII sender without SMTPUTF8 is refused before anything is written
// on every path, even right after an SMTPUTF8 mail on the same session
// (Sendmail used to send it, its encoding left "utf-8" by the mail
// before).
func TestSameOutcomeEveryPath(t *testing.T) {
	msg := []byte("Subject: same\r\n\r\nbody\r\n")
	rows := []struct {
		name    string
		m       Mail
		want    string
		message bool // SendMessage takes it as it is (a non-ASCII sender gets SMTPUTF8 there)
	}{
		{"ASCII", Mail{From: "a@example.com", To: []string{"b@example.org"}}, "sent", true},
		{"SMTPUTF8", Mail{From: "ä@example.com", To: []string{"b@example.org"}, Options: []SendOption{MailOptions("SMTPUTF8")}}, "sent", true},
		{"non-ASCII without SMTPUTF8", Mail{From: "ö@example.com", To: []string{"b@example.org"}}, "*smtplib.CommandError", false},
		{"a recipient refused", Mail{From: "a@example.com", To: []string{"b@example.org", "gone@example.org"}}, "sent gone@example.org=550", true},
		{"sender refused", Mail{From: "refused@example.com", To: []string{"b@example.org"}}, "*smtplib.SenderRefusedError 550", true},
		{"every recipient refused", Mail{From: "a@example.com", To: []string{"gone@example.org"}}, "*smtplib.RecipientsRefusedError", true},
		{"DSN", Mail{From: "a@example.com", To: []string{"b@example.org"}, Options: []SendOption{Notify(NotifySuccess, NotifyFailure), EnvID("order-1")}}, "sent", true},
	}
	paths := []struct {
		name string
		send func(t *testing.T, srv *smtptest.Server, mails []Mail) []string
	}{
		{"Sendmail", func(t *testing.T, srv *smtptest.Server, mails []Mail) []string {
			c := dialTest(t, srv)
			var out []string
			for _, m := range mails {
				out = append(out, outcomeOf(c.Sendmail(m.From, m.To, m.Data, m.Options...)))
			}
			return out
		}},
		{"SendMessage", func(t *testing.T, srv *smtptest.Server, mails []Mail) []string {
			c := dialTest(t, srv)
			var out []string
			for _, m := range mails {
				em, err := email.ReadMessage(bytes.NewReader(m.Data))
				require.NoError(t, err)
				opts := append([]SendOption{FromAddr(m.From), ToAddrs(m.To...)}, m.Options...)
				out = append(out, outcomeOf(c.SendMessage(em, opts...)))
			}
			return out
		}},
		{"SendBatch", func(t *testing.T, srv *smtptest.Server, mails []Mail) []string {
			c := dialTest(t, srv)
			results, err := c.SendBatch(context.Background(), mails)
			require.NoError(t, err)
			var out []string
			for _, r := range results {
				out = append(out, outcomeOf(r.Refused, r.Err))
			}
			return out
		}},
		{"Pool", func(t *testing.T, srv *smtptest.Server, mails []Mail) []string {
			p := NewPool(func(ctx context.Context) (*SMTP, error) {
				return DialContext(ctx, srv.Host(), srv.Port(), WithLocalHostname("client.example"), WithTimeout(testTimeout))
			}, WithPoolSize(1))
			defer closePool(t, p)
			var out []string
			for _, m := range mails {
				r := p.Send(context.Background(), m)
				out = append(out, outcomeOf(r.Refused, r.Err))
			}
			return out
		}},
	}
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			var wires []string
			for _, path := range paths {
				var mails []Mail
				var want []string
				for _, row := range rows {
					if path.name == "SendMessage" && !row.message {
						continue
					}
					m := row.m
					m.Data = msg
					mails = append(mails, m)
					want = append(want, row.want)
				}
				srv := smtptest.NewServer(t, smtptest.WithExtensions(append(slices.Clone(mode.ext), "SMTPUTF8", "DSN")...),
					smtptest.WithRefuseSender("refused@example.com", "550 5.7.1 not you"),
					smtptest.WithRefuseRecipient("gone@example.org", "550 5.1.1 no such user"))
				assert.Equal(t, want, path.send(t, srv, mails), path.name)
				srv.Close()
				var wire strings.Builder
				for _, m := range srv.Messages() {
					fmt.Fprintf(&wire, "%s %v %v %v\n", m.From, m.MailOptions, m.To, m.RcptOptions)
				}
				if path.name != "SendMessage" {
					wires = append(wires, wire.String())
				}
			}
			for i := 1; i < len(wires); i++ {
				assert.Equal(t, wires[0], wires[i], "the same envelopes reach the server on every path")
			}
		})
	}
}
