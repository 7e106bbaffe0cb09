//go:build unix

package smtplib

import (
	"bufio"
	"io"
	"net"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPeekSocket looks at a loopback socket, as probeIdle does, once what
// the server did has reached it: nothing, a reply nobody asked for (found
// and not consumed), an end of file, a reset.
func TestPeekSocket(t *testing.T) {
	tests := []struct {
		name   string
		server func(conn *net.TCPConn)
		want   probeState
		err    error
	}{
		{"quiet", nil, probeQuiet, nil},
		{"a reply nobody asked for", func(conn *net.TCPConn) { io.WriteString(conn, "421 4.4.2 idle\r\n") }, probeData, nil},
		{"closed", func(conn *net.TCPConn) { conn.Close() }, probeClosed, io.EOF},
		{"reset", func(conn *net.TCPConn) { conn.SetLinger(0); conn.Close() }, probeClosed, syscall.ECONNRESET},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
			require.NoError(t, err)
			defer ln.Close()
			client, err := net.DialTCP("tcp", nil, ln.Addr().(*net.TCPAddr))
			require.NoError(t, err)
			defer client.Close()
			server, err := ln.AcceptTCP()
			require.NoError(t, err)
			defer server.Close()
			br := bufio.NewReader(client)
			st, err := probeIdle(client, br)
			if tt.server != nil {
				assert.Equal(t, probeQuiet, st, "before the server does anything")
				tt.server(server)
				st, err = probeUntilFound(client, br)
			}

			assert.Equal(t, tt.want, st)
			assert.ErrorIs(t, err, tt.err)
			if st == probeData {
				line, err := br.ReadString('\n')
				require.NoError(t, err)
				assert.Equal(t, "421 4.4.2 idle\r\n", line, "nothing consumed")
			}
		})
	}
}

// probeUntilFound looks at conn until the look finds something, as what
// the server did reaches the socket (on loopback, at once or nearly); a
// look that finds nothing for sessionWait gives up.
func probeUntilFound(conn net.Conn, br *bufio.Reader) (probeState, error) {
	for end := time.Now().Add(sessionWait); ; runtime.Gosched() {
		if st, err := probeIdle(conn, br); st != probeQuiet || time.Now().After(end) {
			return st, err
		}
	}
}
