//go:build go1.25

package smtplib

import (
	"context"
	"net"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/internal/rawsrv"
)

// holdAbort is a connection whose deadlines in the past (what a done
// context's callback sets) wait for release, so that a test can let the
// callback land at the worst moment.
type holdAbort struct {
	net.Conn
	release chan struct{}
}

func (c *holdAbort) SetDeadline(t time.Time) error {
	if t.Before(time.Now()) {
		<-c.release
	}
	return c.Conn.SetDeadline(t)
}

// connDialer hands the client a connection made beforehand.
type connDialer struct{ conn net.Conn }

func (d connDialer) DialContext(context.Context, string, string) (net.Conn, error) {
	return d.conn, nil
}

// cancelAtPhrase cancels a context when the client's debug output shows
// phrase: a moment between two steps of an operation that no other hook
// reaches.
type cancelAtPhrase struct {
	phrase string
	cancel context.CancelFunc
}

func (w cancelAtPhrase) Write(p []byte) (int, error) {
	if strings.Contains(string(p), w.phrase) {
		w.cancel()
	}
	return len(p), nil
}

// TestContextCancelledAsSendmailReturns cancels SendmailContext's context
// after the server's last reply is read and before the call returns, then
// lets the cancellation's callback run as late as it can, while the next
// call (a Noop) waits for its reply. A client whose SendmailContext returns
// without waiting for that callback has the Noop fail with a deadline it
// never had (issue 13: 13 in 242,786 sends did so under load). Under
// synctest every step is ordered, so the old race fails here every time.
func TestContextCancelledAsSendmailReturns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		noopReply := make(chan struct{})
		pipes := rawsrv.NewPipes((&pipeServer{noopReply: noopReply}).serve)
		clientEnd, err := pipes.DialContext(context.Background(), "tcp", "mx.example:25")
		require.NoError(t, err)

		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		conn := &holdAbort{Conn: clientEnd, release: make(chan struct{})}
		c, err := Dial("mx.example", 25, WithDialer(connDialer{conn}), WithLocalHostname("client.example"),
			WithDebugOutput(cancelAtPhrase{"data: (250", cancel}))
		require.NoError(t, err)
		defer c.Close()
		c.SetDebugLevel(1)

		var sendErr, noopErr error
		var noop Reply
		sent, nooped := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(sent)
			_, sendErr = c.SendmailContext(ctx, "a@example.com", []string{"b@example.com"}, []byte("hi\r\n"))
		}()
		synctest.Wait() // the callback has started and waits for release
		go func() {
			defer close(nooped)
			<-sent
			c.SetDebugLevel(0)
			noop, noopErr = c.Noop()
		}()
		synctest.Wait() // if Sendmail has returned, the Noop waits for its reply
		close(conn.release)
		synctest.Wait()
		close(noopReply)
		<-nooped

		assert.NoError(t, sendErr, "the message was delivered before the context ended")
		require.NoError(t, noopErr, "a context that ended with SendmailContext must not reach the next call")
		assert.Equal(t, 250, noop.Code)
	})
}
