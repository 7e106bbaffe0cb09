package main

import (
	"encoding/json"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

func TestProbePlainServer(t *testing.T) {
	srv := smtptest.NewServer(t)
	r := run1(t, "probe", srv.Addr, "--ehlo", "client.example")
	require.Equal(t, 0, r.code, r.stderr)
	want := `server      ` + srv.Addr + ` (no TLS)
dial        connected (1.0 ms)
greeting    220 smtptest.example ESMTP smtptest (1.0 ms)
EHLO        250 smtptest.example (1.0 ms)
              8BITMIME
              SIZE 33554432
              PIPELINING
              HELP
size limit  33554432 bytes (32.0 MiB)
QUIT        done (1.0 ms)
`
	assert.Equal(t, want, r.stdout)
	assert.Empty(t, r.stderr)
	require.Len(t, srv.Sessions(), 1)
	assert.Equal(t, "client.example", srv.Sessions()[0].Helo)
}

func TestProbeSTARTTLSVerified(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithSTARTTLS(), smtptest.WithAuth("PLAIN"), smtptest.WithSize(1000))
	r := run1(t, "probe", srv.Addr, "--json", "--cafile", caFile(t, srv))
	require.Equal(t, 0, r.code, r.stderr)

	var rep struct {
		Server   string
		TLSMode  string `json:"tls_mode"`
		Steps    []stepTime
		Greeting replyInfo
		EHLO     ehloInfo
		StartTLS replyInfo
		TLS      tlsInfo
		EHLOTLS  ehloInfo `json:"ehlo_tls"`
		Size     *int64   `json:"size_limit"`
		Error    string
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), r.stdout)
	assert.Equal(t, srv.Addr, rep.Server)
	assert.Equal(t, "starttls", rep.TLSMode)
	var steps []string
	for _, s := range rep.Steps {
		steps = append(steps, s.Step)
		want := 1.0
		if s.Step == "starttls" {
			want = 2 // the handshake reads the clock too
		}
		assert.Equal(t, want, s.MS, s.Step)
	}
	assert.Equal(t, []string{"dial", "greeting", "ehlo", "starttls", "ehlo_tls", "quit"}, steps)
	assert.Equal(t, 220, rep.Greeting.Code)
	assert.Equal(t, 220, rep.StartTLS.Code)
	assert.Contains(t, rep.EHLO.Extensions, extension{Keyword: "STARTTLS"})
	assert.Contains(t, rep.EHLOTLS.Extensions, extension{Keyword: "AUTH", Params: "PLAIN"})
	assert.NotContains(t, rep.EHLOTLS.Extensions, extension{Keyword: "STARTTLS"})
	assert.Equal(t, "TLS 1.3", rep.TLS.Version)
	assert.NotEmpty(t, rep.TLS.Cipher)
	assert.True(t, rep.TLS.Verified)
	assert.Empty(t, rep.TLS.VerifyError)
	assert.Equal(t, "127.0.0.1", rep.TLS.Name)
	require.Len(t, rep.TLS.Chain, 1)
	assert.Equal(t, []string{"localhost", "smtptest.example", "127.0.0.1", "::1"}, rep.TLS.Chain[0].Names)
	assert.True(t, srv.Certificate().NotAfter.Equal(rep.TLS.Chain[0].NotAfter))
	require.NotNil(t, rep.Size)
	assert.Equal(t, int64(1000), *rep.Size)
	assert.Empty(t, rep.Error)
}

func TestProbeCertificateNotTrusted(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithSTARTTLS())
	r := run1(t, "probe", srv.Addr)
	// The whole report is there, though the certificate fails.
	assert.Equal(t, exitTLS, r.code)
	assert.Contains(t, r.stdout, "STARTTLS    220 2.0.0 Ready to start TLS (2.0 ms)\n")
	assert.Contains(t, r.stdout, "\nTLS         TLS 1.3, TLS_")
	assert.Contains(t, r.stdout, "\ncert 0      CN=localhost,O=smtptest\n"+
		"              names    localhost, smtptest.example, 127.0.0.1, ::1\n"+
		"              issuer   CN=localhost,O=smtptest\n"+
		"              expires  "+srv.Certificate().NotAfter.UTC().Format("2006-01-02 15:04 UTC")+" (in 23 hours)\n")
	assert.Contains(t, r.stdout, "\nverified    NO, for 127.0.0.1: x509: certificate signed by unknown authority\n")
	assert.Contains(t, r.stdout, "\nEHLO (TLS)  250 smtptest.example (1.0 ms)\n")
	assert.Contains(t, r.stdout, "\nQUIT        done")
	assert.Equal(t, "smtp: the certificate does not verify for 127.0.0.1: x509: certificate signed by unknown authority\n", r.stderr)
}

func TestProbeCertificateForAnotherName(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithSTARTTLS())
	r := run1(t, "probe", srv.Addr, "--cafile", caFile(t, srv), "--servername", "mail.example.org", "--json")
	assert.Equal(t, exitTLS, r.code)
	var rep probeReport
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
	require.NotNil(t, rep.TLS)
	assert.False(t, rep.TLS.Verified)
	assert.Equal(t, "mail.example.org", rep.TLS.Name)
	assert.Contains(t, rep.TLS.VerifyError, "not mail.example.org")
	assert.Equal(t, "the certificate does not verify for mail.example.org: "+rep.TLS.VerifyError, rep.Error)
	assert.NotNil(t, rep.EHLOTLS, "the probe goes on after a failed verification")
}

