package smtplib

import (
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

// Tests of StartTLS: the handshake, what is forgotten after it, the
// failures, and replies injected in clear after the 220.

func TestStartTLS(t *testing.T) {
	srv := newAuthServer(t, smtptest.WithSTARTTLS(), smtptest.WithAuth("PLAIN"))
	c := dialTest(t, srv)
	_, ok := c.TLSConnectionState()
	assert.False(t, ok, "no TLS before STARTTLS")
	r, err := c.StartTLS(srv.TLSConfig())
	require.NoError(t, err)
	assert.Equal(t, Reply{220, "2.0.0 Ready to start TLS"}, r)
	state, ok := c.TLSConnectionState()
	require.True(t, ok)
	assert.True(t, state.HandshakeComplete)
	assert.GreaterOrEqual(t, state.Version, uint16(tls.VersionTLS12))
	require.NotEmpty(t, state.PeerCertificates)

	// What the server said in clear is forgotten (RFC 3207 section 4.2).
	assert.True(t, c.isTLS)
	assert.Empty(t, c.HeloResp)
	assert.Empty(t, c.EhloResp)
	assert.Empty(t, c.ESMTPFeatures)
	assert.NotNil(t, c.ESMTPFeatures)
	assert.False(t, c.DoesESMTP)
	assert.False(t, c.heloDone)
	assert.False(t, c.ehloDone)
	_, ok = c.conn.(*tls.Conn)
	assert.True(t, ok, "the client talks through the TLS connection")

	// Login greets again, over TLS, where STARTTLS is no longer offered.
	r, err = c.Login("alice", "s3cret")
	require.NoError(t, err)
	assert.Equal(t, 235, r.Code)
	assert.True(t, c.DoesESMTP)
	assert.False(t, c.HasExtn("starttls"))
	_, err = c.Sendmail("alice@example.com", []string{"bob@example.com"}, []byte("Subject: hi\r\n\r\nhello\r\n"))
	require.NoError(t, err)
	_, err = c.Quit()
	require.NoError(t, err)
	_, ok = c.TLSConnectionState()
	assert.False(t, ok, "not connected after QUIT")

	require.NoError(t, srv.WaitSessions(1, 10*time.Second))
	assert.Equal(t, 2, strings.Count(srv.Transcript(), "C: ehlo client.example"))
	msgs := srv.Messages()
	require.Len(t, msgs, 1)
	assert.True(t, msgs[0].TLS)
	assert.Equal(t, "alice", msgs[0].AuthUser)
}

func TestStartTLSUsesWithTLSConfig(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithSTARTTLS())
	c := dialTest(t, srv, WithTLSConfig(srv.TLSConfig()))
	r, err := c.StartTLS(nil)
	require.NoError(t, err)
	assert.Equal(t, 220, r.Code)
	r, err = c.Noop()
	require.NoError(t, err)
	assert.Equal(t, 250, r.Code)
}

