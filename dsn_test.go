package smtplib

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/internal/xtext"
	"github.com/gosmtplib/smtplib/smtptest"
)

// dsnModes are the transaction modes with DSN offered.
func dsnModes() []struct {
	name string
	ext  []string
} {
	out := append(modes[:0:0], modes...)
	for i := range out {
		out[i].ext = append(append([]string{}, out[i].ext...), "DSN")
	}
	return out
}

// mailLines returns the MAIL and RCPT lines the client sent, as the server
// logged them.
func mailLines(srv *smtptest.Server) []string {
	var out []string
	for _, l := range strings.Split(srv.Transcript(), "\n") {
		if strings.HasPrefix(l, "C: mail ") || strings.HasPrefix(l, "C: rcpt ") {
			out = append(out, strings.TrimPrefix(l, "C: "))
		}
	}
	return out
}

func TestDSNParameters(t *testing.T) {
	for _, mode := range dsnModes() {
		t.Run(mode.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, smtptest.WithExtensions(mode.ext...))
			c := dialTest(t, srv)
			refused, err := c.Sendmail("s@example.com", []string{"a@example.com", "Bee <b@example.com>"}, []byte("Subject: x\r\n\r\nhi\r\n"),
				Notify(NotifySuccess, NotifyFailure, NotifySuccess), Return(ReturnHeaders), EnvID("id 1+2=3"),
				ORcpt("b@example.com", "orig+x=y@example.com"), RcptOptions("X-TEST=1"))
			require.NoError(t, err)
			assert.Empty(t, refused)
			assert.Equal(t, []string{
				"mail from:<s@example.com> size=18 RET=HDRS ENVID=id+201+2B2+3D3",
				"rcpt to:<a@example.com> X-TEST=1 NOTIFY=SUCCESS,FAILURE",
				"rcpt to:<b@example.com> X-TEST=1 NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;orig+2Bx+3Dy@example.com",
			}, mailLines(srv))
			msgs := srv.Messages()
			require.Len(t, msgs, 1)
			m := msgs[0]
			assert.Equal(t, "HDRS", m.Ret)
			assert.Equal(t, "id 1+2=3", m.EnvID)
			assert.Equal(t, []smtptest.RcptDSN{
				{Notify: []string{"SUCCESS", "FAILURE"}},
				{Notify: []string{"SUCCESS", "FAILURE"}, ORcptType: "rfc822", ORcpt: "orig+x=y@example.com"},
			}, m.DSN)
		})
	}
}

func TestDSNNotifyNever(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithDSN())
	c := dialTest(t, srv)
	_, err := c.Sendmail("s@example.com", []string{"a@example.com"}, []byte("x\r\n"), Notify(NotifyNever), Return(ReturnFull))
	require.NoError(t, err)
	m := srv.Messages()
	require.Len(t, m, 1)
	assert.Equal(t, "FULL", m[0].Ret)
	assert.Equal(t, []smtptest.RcptDSN{{Notify: []string{"NEVER"}}}, m[0].DSN)
}

// ORCPT's address type follows the transaction: rfc822 for ASCII, utf-8
// (RFC 6533) with raw UTF-8 under SMTPUTF8, and utf-8 with \x{...}
// escapes for a non-ASCII address without it.
func TestDSNORcptAddressType(t *testing.T) {
	tests := []struct {
		name     string
		smtputf8 bool
		original string
		wire     string
	}{
		{"ascii", false, "a b@example.com", "ORCPT=rfc822;a+20b@example.com"},
		{"ascii under SMTPUTF8", true, "a+b@example.com", `ORCPT=utf-8;a\x{2B}b@example.com`},
		{"unicode under SMTPUTF8", true, "jörg=x@bücher.example", `ORCPT=utf-8;jörg\x{3D}x@bücher.example`},
		{"unicode without SMTPUTF8", false, `jörg\😀@example.com`, `ORCPT=utf-8;j\x{F6}rg\x{5C}\x{1F600}@example.com`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, smtptest.WithDSN(), smtptest.WithSMTPUTF8())
			c := dialTest(t, srv)
			opts := []SendOption{ORcpt("a@example.com", tt.original)}
			if tt.smtputf8 {
				opts = append(opts, MailOptions("SMTPUTF8"))
			}
			_, err := c.Sendmail("s@example.com", []string{"a@example.com"}, []byte("x\r\n"), opts...)
			require.NoError(t, err)
			lines := mailLines(srv)
			require.Len(t, lines, 2)
			assert.Equal(t, "rcpt to:<a@example.com> "+tt.wire, lines[1])
			m := srv.Messages()
			require.Len(t, m, 1)
			typ := "rfc822"
			if strings.HasPrefix(tt.wire, "ORCPT=utf-8") {
				typ = "utf-8"
			}
			assert.Equal(t, []smtptest.RcptDSN{{ORcptType: typ, ORcpt: tt.original}}, m[0].DSN)
		})
	}
}

