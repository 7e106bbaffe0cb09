//go:build unix

package smtplib

import (
	"bufio"
	"io"
	"net"
	"syscall"
	"testing"

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
			if tt.server != nil {
				tt.server(server)
				waitReadable(t, client)
			}

			st, err := probeIdle(client, bufio.NewReader(client))

			assert.Equal(t, tt.want, st)
			assert.ErrorIs(t, err, tt.err)
			if st == probeData {
				line, err := bufio.NewReader(client).ReadString('\n')
				require.NoError(t, err)
				assert.Equal(t, "421 4.4.2 idle\r\n", line, "nothing consumed")
			}
		})
	}
}

// waitReadable waits until conn has something to read (bytes, an end of
// file or an error), through the runtime's poller, without looking: a
// look would take a pending error.
func waitReadable(t *testing.T, conn *net.TCPConn) {
	t.Helper()
	rc, err := conn.SyscallConn()
	require.NoError(t, err)
	waited := false
	require.NoError(t, rc.Read(func(uintptr) bool {
		defer func() { waited = true }()
		return waited
	}))
}
