package smtplib_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib"
	"github.com/gosmtplib/smtplib/smtptest"
)

// Tests of DialLMTP and LMTP.Connect: the greeting, the address forms
// (TCP host and port, Unix socket path) and a nil client closed.

func TestDialLMTPGreeting(t *testing.T) {
	tests := []struct {
		name     string
		greeting string
		wantCode int // 0: success
	}{
		{"220", "", 0},
		{"554", "554 5.3.2 Not now", 554},
		{"421", "421 4.3.2 Going down", 421},
	}
	for _, cfg := range []lmtpConfig{{unix: false}, {unix: true}} {
		for _, tt := range tests {
			t.Run(cfg.String()+"/"+tt.name, func(t *testing.T) {
				var opts []smtptest.Option
				if tt.greeting != "" {
					opts = append(opts, smtptest.WithReply("GREETING", tt.greeting))
				}
				_, host, port := startLMTP(t, cfg, opts...)

				l, err := smtplib.DialLMTP(host, port)

				if tt.wantCode == 0 {
					require.NoError(t, err)
					require.NotNil(t, l)
					defer l.Close()
					r, err := l.Noop()
					require.NoError(t, err)
					assert.Equal(t, 250, r.Code)
					return
				}
				assert.Nil(t, l)
				var ce *smtplib.ConnectError
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, tt.wantCode, ce.Code)
				assert.ErrorIs(t, err, smtplib.ErrSMTP)
			})
		}
	}
}

// TestLMTPConnect checks Connect on an unconnected LMTP client, which
// returns the greeting whatever it is, over both transports.
func TestLMTPConnect(t *testing.T) {
	for _, cfg := range []lmtpConfig{{unix: false}, {unix: true}} {
		t.Run(cfg.String(), func(t *testing.T) {
			_, host, port := startLMTP(t, cfg, smtptest.WithReply("GREETING", "220 lmtp.example LMTP ready"))
			l := smtplib.NewLMTP()
			defer l.Close()

			r, err := l.Connect(host, port)

			require.NoError(t, err)
			assert.Equal(t, smtplib.Reply{Code: 220, Message: "lmtp.example LMTP ready"}, r)
		})
	}
}

// recordingDialer records what a client asks to dial and refuses it.
type recordingDialer struct {
	network, addr string
}

var errLMTPTestDial = errors.New("dial refused by the test")

func (d *recordingDialer) DialContext(_ context.Context, network, addr string) (net.Conn, error) {
	d.network, d.addr = network, addr
	return nil, errLMTPTestDial
}

// TestDialLMTPAddress checks how host and port become a network address:
// a path is a Unix socket, and TCP's port 0 is LMTP's 2003.
func TestDialLMTPAddress(t *testing.T) {
	tests := []struct {
		host        string
		port        int
		wantNetwork string
		wantAddr    string
	}{
		{"localhost", 0, "tcp", "localhost:2003"},
		{"", 0, "tcp", "localhost:2003"},
		{"lmtp.example", 24, "tcp", "lmtp.example:24"},
		{"lmtp.example:2525", 0, "tcp", "lmtp.example:2525"},
		{"::1", 0, "tcp", "[::1]:2003"},
		{"/var/run/dovecot/lmtp", 0, "unix", "/var/run/dovecot/lmtp"},
		{"/var/run/dovecot/lmtp", 24, "unix", "/var/run/dovecot/lmtp"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s:%d", tt.host, tt.port), func(t *testing.T) {
			d := &recordingDialer{}

			l, err := smtplib.DialLMTP(tt.host, tt.port, smtplib.WithDialer(d))

			assert.Nil(t, l)
			var sde *smtplib.ServerDisconnectedError
			require.ErrorAs(t, err, &sde)
			assert.ErrorIs(t, err, errLMTPTestDial)
			assert.Equal(t, tt.wantNetwork, d.network)
			assert.Equal(t, tt.wantAddr, d.addr)
		})
	}
}

// TestLMTPCloseNil checks that the nil client of a failed dial can be
// closed, as `defer l.Close()` written before the error check does.
func TestLMTPCloseNil(t *testing.T) {
	var l *smtplib.LMTP
	assert.NoError(t, l.Close())
	var s *smtplib.SMTP
	assert.NoError(t, s.Close())
}
