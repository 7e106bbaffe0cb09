package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

func TestProgressBar(t *testing.T) {
	var b bytes.Buffer
	p := newProgressBar(&b, 200)
	p.update(0)
	p.update(1) // still 0%: not drawn again
	p.update(100)
	p.update(500) // more than the total: commands and TLS are counted too
	p.done()
	assert.Equal(t, "\rsending [                              ]   0% 0 B/200 B"+
		"\rsending [===============               ]  50% 100 B/200 B"+
		"\rsending [==============================] 100% 200 B/200 B\n", b.String())

	b.Reset()
	newProgressBar(&b, 10).done()
	assert.Empty(t, b.String(), "no bar drawn, no line ended")
}

func TestSendShowsProgressOnATerminal(t *testing.T) {
	body := strings.Repeat("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n", progressMin/64)
	for _, terminal := range []bool{true, false} {
		srv := smtptest.NewServer(t)
		h := newHarness()
		h.terminal = terminal
		r := h.run(t, sendArgs(srv, "--body", body)...)
		require.Equal(t, 0, r.code, r.stderr)
		if !terminal {
			assert.Empty(t, r.stderr)
			continue
		}
		assert.True(t, strings.HasPrefix(r.stderr, "\rsending ["), r.stderr[:min(80, len(r.stderr))])
		assert.True(t, strings.HasSuffix(r.stderr, "] 100% 1.0 MiB/1.0 MiB\n"), r.stderr[max(0, len(r.stderr)-80):])
		assert.Equal(t, 1, strings.Count(r.stderr, "\n"))
	}
}

func TestSendProgressKeepsLoopbackLogin(t *testing.T) {
	// The progress bar dials with its own dialer; a login in clear to a
	// loopback server must still work, as it does without the bar.
	srv := smtptest.NewServer(t, smtptest.WithAuth("PLAIN"), smtptest.WithUsers(map[string]string{"alice": "s3cret"}))
	h := newHarness()
	h.terminal = true
	h.env["SMTP_PASSWORD"] = "s3cret"
	r := h.run(t, sendArgs(srv, "--user", "alice", "--body", strings.Repeat("x", progressMin))...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "100%")
	got, _ := received(t, srv)
	assert.Equal(t, "alice", got.AuthUser)
}

func TestCountingDialerLoopbackOnly(t *testing.T) {
	var ip net.IP
	addrs, err := net.InterfaceAddrs()
	require.NoError(t, err)
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil && !n.IP.IsLoopback() {
			ip = n.IP
			break
		}
	}
	if ip == nil {
		t.Skip("this machine has no IPv4 address but loopback to listen on")
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(ip.String(), "0"))
	require.NoError(t, err)
	defer ln.Close()

	d := &countingDialer{now: time.Now, loopbackOnly: true}
	_, err = d.DialContext(context.Background(), "tcp", ln.Addr().String())
	assert.ErrorContains(t, err, "is not a loopback address")

	d.loopbackOnly = false
	conn, err := d.DialContext(context.Background(), "tcp", ln.Addr().String())
	require.NoError(t, err)
	conn.Close()
}
