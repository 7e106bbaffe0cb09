package smtplib

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Expected values are what Python 3.11's smtplib puts in esmtp_features for
// the same reply text (after getreply has stripped each line).
func TestParseEHLO(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		want map[string]string
	}{
		{"common", "host\nSIZE 100\nAUTH=LOGIN PLAIN\nAUTH CRAM-MD5\n8bitmime\nSTARTTLS",
			map[string]string{"size": "100", "auth": " LOGIN PLAIN CRAM-MD5", "8bitmime": "", "starttls": ""}},
		{"junk and repeats", "host\njunk\nX-EXT  a  b\nsize\nSIZE 5",
			map[string]string{"junk": "", "x-ext": "a  b", "size": "5"}},
		{"old style only", "host\nauth=x\nAUTH=y", map[string]string{"auth": " x y"}},
		{"latin-1", "host\ncaf\xe9 \xa0x\xa0", map[string]string{"caf": "é \u00a0x"}},
		{"greeting only", "host", map[string]string{}},
		{"odd keywords", "host\n\n-bad\nok-ext-\nA_B c", map[string]string{"ok-ext-": "", "a": "_B c"}},
		{"separators stripped", "host\nX \x1cv\x1f", map[string]string{"x": "v"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, parseEHLO(tt.msg))
		})
	}
}

func TestEhloExchange(t *testing.T) {
	srv := newScriptServer(t, `
		S: 220 hello
		C
		S: 250-mx.example greets you
		S: 250-SIZE 1000
		S: 250-auth=LOGIN
		S: 250 8BITMIME
		C
		S: 221 bye`)
	c := dialRaw(t, srv)
	r, err := c.Ehlo("")
	require.NoError(t, err)
	assert.Equal(t, Reply{250, "mx.example greets you\nSIZE 1000\nauth=LOGIN\n8BITMIME"}, r)
	assert.True(t, c.DoesESMTP)
	assert.Equal(t, r.Message, c.EhloResp)
	assert.True(t, c.HasExtn("SIZE"))
	assert.True(t, c.HasExtn("Auth"))
	assert.False(t, c.HasExtn("pipelining"))
	assert.Equal(t, " LOGIN", c.ESMTPFeatures["auth"])
	_, err = c.Quit()
	require.NoError(t, err)
	assert.False(t, c.DoesESMTP, "QUIT forgets the greeting")
	assert.Empty(t, c.ESMTPFeatures)
	assert.Equal(t, wire("ehlo client.example", "quit"), srv.received())
}

func TestEhloFallbacks(t *testing.T) {
	tests := []struct {
		name    string
		script  string
		sent    []string
		errType any
		helo    string
	}{
		{"EHLO refused, HELO accepted", `
			S: 220 hi
			C
			S: 502 what
			C
			S: 250 ok helo`, wire("ehlo client.example", "helo client.example"), nil, "ok helo"},
		{"both refused", `
			S: 220 hi
			C
			S: 502 what
			C
			S: 501 no`, wire("ehlo client.example", "helo client.example"), &HeloError{}, ""},
		{"EHLO 2xx other than 250 counts", `
			S: 220 hi
			C
			S: 251 fine`, wire("ehlo client.example"), nil, ""},
		{"EHLO refused, hang-up on HELO", `
			S: 220 hi
			C
			S: 502 what
			C`, wire("ehlo client.example", "helo client.example"), &ServerDisconnectedError{}, ""},
		{"hang-up on EHLO", `
			S: 220 hi
			C`, wire("ehlo client.example"), &ServerDisconnectedError{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScriptServer(t, tt.script)
			c := dialRaw(t, srv)
			err := c.EhloOrHeloIfNeeded()
			if tt.errType != nil {
				require.Error(t, err)
				assert.IsType(t, tt.errType, err)
				assert.ErrorIs(t, err, ErrSMTP)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tt.helo, c.HeloResp)
				// Done once: a second call sends nothing.
				require.NoError(t, c.EhloOrHeloIfNeeded())
			}
			c.Close()
			assert.Equal(t, tt.sent, srv.received())
		})
	}
}

func TestEhloMinusOneClosesOnlyWhenEmpty(t *testing.T) {
	srv := newScriptServer(t, `
		S: 220 hi
		C
		S: garbage here`)
	c := dialRaw(t, srv)
	r, err := c.Ehlo("name.example")
	require.NoError(t, err, "a -1 reply with text is a reply")
	assert.Equal(t, Reply{-1, "age here"}, r)
	assert.False(t, c.DoesESMTP)
	assert.Equal(t, wire("ehlo name.example"), srv.received())
}

func TestEhloIDNA(t *testing.T) {
	srv := newScriptServer(t, `
		S: 220 hi
		C
		S: 250 ok
		C
		S: 250 ok`)
	c := dialRaw(t, srv, WithLocalHostname("bücher.example"))
	_, err := c.Ehlo("")
	require.NoError(t, err)
	_, err = c.Helo("[192.0.2.1]")
	require.NoError(t, err)
	assert.Equal(t, wire("ehlo xn--bcher-kva.example", "helo [192.0.2.1]"), srv.received())

	// A name IDNA refuses goes as it is, for the server to judge.
	assert.Equal(t, "-bücher.example", asciiHostname("-bücher.example"))
}

// FuzzEHLO checks that the EHLO parser never panics and that every key it
// yields is a lower-case keyword.
func FuzzEHLO(f *testing.F) {
	for _, s := range []string{"host\nSIZE 1", "h\nauth=x\nAUTH y", "h\n\xff\xfe", "h\n-x\n", "\n\n\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		for k := range parseEHLO(msg) {
			require.NotEmpty(t, k)
			assert.Equal(t, strings.ToLower(k), k)
			assert.Equal(t, len(k), keywordLen(k))
		}
	})
}

// TestEhlo421 has the server answer EHLO with 421 and hang up, as a
// server going down does: the client is closed and returns the 421 as a
// *HeloError that says to try later, and no HELO is written into the
// closed connection (it used to be, and the 421 was lost).
func TestEhlo421(t *testing.T) {
	calls := []struct {
		name string
		call func(c *SMTP) error
	}{
		{"EhloOrHeloIfNeeded", func(c *SMTP) error { return c.EhloOrHeloIfNeeded() }},
		{"Sendmail", func(c *SMTP) error {
			_, err := c.Sendmail("s@example.com", []string{"r@example.com"}, []byte("x\r\n"))
			return err
		}},
		{"Ehlo", func(c *SMTP) error {
			r, err := c.Ehlo("")
			assert.Equal(t, Reply{421, "4.7.0 try later"}, r, "the reply is returned too")
			return err
		}},
		{"Helo", func(c *SMTP) error { _, err := c.Helo(""); return err }},
	}
	for _, tt := range calls {
		t.Run(tt.name, func(t *testing.T) {
			srv := newScriptServer(t, `
				S: 220 mx.example
				C
				S: 421 4.7.0 try later`)
			c := dialRaw(t, srv)
			err := tt.call(c)
			var he *HeloError
			require.ErrorAs(t, err, &he)
			assert.Equal(t, 421, he.Code)
			assert.Equal(t, "4.7.0 try later", he.Message)
			assert.True(t, he.Temporary())
			assert.Equal(t, [3]int{4, 7, 0}, he.EnhancedCode())
			assert.Nil(t, c.getConn(), "the client is closed")
			assert.Len(t, srv.received(), 1, "no HELO after the 421")
		})
	}
}
