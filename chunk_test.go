package smtplib

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gosmtplib/smtplib/smtptest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSendmailLargeChunked(t *testing.T) {
	// Several chunks, with a CRLF split across a chunk boundary.
	body := strings.Repeat("x", chunkSize-1) + "\r\n" + strings.Repeat("line\n", 300000)
	want := strings.Repeat("x", chunkSize-1) + "\r\n" + strings.Repeat("line\r\n", 300000)
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, smtptest.WithExtensions(mode.ext[1:]...))
			c, err := Dial(srv.Host(), srv.Port(), WithTimeout(testTimeout))
			require.NoError(t, err)
			defer c.Close()
			_, err = c.SendmailReader("a@example.com", []string{"b@example.com"}, strings.NewReader(body))
			require.NoError(t, err)
			msgs := srv.Messages()
			require.Len(t, msgs, 1)
			assert.Equal(t, len(want), len(msgs[0].Data))
			assert.True(t, want == string(msgs[0].Data), "the data arrives whole and normalised")
		})
	}
}

// TestSendmailLargeFromMemory sends a clean message of several chunks from
// a []byte: the chunks go out from the caller's slice, which must come back
// unchanged.
func TestSendmailLargeFromMemory(t *testing.T) {
	msg := []byte(strings.Repeat("Subject: x\r\n\r\n"+strings.Repeat("y", 70)+"\r\n", 40000))
	orig := append([]byte(nil), msg...)
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, smtptest.WithExtensions(mode.ext[1:]...))
			c, err := Dial(srv.Host(), srv.Port(), WithTimeout(testTimeout))
			require.NoError(t, err)
			defer c.Close()
			_, err = c.Sendmail("a@example.com", []string{"b@example.com"}, msg)
			require.NoError(t, err)
			msgs := srv.Messages()
			require.Len(t, msgs, 1)
			assert.True(t, bytes.Equal(orig, msgs[0].Data), "the data arrives whole")
			assert.True(t, bytes.Equal(orig, msg), "the caller's message is untouched")
		})
	}
}