func TestStartTLSErrors(t *testing.T) {
	other, otherLeaf, err := smtptest.NewCertificate("other.example")
	require.NoError(t, err)
	trustOther := func(*smtptest.Server) *tls.Config {
		pool := x509.NewCertPool()
		pool.AddCert(otherLeaf)
		return &tls.Config{RootCAs: pool}
	}
	trustServer := func(s *smtptest.Server) *tls.Config { return s.TLSConfig() }
	system := func(*smtptest.Server) *tls.Config { return nil }

	tests := []struct {
		name   string
		opts   []smtptest.Option
		config func(*smtptest.Server) *tls.Config
		reply  Reply // returned with the error
		usable bool  // the session goes on in clear
		check  func(t *testing.T, err error)
	}{
		{
			name: "not offered", config: trustServer, usable: true,
			check: func(t *testing.T, err error) {
				var ns *NotSupportedError
				require.ErrorAs(t, err, &ns)
				assert.EqualError(t, err, "smtplib: STARTTLS extension not supported by server.")
			},
		},
		{
			name:   "454 temporarily unavailable",
			opts:   []smtptest.Option{smtptest.WithSTARTTLS(), smtptest.WithReply("STARTTLS", "454 4.7.0 TLS not available due to temporary reason")},
			config: trustServer, usable: true,
			reply: Reply{454, "4.7.0 TLS not available due to temporary reason"},
			check: func(t *testing.T, err error) {
				re, ok := err.(*ResponseError)
				require.True(t, ok, "a plain *ResponseError, got %T", err)
				assert.Equal(t, 454, re.Code)
				assert.True(t, re.Temporary())
				assert.ErrorIs(t, err, ErrSMTP)
			},
		},
		{
			name:   "501 syntax error",
			opts:   []smtptest.Option{smtptest.WithSTARTTLS(), smtptest.WithReply("STARTTLS", "501 5.5.4 Syntax error")},
			config: trustServer, usable: true,
			reply: Reply{501, "5.5.4 Syntax error"},
			check: func(t *testing.T, err error) {
				assert.EqualError(t, err, "smtplib: 501 5.5.4 Syntax error")
			},
		},
		{
			name:   "server drops during the handshake",
			opts:   []smtptest.Option{smtptest.WithSTARTTLS(), smtptest.WithFault(smtptest.Fault{At: "TLS_HANDSHAKE"})},
			config: trustServer,
			reply:  Reply{220, "2.0.0 Ready to start TLS"},
			check: func(t *testing.T, err error) {
				var sd *ServerDisconnectedError
				require.ErrorAs(t, err, &sd)
				assert.Equal(t, "TLS handshake failed", sd.Msg)
			},
		},
		{
			name:   "server drops on STARTTLS",
			opts:   []smtptest.Option{smtptest.WithSTARTTLS(), smtptest.WithFault(smtptest.Fault{At: "STARTTLS"})},
			config: trustServer,
			check: func(t *testing.T, err error) {
				var sd *ServerDisconnectedError
				assert.ErrorAs(t, err, &sd)
			},
		},
		{
			name:   "certificate not trusted by default",
			opts:   []smtptest.Option{smtptest.WithSTARTTLS()},
			config: system,
			reply:  Reply{220, "2.0.0 Ready to start TLS"},
			check: func(t *testing.T, err error) {
				var sd *ServerDisconnectedError
				require.ErrorAs(t, err, &sd)
				var cv *tls.CertificateVerificationError
				assert.ErrorAs(t, err, &cv)
			},
		},
		{
			name:   "certificate for another name",
			opts:   []smtptest.Option{smtptest.WithSTARTTLS(), smtptest.WithCertificate(other)},
			config: trustOther,
			reply:  Reply{220, "2.0.0 Ready to start TLS"},
			check: func(t *testing.T, err error) {
				var he x509.HostnameError
				require.ErrorAs(t, err, &he)
				assert.Equal(t, "127.0.0.1", he.Host)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, tt.opts...)
			c := dialTest(t, srv)
			r, err := c.StartTLS(tt.config(srv))
			require.Error(t, err)
			assert.Equal(t, tt.reply, r)
			tt.check(t, err)
			assert.False(t, c.isTLS)
			_, err = c.Noop()
			if tt.usable {
				assert.NoError(t, err)
			} else {
				var sd *ServerDisconnectedError
				assert.ErrorAs(t, err, &sd, "the client is closed")
			}
		})
	}
}

func TestStartTLSNameOverride(t *testing.T) {
	other, otherLeaf, err := smtptest.NewCertificate("other.example")
	require.NoError(t, err)
	srv := smtptest.NewServer(t, smtptest.WithSTARTTLS(), smtptest.WithCertificate(other))
	pool := x509.NewCertPool()
	pool.AddCert(otherLeaf)
	c := dialTest(t, srv)
	r, err := c.StartTLS(&tls.Config{RootCAs: pool, ServerName: "other.example"})
	require.NoError(t, err)
	assert.Equal(t, 220, r.Code)
}

// TestStartTLSDiscardsInjectedReplies checks the defence against STARTTLS
// command injection (CVE-2011-0411 and its kind, here on the client side):
// a reply that arrives in clear after the 220 is never taken for the
// reply to a command sent over TLS. The server answers STARTTLS with its
// 220 and a forged reply in the same write, as a man in the middle
// injecting into the clear stream would, then shakes hands and goes on
// honestly.
func TestStartTLSDiscardsInjectedReplies(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithSTARTTLS(), smtptest.WithReply("STARTTLS", "220 go ahead\r\n250 fake"))
	c := dialTest(t, srv)

	r, err := c.StartTLS(srv.TLSConfig())
	// The forged line reached the client's buffer with the 220, so the
	// handshake, which reads the connection itself, went through; the
	// buffer, forged line and all, was dropped.
	require.NoError(t, err)
	assert.Equal(t, Reply{220, "go ahead"}, r)

	r, err = c.Ehlo("")
	require.NoError(t, err)
	assert.Equal(t, 250, r.Code)
	assert.NotContains(t, r.Message, "fake")
	r, err = c.Noop()
	require.NoError(t, err)
	assert.Equal(t, 250, r.Code)
	assert.NotContains(t, r.Message, "fake")
	_, err = c.Quit()
	require.NoError(t, err)

	require.NoError(t, srv.WaitSessions(1, sessionWait))
	sess := srv.Sessions()[0]
	assert.True(t, sess.TLS, "the handshake went through")
	var sent []string
	for _, l := range strings.Split(sess.Transcript, "\n") {
		if v, ok := strings.CutPrefix(l, "C: "); ok {
			sent = append(sent, v)
		}
	}
	assert.Equal(t, []string{"ehlo client.example", "STARTTLS", "ehlo client.example", "noop", "quit"}, sent)
}
