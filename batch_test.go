package smtplib

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/email"
	"github.com/gosmtplib/smtplib/smtptest"
)

// batchOf returns n mails, mail i from m<i>@example.com to r<i>@example.com.
func batchOf(n int) []Mail {
	mails := make([]Mail, n)
	for i := range mails {
		mails[i] = Mail{
			From: fmt.Sprintf("m%d@example.com", i),
			To:   []string{fmt.Sprintf("r%d@example.com", i)},
			Data: []byte(fmt.Sprintf("Subject: mail %d\r\n\r\n.body of mail %d\n", i, i)),
		}
	}
	return mails
}

// deliveredFrom lists the senders of the messages the server kept.
func deliveredFrom(srv *smtptest.Server) []string {
	var from []string
	for _, m := range srv.Messages() {
		from = append(from, m.From)
	}
	return from
}

// TestSendBatchRefusedMidBatch refuses the middle mail of three at each
// position of its transaction, in every mode: the refusal is that mail's
// result, as Sendmail would report it, and the mails around it arrive.
func TestSendBatchRefusedMidBatch(t *testing.T) {
	tests := []struct {
		name    string
		opts    []smtptest.Option
		data    bool // the position exists only with DATA
		wantErr error
	}{
		{name: "MAIL", opts: []smtptest.Option{smtptest.WithRefuseSender("m1@example.com", "550 5.7.1 not you")},
			wantErr: &SenderRefusedError{respErr(Reply{550, "5.7.1 not you"}), "m1@example.com"}},
		{name: "RCPT", opts: []smtptest.Option{smtptest.WithRefuseRecipient("r1@example.com", "550 5.1.1 no such user")},
			wantErr: &RecipientsRefusedError{Recipients: map[string]Reply{"r1@example.com": {550, "5.1.1 no such user"}}}},
		{name: "DATA", data: true, opts: []smtptest.Option{smtptest.WithReplies("DATA", "354 go ahead", "554 5.5.1 no")},
			wantErr: &DataError{respErr(Reply{554, "5.5.1 no"})}},
		{name: "end of data", opts: []smtptest.Option{smtptest.WithReplies("DOT", "250 2.0.0 queued as A", "552 5.3.4 too big")},
			wantErr: &DataError{respErr(Reply{552, "5.3.4 too big"})}},
	}
	for _, mode := range modes {
		for _, tt := range tests {
			if tt.data && strings.Contains(mode.name, "chunking") {
				continue
			}
			t.Run(mode.name+"/"+tt.name, func(t *testing.T) {
				srv := smtptest.NewServer(t, append([]smtptest.Option{smtptest.WithExtensions(mode.ext...)}, tt.opts...)...)
				c := dialTest(t, srv)
				results, err := c.SendBatch(context.Background(), batchOf(3))
				require.NoError(t, err, "the connection survives a refusal")
				require.Len(t, results, 3)
				assert.NoError(t, results[0].Err)
				assert.Equal(t, tt.wantErr, results[1].Err)
				assert.NoError(t, results[2].Err)
				assert.Equal(t, 250, results[2].Reply.Code, "the final reply is kept")
				_, err = c.Quit()
				require.NoError(t, err)
				require.NoError(t, srv.WaitSessions(1, 5*time.Second))
				assert.Equal(t, []string{"m0@example.com", "m2@example.com"}, deliveredFrom(srv))
			})
		}
	}
}

