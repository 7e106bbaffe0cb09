package smtplib_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib"
	"github.com/gosmtplib/smtplib/smtptest"
)

// Tests of LMTP: LHLO with no HELO fallback, and transactions with their
// per-recipient replies after the data. Reaching the server is tested in
// lmtp_dial_test.go.

// The recipients of the LMTP tests, and the message they get. The message
// has a line starting with a period, so that dot-stuffing is exercised on
// the DATA path.
const (
	lmtpAnn = "ann@example.org"
	lmtpBob = "bob@example.org"
	lmtpCat = "cat@example.org"
	lmtpMsg = "From: sender@example.org\r\nSubject: LMTP test\r\n\r\n.a line with a leading dot\r\nbody\r\n"
)

// lmtpConfig is one way of reaching the fake LMTP server: over TCP or a
// Unix socket, with the client using PIPELINING and CHUNKING or not. The
// server offers both in every case.
type lmtpConfig struct {
	unix, pipelining, chunking bool
}

func (c lmtpConfig) String() string {
	s := "tcp"
	if c.unix {
		s = "unix"
	}
	if c.pipelining {
		s += "/pipelining"
	}
	if c.chunking {
		s += "/chunking"
	}
	return s
}

// lmtpConfigs returns every combination of transport, PIPELINING and
// CHUNKING.
func lmtpConfigs() []lmtpConfig {
	var out []lmtpConfig
	for _, unix := range []bool{false, true} {
		for _, pipelining := range []bool{false, true} {
			for _, chunking := range []bool{false, true} {
				out = append(out, lmtpConfig{unix, pipelining, chunking})
			}
		}
	}
	return out
}

// lmtpSocketPath returns a fresh Unix socket path. It lives in a short
// directory under /tmp rather than t.TempDir(), whose long names can pass
// the 108-byte limit of sun_path.
func lmtpSocketPath(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "lmtp")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "s")
}

// startLMTP starts a fake LMTP server offering PIPELINING and CHUNKING, on
// the transport cfg names, with opts added. It returns the server and the
// host and port to dial.
func startLMTP(t *testing.T, cfg lmtpConfig, opts ...smtptest.Option) (*smtptest.Server, string, int) {
	t.Helper()
	base := []smtptest.Option{smtptest.WithLMTP(), smtptest.WithPipelining(), smtptest.WithChunking()}
	if cfg.unix {
		base = append(base, smtptest.WithUnixSocket(lmtpSocketPath(t)))
	}
	srv := smtptest.NewServer(t, append(base, opts...)...)
	if cfg.unix {
		return srv, srv.Addr, 0
	}
	return srv, srv.Host(), srv.Port()
}

// dialLMTP starts a server as startLMTP does and connects an LMTP client
// to it, using PIPELINING and CHUNKING as cfg says.
func dialLMTP(t *testing.T, cfg lmtpConfig, opts ...smtptest.Option) (*smtptest.Server, *smtplib.LMTP) {
	t.Helper()
	srv, host, port := startLMTP(t, cfg, opts...)
	copts := []smtplib.Option{smtplib.WithLocalHostname("client.example")}
	if !cfg.pipelining {
		copts = append(copts, smtplib.WithoutPipelining())
	}
	if !cfg.chunking {
		copts = append(copts, smtplib.WithoutChunking())
	}
	l, err := smtplib.DialLMTP(host, port, copts...)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	return srv, l
}

// lmtpSender is one of the ways to send a message with an LMTP client.
type lmtpSender struct {
	name string
	send func(l *smtplib.LMTP, from string, to []string, msg []byte) (map[string]smtplib.Reply, error)
}

