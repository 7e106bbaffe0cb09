package smtplib

import (
	"bufio"
	"encoding/base64"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/internal/rawsrv"
)

// Exact wire tests of authentication, compared with what Python's smtplib
// sends, and lineServer, the scripted one-connection server they and the
// SCRAM tests use.

// lineServer is a one-connection server for exact wire tests, on the
// suite's raw-connection server (internal/rawsrv): it sends a greeting,
// then answers each line the client sends with what handle returns for it
// (CRLF added), and records the lines as sent, CRLF included. A reply
// starting with "221" ends the session after it is sent.
type lineServer struct {
	*rawsrv.Server
	mu    sync.Mutex
	lines []string
}

func newLineServer(t *testing.T, handle func(line string) string) *lineServer {
	t.Helper()
	s := &lineServer{}
	s.Server = rawsrv.StartOnce(t, func(conn net.Conn) {
		conn.SetDeadline(time.Now().Add(testTimeout))
		if _, err := conn.Write([]byte("220 wire.example ESMTP\r\n")); err != nil {
			return
		}
		r := bufio.NewReader(conn)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			s.mu.Lock()
			s.lines = append(s.lines, line)
			s.mu.Unlock()
			reply := handle(strings.TrimSuffix(line, "\r\n"))
			hangUp := strings.HasPrefix(reply, "221") || strings.HasSuffix(reply, hangUpMark)
			reply = strings.TrimSuffix(reply, hangUpMark)
			if _, err := conn.Write([]byte(reply + "\r\n")); err != nil || hangUp {
				return
			}
		}
	})
	return s
}

// hangUpMark, at the end of a reply of a lineServer, makes it close the
// connection after sending the reply.
const hangUpMark = "\x00hang up"

// newWireServer answers the client's lines with replies in turn, then
// with "250 2.0.0 Ok", and QUIT with 221 at any point.
func newWireServer(t *testing.T, replies ...string) *lineServer {
	i := 0
	return newLineServer(t, func(line string) string {
		if strings.EqualFold(line, "quit") {
			return "221 2.0.0 Bye"
		}
		if i < len(replies) {
			i++
			return replies[i-1]
		}
		return "250 2.0.0 Ok"
	})
}

// received waits for the session to end and returns the client's lines.
func (s *lineServer) received() []string {
	s.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.lines...)
}