// TestSendBatchDroppedMidBatch drops the connection at each position of
// the middle mail's transaction: the first mail is delivered, and the
// others are reported as not sent, unless the whole of their message had
// gone out, when their delivery is unknown.
func TestSendBatchDroppedMidBatch(t *testing.T) {
	for _, mode := range modes {
		chunking := strings.Contains(mode.name, "chunking")
		for _, at := range []string{"MAIL", "RCPT", "DATA", "DOT"} {
			if at == "DATA" && chunking {
				at = "BDAT"
			}
			t.Run(mode.name+"/"+at, func(t *testing.T) {
				srv := smtptest.NewServer(t, smtptest.WithExtensions(mode.ext...),
					smtptest.WithFault(smtptest.Fault{At: at, N: 2, Action: smtptest.Drop}))
				c := dialTest(t, srv)
				results, err := c.SendBatch(context.Background(), batchOf(3))
				var sd *ServerDisconnectedError
				require.ErrorAs(t, err, &sd, "the batch reports the lost connection")
				require.Len(t, results, 3)
				assert.NoError(t, results[0].Err)
				for i, r := range results[1:] {
					require.ErrorAs(t, r.Err, &sd, "mail %d", i+1)
					// The client cannot tell a drop before a reply from one
					// after it: a mail whose whole message went out before
					// the drop may have been delivered. With DATA that is
					// mail 1 at its end of data; with CHUNKING, mail 1 once
					// its BDAT LAST went; with PIPELINING as well, every
					// mail, written without waiting for any reply.
					var sent bool
					switch {
					case chunking && strings.Contains(mode.name, "pipelining"):
						sent = true
					case chunking:
						sent = i == 0 && (at == "BDAT" || at == "DOT")
					default:
						sent = i == 0 && at == "DOT"
					}
					assert.Equal(t, sent, errors.Is(r.Err, ErrDeliveryUnknown), "mail %d: %v", i+1, r.Err)
				}
				assertClosed(t, c)
				assert.Equal(t, []string{"m0@example.com"}, deliveredFrom(srv))
			})
		}
	}
}

// TestSendBatch421MidBatch has the server shut down at the middle mail:
// that mail gets the 421, the last is not sent, and the first arrived.
func TestSendBatch421MidBatch(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, smtptest.WithExtensions(mode.ext...),
				smtptest.WithRefuseSender("m1@example.com", "421 4.3.2 shutting down"))
			c := dialTest(t, srv)
			results, err := c.SendBatch(context.Background(), batchOf(3))
			var re *ResponseError
			require.ErrorAs(t, err, &re, "the connection's error carries the 421")
			assert.Equal(t, 421, re.Code)
			require.Len(t, results, 3)
			assert.NoError(t, results[0].Err)
			assert.Equal(t, &SenderRefusedError{respErr(Reply{421, "4.3.2 shutting down"}), "m1@example.com"}, results[1].Err)
			var sd *ServerDisconnectedError
			require.ErrorAs(t, results[2].Err, &sd, "not sent")
			assert.False(t, errors.Is(results[2].Err, ErrDeliveryUnknown))
			assertClosed(t, c)
			require.NoError(t, srv.WaitSessions(1, 5*time.Second))
			assert.Equal(t, []string{"m0@example.com"}, deliveredFrom(srv))
		})
	}
}

// TestSendBatchBadMail checks that a mail refused before anything is sent
// (a bad address, a misplaced option) does not stop the others.
func TestSendBatchBadMail(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithPipelining(), smtptest.WithChunking())
	c := dialTest(t, srv)
	mails := batchOf(4)
	mails[1].To = []string{"bad\r\n@example.com"}
	mails[2].Options = []SendOption{FromAddr("x@example.com")}
	results, err := c.SendBatch(context.Background(), mails)
	require.NoError(t, err)
	assert.NoError(t, results[0].Err)
	assert.IsType(t, &CommandError{}, results[1].Err)
	assert.IsType(t, &CommandError{}, results[2].Err)
	assert.NoError(t, results[3].Err)

	// A batch of one (allocated apart, as the Pool sends most mails).
	alone := batchOf(1)
	alone[0].Options = []SendOption{ToAddrs("x@example.com")}
	results, err = c.SendBatch(context.Background(), alone)
	require.NoError(t, err)
	require.Len(t, results, 1)
	assert.IsType(t, &CommandError{}, results[0].Err)
	c.Quit()
	require.NoError(t, srv.WaitSessions(1, 5*time.Second))
	assert.Equal(t, []string{"m0@example.com", "m3@example.com"}, deliveredFrom(srv))
}

