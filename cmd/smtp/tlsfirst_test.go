package main

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

// shortTLSFirstWait makes the silence before the TLS probe short for the
// test.
func shortTLSFirstWait(t *testing.T) {
	old := tlsFirstWait
	tlsFirstWait = 50 * time.Millisecond
	t.Cleanup(func() { tlsFirstWait = old })
}

func TestTLSFirstSilentServer(t *testing.T) {
	shortTLSFirstWait(t)
	srv := smtptest.NewUnstartedServer(t)
	srv.StartTLS()
	for _, cmd := range [][]string{
		{"send", "-s", srv.Addr, "-f", "a@example.com", "-t", "b@example.org"},
		{"probe", srv.Addr},
	} {
		t.Run(cmd[0], func(t *testing.T) {
			start := time.Now()
			// The timeout is long: only the probe can end the wait soon.
			r := run1(t, append(cmd, "--timeout", "1m")...)
			assert.Less(t, time.Since(start), 30*time.Second)
			assert.Equal(t, exitTLS, r.code)
			assert.Contains(t, r.stderr, "smtp: connect to "+srv.Addr+": the server seems to expect TLS first: try --tls\n")
		})
	}
	r := run1(t, "send", "-s", srv.Addr, "--tls-on-connect", "--cafile", caFile(t, srv), "-f", "a@example.com", "-t", "b@example.org")
	assert.Equal(t, 0, r.code, "and --tls-on-connect is --tls: %s", r.stderr)
}

func TestTLSFirstRecord(t *testing.T) {
	// A server that sends a TLS record at once, as none should but a
	// proxy might: no probe is needed.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.Write([]byte{0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28}) // a fatal alert
			conn.Close()
		}
	}()
	old := tlsFirstWait
	tlsFirstWait = time.Hour // so that only the first byte can tell
	t.Cleanup(func() { tlsFirstWait = old })
	r := run1(t, "send", "-s", ln.Addr().String(), "-f", "a@example.com", "-t", "b@example.org")
	assert.Equal(t, exitTLS, r.code)
	assert.Equal(t, "smtp: connect to "+ln.Addr().String()+": the server seems to expect TLS first: try --tls\n", r.stderr)
}

func TestTLSFirstSlowGreeting(t *testing.T) {
	// A plain server that keeps a client waiting, as postscreen does, is
	// not taken for a TLS one: the probe's connection gets a greeting in
	// plain text, and the command waits for the first one's to time out.
	shortTLSFirstWait(t)
	srv := smtptest.NewServer(t, smtptest.WithFault(smtptest.Fault{At: "GREETING", Action: smtptest.Stall}))
	r := run1(t, "send", "-s", srv.Addr, "-f", "a@example.com", "-t", "b@example.org", "--timeout", "300ms")
	assert.Equal(t, exitTempFail, r.code)
	assert.Equal(t, "smtp: connect to "+srv.Addr+": no answer within 300ms (--timeout)\n", r.stderr)
}

func TestTLSToPlainServer(t *testing.T) {
	srv := smtptest.NewServer(t)
	for _, cmd := range [][]string{
		{"send", "-s", srv.Addr, "--tls", "-f", "a@example.com", "-t", "b@example.org"},
		{"probe", "--tls", srv.Addr},
	} {
		r := run1(t, cmd...)
		assert.Equal(t, exitTLS, r.code)
		assert.Contains(t, r.stderr, `: the server answered in plain text ("220 s"), not TLS: drop --tls, `+
			"or use --starttls to switch to TLS after the greeting\n")
	}
}

func TestSpeaksTLS(t *testing.T) {
	tlsSrv := smtptest.NewUnstartedServer(t)
	tlsSrv.StartTLS()
	plain := smtptest.NewServer(t)
	addr := func(s *smtptest.Server) net.Addr {
		a, err := net.ResolveTCPAddr("tcp", s.Addr)
		require.NoError(t, err)
		return a
	}
	assert.True(t, speaksTLS(addr(tlsSrv), 10*time.Second))
	assert.False(t, speaksTLS(addr(plain), 10*time.Second))
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedAddr := closed.Addr()
	closed.Close()
	assert.False(t, speaksTLS(closedAddr, time.Second))
}
