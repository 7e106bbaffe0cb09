package smtplib

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/internal/rawsrv"
)

// FuzzQuoteAddr checks safeQuoteAddr, the one gate between a caller's
// address and the MAIL and RCPT lines: it either refuses the address with
// a *CommandError, or returns "<...>" that every path reader of
// injection_test.go reads as one path ending at the last byte, with no
// parameter after it and no line break, NUL or other control character
// that could end or split the command, however strictly the reader
// parses quotes and backslashes.
func FuzzQuoteAddr(f *testing.F) {
	for _, s := range []string{
		"a@example.com", "Name <a@example.com>", `"x> ORCPT=rfc822;y"@example.com`, "a@b> NOTIFY=NEVER",
		"<<a>>", `"a b" <c d@e>`, "a@b NOTIFY=NEVER", `"a\> b"@c`, "<@x,@y:a@b>", "", "<>", `""`,
		`a"b> X=Y"@c`, `a@"b> X=Y"`, `\"a@b> X=Y"@c`, "a@b\r\nRSET", "a\x00@b", "(c> d) a@b", "a@[1.2.3.4> X]",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		q, err := safeQuoteAddr(addr)
		if err != nil {
			var ce *CommandError
			require.ErrorAs(t, err, &ce)
			assert.Empty(t, q)
			return
		}
		require.True(t, len(q) >= 2 && q[0] == '<' && q[len(q)-1] == '>', "%q", q)
		for i := 0; i < len(q); i++ {
			require.False(t, q[i] == '\r' || q[i] == '\n' || q[i] == 0, "no line break or NUL in %q", q)
		}
		for _, r := range pathReaders {
			assert.Equal(t, len(q)-1, r.end(q), "%s reads %q as one path", r.name, q)
		}
	})
}

// documentedError reports whether err is one of the errors the package
// documents for what a server can do: a nil error, or an ErrSMTP that
// errors.As finds as one of the exported error types.
func documentedError(err error) bool {
	if err == nil {
		return true
	}
	var (
		sd *ServerDisconnectedError
		re *ResponseError
		rr *RecipientsRefusedError
		ns *NotSupportedError
	)
	return errors.Is(err, ErrSMTP) &&
		(errors.As(err, &sd) || errors.As(err, &re) || errors.As(err, &rr) || errors.As(err, &ns))
}

// FuzzClientReplies plays the fuzzer's bytes as everything a server says
// in a session, over net.Pipe, while a client dials, says EHLO and sends a
// message to two recipients (and quits, if it got that far). Whatever the
// bytes, the client must not panic, must never wait for a timeout (the
// server hangs up when its bytes run out), must keep every reply within
// its bounds, must give every reply the code RFC 5321's grammar gives it
// (checked line by line in the debug output by replyTrace), and every
// error it returns must be one of the documented types.
func FuzzClientReplies(f *testing.F) {
	seeds := []string{
		"220 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n250 queued\r\n221 bye\r\n",
		"220 ok\r\n250-x\r\n250-PIPELINING\r\n250 SIZE 100\r\n250 ok\r\n250 ok\r\n550 no\r\n354 go\r\n250 q\r\n221 bye\r\n",
		"220 ok\r\n250-x\r\n250-CHUNKING\r\n250 PIPELINING\r\n250 ok\r\n250 ok\r\n250 ok\r\n250 done\r\n221 bye\r\n",
		"220 ok\r\n250-x\r\n250 CHUNKING\r\n250 ok\r\n250 ok\r\n250 ok\r\n250 done\r\n221 bye\r\n",
		"220 ok\r\n502 no\r\n250 helo\r\n250 ok\r\n250 ok\r\n250 ok\r\n354 go\r\n250 q\r\n",
		"220 ok\r\n250 ok\r\n421 bye\r\n",
		"220 ok\r\n250 ok\r\n250 ok\r\n550 a\r\n550 b\r\n250 rset\r\n",
		"554 go away\r\n",
		"220-a\r\n220 b\r\n250-x\r\n550 y\r\n",
		"220 ok\r\n250-\r\n250-\xff\xfe\r\n250 AUTH=LOGIN\r\n",
		"220 ok\r250 ok\r",
		"220 ok\n250 ok\n250 ok\n250 ok\n250 ok\n354 go\n250 q\n",
		"",
		"2",
		"220 ok\r\n250-x\r\n250-PIPELINING\r\n250 CHUNKING\r\n250 ok\r\n421 bye\r\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, script []byte) {
		// A pipe's Write returns once the client has read it all, so
		// hanging up then leaves the client every byte of the script
		// before its end of file. A client that stops reading ends the
		// Write by closing its end.
		pipes := rawsrv.NewPipes(func(conn net.Conn) {
			drained := make(chan struct{})
			go func() {
				io.Copy(io.Discard, conn)
				close(drained)
			}()
			conn.Write(script)
			conn.Close()
			<-drained
		})
		defer pipes.Wait()

		// The server hangs up when its script is read, so no operation
		// waits for its timeout: a deadline error would be a hang. The
		// timeout is long enough that a busy machine never reaches it.
		const timeout = 10 * time.Second
		tr := &replyTrace{}
		c := New(WithDialer(pipes), WithTimeout(timeout), WithLocalHostname("client.example"),
			WithDebugOutput(tr))
		defer c.Close()
		c.SetDebugLevel(1)
		defer tr.check(t)
		err := c.dialGreet(context.Background(), "fuzz.example", 25)
		require.True(t, documentedError(err), "Dial: %T %v", err, err)
		require.NotErrorIs(t, err, os.ErrDeadlineExceeded)
		if err != nil {
			return
		}
		to := []string{"a@example.com", "b@example.com"}
		refused, err := c.Sendmail("s@example.com", to, []byte("Subject: x\r\n\r\n.body\n"))
		require.True(t, documentedError(err), "Sendmail: %T %v", err, err)
		require.NotErrorIs(t, err, os.ErrDeadlineExceeded)
		for k := range c.ESMTPFeatures {
			assert.Equal(t, strings.ToLower(k), k)
		}
		if err == nil {
			for a, r := range refused {
				assert.Contains(t, to, a)
				assert.LessOrEqual(t, len(r.Message), maxReplyBytes+maxLine)
			}
			_, err = c.Quit()
			require.True(t, documentedError(err), "Quit: %T %v", err, err)
			require.NotErrorIs(t, err, os.ErrDeadlineExceeded)
		}
		var re *ResponseError
		if errors.As(err, &re) {
			assert.LessOrEqual(t, len(re.Message), maxReplyBytes+maxLine)
		}
	})
}