var lmtpSenders = []lmtpSender{
	{"Sendmail", func(l *smtplib.LMTP, from string, to []string, msg []byte) (map[string]smtplib.Reply, error) {
		return l.Sendmail(from, to, msg)
	}},
	{"SendmailReader", func(l *smtplib.LMTP, from string, to []string, msg []byte) (map[string]smtplib.Reply, error) {
		return l.SendmailReader(from, to, bytes.NewReader(msg))
	}},
	{"SendmailContext", func(l *smtplib.LMTP, from string, to []string, msg []byte) (map[string]smtplib.Reply, error) {
		// io.MultiReader hides the length, so the message streams
		// without SIZE.
		return l.SendmailReaderContext(context.Background(), from, to, io.MultiReader(bytes.NewReader(msg)))
	}},
	{"embedded SMTP", func(l *smtplib.LMTP, from string, to []string, msg []byte) (map[string]smtplib.Reply, error) {
		return l.SMTP.Sendmail(from, to, msg)
	}},
}

// sessionAfter says what state the client must be in after Sendmail.
type sessionAfter int

const (
	sessionOpen   sessionAfter = iota // NOOP still works
	sessionClosed                     // the client was closed
)

func TestLMTPSendmail(t *testing.T) {
	all := []string{lmtpAnn, lmtpBob, lmtpCat}
	tests := []struct {
		name      string
		opts      []smtptest.Option
		to        []string
		refused   map[string]smtplib.Reply // nil: an error is expected
		delivered []string                 // the message's recipients on the server; nil: no message
		wantErr   func(t *testing.T, err error)
		rset      bool // the client must have sent RSET
		after     sessionAfter
	}{{
		name:      "all delivered",
		to:        all,
		refused:   map[string]smtplib.Reply{},
		delivered: all,
	}, {
		name: "one over quota after the data",
		opts: []smtptest.Option{smtptest.WithLMTPReply(lmtpBob, "552 5.2.2 <bob@example.org> Mailbox full")},
		to:   all,
		refused: map[string]smtplib.Reply{
			lmtpBob: {Code: 552, Message: "5.2.2 <bob@example.org> Mailbox full"},
		},
		delivered: []string{lmtpAnn, lmtpCat},
	}, {
		name: "one refused at RCPT and one after the data",
		opts: []smtptest.Option{
			smtptest.WithRefuseRecipient(lmtpAnn, "550 5.1.1 <ann@example.org> User unknown"),
			smtptest.WithLMTPReply(lmtpBob, "452 4.2.2 <bob@example.org> Over quota"),
		},
		to: all,
		refused: map[string]smtplib.Reply{
			lmtpAnn: {Code: 550, Message: "5.1.1 <ann@example.org> User unknown"},
			lmtpBob: {Code: 452, Message: "4.2.2 <bob@example.org> Over quota"},
		},
		delivered: []string{lmtpCat},
	}, {
		name: "all refused after the data",
		opts: []smtptest.Option{
			smtptest.WithLMTPReply(lmtpAnn, "552 5.2.2 <ann@example.org> Mailbox full"),
			smtptest.WithLMTPReply(lmtpBob, "452 4.2.2 <bob@example.org> Over quota"),
			smtptest.WithLMTPReply(lmtpCat, "554 5.6.0 <cat@example.org> Refused"),
		},
		to: all,
		wantErr: func(t *testing.T, err error) {
			var rre *smtplib.RecipientsRefusedError
			require.ErrorAs(t, err, &rre)
			assert.Equal(t, map[string]smtplib.Reply{
				lmtpAnn: {Code: 552, Message: "5.2.2 <ann@example.org> Mailbox full"},
				lmtpBob: {Code: 452, Message: "4.2.2 <bob@example.org> Over quota"},
				lmtpCat: {Code: 554, Message: "5.6.0 <cat@example.org> Refused"},
			}, rre.Recipients)
		},
	}, {
		name: "refused at RCPT, the rest after the data",
		opts: []smtptest.Option{
			smtptest.WithRefuseRecipient(lmtpAnn, "550 5.1.1 <ann@example.org> User unknown"),
			smtptest.WithLMTPReply(lmtpBob, "552 5.2.2 <bob@example.org> Mailbox full"),
			smtptest.WithLMTPReply(lmtpCat, "552 5.2.2 <cat@example.org> Mailbox full"),
		},
		to: all,
		wantErr: func(t *testing.T, err error) {
			var rre *smtplib.RecipientsRefusedError
			require.ErrorAs(t, err, &rre)
			assert.Equal(t, map[string]smtplib.Reply{
				lmtpAnn: {Code: 550, Message: "5.1.1 <ann@example.org> User unknown"},
				lmtpBob: {Code: 552, Message: "5.2.2 <bob@example.org> Mailbox full"},
				lmtpCat: {Code: 552, Message: "5.2.2 <cat@example.org> Mailbox full"},
			}, rre.Recipients)
		},
	}, {
		name: "all refused at RCPT",
		opts: []smtptest.Option{
			smtptest.WithRefuseRecipient(lmtpAnn, "550 5.1.1 <ann@example.org> User unknown"),
			smtptest.WithRefuseRecipient(lmtpBob, "450 4.2.1 <bob@example.org> Try later"),
		},
		to: []string{lmtpAnn, lmtpBob},
		wantErr: func(t *testing.T, err error) {
			var rre *smtplib.RecipientsRefusedError
			require.ErrorAs(t, err, &rre)
			assert.Equal(t, map[string]smtplib.Reply{
				lmtpAnn: {Code: 550, Message: "5.1.1 <ann@example.org> User unknown"},
				lmtpBob: {Code: 450, Message: "4.2.1 <bob@example.org> Try later"},
			}, rre.Recipients)
		},
		rset: true,
	}, {
		name: "421 among the replies after the data",
		opts: []smtptest.Option{smtptest.WithLMTPReply(lmtpBob, "421 4.3.2 Shutting down")},
		to:   all,
		refused: map[string]smtplib.Reply{
			lmtpBob: {Code: 421, Message: "4.3.2 Shutting down"},
		},
		delivered: []string{lmtpAnn, lmtpCat},
		after:     sessionClosed,
	}, {
		name: "replies cut short after the first",
		opts: []smtptest.Option{smtptest.WithFault(smtptest.Fault{
			At: "DOT", Action: smtptest.Drop, Reply: "250 2.0.0 <ann@example.org> delivered\r\n",
		})},
		to: all,
		wantErr: func(t *testing.T, err error) {
			var de *smtplib.LMTPDeliveryError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, map[string]smtplib.Reply{
				lmtpAnn: {Code: 250, Message: "2.0.0 <ann@example.org> delivered"},
			}, de.Replies)
			assert.Equal(t, []string{lmtpBob, lmtpCat}, de.Pending)
			var sde *smtplib.ServerDisconnectedError
			assert.ErrorAs(t, err, &sde)
			assert.ErrorIs(t, err, smtplib.ErrDeliveryUnknown, "the pending recipients' delivery is unknown")
		},
		after: sessionClosed,
	}, {
		name: "no reply after the data",
		opts: []smtptest.Option{
			smtptest.WithRefuseRecipient(lmtpAnn, "550 5.1.1 <ann@example.org> User unknown"),
			smtptest.WithFault(smtptest.Fault{At: "DOT", Action: smtptest.Drop}),
		},
		to: all,
		wantErr: func(t *testing.T, err error) {
			var de *smtplib.LMTPDeliveryError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, map[string]smtplib.Reply{
				lmtpAnn: {Code: 550, Message: "5.1.1 <ann@example.org> User unknown"},
			}, de.Replies)
			assert.Equal(t, []string{lmtpBob, lmtpCat}, de.Pending)
			var sde *smtplib.ServerDisconnectedError
			assert.ErrorAs(t, err, &sde)
			assert.ErrorIs(t, err, smtplib.ErrDeliveryUnknown, "the pending recipients' delivery is unknown")
		},
		after: sessionClosed,
	}}
	for _, cfg := range lmtpConfigs() {
		for _, sender := range lmtpSenders {
			for _, tt := range tests {
				t.Run(fmt.Sprintf("%v/%s/%s", cfg, sender.name, tt.name), func(t *testing.T) {
					srv, l := dialLMTP(t, cfg, tt.opts...)

					refused, err := sender.send(l, "sender@example.org", tt.to, []byte(lmtpMsg))

					if tt.wantErr != nil {
						require.Error(t, err)
						assert.Nil(t, refused)
						assert.ErrorIs(t, err, smtplib.ErrSMTP)
						tt.wantErr(t, err)
					} else {
						require.NoError(t, err)
						assert.Equal(t, tt.refused, refused)
					}
					msgs := srv.Messages()
					if tt.delivered == nil {
						assert.Empty(t, msgs)
					} else if assert.Len(t, msgs, 1) {
						assert.Equal(t, tt.delivered, msgs[0].To)
						assert.Equal(t, lmtpMsg, string(msgs[0].Data))
						assert.Equal(t, cfg.chunking, msgs[0].Chunked, "BDAT used")
					}
					switch r, err := l.Noop(); tt.after {
					case sessionOpen:
						require.NoError(t, err)
						assert.Equal(t, 250, r.Code)
					case sessionClosed:
						var sde *smtplib.ServerDisconnectedError
						assert.ErrorAs(t, err, &sde)
					}
					tr := strings.ToLower(srv.Transcript())
					assert.Contains(t, tr, "c: lhlo client.example\n")
					assert.NotContains(t, tr, "c: helo")
					assert.Equal(t, tt.rset, strings.Contains(tr, "c: rset"), "RSET sent")
				})
			}
		}
	}
}