// TestSendBatchGreetingRefused has the server refuse both EHLO and HELO:
// the batch sends nothing, returns the HeloError, and gives it to every
// mail but one whose options were refused before anything was sent.
func TestSendBatchGreetingRefused(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithoutEHLO(), smtptest.WithReply("HELO", "554 5.7.1 go away"))
	c := dialTest(t, srv)
	mails := batchOf(3)
	mails[1].Options = []SendOption{FromAddr("x@example.com")}

	results, err := c.SendBatch(context.Background(), mails)

	want := &HeloError{respErr(Reply{554, "5.7.1 go away"})}
	assert.Equal(t, want, err)
	require.Len(t, results, 3)
	assert.Equal(t, want, results[0].Err)
	assert.IsType(t, &CommandError{}, results[1].Err, "its own error")
	assert.Equal(t, want, results[2].Err)
	assert.NotContains(t, srv.Transcript(), "C: mail", "nothing was sent")
}

// TestSendBatchRoundTrips checks that a batch overlaps its transactions:
// with PIPELINING and CHUNKING, a hundred small mails take well under one
// round trip each (the server's writes are counted); with PIPELINING
// alone, about one per mail (the 354 to DATA must be awaited).
func TestSendBatchRoundTrips(t *testing.T) {
	tests := []struct {
		name string
		opts []smtptest.Option
		max  int64
	}{
		// A chunked batch writes its commands in groups: when the window
		// of 100 replies is full, half of it is read before the next
		// group (RSET, MAIL, RCPT, BDAT: 400 commands for 100 mails, in
		// groups of 50); with DATA, each 354 gathers the next mail's
		// commands behind the final dot (102 writes).
		{"pipelining and chunking", []smtptest.Option{smtptest.WithPipelining(), smtptest.WithChunking()}, 15},
		{"pipelining", []smtptest.Option{smtptest.WithPipelining()}, 105},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, tt.opts...)
			// The client's own writes are counted, not the server's: how
			// the server's replies are grouped depends on when the
			// client's bytes arrive, which a busy machine changes.
			d := &countingDialer{}
			c := dialTest(t, srv, WithDialer(d))
			before := d.writes.Load()
			results, err := c.SendBatch(context.Background(), batchOf(100))
			require.NoError(t, err)
			for i, r := range results {
				assert.NoError(t, r.Err, "mail %d", i)
			}
			writes := d.writes.Load() - before
			c.Quit()
			require.NoError(t, srv.WaitSessions(1, 5*time.Second))
			assert.Len(t, srv.Messages(), 100)
			assert.LessOrEqual(t, writes, tt.max, "the client's writes for 100 mails")
		})
	}
}

// TestSendBatchLMTP sends a batch to an LMTP server, in every mode: each
// mail gets its per-recipient replies, and a recipient refused after the
// data is in that mail's Refused, as LMTP's Sendmail reports it.
func TestSendBatchLMTP(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, smtptest.WithExtensions(mode.ext...),
				smtptest.WithLMTPReply("full@example.com", "452 4.2.2 Mailbox full"))
			l, err := DialLMTP(srv.Host(), srv.Port(), WithTimeout(testTimeout))
			require.NoError(t, err)
			defer l.Close()
			mails := batchOf(3)
			for i := range mails {
				mails[i].To = append(mails[i].To, "full@example.com", fmt.Sprintf("s%d@example.com", i))
			}
			results, err := l.SendBatch(context.Background(), mails)
			require.NoError(t, err)
			for i, r := range results {
				require.NoError(t, r.Err, "mail %d", i)
				assert.Equal(t, map[string]Reply{"full@example.com": {452, "4.2.2 Mailbox full"}}, r.Refused, "mail %d", i)
			}
			_, err = l.Quit()
			require.NoError(t, err)
			require.NoError(t, srv.WaitSessions(1, 5*time.Second))
			msgs := srv.Messages()
			require.Len(t, msgs, 3)
			for i, m := range msgs {
				assert.Equal(t, []string{fmt.Sprintf("r%d@example.com", i), fmt.Sprintf("s%d@example.com", i)}, m.To)
			}
		})
	}
}