func (s *lineServer) dial(t *testing.T, opts ...Option) *SMTP {
	t.Helper()
	opts = append([]Option{WithLocalHostname("client.example"), WithTimeout(testTimeout)}, opts...)
	c := New(opts...)
	_, err := c.Connect("127.0.0.1", s.Port())
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// wireLines appends CRLF to each line, for comparison with received.
func wireLines(lines ...string) []string {
	for i := range lines {
		lines[i] += "\r\n"
	}
	return lines
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

const (
	ehloAuth = "250-wire.example\r\n250 AUTH "
	askUser  = "334 VXNlcm5hbWU6" // "Username:"
	askPass  = "334 UGFzc3dvcmQ6" // "Password:"
	authOK   = "235 2.7.0 Authentication successful"
	authNo   = "535 5.7.8 Authentication credentials invalid"
	// A CRAM-MD5 challenge and, for user "tim" and password
	// "tanstaaftanstaaf", the answer Python's smtplib gives to it.
	cramChallenge = "334 PDQxOTI5NDIzNDEuMTI4Mjg0NzJAc291cmNlZm91ci5hbmRyZXcuY211LmVkdT4="
	cramAnswer    = "dGltIGI0MTAzMDNjNjE4YTAxZDNlMTUxMDJlMzA4YmI4YTMz"
)

// TestLoginWireMatchesPython compares the client's lines with those Python
// 3.11.7's smtplib sent against the same replies (captured with a scripted
// server, login(user, password, initial_response_ok=...)).
func TestLoginWireMatchesPython(t *testing.T) {
	tests := []struct {
		name     string
		user     string
		pass     string
		irOK     bool
		replies  []string
		wantCode int
		wantErr  string // substring; "" for success
		want     []string
	}{
		{
			name: "plain", user: "user", pass: "pass", irOK: true,
			replies: []string{ehloAuth + "PLAIN", authOK}, wantCode: 235,
			want: []string{"ehlo client.example", "AUTH PLAIN AHVzZXIAcGFzcw==", "quit"},
		},
		{
			name: "plain without initial response", user: "user", pass: "pass",
			replies: []string{ehloAuth + "PLAIN", "334 ", authOK}, wantCode: 235,
			want: []string{"ehlo client.example", "AUTH PLAIN", "AHVzZXIAcGFzcw==", "quit"},
		},
		{
			name: "login", user: "user", pass: "pass", irOK: true,
			replies: []string{ehloAuth + "LOGIN", askPass, authOK}, wantCode: 235,
			want: []string{"ehlo client.example", "AUTH LOGIN dXNlcg==", "cGFzcw==", "quit"},
		},
		{
			name: "login without initial response", user: "user", pass: "pass",
			replies: []string{ehloAuth + "LOGIN", askUser, askPass, authOK}, wantCode: 235,
			want: []string{"ehlo client.example", "AUTH LOGIN", "dXNlcg==", "cGFzcw==", "quit"},
		},
		{
			name: "cram-md5", user: "tim", pass: "tanstaaftanstaaf", irOK: true,
			replies: []string{ehloAuth + "CRAM-MD5", cramChallenge, authOK}, wantCode: 235,
			want: []string{"ehlo client.example", "AUTH CRAM-MD5", cramAnswer, "quit"},
		},
		{
			name: "fallback from cram-md5 to plain to login", user: "user", pass: "pass", irOK: true,
			replies:  []string{ehloAuth + "LOGIN PLAIN CRAM-MD5", cramChallenge, authNo, authNo, askPass, authOK},
			wantCode: 235,
			want: []string{"ehlo client.example", "AUTH CRAM-MD5",
				"dXNlciA2NWY1ODkyZDMxYWNjNGQ5ZGYyZDZhYjQwZTA5MGM2Mw==",
				"AUTH PLAIN AHVzZXIAcGFzcw==", "AUTH LOGIN dXNlcg==", "cGFzcw==", "quit"},
		},
		{
			// Python answers six challenges and gives up; we then cancel.
			name: "challenge loop", user: "user", pass: "pass",
			replies: append([]string{ehloAuth + "LOGIN"},
				askUser, askUser, askUser, askUser, askUser, askUser, askUser, "501 5.7.0 Authentication cancelled"),
			wantCode: 501,
			wantErr:  "smtplib: Server AUTH mechanism infinite loop. Last response: (334, b'VXNlcm5hbWU6')",
			want: []string{"ehlo client.example", "AUTH LOGIN", "dXNlcg==",
				"cGFzcw==", "cGFzcw==", "cGFzcw==", "cGFzcw==", "cGFzcw==", "*", "quit"},
		},
		{
			name: "challenge loop after initial response", user: "user", pass: "pass", irOK: true,
			replies: append([]string{ehloAuth + "LOGIN"},
				askUser, askUser, askUser, askUser, askUser, askUser, "501 5.7.0 Authentication cancelled"),
			wantCode: 501,
			wantErr:  "smtplib: Server AUTH mechanism infinite loop. Last response: (334, b'VXNlcm5hbWU6')",
			want: []string{"ehlo client.example", "AUTH LOGIN dXNlcg==",
				"cGFzcw==", "cGFzcw==", "cGFzcw==", "cGFzcw==", "cGFzcw==", "*", "quit"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newWireServer(t, tt.replies...)
			c := srv.dial(t)
			r, err := c.LoginWith(tt.user, tt.pass, tt.irOK)
			assert.Equal(t, tt.wantCode, r.Code)
			if tt.wantErr == "" {
				assert.NoError(t, err)
			} else {
				assert.EqualError(t, err, tt.wantErr)
				assert.ErrorIs(t, err, ErrSMTP)
			}
			_, err = c.Quit()
			require.NoError(t, err)
			assert.Equal(t, wireLines(tt.want...), srv.received())
		})
	}
}

func TestXOAuth2Wire(t *testing.T) {
	ir := b64("user=bob@example.com\x01auth=Bearer ya29.token\x01\x01")
	long := strings.Repeat("t", 600)
	tests := []struct {
		name    string
		token   string
		replies []string
		want    []string
		code    int
	}{
		{"accepted", "ya29.token", []string{authOK}, []string{"AUTH XOAUTH2 " + ir}, 235},
		{"error challenge answered empty", "ya29.token",
			[]string{"334 " + b64(`{"status":"401","schemes":"bearer"}`), "535 5.7.8 Username and Password not accepted"},
			[]string{"AUTH XOAUTH2 " + ir, ""}, 535},
		// An AUTH line over 512 octets must not carry the initial response.
		{"long token waits for the challenge", long, []string{"334 ", authOK},
			[]string{"AUTH XOAUTH2", b64("user=bob@example.com\x01auth=Bearer " + long + "\x01\x01")}, 235},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newWireServer(t, tt.replies...)
			c := srv.dial(t)
			r, err := c.Auth("XOAUTH2", XOAuth2("bob@example.com", tt.token), true)
			assert.Equal(t, tt.code, r.Code)
			if tt.code == 235 {
				assert.NoError(t, err)
			} else {
				var authErr *AuthenticationError
				assert.ErrorAs(t, err, &authErr)
			}
			c.Close()
			assert.Equal(t, wireLines(tt.want...), srv.received())
		})
	}
}