// TestLMTPNextTransaction checks that the session goes on after a
// transaction in which everyone was refused after the data, with no RSET:
// RFC 2033 ends the transaction with the replies.
func TestLMTPNextTransaction(t *testing.T) {
	for _, cfg := range lmtpConfigs() {
		t.Run(cfg.String(), func(t *testing.T) {
			srv, l := dialLMTP(t, cfg, smtptest.WithLMTPReply(lmtpBob, "552 5.2.2 Mailbox full"))

			_, err := l.Sendmail("sender@example.org", []string{lmtpBob}, []byte(lmtpMsg))
			var rre *smtplib.RecipientsRefusedError
			require.ErrorAs(t, err, &rre)
			refused, err := l.Sendmail("sender@example.org", []string{lmtpAnn, lmtpBob}, []byte(lmtpMsg))
			require.NoError(t, err)

			assert.Equal(t, map[string]smtplib.Reply{lmtpBob: {Code: 552, Message: "5.2.2 Mailbox full"}}, refused)
			msgs := srv.Messages()
			require.Len(t, msgs, 1)
			assert.Equal(t, []string{lmtpAnn}, msgs[0].To)
			assert.NotContains(t, strings.ToLower(srv.Transcript()), "c: rset")
			assert.Equal(t, 2, strings.Count(strings.ToLower(srv.Transcript()), "c: mail from:"))
		})
	}
}