// Bad values and missing extensions are refused before anything is sent,
// and the connection stays usable.
func TestDSNRefusedBeforeWrite(t *testing.T) {
	long := strings.Repeat("x", 101)
	tests := []struct {
		name    string
		ext     []string
		opts    []SendOption
		support bool // a *NotSupportedError rather than a *CommandError
	}{
		{"empty notify", []string{"DSN"}, []SendOption{Notify()}, false},
		{"never and success", []string{"DSN"}, []SendOption{Notify(NotifyNever, NotifySuccess)}, false},
		{"unknown notify", []string{"DSN"}, []SendOption{Notify("SUCCESS,FAILURE")}, false},
		{"lower-case notify", []string{"DSN"}, []SendOption{Notify("success")}, false},
		{"notify with CRLF", []string{"DSN"}, []SendOption{Notify("SUCCESS\r\nRSET")}, false},
		{"notify with a parameter", []string{"DSN"}, []SendOption{Notify("NEVER ORCPT=rfc822;x")}, false},
		{"unknown ret", []string{"DSN"}, []SendOption{Return("ALL")}, false},
		{"ret with a parameter", []string{"DSN"}, []SendOption{Return("FULL ENVID=x")}, false},
		{"empty envid", []string{"DSN"}, []SendOption{EnvID("")}, false},
		{"envid over 100", []string{"DSN"}, []SendOption{EnvID(long)}, false},
		{"envid with CRLF", []string{"DSN"}, []SendOption{EnvID("a\r\nRSET")}, false},
		{"envid not ascii", []string{"DSN"}, []SendOption{EnvID("é")}, false},
		{"orcpt unknown recipient", []string{"DSN"}, []SendOption{ORcpt("z@example.com", "z@example.com")}, false},
		{"orcpt empty", []string{"DSN"}, []SendOption{ORcpt("a@example.com", "")}, false},
		{"orcpt with LF", []string{"DSN"}, []SendOption{ORcpt("a@example.com", "x\nDATA")}, false},
		{"orcpt bad utf-8", []string{"DSN"}, []SendOption{ORcpt("a@example.com", "x\xff@example.com")}, false},
		{"ret twice", []string{"DSN"}, []SendOption{Return(ReturnFull), MailOptions("RET=HDRS")}, false},
		{"notify twice", []string{"DSN"}, []SendOption{Notify(NotifyDelay), RcptOptions("notify=NEVER")}, false},
		{"final reply nil", []string{"DSN"}, []SendOption{FinalReply(nil)}, false},
		{"bad value without DSN", nil, []SendOption{Notify()}, false},
		{"notify without DSN", nil, []SendOption{Notify(NotifySuccess)}, true},
		{"ret without DSN", nil, []SendOption{Return(ReturnFull)}, true},
		{"envid without DSN", nil, []SendOption{EnvID("x")}, true},
		{"orcpt without DSN", nil, []SendOption{ORcpt("a@example.com", "a@example.com")}, true},
		{"requiretls in clear", []string{"REQUIRETLS"}, []SendOption{RequireTLS()}, true},
		{"requiretls not offered", nil, []SendOption{RequireTLS()}, true},
	}
	for _, mode := range modes {
		for _, tt := range tests {
			t.Run(mode.name+"/"+tt.name, func(t *testing.T) {
				srv := smtptest.NewServer(t, smtptest.WithExtensions(append(append([]string{}, mode.ext...), tt.ext...)...))
				c := dialTest(t, srv)
				_, err := c.Ehlo("")
				require.NoError(t, err)
				before := srv.Transcript()

				refused, err := c.Sendmail("s@example.com", []string{"a@example.com"}, []byte("x\r\n"), tt.opts...)

				assert.Nil(t, refused)
				if tt.support {
					var ne *NotSupportedError
					assert.ErrorAs(t, err, &ne)
				} else {
					var ce *CommandError
					assert.ErrorAs(t, err, &ce)
				}
				r, err := c.Noop()
				require.NoError(t, err, "the connection stays usable")
				assert.Equal(t, 250, r.Code)
				assert.Equal(t, before+"C: noop\nS: 250 2.0.0 Ok\n", srv.Transcript(), "nothing but the NOOP was written")
			})
		}
	}
}

// A server that only took HELO has no DSN: the options are refused, not
// dropped as raw MailOptions are.
func TestDSNAfterHELO(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithoutEHLO(), smtptest.WithDSN())
	c := dialTest(t, srv)
	_, err := c.Sendmail("s@example.com", []string{"a@example.com"}, []byte("x\r\n"), Notify(NotifyFailure))
	var ne *NotSupportedError
	require.ErrorAs(t, err, &ne)
	assert.Empty(t, srv.Messages())
}

func TestRequireTLS(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithSTARTTLS(), smtptest.WithRequireTLS(), smtptest.WithDSN())
	c := dialTest(t, srv)
	_, err := c.Ehlo("")
	require.NoError(t, err)
	assert.False(t, c.HasExtn("requiretls"), "offered only under TLS")
	_, err = c.Sendmail("s@example.com", []string{"a@example.com"}, []byte("x\r\n"), RequireTLS())
	var ne *NotSupportedError
	require.ErrorAs(t, err, &ne)
	assert.EqualError(t, err, "smtplib: REQUIRETLS needs a TLS session: call StartTLS or use DialSSL first")

	_, err = c.StartTLS(srv.TLSConfig())
	require.NoError(t, err)
	_, err = c.Sendmail("s@example.com", []string{"a@example.com"}, []byte("x\r\n"), RequireTLS(), EnvID("e"))
	require.NoError(t, err)
	msgs := srv.Messages()
	require.Len(t, msgs, 1)
	assert.True(t, msgs[0].RequireTLS)
	assert.True(t, msgs[0].TLS)
	assert.Equal(t, "e", msgs[0].EnvID)
	assert.Contains(t, mailLines(srv), "mail from:<s@example.com> size=3 ENVID=e REQUIRETLS")

	// Under TLS, to a server that does not offer it: refused before MAIL.
	srv = smtptest.NewServer(t, smtptest.WithSTARTTLS())
	c = dialTest(t, srv)
	_, err = c.StartTLS(srv.TLSConfig())
	require.NoError(t, err)
	_, err = c.Sendmail("s@example.com", []string{"a@example.com"}, []byte("x\r\n"), RequireTLS())
	require.ErrorAs(t, err, &ne)
	assert.EqualError(t, err, "smtplib: REQUIRETLS not supported by server")
	assert.Empty(t, mailLines(srv), "nothing was sent")
}

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
