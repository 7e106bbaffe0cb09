package smtptest_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

func TestSTARTTLS(t *testing.T) {
	for _, name := range []string{"localhost", "127.0.0.1", "mx.test"} {
		t.Run(name, func(t *testing.T) {
			s := smtptest.NewServer(t, smtptest.WithHostname("mx.test"), smtptest.WithSTARTTLS())
			c := dial(t, s)
			c.run([]step{
				{"", "220 mx.test ESMTP smtptest"},
				{"EHLO c\r\n", "250-mx.test\n250-8BITMIME\n250-SIZE 33554432\n250-PIPELINING\n250-HELP\n250 STARTTLS"},
				{"STARTTLS\r\n", "220 2.0.0 Ready to start TLS"},
			})
			require.NoError(t, c.starttls(s, name))
			c.run([]step{
				// The server forgot the EHLO (RFC 3207 section 4.2).
				{"MAIL FROM:<a@example.com>\r\n", "503 5.5.1 Error: send HELO/EHLO first"},
				{"EHLO c2\r\n", "250-mx.test\n250-8BITMIME\n250-SIZE 33554432\n250-PIPELINING\n250 HELP"},
				{"STARTTLS\r\n", "554 5.5.1 Error: TLS already active"},
			})
			assert.Equal(t, queued1, c.sendMail("a@example.com", []string{"b@example.com"}, "secret\r\n"))
			msgs := s.Messages()
			require.Len(t, msgs, 1)
			assert.True(t, msgs[0].TLS)
			assert.Equal(t, "c2", msgs[0].Helo)
			assert.True(t, s.Sessions()[0].TLS)
		})
	}
}

func TestSTARTTLSDiscardsInjectedCommands(t *testing.T) {
	s := smtptest.NewServer(t, smtptest.WithSTARTTLS())
	c := dialGreeted(t, s)
	c.send("STARTTLS\r\nMAIL FROM:<evil@example.com>\r\n")
	assert.Equal(t, "220 2.0.0 Ready to start TLS", c.reply())
	require.NoError(t, c.starttls(s, "localhost"))
	// Had the MAIL survived, this would be its reply.
	assert.Equal(t, "250 2.0.0 Ok", c.cmd("NOOP"))
	assert.Contains(t, s.Transcript(), "C: <30 bytes discarded before TLS>\n")
	assert.NotContains(t, s.Transcript(), "C: MAIL")
}

func TestSTARTTLSErrors(t *testing.T) {
	s := smtptest.NewServer(t, smtptest.WithSTARTTLS())
	c := dialGreeted(t, s)
	assert.Equal(t, "501 5.5.4 Syntax: STARTTLS", c.cmd("STARTTLS now"))
	c.send("STARTTLS\r\n")
	assert.Equal(t, "220 2.0.0 Ready to start TLS", c.reply())
	// A plaintext command instead of a ClientHello ends the session.
	c.send("EHLO c\r\n")
	assert.True(t, c.closed())
	require.NoError(t, s.WaitSessions(1, ioTimeout))
	assert.False(t, s.Sessions()[0].TLS)
}

func TestImplicitTLS(t *testing.T) {
	s := smtptest.NewUnstartedServer(t, smtptest.WithSTARTTLS())
	s.StartTLS()
	cfg := s.TLSConfig()
	cfg.ServerName = "localhost"
	conn, err := tls.Dial("tcp", s.Addr, cfg)
	require.NoError(t, err)
	defer conn.Close()
	c := newClient(t, conn)
	c.run([]step{
		{"", banner},
		// Already under TLS: STARTTLS is not offered.
		{"EHLO c\r\n", ehloOK},
	})
	assert.Equal(t, queued1, c.sendMail("a@example.com", []string{"b@example.com"}, "x\r\n"))
	require.Len(t, s.Messages(), 1)
	assert.True(t, s.Messages()[0].TLS)
}

func TestImplicitTLSRefusesPlaintext(t *testing.T) {
	s := smtptest.NewUnstartedServer(t)
	s.StartTLS()
	c := dial(t, s)
	c.send("EHLO c\r\n")
	assert.True(t, c.closed())
}

func TestCertificate(t *testing.T) {
	s := smtptest.NewServer(t, smtptest.WithHostname("mx.test"))
	cert := s.Certificate()
	require.NotNil(t, cert)
	assert.Same(t, cert, s.Certificate(), "made once")
	assert.ElementsMatch(t, []string{"localhost", "mx.test"}, cert.DNSNames)
	require.Len(t, cert.IPAddresses, 2)
	assert.True(t, cert.IPAddresses[0].Equal(net.IPv4(127, 0, 0, 1)))
	assert.True(t, cert.IPAddresses[1].Equal(net.IPv6loopback))
	assert.True(t, cert.IsCA)
	assert.Equal(t, x509.KeyUsageCertSign|x509.KeyUsageDigitalSignature, cert.KeyUsage)
	assert.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, cert.ExtKeyUsage)
	assert.WithinDuration(t, time.Now().Add(-time.Hour), cert.NotBefore, time.Minute)
	assert.WithinDuration(t, time.Now().Add(24*time.Hour), cert.NotAfter, time.Minute)
	key, ok := cert.PublicKey.(*ecdsa.PublicKey)
	require.True(t, ok)
	assert.Equal(t, elliptic.P256(), key.Curve)

	cfg := s.TLSConfig()
	assert.NotNil(t, cfg.RootCAs)
	assert.False(t, cfg.InsecureSkipVerify)
	assert.Empty(t, cfg.ServerName)
	assert.NotSame(t, cfg, s.TLSConfig(), "each call returns a new config")
}

func TestWithCertificateForAnotherName(t *testing.T) {
	other, leaf, err := smtptest.NewCertificate("other.example", "192.0.2.1")
	require.NoError(t, err)
	assert.Equal(t, []string{"other.example"}, leaf.DNSNames)
	require.Len(t, leaf.IPAddresses, 1)
	assert.Equal(t, "192.0.2.1", leaf.IPAddresses[0].String())

	s := smtptest.NewServer(t, smtptest.WithSTARTTLS(), smtptest.WithCertificate(other))
	assert.Equal(t, leaf.Raw, s.Certificate().Raw)
	tests := []struct {
		serverName string
		ok         bool
	}{
		{"localhost", false},
		{"other.example", true},
	}
	for _, tt := range tests {
		t.Run(tt.serverName, func(t *testing.T) {
			c := dialGreeted(t, s)
			require.Equal(t, "220 2.0.0 Ready to start TLS", c.cmd("STARTTLS"))
			err := c.starttls(s, tt.serverName)
			if !tt.ok {
				var hostErr x509.HostnameError
				assert.ErrorAs(t, err, &hostErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "250 2.0.0 Ok", c.cmd("NOOP"))
		})
	}
}