// TestLMTPSendmailContextCancel ends the context while the client waits for
// the second of three replies after the data. The debug output tells the
// test when the first reply has been read, so no timing is involved.
func TestLMTPSendmailContextCancel(t *testing.T) {
	for _, cfg := range lmtpConfigs() {
		t.Run(cfg.String(), func(t *testing.T) {
			_, host, port := startLMTP(t, cfg, smtptest.WithFault(smtptest.Fault{
				At: "DOT", Action: smtptest.Stall, Reply: "250 2.0.0 <ann@example.org> delivered\r\n",
			}))
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			w := &cancelOnWrite{match: "data: (250", cancel: cancel}
			opts := []smtplib.Option{smtplib.WithDebugOutput(w)}
			if !cfg.pipelining {
				opts = append(opts, smtplib.WithoutPipelining())
			}
			if !cfg.chunking {
				opts = append(opts, smtplib.WithoutChunking())
			}
			l, err := smtplib.DialLMTP(host, port, opts...)
			require.NoError(t, err)
			defer l.Close()
			l.SetDebugLevel(1)

			refused, err := l.SendmailReaderContext(ctx, "sender@example.org", []string{lmtpAnn, lmtpBob, lmtpCat},
				strings.NewReader(lmtpMsg))

			assert.Nil(t, refused)
			var de *smtplib.LMTPDeliveryError
			require.ErrorAs(t, err, &de)
			assert.ErrorIs(t, err, context.Canceled)
			assert.ErrorIs(t, err, smtplib.ErrSMTP)
			assert.Equal(t, map[string]smtplib.Reply{lmtpAnn: {Code: 250, Message: "2.0.0 <ann@example.org> delivered"}}, de.Replies)
			assert.Equal(t, []string{lmtpBob, lmtpCat}, de.Pending)
		})
	}
}

