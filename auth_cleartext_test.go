package smtplib

import (
	"context"
	"net"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

// Tests of where AUTH may go: refused in clear text to a distant host,
// allowed over loopback and a Unix socket, as smtplib's callers expect
// credentials to be protected.

// remoteAddrConn is a loopback connection that claims another remote
// address, so that a test can play a distant server without any packet
// leaving the machine.
type remoteAddrConn struct {
	net.Conn
	remote net.Addr
}

func (c remoteAddrConn) RemoteAddr() net.Addr { return c.remote }

// redirectDialer dials network and addr whatever it is asked for, and
// makes the connection claim remote as its peer when remote is not nil.
type redirectDialer struct {
	network, addr string
	remote        net.Addr
}

func (d redirectDialer) DialContext(ctx context.Context, _, _ string) (net.Conn, error) {
	var nd net.Dialer
	conn, err := nd.DialContext(ctx, d.network, d.addr)
	if err != nil || d.remote == nil {
		return conn, err
	}
	return remoteAddrConn{Conn: conn, remote: d.remote}, nil
}

// distant is the address the tests pretend to reach: TEST-NET-1 (RFC 5737).
var distant = &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 25}

func TestAuthRefusedInClearText(t *testing.T) {
	plainAuth := func(c *SMTP) (Reply, error) {
		c.User, c.Password = "alice", "s3cret"
		return c.Auth("PLAIN", c.AuthPlain(), true)
	}
	tests := []struct {
		name    string
		host    string   // what the client dials
		remote  net.Addr // what the connection claims; nil: the real one
		unix    bool
		mechs   []string // offered; nil: all four of smtptest
		opts    []Option
		tls     bool // StartTLS first
		auth    func(c *SMTP) (Reply, error)
		refused bool
	}{
		{name: "plain, distant", host: "mail.example.com", remote: distant, auth: plainAuth, refused: true},
		{name: "login, distant", host: "mail.example.com", remote: distant, refused: true,
			auth: func(c *SMTP) (Reply, error) {
				c.User, c.Password = "alice", "s3cret"
				return c.Auth("login", c.AuthLogin(), false)
			}},
		{name: "xoauth2, distant", host: "mail.example.com", remote: distant, refused: true,
			auth: func(c *SMTP) (Reply, error) { return c.Auth("XOAUTH2", XOAuth2("alice", "s3cret"), true) }},
		{name: "go-sasl plain, distant", host: "mail.example.com", remote: distant, refused: true,
			auth: func(c *SMTP) (Reply, error) { return c.Auth("", sasl.NewPlainClient("", "alice", "s3cret"), true) }},
		{name: "oauthbearer, distant", host: "mail.example.com", remote: distant, refused: true,
			auth: func(c *SMTP) (Reply, error) {
				return c.Auth("", sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Token: "s3cret"}), true)
			}},
		{name: "login method, distant", host: "mail.example.com", remote: distant, refused: true,
			mechs: []string{"PLAIN", "LOGIN"}, auth: func(c *SMTP) (Reply, error) { return c.Login("alice", "s3cret") }},
		{name: "login method, distant, cram-md5 offered", host: "mail.example.com", remote: distant,
			auth: func(c *SMTP) (Reply, error) { return c.Login("alice", "s3cret") }},
		{name: "cram-md5, distant", host: "mail.example.com", remote: distant,
			auth: func(c *SMTP) (Reply, error) {
				c.User, c.Password = "alice", "s3cret"
				return c.Auth("CRAM-MD5", c.AuthCramMD5(), true)
			}},
		{name: "plain, distant, insecure auth allowed", host: "mail.example.com", remote: distant,
			opts: []Option{WithInsecureAuth()}, auth: plainAuth},
		{name: "plain, distant, after StartTLS", host: "mail.example.com", remote: distant, tls: true, auth: plainAuth},
		{name: "login method, distant, after StartTLS", host: "mail.example.com", remote: distant, tls: true,
			mechs: []string{"PLAIN", "LOGIN"}, auth: func(c *SMTP) (Reply, error) { return c.Login("alice", "s3cret") }},
		// A proxy on this machine: the connection is loopback, the server
		// is not. Through a dialer the client cannot know where the
		// server is, whatever the host dialled, so every host is refused.
		{name: "plain through a local proxy", host: "mail.example.com", auth: plainAuth, refused: true},
		{name: "plain to localhost through a dialer", host: "localhost", auth: plainAuth, refused: true},
		{name: "plain to 127.0.0.1 through a dialer", host: "127.0.0.1", auth: plainAuth, refused: true},
		{name: "plain over a unix socket through a dialer", host: "/run/smtp.sock", unix: true, auth: plainAuth, refused: true},
		{name: "plain to 127.0.0.1 through a dialer, insecure auth allowed", host: "127.0.0.1",
			opts: []Option{WithInsecureAuth()}, auth: plainAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := []smtptest.Option{smtptest.WithAuth(tt.mechs...), smtptest.WithSTARTTLS()}
			if tt.unix {
				opts = append(opts, smtptest.WithUnixSocket(t.TempDir()+"/s.sock"))
			}
			srv := newAuthServer(t, opts...)
			network := "tcp"
			if tt.unix {
				network = "unix"
			}
			c := connectRedirected(t, srv, redirectDialer{network: network, addr: srv.Addr, remote: tt.remote}, tt.host, tt.tls, tt.opts...)
			require.NoError(t, c.EhloOrHeloIfNeeded())
			r, err := tt.auth(c)
			if tt.refused {
				require.ErrorIs(t, err, ErrInsecureAuth)
				assert.Contains(t, err.Error(), "WithInsecureAuth()")
				assert.Contains(t, err.Error(), "StartTLS")
				assert.Equal(t, Reply{}, r)
				assert.NotContains(t, srv.Transcript(), "C: AUTH")
				// Nothing was sent, so the session is untouched.
				_, err = c.Noop()
				assert.NoError(t, err)
			} else {
				require.NoError(t, err)
				assert.Equal(t, 235, r.Code)
			}
		})
	}
}

// TestAuthOverUnixSocket: a Unix socket stays on this machine, so PLAIN
// goes in clear over one dialled without WithDialer (LMTP's).
func TestAuthOverUnixSocket(t *testing.T) {
	srv := newAuthServer(t, smtptest.WithLMTP(), smtptest.WithAuth("PLAIN"),
		smtptest.WithUnixSocket(t.TempDir()+"/s.sock"))
	l, err := DialLMTP(srv.Addr, 0, WithLocalHostname("client.example"), WithTimeout(testTimeout))
	require.NoError(t, err)
	defer l.Close()
	r, err := l.Login("alice", "s3cret")
	require.NoError(t, err)
	assert.Equal(t, 235, r.Code)
	assert.Contains(t, srv.Transcript(), "C: AUTH PLAIN ")
}

// connectRedirected connects a client through d to srv as though to host,
// port 25, and says STARTTLS first when tls is set.
func connectRedirected(t *testing.T, srv *smtptest.Server, d redirectDialer, host string, tls bool, opts ...Option) *SMTP {
	t.Helper()
	c := New(append([]Option{WithDialer(d), WithLocalHostname("client.example"), WithTimeout(testTimeout)}, opts...)...)
	t.Cleanup(func() { c.Close() })
	_, err := c.Connect(host, 25)
	require.NoError(t, err)
	if tls {
		cfg := srv.TLSConfig()
		cfg.ServerName = "localhost"
		_, err := c.StartTLS(cfg)
		require.NoError(t, err)
	}
	return c
}