// TestSendBatchMessages: a Mail that carries a Message is sent as
// SendMessage sends it, in every mode, next to mails that carry Data; a
// header without an envelope, or a Mail with both, is that mail's own
// error.
func TestSendBatchMessages(t *testing.T) {
	read := func(s string) *email.Message {
		m, err := email.ReadMessage(strings.NewReader(s))
		require.NoError(t, err)
		return m
	}
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, smtptest.WithExtensions(mode.ext...))
			c := dialTest(t, srv)
			withBcc := read("From: Ann <ann@example.com>\r\nTo: bob@example.org\r\nBcc: cat@example.net\r\n\r\nhi\r\n")
			mails := []Mail{
				{From: "d@example.com", To: []string{"e@example.com"}, Data: []byte("Subject: data\r\n\r\nx\r\n")},
				{Message: withBcc},
				{Message: withBcc, From: "bounce@example.com", To: []string{"only@example.org"}},
				{Message: read("To: nobody@example.org\r\n\r\nno sender\r\n")},
				{Message: withBcc, Data: []byte("x")},
				{Message: read("From: f@bücher.example\r\nTo: g@example.org\r\n\r\nidn\r\n")},
			}
			results, err := c.SendBatch(context.Background(), mails)
			require.NoError(t, err)
			require.Len(t, results, len(mails))
			for _, i := range []int{0, 1, 2, 5} {
				assert.NoError(t, results[i].Err, "mail %d", i)
			}
			var ce *CommandError
			require.ErrorAs(t, results[3].Err, &ce)
			assert.Contains(t, ce.Error(), "no Sender or From address")
			require.ErrorAs(t, results[4].Err, &ce)
			assert.Contains(t, ce.Error(), "Data or a Message, not both")
			_, err = c.Quit()
			require.NoError(t, err)

			msgs := srv.Messages()
			require.Len(t, msgs, 4)
			assert.Equal(t, "d@example.com", msgs[0].From)
			assert.Equal(t, "ann@example.com", msgs[1].From)
			assert.Equal(t, []string{"bob@example.org", "cat@example.net"}, msgs[1].To)
			assert.Equal(t, "From: Ann <ann@example.com>\r\nTo: bob@example.org\r\n\r\nhi\r\n", string(msgs[1].Data), "no Bcc field")
			assert.Equal(t, "bounce@example.com", msgs[2].From)
			assert.Equal(t, []string{"only@example.org"}, msgs[2].To)
			assert.Equal(t, "f@xn--bcher-kva.example", msgs[3].From, "an A-label for a server without SMTPUTF8")
		})
	}
}

// TestSendBatchOneMessage: a batch of one Message mail, the path without
// allocations of its own, and the same mail through a Pool.
func TestSendBatchOneMessage(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithPipelining(), smtptest.WithChunking())
	msg, err := email.ReadMessage(strings.NewReader("From: a@example.com\r\nTo: b@example.org\r\n\r\none\r\n"))
	require.NoError(t, err)
	c := dialTest(t, srv)
	results, err := c.SendBatch(context.Background(), []Mail{{Message: msg}})
	require.NoError(t, err)
	require.NoError(t, results[0].Err)
	assert.Equal(t, 250, results[0].Reply.Code)

	noSender, err := email.ReadMessage(strings.NewReader("To: b@example.org\r\n\r\nnone\r\n"))
	require.NoError(t, err)
	results, err = c.SendBatch(context.Background(), []Mail{{Message: noSender}})
	require.NoError(t, err, "the connection is fine")
	var ce *CommandError
	require.ErrorAs(t, results[0].Err, &ce)

	pool := NewPool(func(ctx context.Context) (*SMTP, error) {
		return DialContext(ctx, srv.Host(), srv.Port(), WithTimeout(testTimeout))
	})
	defer pool.Close()
	r := pool.Send(context.Background(), Mail{Message: msg})
	require.NoError(t, r.Err)

	msgs := srv.Messages()
	require.Len(t, msgs, 2)
	for _, m := range msgs {
		assert.Equal(t, "a@example.com", m.From)
		assert.Equal(t, []string{"b@example.org"}, m.To)
		assert.Equal(t, "From: a@example.com\r\nTo: b@example.org\r\n\r\none\r\n", string(m.Data))
	}
}
