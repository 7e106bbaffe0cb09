package smtplib

import (
	"bytes"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

// Tests of the BDAT path (RFC 3030): chunk sizes, messages of several
// chunks from memory and from a stream, and the bytes of a chunk, which
// are the message's as they are, without dot-stuffing
// (TestSendmailReaderDotAtReadBoundary in datawriter_test.go).

// bdatLines returns the BDAT commands of the server's transcript.
func bdatLines(srv *smtptest.Server) []string {
	return regexp.MustCompile(`(?m)^C: (BDAT .*)$`).FindAllString(srv.Transcript(), -1)
}

// TestChunkSizes checks how a message of 2.1 MiB is cut: into chunks of
// chunkSize, the last one with LAST; with PIPELINING, the first chunk,
// which rides with MAIL and RCPT before their replies are in, is only
// firstChunkSize. From a stream, read 32 KiB at a time, the first read is
// at least half that first chunk, and goes as it lies. A CRLF across a
// chunk's end goes whole into the next chunk.
func TestChunkSizes(t *testing.T) {
	msg := bytes.Repeat([]byte(strings.Repeat("z", 62)+"\r\n"), (2<<20+100<<10)/64)
	split := append(bytes.Repeat([]byte("s"), chunkSize-1), "\r\n"+strings.Repeat("tail\r\n", 100)...)
	chunks := func(msg []byte, sizes ...int) []string {
		var out []string
		n := len(msg)
		for _, s := range sizes {
			out = append(out, "C: BDAT "+strconv.Itoa(s))
			n -= s
		}
		return append(out, "C: BDAT "+strconv.Itoa(n)+" LAST")
	}
	fromMemory := func(msg []byte) func(c *SMTP) error {
		return func(c *SMTP) error {
			_, err := c.Sendmail("a@example.com", []string{"b@example.com"}, msg)
			return err
		}
	}
	fromStream := func(msg []byte) func(c *SMTP) error {
		return func(c *SMTP) error {
			_, err := c.SendmailReader("a@example.com", []string{"b@example.com"}, io.MultiReader(bytes.NewReader(msg)))
			return err
		}
	}
	tests := []struct {
		name string
		ext  []string
		msg  []byte
		send func(msg []byte) func(c *SMTP) error
		want []string
	}{
		{"one at a time, from memory", []string{"CHUNKING"}, msg, fromMemory, chunks(msg, chunkSize, chunkSize)},
		{"one at a time, from a stream", []string{"CHUNKING"}, msg, fromStream, chunks(msg, chunkSize, chunkSize)},
		{"pipelining, from memory", []string{"CHUNKING", "PIPELINING"}, msg, fromMemory,
			chunks(msg, firstChunkSize, chunkSize, chunkSize)},
		{"pipelining, from a stream", []string{"CHUNKING", "PIPELINING"}, msg, fromStream,
			chunks(msg, 32<<10, chunkSize, chunkSize)},
		{"a CRLF across a chunk's end, from memory", []string{"CHUNKING"}, split, fromMemory,
			chunks(split, chunkSize-1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, smtptest.WithExtensions(tt.ext...))
			c := dialTest(t, srv)
			require.NoError(t, tt.send(tt.msg)(c))
			assert.Equal(t, tt.want, bdatLines(srv))
			msgs := srv.Messages()
			require.Len(t, msgs, 1)
			assert.True(t, bytes.Equal(tt.msg, msgs[0].Data), "the data arrives whole")
		})
	}
}

// TestChunkRefused refuses the first chunk of a streamed message of three
// (RFC 3030 section 3: the server may refuse a chunk, and the client then
// sends no more of the message): one at a time, no other chunk goes, the
// refusal is the error, and the session goes on.
func TestChunkRefused(t *testing.T) {
	msg := bytes.Repeat([]byte(strings.Repeat("r", 62)+"\r\n"), 3*chunkSize/64)
	srv := smtptest.NewServer(t, smtptest.WithExtensions("CHUNKING"),
		smtptest.WithReplies("BDAT", "552 5.3.4 no more"))
	c := dialTest(t, srv)

	_, err := c.SendmailReader("a@example.com", []string{"b@example.com"}, bytes.NewReader(msg))

	assert.Equal(t, &DataError{respErr(Reply{552, "5.3.4 no more"})}, err)
	assert.Equal(t, []string{"C: BDAT 1048576"}, bdatLines(srv), "no chunk after the refused one")
	r, err := c.Noop()
	require.NoError(t, err, "the session goes on")
	assert.Equal(t, 250, r.Code)
	assert.Empty(t, srv.Messages())
}

// TestSendmailLargeChunked streams a message of several chunks, with a
// CRLF split across a chunk boundary, in every mode.
func TestSendmailLargeChunked(t *testing.T) {
	body := strings.Repeat("x", chunkSize-1) + "\r\n" + strings.Repeat("line\n", 300000)
	want := strings.Repeat("x", chunkSize-1) + "\r\n" + strings.Repeat("line\r\n", 300000)
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, smtptest.WithExtensions(mode.ext...))
			c := dialTest(t, srv)
			_, err := c.SendmailReader("a@example.com", []string{"b@example.com"}, strings.NewReader(body))
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
			srv := smtptest.NewServer(t, smtptest.WithExtensions(mode.ext...))
			c := dialTest(t, srv)
			_, err := c.Sendmail("a@example.com", []string{"b@example.com"}, msg)
			require.NoError(t, err)
			msgs := srv.Messages()
			require.Len(t, msgs, 1)
			assert.True(t, bytes.Equal(orig, msgs[0].Data), "the data arrives whole")
			assert.True(t, bytes.Equal(orig, msg), "the caller's message is untouched")
		})
	}
}
