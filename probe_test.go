package smtplib

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tests of the look at a connection that sat idle (probe.go): what
// probeIdle finds on a connection without a socket of its own, and what
// the client does with it before its next command. The look at a socket
// is tested in probe_unix_test.go. On the fake clock, over pipes, "idle"
// is exact.

// TestProbeIdleWithoutSocket looks at a pipe, which has no socket to peek
// at: the look is a read that waits probeReadWait at most, and consumes
// nothing of what it finds.
func TestProbeIdleWithoutSocket(t *testing.T) {
	tests := []struct {
		name   string
		server func(conn net.Conn)
		want   probeState
		err    error
		waited time.Duration
	}{
		{"quiet", func(conn net.Conn) { io.Copy(io.Discard, conn) }, probeQuiet, nil, probeReadWait},
		{"a reply nobody asked for", func(conn net.Conn) { io.WriteString(conn, "421 4.4.2 idle\r\n") }, probeData, nil, 0},
		{"closed", func(conn net.Conn) {}, probeClosed, io.EOF, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				client, server := net.Pipe()
				defer client.Close()
				go func() {
					tt.server(server)
					server.Close()
				}()
				synctest.Wait()
				br := bufio.NewReader(client)
				start := time.Now()

				st, err := probeIdle(client, br)

				assert.Equal(t, tt.want, st)
				assert.Equal(t, tt.err, err)
				assert.Equal(t, tt.waited, time.Since(start))
				if st == probeData {
					line, err := br.ReadString('\n')
					require.NoError(t, err)
					assert.Equal(t, "421 4.4.2 idle\r\n", line, "nothing consumed")
				}
			})
		})
	}
}

// TestCheckIdle lets a session sit idle, on the fake clock, while the
// server does nothing, hangs up, or says 421 and hangs up, then has the
// client look at it as the engine does before a transaction (checkIdle).
// After idleProbeAfter the look finds a connection closed, said to have
// been closed while idle, or a 421, the server's reason; before it, the
// client does not look (the transaction then learns of the end from its
// write or its read: TestEngineIdleConnectionClosed).
func TestCheckIdle(t *testing.T) {
	tests := []struct {
		name  string
		idle  time.Duration
		after func(conn net.Conn) // what the server does after the greeting
		check func(t *testing.T, err error, debug string)
	}{
		{"quiet", idleProbeAfter, func(conn net.Conn) {
			io.Copy(io.Discard, conn) // until the client closes
		}, func(t *testing.T, err error, debug string) {
			assert.NoError(t, err)
			assert.NotContains(t, debug, "idle:")
		}},
		{"closed while idle", idleProbeAfter, func(conn net.Conn) {}, func(t *testing.T, err error, debug string) {
			var sd *ServerDisconnectedError
			require.ErrorAs(t, err, &sd)
			assert.Equal(t, "the server closed the connection while it was idle", sd.Msg)
			assert.ErrorIs(t, err, io.EOF)
			assert.ErrorIs(t, err, ErrNotSent, "nothing went")
			assert.Contains(t, debug, "idle: the connection was closed by the server\n")
		}},
		{"421 while idle", idleProbeAfter, func(conn net.Conn) {
			io.WriteString(conn, "421 4.4.2 mx.example idle timeout\r\n")
		}, func(t *testing.T, err error, debug string) {
			var re *ResponseError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, Reply{421, "4.4.2 mx.example idle timeout"}, re.Reply())
			assert.NotErrorIs(t, err, ErrOutOfStep, "a 421 is the server's reason, not a stray reply")
		}},
		{"closed, and looked at too soon", idleProbeAfter - time.Microsecond, func(conn net.Conn) {},
			func(t *testing.T, err error, debug string) {
				assert.NoError(t, err, "no look was taken")
				assert.NotContains(t, debug, "idle:")
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				srv := newRawPipes(t, func(conn net.Conn) {
					io.WriteString(conn, "220 mx.example\r\n")
					tt.after(conn)
				})
				var debug strings.Builder
				c := dialRaw(t, srv, WithDebugOutput(&debug))
				c.SetDebugLevel(1)
				time.Sleep(tt.idle)
				synctest.Wait() // the server has done what it does

				err := c.checkIdle()

				tt.check(t, err, debug.String())
				if err != nil {
					assert.True(t, errors.Is(err, ErrSMTP))
					assertClosed(t, c)
				}
			})
		})
	}
}
