package integration

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gosmtplib/smtplib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The LMTP tests deliver to the Dovecot that testdata/servers/start.sh DIR
// starts, reading its addresses from DIR/env, named by
// $SMTPLIB_SERVERS_ENV. Dovecot listens on a Unix socket and on TCP
// loopback, stores mail in Maildirs under DOVECOT_MAILDIR_ROOT with CRLF
// line ends, and has one mailbox, DOVECOT_FULL_RCPT, already over its
// quota.

// dovecotLMTP is what the tests need from the env file.
type dovecotLMTP struct {
	socket  string   // DOVECOT_LMTP_SOCKET
	host    string   // SERVERS_HOST
	port    int      // DOVECOT_LMTP_PORT
	root    string   // DOVECOT_MAILDIR_ROOT
	ok      []string // DOVECOT_OK_RCPTS
	full    string   // DOVECOT_FULL_RCPT
	small   string   // DOVECOT_SMALL_RCPT: accepted at RCPT, its quota too small for a large message
	logFile string   // DOVECOT_LOG, shown when a test fails
}

// lmtpServersEnv reads the env file of start.sh, or skips the test when
// $SMTPLIB_SERVERS_ENV is not set.
func lmtpServersEnv(t *testing.T) dovecotLMTP {
	t.Helper()
	env := serversEnv(t)
	name := os.Getenv("SMTPLIB_SERVERS_ENV")
	for _, k := range []string{"DOVECOT_LMTP_SOCKET", "DOVECOT_LMTP_PORT", "DOVECOT_MAILDIR_ROOT", "DOVECOT_OK_RCPTS", "DOVECOT_FULL_RCPT", "SERVERS_HOST"} {
		require.NotEmpty(t, env[k], "%s in %s", k, name)
	}
	port, err := strconv.Atoi(env["DOVECOT_LMTP_PORT"])
	require.NoError(t, err)
	d := dovecotLMTP{
		socket:  env["DOVECOT_LMTP_SOCKET"],
		host:    env["SERVERS_HOST"],
		port:    port,
		root:    env["DOVECOT_MAILDIR_ROOT"],
		ok:      strings.Split(env["DOVECOT_OK_RCPTS"], ","),
		full:    env["DOVECOT_FULL_RCPT"],
		small:   env["DOVECOT_SMALL_RCPT"],
		logFile: env["DOVECOT_LOG"],
	}
	require.GreaterOrEqual(t, len(d.ok), 2, "DOVECOT_OK_RCPTS needs two recipients")
	return d
}

