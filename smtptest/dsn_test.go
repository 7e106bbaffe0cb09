package smtptest_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

func TestDSNRecorded(t *testing.T) {
	s := smtptest.NewServer(t, smtptest.WithDSN())
	c := dialGreeted(t, s)
	assert.Equal(t, "250 2.1.0 Ok", c.cmd("MAIL FROM:<a@example.com> RET=hdrs ENVID=QQ+2B+3D+20x"))
	assert.Equal(t, "250 2.1.5 Ok", c.cmd("RCPT TO:<b@example.com> NOTIFY=success,DELAY ORCPT=rfc822;b+2Bx@example.com"))
	assert.Equal(t, "250 2.1.5 Ok", c.cmd(`RCPT TO:<c@example.com> ORCPT=UTF-8;j\x{F6}rg\x{20}x@b\x{FC}cher.example`))
	assert.Equal(t, "250 2.1.5 Ok", c.cmd("RCPT TO:<d@example.com>"))
	assert.Equal(t, "354 End data with <CR><LF>.<CR><LF>", c.cmd("DATA"))
	c.send("x\r\n.\r\n")
	assert.True(t, strings.HasPrefix(c.reply(), "250 2.0.0 Ok: queued as "))

	m := s.Messages()
	require.Len(t, m, 1)
	assert.Equal(t, "HDRS", m[0].Ret)
	assert.Equal(t, "QQ+= x", m[0].EnvID)
	assert.Equal(t, []smtptest.RcptDSN{
		{Notify: []string{"SUCCESS", "DELAY"}, ORcptType: "rfc822", ORcpt: "b+x@example.com"},
		{ORcptType: "utf-8", ORcpt: "jörg x@bücher.example"},
		{},
	}, m[0].DSN)
	assert.False(t, m[0].RequireTLS)
}

func TestDSNMalformedRefused(t *testing.T) {
	tests := []struct{ cmd, reply string }{
		{"MAIL FROM:<a@example.com> RET=ALL", "501 5.5.4 Bad RET parameter syntax"},
		{"MAIL FROM:<a@example.com> ENVID=a+2", "501 5.5.4 Bad ENVID parameter syntax"},
		{"MAIL FROM:<a@example.com> ENVID=a+0D", "501 5.5.4 Bad ENVID parameter syntax"},
		{"MAIL FROM:<a@example.com> ENVID=" + strings.Repeat("x", 101), "501 5.5.4 Bad ENVID parameter syntax"},
		{"MAIL FROM:<a@example.com> ENVID=", "501 5.5.4 Bad ENVID parameter syntax"},
		{"RCPT TO:<b@example.com> NOTIFY=NEVER,SUCCESS", "501 5.5.4 Error: Bad NOTIFY parameter syntax"},
		{"RCPT TO:<b@example.com> NOTIFY=SOMETIMES", "501 5.5.4 Error: Bad NOTIFY parameter syntax"},
		{"RCPT TO:<b@example.com> NOTIFY=", "501 5.5.4 Error: Bad NOTIFY parameter syntax"},
		{"RCPT TO:<b@example.com> NOTIFY=DELAY,DELAY", "501 5.5.4 Error: Bad NOTIFY parameter syntax"},
		{"RCPT TO:<b@example.com> ORCPT=b@example.com", "501 5.5.4 Error: Bad ORCPT parameter syntax"},
		{"RCPT TO:<b@example.com> ORCPT=rfc822;", "501 5.5.4 Error: Bad ORCPT parameter syntax"},
		{"RCPT TO:<b@example.com> ORCPT=rfc822;a+ZZ", "501 5.5.4 Error: Bad ORCPT parameter syntax"},
		{"RCPT TO:<b@example.com> ORCPT=utf-8;a+b", "501 5.5.4 Error: Bad ORCPT parameter syntax"},
		{`RCPT TO:<b@example.com> ORCPT=utf-8;a\x{D800}`, "501 5.5.4 Error: Bad ORCPT parameter syntax"},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			s := smtptest.NewServer(t, smtptest.WithDSN())
			c := dialGreeted(t, s)
			if strings.HasPrefix(tt.cmd, "RCPT") {
				require.Equal(t, "250 2.1.0 Ok", c.cmd("MAIL FROM:<a@example.com>"))
			}
			assert.Equal(t, tt.reply, c.cmd(tt.cmd))
		})
	}
}

