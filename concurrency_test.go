package smtplib

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/internal/rawsrv"
	"github.com/gosmtplib/smtplib/smtptest"
)

// TestConcurrentClients runs 50 clients at once against one server, each
// in its own goroutine with its own *SMTP, each sending three messages in
// one session; the clients take turns at the four modes. The property:
// under the race detector, every message arrives once, intact, with its
// own envelope.
func TestConcurrentClients(t *testing.T) {
	const (
		clients  = 50
		messages = 3
	)
	srv := smtptest.NewServer(t, smtptest.WithExtensions("8BITMIME", "PIPELINING", "CHUNKING", "SIZE 10000000"))
	body := func(i, j int) string {
		return fmt.Sprintf("Subject: client %d message %d\r\n\r\n", i, j) +
			strings.Repeat(fmt.Sprintf(".line of client %d, message %d\n", i, j), 50*(j+1))
	}
	modeOpts := [][]Option{
		{WithoutPipelining(), WithoutChunking()},
		{WithoutChunking()},
		{WithoutPipelining()},
		nil,
	}
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			opts := append([]Option{WithLocalHostname("client.example"), WithTimeout(30 * time.Second)}, modeOpts[i%4]...)
			c, err := Dial(srv.Host(), srv.Port(), opts...)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for j := 0; j < messages; j++ {
				from := fmt.Sprintf("c%d-m%d@example.com", i, j)
				var refused map[string]Reply
				if j%2 == 0 {
					refused, err = c.Sendmail(from, []string{fmt.Sprintf("r%d@example.com", i)}, []byte(body(i, j)))
				} else {
					refused, err = c.SendmailReader(from, []string{fmt.Sprintf("r%d@example.com", i)},
						strings.NewReader(body(i, j)))
				}
				if err == nil && len(refused) > 0 {
					err = fmt.Errorf("refused: %v", refused)
				}
				if err != nil {
					errs <- fmt.Errorf("client %d message %d: %w", i, j, err)
					return
				}
			}
			if _, err := c.Quit(); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	require.NoError(t, srv.WaitSessions(clients, robustWait))

	msgs := srv.Messages()
	require.Len(t, msgs, clients*messages)
	seen := map[string]bool{}
	for _, m := range msgs {
		var i, j int
		_, err := fmt.Sscanf(m.From, "c%d-m%d@example.com", &i, &j)
		require.NoError(t, err, m.From)
		assert.False(t, seen[m.From], "%s arrived once", m.From)
		seen[m.From] = true
		assert.Equal(t, []string{fmt.Sprintf("r%d@example.com", i)}, m.To)
		want := strings.ReplaceAll(body(i, j), "\n", "\r\n")
		want = strings.ReplaceAll(want, "\r\r\n", "\r\n")
		assert.Equal(t, want, string(m.Data), "message %s intact", m.From)
	}
	assert.Len(t, seen, clients*messages)
}

// stallServer is a raw server that greets, answers EHLO and every command
// with 250 (DATA with 354), and on the command trigger reports on arrived
// and then neither reads nor writes until the test ends: the client is
// left blocked in a read, or, after DATA, in a write once the socket
// buffers are full.
func stallServer(t *testing.T, trigger string) (*rawsrv.Server, <-chan struct{}) {
	arrived := make(chan struct{})
	release := make(chan struct{})
	srv := newRawServer(t, func(conn net.Conn) {
		io.WriteString(conn, "220 stall.example\r\n")
		r := bufio.NewReader(conn)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			verb, _, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
			verb = strings.ToLower(verb)
			if verb == trigger {
				if verb == "data" {
					io.WriteString(conn, "354 go ahead\r\n")
				}
				close(arrived)
				<-release
				return
			}
			io.WriteString(conn, "250 ok\r\n")
		}
	})
	// Cleanups run last-in first-out: the handler is released before the
	// server waits for it.
	t.Cleanup(func() { close(release) })
	return srv, arrived
}

// TestCloseAbortsBlockedCall calls Close from another goroutine while a
// call is blocked on the network, with the RFC's minutes as timeouts. The
// property of each row: the blocked call returns after the Close (not at
// a timeout), with a *ServerDisconnectedError that wraps net.ErrClosed, there is
// no data race, and the client stays closed.
func TestCloseAbortsBlockedCall(t *testing.T) {
	big := []byte(strings.Repeat("a line of a message that is far larger than the socket buffers\r\n", 1<<18))
	tests := []struct {
		name    string
		trigger string
		call    func(c *SMTP) error
	}{
		{"blocked reading the reply to NOOP", "noop", func(c *SMTP) error { _, err := c.Noop(); return err }},
		{"blocked reading the reply to MAIL in Sendmail", "mail", func(c *SMTP) error {
			_, err := c.Sendmail("a@example.com", []string{"b@example.com"}, []byte("x\r\n"))
			return err
		}},
		{"blocked writing the message", "data", func(c *SMTP) error {
			_, err := c.Sendmail("a@example.com", []string{"b@example.com"}, big)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, arrived := stallServer(t, tt.trigger)
			c := dialRaw(t, srv, WithTimeout(0))
			done := make(chan error, 1)
			go func() { done <- tt.call(c) }()
			<-arrived
			require.NoError(t, c.Close())

			var err error
			select {
			case err = <-done:
			case <-time.After(notStuck):
				t.Fatal("the blocked call did not return after Close")
			}
			var sd *ServerDisconnectedError
			require.ErrorAs(t, err, &sd)
			assert.True(t, errors.Is(err, net.ErrClosed), "wraps net.ErrClosed: %v", err)
			assertClosed(t, c)
		})
	}
}
