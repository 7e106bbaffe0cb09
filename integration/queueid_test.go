// Queue ids against the real servers: the id that Reply.QueueID reads from
// each final reply is the one the server's own log files the mail under.

package integration

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/gosmtplib/smtplib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// queuedMail is a mail sent, with what ties it to its line in the log.
type queuedMail struct {
	rcpt  string // the recipient (Dovecot logs each one's delivery)
	msgID string // its Message-ID, without the angle brackets
	reply smtplib.Reply
}

// waitLogMatches polls the log file until every pattern has matched a
// line or 10 s have passed, and returns how many lines each matched. The
// servers write their logs through other processes, after the reply.
func waitLogMatches(t *testing.T, file string, patterns []*regexp.Regexp) []int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(file)
		require.NoError(t, err)
		counts := make([]int, len(patterns))
		all := true
		for i, p := range patterns {
			counts[i] = len(p.FindAll(b, -1))
			all = all && counts[i] > 0
		}
		if all || time.Now().After(deadline) {
			if !all {
				t.Logf("end of %s:\n%s", file, lmtpTail(b, 4000))
			}
			return counts
		}
		time.Sleep(50 * time.Millisecond) // waiting for another process's log, not for our goroutines
	}
}

// assertIDsLogged checks that every mail's reply names a queue id, that
// the ids differ, and that the log has exactly one line tying each id to
// its mail, as line(mail, id) matches it.
func assertIDsLogged(t *testing.T, server, file string, mails []queuedMail, line func(m queuedMail, id string) *regexp.Regexp) {
	t.Helper()
	seen := map[string]bool{}
	var patterns []*regexp.Regexp
	for _, m := range mails {
		id := m.reply.QueueID()
		require.NotEmpty(t, id, "a queue id in %v", m.reply)
		assert.False(t, seen[id], "queue id %s given twice", id)
		seen[id] = true
		patterns = append(patterns, line(m, id))
	}
	counts := waitLogMatches(t, file, patterns)
	found := 0
	for i, n := range counts {
		if assert.Equal(t, 1, n, "lines for %s (reply %v) matching %s", mails[i].msgID, mails[i].reply, patterns[i]) {
			found++
		}
	}
	assert.Equal(t, len(mails), found, "mails whose queue id the log has")
	t.Logf("%s: %d final replies, %d queue ids found in %s", server, len(mails), found, file)
}

// TestPostfixQueueID sends mails through Postfix's submission port, one at
// a time and as a pipelined batch, and finds each reply's queue id in
// Postfix's log beside the mail's own Message-ID: cleanup(8) logs
// "QUEUEID: message-id=<...>" for every mail it queues.
func TestPostfixQueueID(t *testing.T) {
	m := postfix(t)
	s := m.login(t)
	from := m.user
	var mails []queuedMail
	for i := range 3 {
		rcpt := m.ok[i%len(m.ok)]
		tok := fmt.Sprintf("%s-%d", token(t), i)
		var final smtplib.Reply
		_, err := s.Sendmail(from, []string{rcpt}, message(from, rcpt, "queue id", tok, "One at a time.\r\n"), smtplib.FinalReply(&final))
		require.NoError(t, err)
		assert.Equal(t, 250, final.Code, "final reply %v", final)
		mails = append(mails, queuedMail{rcpt: rcpt, msgID: tok + "@smtplib.test", reply: final})
	}
	var batch []smtplib.Mail
	var batchMails []queuedMail
	for i := range 3 {
		rcpt := m.ok[i%len(m.ok)]
		tok := fmt.Sprintf("%s-batch-%d", token(t), i)
		batch = append(batch, smtplib.Mail{From: from, To: []string{rcpt},
			Data: message(from, rcpt, "queue id", tok, "In a batch.\r\n")})
		batchMails = append(batchMails, queuedMail{rcpt: rcpt, msgID: tok + "@smtplib.test"})
	}
	results, err := s.SendBatch(context.Background(), batch)
	require.NoError(t, err)
	require.Len(t, results, len(batch))
	for i, r := range results {
		require.NoError(t, r.Err, "mail %d of the batch", i)
		batchMails[i].reply = r.Reply
	}
	mails = append(mails, batchMails...)
	_, err = s.Quit()
	assert.NoError(t, err)

	assertIDsLogged(t, "postfix", m.logFile, mails, func(q queuedMail, id string) *regexp.Regexp {
		return regexp.MustCompile(`postfix/cleanup\[\d+\]: ` + regexp.QuoteMeta(id) +
			`: message-id=<` + regexp.QuoteMeta(q.msgID) + `>\n`)
	})
}

// TestDovecotLMTPQueueID delivers mails through Dovecot's LMTP, over the
// Unix socket and TCP, and finds each recipient's id (the LMTP session id
// of its delivery) in Dovecot's log, on the line that records the saving
// of that mail for that recipient: "lmtp(RCPT)<PID><ID>: Info:
// msgid=<...>: saved mail to INBOX".
func TestDovecotLMTPQueueID(t *testing.T) {
	d := lmtpServersEnv(t)
	require.NotEmpty(t, d.logFile, "DOVECOT_LOG")
	from := "sender@example.org"
	var mails []queuedMail
	for _, unix := range []bool{true, false} {
		l := d.dial(t, unix)
		// One recipient a mail: FinalReply is that recipient's reply.
		for i := range 2 {
			rcpt := d.ok[i%len(d.ok)]
			tok := lmtpToken(t)
			var final smtplib.Reply
			refused, err := l.Sendmail(from, []string{rcpt}, lmtpMessage(tok, "queue id", false), smtplib.FinalReply(&final))
			require.NoError(t, err)
			require.Empty(t, refused)
			mails = append(mails, queuedMail{rcpt: rcpt, msgID: tok + "@smtplib.test", reply: final})
		}
		// Two recipients: a reply, and an id, for each, read with
		// DataReplies (the second id carries Dovecot's ":R2").
		tok := lmtpToken(t)
		_, err := l.Ehlo("")
		require.NoError(t, err)
		r, err := l.Mail(from)
		require.NoError(t, err)
		require.Equal(t, 250, r.Code, "MAIL: %v", r)
		rcpts := d.ok[:2]
		for _, rcpt := range rcpts {
			r, err = l.Rcpt(rcpt)
			require.NoError(t, err)
			require.Equal(t, 250, r.Code, "RCPT: %v", r)
		}
		replies, err := l.DataReplies(lmtpMessage(tok, "queue id, two recipients", false), len(rcpts))
		require.NoError(t, err)
		require.Len(t, replies, len(rcpts))
		for i, rcpt := range rcpts {
			mails = append(mails, queuedMail{rcpt: rcpt, msgID: tok + "@smtplib.test", reply: replies[i]})
		}
		_, err = l.Quit()
		assert.NoError(t, err)
	}

	assertIDsLogged(t, "dovecot", d.logFile, mails, func(q queuedMail, id string) *regexp.Regexp {
		return regexp.MustCompile(`lmtp\(` + regexp.QuoteMeta(q.rcpt) + `\)<\d+><` + regexp.QuoteMeta(id) +
			`>: Info: msgid=<` + regexp.QuoteMeta(q.msgID) + `>: saved mail to INBOX\n`)
	})
}
