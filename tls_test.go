package smtplib

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

// Tests of implicit TLS (DialSSL) and of the TLS configuration the client
// builds from the caller's.

func TestTLSConfigFor(t *testing.T) {
	base := &tls.Config{ServerName: "", MinVersion: tls.VersionTLS10}
	defaults := &tls.Config{ServerName: "from-option.example", MinVersion: tls.VersionTLS13}
	tests := []struct {
		name       string
		opts       []Option
		cfg        *tls.Config
		serverName string
		minVersion uint16
	}{
		{"nothing given", nil, nil, "mail.example.com", tls.VersionTLS12},
		{"old minimum raised", nil, base, "mail.example.com", tls.VersionTLS12},
		{"caller's name and minimum kept", nil, &tls.Config{ServerName: "x.example", MinVersion: tls.VersionTLS13}, "x.example", tls.VersionTLS13},
		{"WithTLSConfig when none given", []Option{WithTLSConfig(defaults)}, nil, "from-option.example", tls.VersionTLS13},
		{"given beats WithTLSConfig", []Option{WithTLSConfig(defaults)}, base, "mail.example.com", tls.VersionTLS12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(tt.opts...)
			c.host = "mail.example.com"
			got := c.tlsConfigFor(tt.cfg)
			assert.Equal(t, tt.serverName, got.ServerName)
			assert.Equal(t, tt.minVersion, got.MinVersion)
			assert.False(t, got.InsecureSkipVerify)
			if tt.cfg != nil {
				assert.NotSame(t, tt.cfg, got, "the caller's configuration is cloned")
			}
		})
	}
	assert.Equal(t, uint16(tls.VersionTLS10), base.MinVersion, "the caller's configuration is not changed")
	assert.Empty(t, base.ServerName)
}

// addrRecorder is a dialer that records the address asked for and fails,
// so that no connection is ever attempted.
type addrRecorder struct {
	mu    sync.Mutex
	addrs []string
}

var errNoDial = errors.New("test dialer: not dialling")

func (d *addrRecorder) DialContext(_ context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	d.addrs = append(d.addrs, network+" "+addr)
	d.mu.Unlock()
	return nil, errNoDial
}

func TestSSLDefaultPort(t *testing.T) {
	tests := []struct {
		name string
		dial func(d ContextDialer) error
		want string
	}{
		{"NewSSL port 0", func(d ContextDialer) error {
			_, err := NewSSL(WithDialer(d)).Connect("mail.example.com", 0)
			return err
		}, "tcp mail.example.com:465"},
		{"NewSSL port in host", func(d ContextDialer) error {
			_, err := NewSSL(WithDialer(d)).Connect("mail.example.com:2465", 0)
			return err
		}, "tcp mail.example.com:2465"},
		{"NewSSL explicit port", func(d ContextDialer) error {
			_, err := NewSSL(WithDialer(d)).Connect("mail.example.com", 1465)
			return err
		}, "tcp mail.example.com:1465"},
		{"DialSSL port 0", func(d ContextDialer) error {
			_, err := DialSSL("mail.example.com", 0, WithDialer(d))
			return err
		}, "tcp mail.example.com:465"},
		{"DialSSLContext port 0, IPv6", func(d ContextDialer) error {
			_, err := DialSSLContext(context.Background(), "::1", 0, WithDialer(d))
			return err
		}, "tcp [::1]:465"},
		{"New port 0", func(d ContextDialer) error {
			_, err := New(WithDialer(d)).Connect("mail.example.com", 0)
			return err
		}, "tcp mail.example.com:25"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &addrRecorder{}
			err := tt.dial(d)
			var sd *ServerDisconnectedError
			require.ErrorAs(t, err, &sd)
			assert.ErrorIs(t, err, errNoDial)
			assert.Equal(t, []string{tt.want}, d.addrs)
		})
	}
	assert.Equal(t, 465, SMTPSSLPort)
}

func TestDialSSL(t *testing.T) {
	other, otherLeaf, err := smtptest.NewCertificate("other.example")
	require.NoError(t, err)
	otherPool := x509.NewCertPool()
	otherPool.AddCert(otherLeaf)

	tests := []struct {
		name   string
		opts   []smtptest.Option
		client func(s *smtptest.Server) []Option
		check  func(t *testing.T, err error) // nil: success
	}{
		{
			name:   "trusted certificate",
			client: func(s *smtptest.Server) []Option { return []Option{WithTLSConfig(s.TLSConfig())} },
		},
		{
			name:   "certificate checked by default",
			client: func(*smtptest.Server) []Option { return nil },
			check: func(t *testing.T, err error) {
				var sd *ServerDisconnectedError
				require.ErrorAs(t, err, &sd)
				var cv *tls.CertificateVerificationError
				assert.ErrorAs(t, err, &cv)
			},
		},
		{
			name:   "certificate for another name",
			opts:   []smtptest.Option{smtptest.WithCertificate(other)},
			client: func(*smtptest.Server) []Option { return []Option{WithTLSConfig(&tls.Config{RootCAs: otherPool})} },
			check: func(t *testing.T, err error) {
				var he x509.HostnameError
				assert.ErrorAs(t, err, &he)
			},
		},
		{
			name: "certificate for another name, name given",
			opts: []smtptest.Option{smtptest.WithCertificate(other)},
			client: func(*smtptest.Server) []Option {
				return []Option{WithTLSConfig(&tls.Config{RootCAs: otherPool, ServerName: "other.example"})}
			},
		},
		{
			name:   "server drops during the handshake",
			opts:   []smtptest.Option{smtptest.WithFault(smtptest.Fault{At: "TLS_HANDSHAKE"})},
			client: func(s *smtptest.Server) []Option { return []Option{WithTLSConfig(s.TLSConfig())} },
			check: func(t *testing.T, err error) {
				var sd *ServerDisconnectedError
				assert.ErrorAs(t, err, &sd)
			},
		},
		{
			name:   "greeting refused",
			opts:   []smtptest.Option{smtptest.WithReply("GREETING", "554 5.3.2 not now")},
			client: func(s *smtptest.Server) []Option { return []Option{WithTLSConfig(s.TLSConfig())} },
			check: func(t *testing.T, err error) {
				var ce *ConnectError
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, 554, ce.Code)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.NewUnstartedServer(t, tt.opts...)
			srv.StartTLS()
			opts := append([]Option{WithTimeout(testTimeout)}, tt.client(srv)...)
			c, err := DialSSL(srv.Host(), srv.Port(), opts...)
			t.Cleanup(func() { c.Close() })
			if tt.check != nil {
				require.Error(t, err)
				tt.check(t, err)
				return
			}
			require.NoError(t, err)
			assert.True(t, c.isTLS)
			r, err := c.Noop()
			require.NoError(t, err)
			assert.Equal(t, 250, r.Code)
			_, err = c.Quit()
			require.NoError(t, err)
			require.NoError(t, srv.WaitSessions(1, 10*time.Second))
			assert.True(t, srv.Sessions()[0].TLS)
		})
	}
}

func TestDialSSLContextCancelled(t *testing.T) {
	srv := smtptest.NewUnstartedServer(t)
	srv.StartTLS()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := DialSSLContext(ctx, srv.Host(), srv.Port(), WithTLSConfig(srv.TLSConfig()))
	require.Error(t, err)
	assert.ErrorIs(t, err, context.Canceled)
}