func TestProbeImplicitTLS(t *testing.T) {
	srv := smtptest.NewUnstartedServer(t)
	srv.StartTLS()
	r := run1(t, "probe", "--tls", srv.Addr, "--cafile", caFile(t, srv))
	require.Equal(t, 0, r.code, r.stderr)
	assert.True(t, strings.HasPrefix(r.stdout, "server      "+srv.Addr+" (implicit TLS)\n"+
		"dial        connected (1.0 ms)\n"+
		"TLS         TLS 1.3, "), r.stdout)
	assert.Contains(t, r.stdout, "\nverified    yes, for 127.0.0.1\ngreeting    220 smtptest.example ESMTP smtptest (1.0 ms)\n")
	assert.NotContains(t, r.stdout, "STARTTLS")
}

func TestProbeHELOFallback(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithoutEHLO())
	r := run1(t, "probe", srv.Addr)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "\nHELO        250 smtptest.example (1.0 ms)\nsize limit  not announced\n")
}

func TestProbeFailures(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedAddr := closed.Addr().String()
	closed.Close()

	tests := []struct {
		name   string
		opts   []smtptest.Option
		args   []string
		code   int
		stderr string // the message after "smtp: " and the address
	}{
		{"greeting 554", []smtptest.Option{smtptest.WithReply("GREETING", "554 5.3.2 not today")}, nil,
			exitRefused, "connection refused by greeting: 554 5.3.2 not today"},
		{"greeting 421", []smtptest.Option{smtptest.WithReply("GREETING", "421 4.3.2 busy")}, nil,
			exitTempFail, "connection refused by greeting: 421 4.3.2 busy"},
		{"no greeting", []smtptest.Option{smtptest.WithFault(smtptest.Fault{At: "GREETING", Action: smtptest.Stall})},
			[]string{"--timeout", "50ms"}, exitTempFail, "no answer within 50ms (--timeout)"},
		{"STARTTLS refused", []smtptest.Option{smtptest.WithSTARTTLS(), smtptest.WithReply("STARTTLS", "454 4.7.0 TLS not available")}, nil,
			exitTLS, "454 4.7.0 TLS not available"},
		{"handshake dropped", []smtptest.Option{smtptest.WithSTARTTLS(), smtptest.WithFault(smtptest.Fault{At: "TLS_HANDSHAKE"})}, nil,
			exitTLS, "STARTTLS: TLS handshake failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, tt.opts...)
			r := run1(t, append([]string{"probe", srv.Addr}, tt.args...)...)
			assert.Equal(t, tt.code, r.code)
			assert.Contains(t, r.stderr, tt.stderr)
			assert.Equal(t, 1, strings.Count(r.stderr, "\n"), r.stderr)
		})
	}

	t.Run("nothing listening", func(t *testing.T) {
		r := run1(t, "probe", closedAddr)
		assert.Equal(t, exitTempFail, r.code)
		assert.Equal(t, "smtp: connect to "+closedAddr+": connection refused\n", r.stderr)
		assert.Empty(t, r.stdout)

		r = run1(t, "probe", "--json", closedAddr)
		assert.Equal(t, exitTempFail, r.code)
		assert.JSONEq(t, `{"server": "`+closedAddr+`", "tls_mode": "none", "steps": [],
			"error": "connect to `+closedAddr+`: connection refused"}`, r.stdout)
	})
}

func TestProbeUsage(t *testing.T) {
	tests := []struct {
		args   []string
		stderr string
	}{
		{[]string{"probe"}, "smtp: probe needs one HOST[:PORT] (see smtp help probe)\n"},
		{[]string{"probe", "a", "b"}, "smtp: probe needs one HOST[:PORT] (see smtp help probe)\n"},
		{[]string{"probe", "host:99999"}, "smtp: bad port \"99999\" in \"host:99999\"\n"},
		{[]string{"probe", "host", "--nosuch"}, "smtp: flag provided but not defined: --nosuch\n"},
		{[]string{"probe", "--cafile", "/nonexistent/ca.pem", "host"}, "smtp: --cafile: open /nonexistent/ca.pem: no such file or directory\n"},
		{[]string{"frobnicate"}, "smtp: unknown command \"frobnicate\" (want probe, send, serve or help)\n"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := run1(t, tt.args...)
			assert.Equal(t, exitUsage, r.code)
			assert.Equal(t, tt.stderr, r.stderr)
			assert.Empty(t, r.stdout)
		})
	}
}

func TestProbeDebugTranscript(t *testing.T) {
	srv := smtptest.NewServer(t)
	r := run1(t, "probe", "--debug", srv.Addr, "--ehlo", "client.example")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "send: 'ehlo client.example\\r\\n'\n")
	assert.Contains(t, r.stderr, "reply: b'250-smtptest.example\\r\\n'\n")
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help", "probe"}, {"probe", "-h"}} {
		r := run1(t, args...)
		assert.Equal(t, 0, r.code)
		assert.Contains(t, r.stdout, "Usage: smtp probe [flags] HOST[:PORT]")
		assert.Contains(t, r.stdout, "  --cafile file")
	}
	r := run1(t, "help", "send")
	assert.Equal(t, 0, r.code)
	assert.Contains(t, r.stdout, "  -t, --to address")
	assert.Contains(t, r.stdout, "  --tls, --tls-on-connect, --tlsc\n")
	r = run1(t)
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "Usage:")
}