// Without DSN the parameters are not read, as before DSN existed.
func TestDSNWithheld(t *testing.T) {
	s := smtptest.NewServer(t)
	c := dialGreeted(t, s)
	assert.Equal(t, "250 2.1.0 Ok", c.cmd("MAIL FROM:<a@example.com> RET=ALL"))
	assert.Equal(t, "250 2.1.5 Ok", c.cmd("RCPT TO:<b@example.com> NOTIFY=SOMETIMES"))
	assert.Equal(t, "354 End data with <CR><LF>.<CR><LF>", c.cmd("DATA"))
	c.send("x\r\n.\r\n")
	assert.True(t, strings.HasPrefix(c.reply(), "250 "))
	m := s.Messages()
	require.Len(t, m, 1)
	assert.Nil(t, m[0].DSN)
	assert.Empty(t, m[0].Ret)
	assert.Equal(t, [][]string{{"NOTIFY=SOMETIMES"}}, m[0].RcptOptions)
}

func TestRequireTLSOffered(t *testing.T) {
	s := smtptest.NewServer(t, smtptest.WithSTARTTLS(), smtptest.WithRequireTLS(), smtptest.WithEnhancedStatusCodes())
	c := dial(t, s)
	c.reply()
	ehlo := c.cmd("EHLO client.example")
	assert.NotContains(t, ehlo, "REQUIRETLS", "not offered in clear text")
	assert.Contains(t, ehlo, "ENHANCEDSTATUSCODES")
	assert.Equal(t, "530 5.7.10 REQUIRETLS needs a TLS session with a server that offers it", c.cmd("MAIL FROM:<a@example.com> REQUIRETLS"))

	require.True(t, strings.HasPrefix(c.cmd("STARTTLS"), "220"))
	require.NoError(t, c.starttls(s, "localhost"))
	assert.Contains(t, c.cmd("EHLO client.example"), "REQUIRETLS")
	assert.Equal(t, "250 2.1.0 Ok", c.cmd("MAIL FROM:<a@example.com> REQUIRETLS"))
	assert.Equal(t, "250 2.1.5 Ok", c.cmd("RCPT TO:<b@example.com>"))
	assert.Equal(t, "354 End data with <CR><LF>.<CR><LF>", c.cmd("DATA"))
	c.send("x\r\n.\r\n")
	assert.True(t, strings.HasPrefix(c.reply(), "250 "))
	m := s.Messages()
	require.Len(t, m, 1)
	assert.True(t, m[0].RequireTLS)
	assert.Nil(t, m[0].DSN, "DSN not offered: nothing decoded")
}

func TestEnhancedStatusCodesOption(t *testing.T) {
	s := smtptest.NewServer(t, smtptest.WithEnhancedStatusCodes(), smtptest.WithoutEnhancedStatusCodes(),
		smtptest.WithRefuseRecipient("scripted@example.com", "550 5.1.1 scripted"))
	c := dial(t, s)
	c.reply()
	ehlo := c.cmd("EHLO client.example")
	assert.NotContains(t, ehlo, "ENHANCEDSTATUSCODES")
	assert.Equal(t, "250 Ok", c.cmd("MAIL FROM:<a@example.com>"))
	assert.Equal(t, "550 5.1.1 scripted", c.cmd("RCPT TO:<scripted@example.com>"), "scripted replies as given")
	assert.Equal(t, "250 Ok", c.cmd("RCPT TO:<b@example.com>"))
	assert.Equal(t, "503 Error: nested MAIL command", c.cmd("MAIL FROM:<a@example.com>"))
	assert.Equal(t, "354 End data with <CR><LF>.<CR><LF>", c.cmd("DATA"))
	c.send("x\r\n.\r\n")
	assert.True(t, strings.HasPrefix(c.reply(), "250 Ok: queued as "))
	assert.Equal(t, "221 Bye", c.cmd("QUIT"))
}
