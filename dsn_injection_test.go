package smtplib

import (
	"strings"
	"testing"

	"github.com/gosmtplib/smtplib/internal/xtext"
	"github.com/gosmtplib/smtplib/smtptest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostileValues try to end a DSN value and start another parameter or
// command.
var hostileValues = []string{
	"x NOTIFY=NEVER", "x\r\nRSET", "x\nDATA", "x\rQUIT", "a=b", "+2B", "x ORCPT=rfc822;y",
	"x> ORCPT=rfc822;y", "x\x00y", "\\x{20}ORCPT=x", "é ü", "x\tRET=FULL", " ", "=",
}

// checkStatusLines parses the MAIL and RCPT arguments the way a server
// does (path, then space-separated parameters) and checks that the DSN
// options added exactly their own parameters, whose values decode to what
// was given.
func checkStatusLines(t *testing.T, mail, rcpt string, mailPre []string, envID, original string) {
	t.Helper()
	for _, line := range []string{mail, rcpt} {
		require.False(t, strings.ContainsAny(line, "\r\n\x00"), "%q", line)
	}
	mp := strings.Split(mail[strings.IndexByte(mail, '>')+1:], " ")
	want := append(append([]string{""}, mailPre...), "RET=HDRS", "ENVID="+xtext.Encode(envID))
	require.Equal(t, want, mp, "MAIL parameters of %q", mail)
	dec, err := xtext.Decode(strings.TrimPrefix(mp[len(mp)-1], "ENVID="))
	require.NoError(t, err)
	assert.Equal(t, envID, dec)

	rp := strings.Split(rcpt[strings.IndexByte(rcpt, '>')+1:], " ")
	require.Len(t, rp, 3, "RCPT parameters of %q", rcpt)
	assert.Equal(t, "NOTIFY=DELAY", rp[1])
	typ, val, ok := strings.Cut(strings.TrimPrefix(rp[2], "ORCPT="), ";")
	require.True(t, ok, "%q", rp[2])
	switch typ {
	case "rfc822":
		dec, err = xtext.Decode(val)
	case "utf-8":
		dec, err = xtext.DecodeUTF8Addr(val)
	default:
		t.Fatalf("ORCPT type %q", typ)
	}
	require.NoError(t, err)
	assert.Equal(t, original, dec)
}

// dsnEnvelope builds the envelope a DSN-offering server would get.
func dsnEnvelope(envID, original string, smtputf8 bool) (*envelope, error) {
	s := New()
	s.DoesESMTP = true
	s.ESMTPFeatures = map[string]string{"dsn": "", "smtputf8": ""}
	opts := []SendOption{Return(ReturnHeaders), EnvID(envID), Notify(NotifyDelay), ORcpt("a@example.com", original)}
	if smtputf8 {
		opts = append(opts, MailOptions("SMTPUTF8"))
	}
	o, err := collectSendOptions("Sendmail", opts, true)
	if err != nil {
		return nil, err
	}
	return s.buildEnvelope("s@example.com", []string{"a@example.com"}, &body{size: -1}, o)
}

// No value given to a DSN option can add a parameter or a command: it is
// refused, or it travels encoded inside its own parameter, on a real
// server's transcript as in the built envelope.
func TestDSNValuesCannotInject(t *testing.T) {
	for _, v := range hostileValues {
		t.Run(v, func(t *testing.T) {
			srv := smtptest.NewServer(t, smtptest.WithDSN(), smtptest.WithPipelining())
			c := dialTest(t, srv)
			_, err := c.Sendmail("s@example.com", []string{"a@example.com"}, []byte("x\r\n"),
				Return(ReturnHeaders), EnvID(v), Notify(NotifyDelay), ORcpt("a@example.com", v))
			if err != nil {
				var ce *CommandError
				require.ErrorAs(t, err, &ce)
				assert.NotContains(t, srv.Transcript(), "C: mail")
				// The value that is refused for ENVID may be a fine
				// ORCPT: check that one alone.
				_, err = c.Sendmail("s@example.com", []string{"a@example.com"}, []byte("x\r\n"), ORcpt("a@example.com", v))
				if err != nil {
					require.ErrorAs(t, err, &ce)
					assert.NotContains(t, srv.Transcript(), "C: mail")
					return
				}
				m := srv.Messages()
				require.Len(t, m, 1)
				assert.Equal(t, v, m[0].DSN[0].ORcpt)
				return
			}
			lines := mailLines(srv)
			require.Len(t, lines, 2, "one MAIL and one RCPT: %q", lines)
			checkStatusLines(t, lines[0], lines[1], []string{"size=3"}, v, v)
			m := srv.Messages()
			require.Len(t, m, 1)
			assert.Equal(t, v, m[0].EnvID)
			assert.Equal(t, v, m[0].DSN[0].ORcpt)
		})
	}
}

// FuzzDSNValues checks the same for any value.
func FuzzDSNValues(f *testing.F) {
	for _, v := range hostileValues {
		f.Add(v, v, false)
		f.Add(v, v, true)
	}
	f.Fuzz(func(t *testing.T, envID, original string, smtputf8 bool) {
		e, err := dsnEnvelope(envID, original, smtputf8)
		if err != nil {
			var ce *CommandError
			require.ErrorAs(t, err, &ce)
			return
		}
		var pre []string
		if smtputf8 {
			pre = []string{"SMTPUTF8"}
		}
		checkStatusLines(t, e.mail, e.rcpts[0], pre, envID, original)
	})
}