// dial connects to Dovecot over the Unix socket or TCP.
func (d dovecotLMTP) dial(t *testing.T, unix bool, opts ...smtplib.Option) *smtplib.LMTP {
	t.Helper()
	host, port := d.host, d.port
	if unix {
		host, port = d.socket, 0
	}
	l, err := smtplib.DialLMTP(host, port, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	t.Cleanup(func() {
		if t.Failed() && d.logFile != "" {
			if b, err := os.ReadFile(d.logFile); err == nil {
				t.Logf("end of %s:\n%s", d.logFile, lmtpTail(b, 3000))
			}
		}
	})
	return l
}

// lmtpTail returns the last n bytes of b at most.
func lmtpTail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// stored returns the messages in rcpt's mailbox that contain token, as
// stored: every file under a "new" or "cur" directory of the user's home,
// DOVECOT_MAILDIR_ROOT/domain/local (start.sh's home=%d/%n).
func (d dovecotLMTP) stored(t *testing.T, rcpt, token string) [][]byte {
	t.Helper()
	local, domain, ok := strings.Cut(rcpt, "@")
	require.True(t, ok, rcpt)
	return maildirFind(t, filepath.Join(d.root, domain, local), token)
}

// lmtpTraceField matches the start of each header field that an LMTP
// delivery agent may put above the message: the trace fields of RFC 5322
// section 3.6.7 and the Delivered-To and X-Original-To fields that
// Dovecot and Postfix add.
var lmtpTraceField = regexp.MustCompile(`(?i)^(Return-Path|Received|Delivered-To|X-Original-To):`)

// assertLMTPStored checks that stored is msg, byte for byte, below the
// trace fields added by the delivery, and that Return-Path names from.
func assertLMTPStored(t *testing.T, stored, msg []byte, from string) {
	t.Helper()
	if !assert.True(t, bytes.HasSuffix(stored, msg), "the stored message ends with the message sent:\n%s", stored) {
		return
	}
	added := string(stored[:len(stored)-len(msg)])
	require.True(t, strings.HasSuffix(added, "\r\n") || added == "", "added fields end with CRLF: %q", added)
	for _, line := range strings.SplitAfter(added, "\r\n") {
		if line == "" || line[0] == ' ' || line[0] == '\t' {
			continue // the end, or a folded continuation line
		}
		assert.Regexp(t, lmtpTraceField, line, "a field added on delivery")
	}
	assert.Contains(t, added, "Return-Path: <"+from+">\r\n")
}

// assertLMTPOverQuota checks a refusal for a mailbox over its quota against
// the RFCs: 452 "insufficient system storage" or 552 "exceeded storage
// allocation" (RFC 5321 section 4.2.2), with the enhanced status code
// X.2.2 "Mailbox full" (RFC 3463 section 3.3) whose class is the reply's
// first digit (RFC 2034 section 4). RFC 3463 says X.2.2 should be a
// persistent transient failure, 4.2.2; Dovecot says 552 5.2.2 unless
// quota_full_tempfail is set, and both are allowed here.
func assertLMTPOverQuota(t *testing.T, r smtplib.Reply) {
	t.Helper()
	assert.Contains(t, []int{452, 552}, r.Code, "reply %v", r)
	assert.True(t, strings.HasPrefix(r.Message, fmt.Sprintf("%d.2.2 ", r.Code/100)), "enhanced status code X.2.2 of class %d: %v", r.Code/100, r)
}

// lmtpToken returns a string unique to one delivery, to find it in the
// mailboxes, which keep the mail of earlier tests.
func lmtpToken(t *testing.T) string {
	t.Helper()
	b := make([]byte, 12)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

// lmtpMessage returns a message carrying token, with the lines that need
// care on the wire: one starting with a period, one that is only a
// period, and, when big, enough text for several BDAT chunks.
func lmtpMessage(token, subject string, big bool) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: LMTP test <sender@example.org>\r\n")
	fmt.Fprintf(&b, "To: staff@example.com\r\n")
	fmt.Fprintf(&b, "Subject: %s\r\n", subject)
	fmt.Fprintf(&b, "Message-ID: <%s@smtplib.test>\r\n", token)
	fmt.Fprintf(&b, "\r\n")
	fmt.Fprintf(&b, "Token %s.\r\n", token)
	fmt.Fprintf(&b, ".A line starting with a period.\r\n.\r\n..\r\nThe end is near.\r\n")
	if big {
		line := strings.Repeat("0123456789", 7) + "\r\n"
		for b.Len() < 2500<<10 {
			b.WriteString(line)
		}
	}
	fmt.Fprintf(&b, "-- \r\nsmtplib\r\n")
	return b.Bytes()
}

func TestDovecotLMTPDelivery(t *testing.T) {
	d := lmtpServersEnv(t)
	type config struct {
		unix, pipelining, chunking, big bool
	}
	var configs []config
	for _, unix := range []bool{true, false} {
		for _, pipelining := range []bool{true, false} {
			for _, chunking := range []bool{true, false} {
				configs = append(configs, config{unix, pipelining, chunking, false})
			}
		}
	}
	// One message over the chunk size (1 MiB), so that BDAT goes in
	// several chunks, pipelined; one only, since it stays in the
	// mailboxes and counts against their quota.
	configs = append(configs, config{unix: true, pipelining: true, chunking: true, big: true})
	for _, cfg := range configs {
		name := fmt.Sprintf("unix=%t/pipelining=%t/chunking=%t/big=%t", cfg.unix, cfg.pipelining, cfg.chunking, cfg.big)
		t.Run(name, func(t *testing.T) {
			var opts []smtplib.Option
			if !cfg.pipelining {
				opts = append(opts, smtplib.WithoutPipelining())
			}
			if !cfg.chunking {
				opts = append(opts, smtplib.WithoutChunking())
			}
			l := d.dial(t, cfg.unix, opts...)
			token := lmtpToken(t)
			msg := lmtpMessage(token, name, cfg.big)
			from := "sender@example.org"
			to := []string{d.ok[0], d.full, d.ok[1]}

			refused, err := l.Sendmail(from, to, msg)

			require.NoError(t, err)
			require.Len(t, refused, 1, "refused: %v", refused)
			require.Contains(t, refused, d.full)
			assertLMTPOverQuota(t, refused[d.full])
			for _, rcpt := range d.ok[:2] {
				got := d.stored(t, rcpt, token)
				if assert.Len(t, got, 1, "messages for %s", rcpt) {
					assertLMTPStored(t, got[0], msg, from)
				}
			}
			assert.Empty(t, d.stored(t, d.full, token), "nothing stored for the full mailbox")
			// The session goes on after the transaction.
			r, err := l.Noop()
			require.NoError(t, err)
			assert.Equal(t, 250, r.Code)
			_, err = l.Quit()
			assert.NoError(t, err)
		})
	}
}

// TestDovecotLMTPAllRefused sends to the full mailbox alone: no one gets
// the message, which is a RecipientsRefusedError carrying its reply, and
// the session stays usable.
func TestDovecotLMTPAllRefused(t *testing.T) {
	d := lmtpServersEnv(t)
	for _, unix := range []bool{true, false} {
		t.Run(fmt.Sprintf("unix=%t", unix), func(t *testing.T) {
			l := d.dial(t, unix)
			token := lmtpToken(t)

			refused, err := l.Sendmail("sender@example.org", []string{d.full}, lmtpMessage(token, "all refused", false))

			assert.Nil(t, refused)
			var rre *smtplib.RecipientsRefusedError
			require.ErrorAs(t, err, &rre)
			assert.ErrorIs(t, err, smtplib.ErrSMTP)
			require.Contains(t, rre.Recipients, d.full)
			assert.Len(t, rre.Recipients, 1)
			assertLMTPOverQuota(t, rre.Recipients[d.full])
			assert.Empty(t, d.stored(t, d.full, token))
			r, err := l.Noop()
			require.NoError(t, err)
			assert.Equal(t, 250, r.Code)
		})
	}
}

// TestDovecotLMTPRefusedAfterData is the case smtplib's LMTP gets wrong:
// a recipient accepted at RCPT whose mailbox cannot take the message once
// it has arrived. Dovecot refuses it in its own reply after the data while
// the others are delivered; Sendmail must report it refused, and the
// session must stay in step (the next command gets its own reply).
func TestDovecotLMTPRefusedAfterData(t *testing.T) {
	d := lmtpServersEnv(t)
	require.NotEmpty(t, d.small, "DOVECOT_SMALL_RCPT")
	for _, unix := range []bool{true, false} {
		t.Run(fmt.Sprintf("unix=%t", unix), func(t *testing.T) {
			l := d.dial(t, unix)
			token := lmtpToken(t)
			msg := lmtpMessage(token, "too big for one mailbox", true)
			to := []string{d.ok[0], d.small, d.ok[1]}

			refused, err := l.Sendmail("sender@example.org", to, msg)

			require.NoError(t, err)
			require.Contains(t, refused, d.small, "refused in its reply after the data")
			assert.Len(t, refused, 1)
			assertLMTPOverQuota(t, refused[d.small])
			for _, rcpt := range []string{d.ok[0], d.ok[1]} {
				stored := d.stored(t, rcpt, token)
				require.Len(t, stored, 1, "delivered to %s", rcpt)
				assertLMTPStored(t, stored[0], msg, "sender@example.org")
			}
			assert.Empty(t, d.stored(t, d.small, token))
			r, err := l.Noop()
			require.NoError(t, err)
			assert.Equal(t, 250, r.Code, "the session is still in step")
		})
	}
}

// TestDovecotLMTPDataReplies builds the transaction by hand and reads the
// replies after the data with DataReplies: one per accepted recipient, in
// RCPT order (RFC 2033 section 4.2), which Dovecot's replies show by
// naming their recipient.
func TestDovecotLMTPDataReplies(t *testing.T) {
	d := lmtpServersEnv(t)
	for _, unix := range []bool{true, false} {
		t.Run(fmt.Sprintf("unix=%t", unix), func(t *testing.T) {
			l := d.dial(t, unix)
			token := lmtpToken(t)
			msg := lmtpMessage(token, "DataReplies", false)
			r, err := l.Ehlo("")
			require.NoError(t, err)
			require.Equal(t, 250, r.Code, "LHLO: %v", r)
			r, err = l.Mail("sender@example.org")
			require.NoError(t, err)
			require.Equal(t, 250, r.Code, "MAIL: %v", r)
			accepted := []string{d.ok[1], d.ok[0]}
			r, err = l.Rcpt(d.ok[1])
			require.NoError(t, err)
			require.Equal(t, 250, r.Code, "RCPT: %v", r)
			r, err = l.Rcpt(d.full)
			require.NoError(t, err)
			assertLMTPOverQuota(t, r)
			r, err = l.Rcpt(d.ok[0])
			require.NoError(t, err)
			require.Equal(t, 250, r.Code, "RCPT: %v", r)

			replies, err := l.DataReplies(msg, len(accepted))

			require.NoError(t, err)
			require.Len(t, replies, len(accepted))
			for i, rcpt := range accepted {
				assert.Equal(t, 250, replies[i].Code, "reply %d: %v", i, replies[i])
				assert.Contains(t, replies[i].Message, "<"+rcpt+">", "reply %d names its recipient", i)
				if got := d.stored(t, rcpt, token); assert.Len(t, got, 1) {
					assertLMTPStored(t, got[0], msg, "sender@example.org")
				}
			}
			r, err = l.Noop()
			require.NoError(t, err)
			assert.Equal(t, 250, r.Code)
		})
	}
}
