// Delivery status against the real Postfix: a DSN success report that
// comes back to the sender's mailbox carrying the ENVID and ORCPT given,
// and Postfix's refusals with their enhanced status codes.

package integration

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"strings"
	"testing"

	"github.com/gosmtplib/smtplib"
	"github.com/gosmtplib/smtplib/email"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// postfix returns the Postfix entry of servers.
func postfix(t *testing.T) mailServer {
	for _, m := range servers(t) {
		if m.name == "postfix" {
			return m
		}
	}
	require.FailNow(t, "no postfix in servers()")
	return mailServer{}
}

func TestPostfixDSNSuccessReport(t *testing.T) {
	m := postfix(t)
	s := m.login(t)
	require.True(t, s.HasExtn("dsn"), "Postfix offers DSN")

	tok := token(t)
	envID := "env-" + tok
	from, to := m.user, m.ok[1] // alice sends to bob; the report comes back to alice
	original := "Bob Original+list=x@lists.example.org"
	msg := message(from, to, "dsn success", tok, "asking for a success report\r\n")
	var final smtplib.Reply
	refused, err := s.Sendmail(from, []string{to}, msg,
		smtplib.Notify(smtplib.NotifySuccess, smtplib.NotifyFailure), smtplib.Return(smtplib.ReturnHeaders),
		smtplib.EnvID(envID), smtplib.ORcpt(to, original), smtplib.FinalReply(&final))
	require.NoError(t, err)
	assert.Empty(t, refused)
	assert.Equal(t, 250, final.Code)
	assert.Equal(t, [3]int{2, 0, 0}, final.EnhancedCode())
	assert.Contains(t, final.Message, "queued as ", "the final reply names the queue id")
	_, err = s.Quit()
	require.NoError(t, err)
	m.assertStored(t, m.waitStored(t, to, tok), msg)

	// The report goes to the envelope sender and quotes the ENVID.
	reportRaw := m.waitStored(t, from, envID)
	report, err := email.ReadMessage(bytes.NewReader(reportRaw))
	require.NoError(t, err)
	require.Equal(t, "multipart/report", report.GetContentType())
	_, params, err := mime.ParseMediaType(report.Header().Get("Content-Type"))
	require.NoError(t, err)
	assert.Equal(t, "delivery-status", params["report-type"])
	parts := map[string][]byte{}
	for p := range report.IterParts() {
		body, err := p.GetContent()
		require.NoError(t, err)
		parts[p.GetContentType()] = body
	}
	status, ok := parts["message/delivery-status"]
	require.True(t, ok, "a message/delivery-status part among %v", keys(parts))
	fields := dsnFields(status)
	assert.Equal(t, envID, fields["original-envelope-id"])
	// RFC 3464 allows blanks after the type's semicolon.
	assert.Equal(t, "rfc822;"+original, strings.Replace(fields["original-recipient"], "; ", ";", 1))
	assert.Equal(t, "rfc822;"+to, strings.Replace(fields["final-recipient"], "; ", ";", 1))
	assert.Equal(t, "delivered", fields["action"])
	assert.True(t, strings.HasPrefix(fields["status"], "2."), "status %q", fields["status"])
	headers, ok := parts["text/rfc822-headers"]
	require.True(t, ok, "RET=HDRS returns the header only, among %v", keys(parts))
	assert.Contains(t, string(headers), tok)
	assert.NotContains(t, string(headers), "asking for a success report", "no body with RET=HDRS")
}

