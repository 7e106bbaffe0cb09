package smtplib

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/email"
	"github.com/gosmtplib/smtplib/smtptest"
)

// FinalReply hands over the reply after the data, with its queue id, in
// every mode, without changing what Sendmail returns.
func TestFinalReply(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, smtptest.WithExtensions(mode.ext...),
				smtptest.WithRefuseRecipient("bad@example.com", "550 5.1.1 no such user"))
			c := dialTest(t, srv)
			var final Reply
			refused, err := c.Sendmail("s@example.com", []string{"a@example.com", "bad@example.com"}, []byte("x\r\n"), FinalReply(&final))
			require.NoError(t, err)
			assert.Equal(t, map[string]Reply{"bad@example.com": {550, "5.1.1 no such user"}}, refused)
			msgs := srv.Messages()
			require.Len(t, msgs, 1)
			assert.Equal(t, 250, final.Code)
			assert.Equal(t, [3]int{2, 0, 0}, final.EnhancedCode())
			if !strings.Contains(mode.name, "chunking") {
				// smtptest names the queue id only in its reply to DATA.
				assert.Equal(t, "2.0.0 Ok: queued as "+msgs[0].ID, final.Message)
			}
		})
	}
}

func TestFinalReplyCases(t *testing.T) {
	unset := Reply{Code: -2, Message: "unset"}
	tests := []struct {
		name string
		opts []smtptest.Option
		want Reply
	}{
		{"refused after the data", []smtptest.Option{smtptest.WithReply("DOT", "554 5.7.1 spam")}, Reply{554, "5.7.1 spam"}},
		{"scripted queue id", []smtptest.Option{smtptest.WithReply("DOT", "250 2.0.0 Ok: queued as ABC123")}, Reply{250, "2.0.0 Ok: queued as ABC123"}},
		{"DATA refused: no reply after data", []smtptest.Option{smtptest.WithReply("DATA", "554 5.5.1 no")}, unset},
		{"sender refused", []smtptest.Option{smtptest.WithRefuseSender("s@example.com", "553 5.7.1 no")}, unset},
	}
	for _, mode := range modes {
		for _, tt := range tests {
			t.Run(mode.name+"/"+tt.name, func(t *testing.T) {
				srv := smtptest.NewServer(t, append([]smtptest.Option{smtptest.WithExtensions(mode.ext...)}, tt.opts...)...)
				c := dialTest(t, srv)
				final := unset
				_, err := c.Sendmail("s@example.com", []string{"a@example.com"}, []byte("x\r\n"), FinalReply(&final))
				want := tt.want
				if strings.Contains(mode.name, "chunking") && strings.HasPrefix(tt.name, "DATA refused") {
					// The message goes as one BDAT LAST: no DATA to refuse.
					want = Reply{250, "2.0.0 Message accepted"}
				}
				if want.Code != 250 {
					require.Error(t, err)
				}
				assert.Equal(t, want, final)
			})
		}
	}
}

func TestFinalReplySendMessage(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithDSN())
	c := dialTest(t, srv)
	var final Reply
	msg := email.NewMessage("s@example.com", []string{"a@example.com"}, "hi", "body\n")
	refused, err := c.SendMessage(msg, FinalReply(&final), Notify(NotifyFailure, NotifyDelay), EnvID("m-1"))
	require.NoError(t, err)
	assert.Empty(t, refused)
	msgs := srv.Messages()
	require.Len(t, msgs, 1)
	assert.Equal(t, Reply{250, "2.0.0 Ok: queued as " + msgs[0].ID}, final)
	assert.Equal(t, "m-1", msgs[0].EnvID)
	assert.Equal(t, []smtptest.RcptDSN{{Notify: []string{"FAILURE", "DELAY"}}}, msgs[0].DSN)
}

// For LMTP the final reply is the last accepted recipient's.
func TestFinalReplyLMTP(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithLMTP(), smtptest.WithLMTPReply("a@example.com", "452 4.2.2 Mailbox full"))
	l, err := DialLMTP(srv.Host(), srv.Port(), WithLocalHostname("client.example"))
	require.NoError(t, err)
	defer l.Close()
	var final Reply
	refused, err := l.Sendmail("s@example.com", []string{"a@example.com", "b@example.com"}, []byte("x\r\n"), FinalReply(&final))
	require.NoError(t, err)
	assert.Equal(t, map[string]Reply{"a@example.com": {452, "4.2.2 Mailbox full"}}, refused)
	assert.Equal(t, Reply{250, "2.0.0 <b@example.com> delivered"}, final)
}

// In a batch, each mail's FinalReply gets what its Result.Reply holds, and
// its DSN options go with its own commands only.
func TestFinalReplyBatch(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithDSN(), smtptest.WithPipelining())
	c := dialTest(t, srv)
	var first, second Reply
	results, err := c.SendBatch(context.Background(), []Mail{
		{From: "s@example.com", To: []string{"a@example.com"}, Data: []byte("one\r\n"),
			Options: []SendOption{FinalReply(&first), EnvID("one"), Notify(NotifySuccess)}},
		{From: "s@example.com", To: []string{"b@example.com"}, Data: []byte("two\r\n"),
			Options: []SendOption{FinalReply(&second)}},
	})
	require.NoError(t, err)
	require.Len(t, results, 2)
	msgs := srv.Messages()
	require.Len(t, msgs, 2)
	for i, got := range []Reply{first, second} {
		require.NoError(t, results[i].Err)
		assert.Equal(t, Reply{250, "2.0.0 Ok: queued as " + msgs[i].ID}, got)
		assert.Equal(t, results[i].Reply, got)
	}
	assert.Equal(t, "one", msgs[0].EnvID)
	assert.Equal(t, []smtptest.RcptDSN{{Notify: []string{"SUCCESS"}}}, msgs[0].DSN)
	assert.Empty(t, msgs[1].EnvID)
	assert.Equal(t, []smtptest.RcptDSN{{}}, msgs[1].DSN)
}

// Through a Pool, a mail's FinalReply and DSN options work as in Sendmail.
func TestFinalReplyPool(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithDSN(), smtptest.WithPipelining())
	p := NewPool(func(ctx context.Context) (*SMTP, error) {
		return DialContext(ctx, srv.Host(), srv.Port(), WithLocalHostname("client.example"))
	}, WithPoolSize(2))
	defer p.Close()
	var final Reply
	res := p.Send(context.Background(), Mail{From: "s@example.com", To: []string{"a@example.com"}, Data: []byte("x\r\n"),
		Options: []SendOption{FinalReply(&final), Notify(NotifyNever)}})
	require.NoError(t, res.Err)
	msgs := srv.Messages()
	require.Len(t, msgs, 1)
	assert.Equal(t, Reply{250, "2.0.0 Ok: queued as " + msgs[0].ID}, final)
	assert.Equal(t, res.Reply, final)
	assert.Equal(t, []smtptest.RcptDSN{{Notify: []string{"NEVER"}}}, msgs[0].DSN)
}