// cancelOnWrite is a debug output that calls cancel once a line containing
// match is written.
type cancelOnWrite struct {
	match  string
	cancel context.CancelFunc
	once   sync.Once
}

func (w *cancelOnWrite) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(w.match)) {
		w.once.Do(w.cancel)
	}
	return len(p), nil
}

func TestLMTPDataReplies(t *testing.T) {
	tests := []struct {
		name     string
		opts     []smtptest.Option
		rcpts    []string
		accepted int
		want     []smtplib.Reply
		wantErr  func(t *testing.T, err error)
	}{{
		name:     "every reply in RCPT order",
		opts:     []smtptest.Option{smtptest.WithLMTPReply(lmtpBob, "552 5.2.2 Mailbox full")},
		rcpts:    []string{lmtpAnn, lmtpBob, lmtpCat},
		accepted: 3,
		want: []smtplib.Reply{
			{Code: 250, Message: "2.0.0 <ann@example.org> delivered"},
			{Code: 552, Message: "5.2.2 Mailbox full"},
			{Code: 250, Message: "2.0.0 <cat@example.org> delivered"},
		},
	}, {
		name:     "one per accepted recipient",
		opts:     []smtptest.Option{smtptest.WithRefuseRecipient(lmtpAnn, "550 5.1.1 User unknown")},
		rcpts:    []string{lmtpAnn, lmtpBob},
		accepted: 1,
		want:     []smtplib.Reply{{Code: 250, Message: "2.0.0 <bob@example.org> delivered"}},
	}, {
		name:     "DATA refused",
		opts:     []smtptest.Option{smtptest.WithReply("DATA", "554 5.5.1 No valid recipients")},
		rcpts:    []string{lmtpAnn},
		accepted: 1,
		wantErr: func(t *testing.T, err error) {
			var de *smtplib.DataError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, 554, de.Code)
		},
	}, {
		name: "cut short",
		opts: []smtptest.Option{smtptest.WithFault(smtptest.Fault{
			At: "DOT", Action: smtptest.Drop, Reply: "250 2.0.0 first\r\n",
		})},
		rcpts:    []string{lmtpAnn, lmtpBob},
		accepted: 2,
		want:     []smtplib.Reply{{Code: 250, Message: "2.0.0 first"}},
		wantErr: func(t *testing.T, err error) {
			var sde *smtplib.ServerDisconnectedError
			assert.ErrorAs(t, err, &sde)
		},
	}, {
		name:     "no accepted recipient",
		rcpts:    []string{lmtpAnn},
		accepted: 0,
		wantErr: func(t *testing.T, err error) {
			var ce *smtplib.CommandError
			assert.ErrorAs(t, err, &ce)
			assert.NotErrorIs(t, err, smtplib.ErrSMTP)
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, l := dialLMTP(t, lmtpConfig{unix: true}, tt.opts...)
			r, err := l.Ehlo("")
			require.NoError(t, err)
			require.Equal(t, 250, r.Code)
			r, err = l.Mail("sender@example.org")
			require.NoError(t, err)
			require.Equal(t, 250, r.Code)
			for _, rcpt := range tt.rcpts {
				_, err := l.Rcpt(rcpt)
				require.NoError(t, err)
			}

			replies, err := l.DataReplies([]byte(lmtpMsg), tt.accepted)

			assert.Equal(t, tt.want, replies)
			if tt.wantErr != nil {
				require.Error(t, err)
				tt.wantErr(t, err)
				return
			}
			require.NoError(t, err)
			// Every reply was read: the next command gets its own.
			r, err = l.Noop()
			require.NoError(t, err)
			assert.Equal(t, smtplib.Reply{Code: 250, Message: "2.0.0 Ok"}, r)
			assert.Contains(t, srv.Transcript(), "C: <data ")
		})
	}
}