// dsnFields reads the fields of a message/delivery-status body (RFC 3464:
// header-like groups, per message then per recipient) into one map with
// lower-case names; this test has one recipient, so nothing collides.
func dsnFields(b []byte) map[string]string {
	out := map[string]string{}
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(line, " ") {
			out[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
		}
	}
	return out
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// claimedLen is a reader that says it is n bytes long, so that
// SendmailReader declares SIZE=n, without holding n bytes.
type claimedLen struct {
	io.Reader
	n int
}

func (c claimedLen) Len() int { return c.n }

// Postfix's refusals reach the caller with their enhanced status codes and
// the right answer to "retry later?".
func TestPostfixEnhancedCodes(t *testing.T) {
	m := postfix(t)
	env := serversEnv(t)
	unknown := env["POSTFIX_UNKNOWN_RCPT"]
	require.NotEmpty(t, unknown, "start.sh sets POSTFIX_UNKNOWN_RCPT")
	tempfail := env["POSTFIX_TEMPFAIL_RCPT"]
	s := m.login(t)
	msg := message(m.user, m.ok[0], "codes", token(t), "x\r\n")

	t.Run("unknown user among others", func(t *testing.T) {
		refused, err := s.Sendmail(m.user, []string{m.ok[0], unknown, tempfail}, msg)
		require.NoError(t, err)
		require.Contains(t, refused, unknown)
		assert.Equal(t, 550, refused[unknown].Code)
		assert.Equal(t, [3]int{5, 1, 1}, refused[unknown].EnhancedCode())
		assert.Contains(t, refused[unknown].Message, "User unknown")
		assert.False(t, refused[unknown].Temporary())
		require.Contains(t, refused, tempfail)
		assert.Equal(t, [3]int{4, 2, 0}, refused[tempfail].EnhancedCode())
		assert.True(t, refused[tempfail].Temporary())
	})
	t.Run("unknown user alone", func(t *testing.T) {
		_, err := s.Sendmail(m.user, []string{unknown}, msg)
		var rre *smtplib.RecipientsRefusedError
		require.True(t, errors.As(err, &rre), "%v", err)
		assert.Equal(t, [3]int{5, 1, 1}, rre.EnhancedCode())
		assert.False(t, rre.Temporary())
	})
	t.Run("too big", func(t *testing.T) {
		_, err := s.SendmailReader(m.user, []string{m.ok[0]}, claimedLen{strings.NewReader("x\r\n"), m.sizeLimit + 1})
		var sre *smtplib.SenderRefusedError
		require.True(t, errors.As(err, &sre), "%v", err)
		assert.Equal(t, 552, sre.Code)
		assert.Equal(t, [3]int{5, 3, 4}, sre.EnhancedCode())
		assert.False(t, sre.Temporary())
		var re *smtplib.ResponseError
		require.True(t, errors.As(err, &re))
		assert.Equal(t, [3]int{5, 3, 4}, re.EnhancedCode())
	})
	_, err := s.Quit()
	require.NoError(t, err)
}

// The DSN values travel xtext-encoded, and Postfix decodes them back: an
// ENVID with a space, '+' and '=' is quoted in the report as given.
func TestPostfixDSNEnvIDEncoding(t *testing.T) {
	m := postfix(t)
	s := m.login(t)
	tok := token(t)
	envID := "id " + tok + " +=x"
	msg := message(m.user, m.ok[2], "dsn envid", tok, "x\r\n")
	_, err := s.Sendmail(m.user, []string{m.ok[2]}, msg, smtplib.Notify(smtplib.NotifySuccess), smtplib.EnvID(envID))
	require.NoError(t, err)
	_, err = s.Quit()
	require.NoError(t, err)
	report := m.waitStored(t, m.user, "id "+tok)
	assert.Contains(t, string(report), "Original-Envelope-Id: "+envID)
}

// An ORCPT with a non-ASCII address goes as RFC 6533's utf-8 type, raw
// under SMTPUTF8 and \x{...}-escaped without it, and Postfix reads both
// back to the same address.
func TestPostfixDSNUTF8ORcpt(t *testing.T) {
	m := postfix(t)
	for _, smtputf8 := range []bool{true, false} {
		name := "without SMTPUTF8"
		if smtputf8 {
			name = "SMTPUTF8"
		}
		t.Run(name, func(t *testing.T) {
			s := m.login(t)
			tok := token(t)
			original := "jörg+" + tok + "@bücher.example"
			opts := []smtplib.SendOption{smtplib.Notify(smtplib.NotifySuccess), smtplib.ORcpt(m.ok[0], original), smtplib.EnvID(tok)}
			if smtputf8 {
				opts = append(opts, smtplib.MailOptions("SMTPUTF8"))
			}
			msg := message(m.user, m.ok[0], "dsn utf-8", tok, "x\r\n")
			_, err := s.Sendmail(m.user, []string{m.ok[0]}, msg, opts...)
			require.NoError(t, err)
			_, err = s.Quit()
			require.NoError(t, err)
			report := m.waitStored(t, m.user, "Original-Envelope-Id: "+tok)
			assert.Contains(t, string(report), "Original-Recipient: utf-8;"+original)
		})
	}
}