// TestLMTPPipeliningRoundTrips checks that the LMTP transaction is
// pipelined when the server allows it: fewer round trips than with
// PIPELINING turned off, for the same result.
func TestLMTPPipeliningRoundTrips(t *testing.T) {
	trips := map[bool]int{}
	for _, pipelining := range []bool{false, true} {
		srv, l := dialLMTP(t, lmtpConfig{pipelining: pipelining},
			smtptest.WithLMTPReply(lmtpBob, "552 5.2.2 Mailbox full"))
		refused, err := l.Sendmail("sender@example.org", []string{lmtpAnn, lmtpBob, lmtpCat}, []byte(lmtpMsg))
		require.NoError(t, err)
		assert.Equal(t, map[string]smtplib.Reply{lmtpBob: {Code: 552, Message: "5.2.2 Mailbox full"}}, refused)
		_, err = l.Quit()
		require.NoError(t, err)
		require.NoError(t, srv.WaitSessions(1, timeoutForSessions))
		trips[pipelining] = srv.Sessions()[0].RoundTrips
	}
	assert.Less(t, trips[true], trips[false])
}

// timeoutForSessions bounds the wait for the server to see a session end;
// it is a safety net for a broken test, not a synchronisation.
const timeoutForSessions = 10 * time.Second

func TestLMTPDeliveryError(t *testing.T) {
	cause := &smtplib.ServerDisconnectedError{Msg: "Connection unexpectedly closed", Err: io.EOF}
	err := error(&smtplib.LMTPDeliveryError{
		Replies: map[string]smtplib.Reply{lmtpAnn: {Code: 250, Message: "2.0.0 Ok"}},
		Pending: []string{lmtpBob, lmtpCat},
		Err:     cause,
	})

	assert.Equal(t, "smtplib: LMTP delivery to bob@example.org, cat@example.org unknown (1 of 3 replies read): Connection unexpectedly closed", err.Error())
	assert.ErrorIs(t, err, smtplib.ErrSMTP)
	assert.ErrorIs(t, err, io.EOF)
	var sde *smtplib.ServerDisconnectedError
	require.ErrorAs(t, err, &sde)
	assert.Same(t, cause, sde)
}

func TestLMTPEhlo(t *testing.T) {
	for _, cfg := range []lmtpConfig{{unix: false}, {unix: true}} {
		t.Run(cfg.String(), func(t *testing.T) {
			srv, l := dialLMTP(t, cfg)

			r, err := l.Ehlo("lmtp-client.example")

			require.NoError(t, err)
			assert.Equal(t, 250, r.Code)
			assert.True(t, l.DoesESMTP)
			assert.True(t, l.HasExtn("pipelining"))
			assert.True(t, l.HasExtn("chunking"))
			assert.Equal(t, r.Message, l.EhloResp)
			assert.Contains(t, srv.Transcript(), "C: lhlo lmtp-client.example\n")
		})
	}
}

// TestLMTPNoHeloFallback checks that a refused LHLO is final: LMTP has no
// HELO (RFC 2033 section 4.1), so nothing else is tried.
func TestLMTPNoHeloFallback(t *testing.T) {
	tests := []struct {
		name string
		call func(l *smtplib.LMTP) error
	}{
		{"EhloOrHeloIfNeeded", func(l *smtplib.LMTP) error { return l.EhloOrHeloIfNeeded() }},
		{"Sendmail", func(l *smtplib.LMTP) error {
			_, err := l.Sendmail("sender@example.org", []string{lmtpAnn}, []byte(lmtpMsg))
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, l := dialLMTP(t, lmtpConfig{}, smtptest.WithReply("LHLO", "500 5.5.2 LHLO refused"))

			err := tt.call(l)

			var he *smtplib.HeloError
			require.ErrorAs(t, err, &he)
			assert.Equal(t, smtplib.Reply{Code: 500, Message: "5.5.2 LHLO refused"}, he.Reply())
			assert.ErrorIs(t, err, smtplib.ErrSMTP)
			tr := strings.ToLower(srv.Transcript())
			assert.Equal(t, 1, strings.Count(tr, "c: lhlo"))
			assert.NotContains(t, tr, "c: helo")
			assert.NotContains(t, tr, "c: ehlo")
			assert.NotContains(t, tr, "c: mail")
		})
	}
}
