package smtplib

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/email"
	"github.com/gosmtplib/smtplib/smtptest"
)

// readEML reads a sample message of the email package's testdata.
func readEML(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("email", "testdata", "messages", name))
	require.NoError(t, err)
	return data
}

// mustRead reads a message from its text.
func mustRead(t testing.TB, s string) *email.Message {
	t.Helper()
	m, err := email.ReadMessage(strings.NewReader(s))
	require.NoError(t, err)
	return m
}

// sentForm is what the data writer puts on the wire: every line ending CRLF,
// and a final CRLF if the message lacks one.
func sentForm(b []byte) []byte {
	s := strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(string(b), "\r\n", "\n"), "\r", "\n"), "\n", "\r\n")
	if s != "" && !strings.HasSuffix(s, "\r\n") {
		s += "\r\n"
	}
	return []byte(s)
}

// withoutFields removes the header fields called one of names (with their
// continuation lines) from raw, by plain text, to build expectations
// independently of the code under test.
func withoutFields(raw string, names ...string) string {
	var out strings.Builder
	skipping := false
	inHeader := true
	for _, line := range strings.SplitAfter(raw, "\n") {
		if inHeader && (line == "\n" || line == "\r\n") {
			inHeader = false
		}
		if inHeader {
			if skipping && (strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")) {
				continue
			}
			skipping = false
			for _, n := range names {
				if regexp.MustCompile(`(?i)^` + regexp.QuoteMeta(n) + `[ \t]*:`).MatchString(line) {
					skipping = true
				}
			}
			if skipping {
				continue
			}
		}
		out.WriteString(line)
	}
	return out.String()
}

func TestSendMessage(t *testing.T) {
	tests := []struct {
		name        string
		file        string // or raw
		raw         string
		from        string
		to          []string
		mailOptions []string
		server      []smtptest.Option
		wantFrom    string
		wantTo      []string
		wantOptions []string
		wantRefused []string
		wantData    string // default: the input minus Bcc, Resent-Bcc and mbox line
	}{
		{
			name:     "Sender preferred, To then Bcc then Cc",
			file:     "bcc.eml",
			wantFrom: "secretary@example.com",
			wantTo:   []string{"a@example.org", "b@example.org", "secret1@example.org", "secret2@example.org", "c@example.org"},
		},
		{
			name:     "Resent block",
			file:     "resent.eml",
			wantFrom: "fwd@example.net",
			wantTo:   []string{"final@example.org", "hidden-resent@example.org", "copy@example.org"},
		},
		{
			name:     "explicit envelope wins",
			file:     "bcc.eml",
			from:     "Bounce Handler <bounce@example.com>",
			to:       []string{"only@example.org"},
			wantFrom: "bounce@example.com",
			wantTo:   []string{"only@example.org"},
		},
		{
			name:     "From without Sender, folded DKIM kept byte for byte",
			file:     "multipart_alternative_attachment.eml",
			wantFrom: "alice@example.com",
			wantTo:   []string{"bob@example.org"},
		},
		{
			name:     "mbox line not sent",
			file:     "mbox_from_line.eml",
			wantFrom: "alice@example.com",
			wantTo:   []string{"bob@example.org"},
			wantData: "From: alice@example.com\r\nTo: bob@example.org\r\nSubject: From an mbox file\r\n\r\n>From here on, the body.\r\n",
		},
		{
			name:     "LF-only message goes out CRLF",
			file:     "lf_only.eml",
			wantFrom: "lf@example.com",
			wantTo:   []string{"someone@example.org"},
		},
		{
			name:     "obsolete blank before the colon is still Bcc",
			file:     "obsolete_space_before_colon.eml",
			wantFrom: "a@example.com",
			wantTo:   []string{"b@example.org", "hidden@example.org"},
		},
		{
			name:     "no separator and no final newline",
			file:     "no_final_newline.eml",
			to:       []string{"x@example.org"},
			wantFrom: "a@example.com",
			wantTo:   []string{"x@example.org"},
		},
		{
			name:     "only the first To field counts, as in smtplib",
			raw:      "From: a@example.com\r\nTo: one@example.org\r\nTo: two@example.org\r\n\r\nx\r\n",
			wantFrom: "a@example.com",
			wantTo:   []string{"one@example.org"},
		},
		{
			name:        "empty group gives an empty recipient, as in smtplib",
			raw:         "From: a@example.com\r\nTo: undisclosed-recipients:;\r\nBcc: real@example.org\r\n\r\nx\r\n",
			server:      []smtptest.Option{smtptest.WithRefuseRecipient("", "553 5.1.3 Bad recipient address syntax")},
			wantFrom:    "a@example.com",
			wantTo:      []string{"real@example.org"},
			wantRefused: []string{""},
		},
		{
			name:        "SMTPUTF8 server gets the addresses as they are",
			file:        "utf8_headers.eml",
			mailOptions: []string{"SIZE=1000"},
			server:      []smtptest.Option{smtptest.WithSMTPUTF8()},
			wantFrom:    "jörg@bücher.example",
			wantTo:      []string{"用户@例子.广告"},
			wantOptions: []string{"SIZE=1000", "SMTPUTF8", "BODY=8BITMIME"},
		},
		{
			name:     "IDNA: ASCII local parts with non-ASCII domains",
			raw:      "From: Jörg <joerg@Bücher.example>\r\nTo: bob@例子.广告\r\nCc: plain@example.org\r\n\r\nx\r\n",
			wantFrom: "joerg@xn--bcher-kva.example",
			wantTo:   []string{"bob@xn--fsqu00a.xn--4rr70v", "plain@example.org"},
		},
		{
			name:     "a non-ASCII display name alone needs nothing",
			file:     "bcc.eml",
			from:     "Jörg <joerg@example.com>",
			to:       []string{"André <andre@example.fr>"},
			wantFrom: "joerg@example.com",
			wantTo:   []string{"andre@example.fr"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw := []byte(tc.raw)
			if tc.file != "" {
				raw = readEML(t, tc.file)
			}
			msg, err := email.ReadMessage(bytes.NewReader(raw))
			require.NoError(t, err)
			srv := smtptest.NewServer(t, tc.server...)
			c := dialTest(t, srv)
			mailOptions := append([]string(nil), tc.mailOptions...)

			refused, err := c.SendMessage(msg, envelopeOpts(tc.from, tc.to, MailOptions(mailOptions...))...)
			require.NoError(t, err)
			_, err = c.Quit()
			require.NoError(t, err)

			assert.Equal(t, raw, msg.Bytes(), "the caller's message must not change")
			assert.Equal(t, tc.mailOptions, mailOptions, "the caller's options must not change")
			var gotRefused []string
			for k := range refused {
				gotRefused = append(gotRefused, k)
			}
			assert.ElementsMatch(t, tc.wantRefused, gotRefused)

			msgs := srv.Messages()
			require.Len(t, msgs, 1)
			assert.Equal(t, tc.wantFrom, msgs[0].From)
			assert.Equal(t, tc.wantTo, msgs[0].To)
			for _, o := range tc.wantOptions {
				assert.Contains(t, msgs[0].MailOptions, o)
			}
			if tc.wantOptions == nil {
				assert.NotContains(t, msgs[0].MailOptions, "SMTPUTF8")
			}
			want := tc.wantData
			if want == "" {
				want = string(sentForm([]byte(withoutFields(string(raw), "Bcc", "Resent-Bcc"))))
			}
			assert.Equal(t, want, string(msgs[0].Data))
			for _, hidden := range []string{"secret1", "secret2", "hidden-orig", "hidden-resent", "hidden@"} {
				assert.NotContains(t, string(msgs[0].Data), hidden)
			}
		})
	}
}

func TestSendMessageErrors(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		from    string
		to      []string
		server  []smtptest.Option
		check   func(t *testing.T, err error)
		wantMsg string
	}{
		{
			name: "two Resent-Date fields",
			raw:  "Resent-Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nResent-Date: Tue, 2 Jan 2024 00:00:00 +0000\r\nFrom: a@b\r\nTo: c@d\r\n\r\n",
			check: func(t *testing.T, err error) {
				var ce *CommandError
				require.ErrorAs(t, err, &ce)
				assert.False(t, errors.Is(err, ErrSMTP), "Python raises ValueError, not an SMTPException")
			},
			wantMsg: "smtplib: message has more than one 'Resent-' header block",
		},
		{
			name: "no From or Sender",
			raw:  "To: c@d\r\n\r\n",
			check: func(t *testing.T, err error) {
				var ce *CommandError
				require.ErrorAs(t, err, &ce)
			},
			wantMsg: "smtplib: message has no Sender or From address: give the envelope sender with FromAddr",
		},
		{
			name: "empty From",
			raw:  "From:\r\nTo: c@d\r\n\r\n",
			check: func(t *testing.T, err error) {
				var ce *CommandError
				require.ErrorAs(t, err, &ce)
			},
			wantMsg: "smtplib: message has no Sender or From address: give the envelope sender with FromAddr",
		},
		{
			name: "resent message without Resent-From",
			raw:  "Resent-Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nFrom: a@b\r\nTo: c@d\r\n\r\n",
			check: func(t *testing.T, err error) {
				var ce *CommandError
				require.ErrorAs(t, err, &ce)
			},
			wantMsg: "smtplib: message has no Resent-Sender or Resent-From address: give the envelope sender with FromAddr",
		},
		{
			name: "non-ASCII local part without SMTPUTF8",
			raw:  "From: a@example.com\r\nTo: ok@example.org, 用户@例子.广告\r\n\r\nx\r\n",
			check: func(t *testing.T, err error) {
				var ns *NotSupportedError
				require.ErrorAs(t, err, &ns)
				assert.ErrorIs(t, err, ErrSMTP)
			},
			wantMsg: "smtplib: the address <用户@例子.广告> has a non-ASCII local part, which needs the SMTPUTF8 capability that the server does not advertise",
		},
		{
			name: "non-ASCII sender local part without SMTPUTF8",
			raw:  "From: müller@example.com\r\nTo: ok@example.org\r\n\r\nx\r\n",
			check: func(t *testing.T, err error) {
				var ns *NotSupportedError
				require.ErrorAs(t, err, &ns)
			},
		},
		{
			name: "invalid internationalised domain",
			raw:  "From: a@example.com\r\n\r\nx\r\n",
			to:   []string{"user@-bücher-.example"},
			check: func(t *testing.T, err error) {
				var ns *NotSupportedError
				require.ErrorAs(t, err, &ns)
				assert.Contains(t, ns.Msg, "not a valid internationalised domain name")
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg, err := email.ReadMessage(strings.NewReader(tc.raw))
			require.NoError(t, err)
			srv := smtptest.NewServer(t, tc.server...)
			c := dialTest(t, srv)
			refused, err := c.SendMessage(msg, envelopeOpts(tc.from, tc.to)...)
			require.Error(t, err)
			assert.Nil(t, refused)
			tc.check(t, err)
			if tc.wantMsg != "" {
				assert.Equal(t, tc.wantMsg, err.Error())
			}
			// The session is still usable, and nothing was sent.
			r, err := c.Noop()
			require.NoError(t, err)
			assert.Equal(t, 250, r.Code)
			_, err = c.Quit()
			require.NoError(t, err)
			assert.Empty(t, srv.Messages())
			transcript := strings.ToUpper(srv.Transcript())
			assert.Contains(t, transcript, "C: EHLO ", "EHLO comes first, as in smtplib")
			assert.NotContains(t, transcript, "C: MAIL")
			assert.NotContains(t, transcript, "C: RCPT")
		})
	}
}

func TestSendMessageStreamsWithSize(t *testing.T) {
	msg, err := email.ReadMessage(bytes.NewReader(readEML(t, "bcc.eml")))
	require.NoError(t, err)
	srv := smtptest.NewServer(t, smtptest.WithSize(1<<20))
	c := dialTest(t, srv)
	_, err = c.SendMessage(msg)
	require.NoError(t, err)
	msgs := srv.Messages()
	require.Len(t, msgs, 1)
	assert.Contains(t, msgs[0].MailOptions, "size="+strconv.Itoa(len(msgs[0].Data)))
}

// envelopeOpts gives the table tests' envelope as SendOptions: from "" and
// to nil mean "take it from the header", as SendMessage does without
// FromAddr and ToAddrs.
func envelopeOpts(from string, to []string, more ...SendOption) []SendOption {
	var opts []SendOption
	if from != "" {
		opts = append(opts, FromAddr(from))
	}
	if to != nil {
		opts = append(opts, ToAddrs(to...))
	}
	return append(opts, more...)
}

// A built message goes through SendMessage as WriteTo writes it, without
// its Bcc, with the SIZE it has.
func TestSendBuiltMessage(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithSize(10<<20), smtptest.WithChunking(), smtptest.WithPipelining())
	m := email.NewMessage("Jörg <joerg@example.de>", []string{"bob@example.org"}, "Bericht", "Anbei.\n")
	m.Set("Bcc", "archive@example.de")
	require.NoError(t, m.AddAttachment(bytes.Repeat([]byte{0xff, 0}, 300_000), "application", "pdf", "Bericht März.pdf"))
	s := dialTest(t, srv)
	refused, err := s.SendMessage(m)
	require.NoError(t, err)
	assert.Empty(t, refused)
	_, err = s.Quit()
	require.NoError(t, err)

	msgs := srv.Messages()
	require.Len(t, msgs, 1)
	assert.Equal(t, "joerg@example.de", msgs[0].From)
	assert.Equal(t, []string{"bob@example.org", "archive@example.de"}, msgs[0].To)
	sent := m.Clone()
	sent.Del("Bcc")
	assert.Equal(t, string(sent.Bytes()), string(msgs[0].Data))
	assert.Contains(t, strings.ToUpper(strings.Join(msgs[0].MailOptions, " ")), "SIZE="+strconv.Itoa(len(msgs[0].Data)))
	got, err := email.ReadMessage(bytes.NewReader(msgs[0].Data))
	require.NoError(t, err)
	atts := slices.Collect(got.IterAttachments())
	require.Len(t, atts, 1)
	assert.Equal(t, "Bericht März.pdf", atts[0].GetFilename())
	c, err := atts[0].GetContent()
	require.NoError(t, err)
	assert.Equal(t, bytes.Repeat([]byte{0xff, 0}, 300_000), c)
}

// TestSendMessageSize: SendMessage declares the length of the message as it
// goes out, with CRLF line ends (smtplib flattens it with CRLF before
// sendmail declares len(flatmsg)); Sendmail declares len(msg).
func TestSendMessageSize(t *testing.T) {
	lf := "From: a@example.com\nTo: b@example.com\nSubject: nine lines\n\n1\n2\n3\n4\n5\n"
	tests := []struct {
		name string
		send func(c *SMTP) error
		want int
	}{
		{"SendMessage, LF line ends", func(c *SMTP) error {
			_, err := c.SendMessage(mustRead(t, lf))
			return err
		}, len(lf) + strings.Count(lf, "\n")},
		{"SendMessage, CRLF line ends", func(c *SMTP) error {
			_, err := c.SendMessage(mustRead(t, strings.ReplaceAll(lf, "\n", "\r\n")))
			return err
		}, len(lf) + strings.Count(lf, "\n")},
		{"SendMessage, Bcc left out", func(c *SMTP) error {
			_, err := c.SendMessage(mustRead(t, "Bcc: x@example.com\n"+lf))
			return err
		}, len(lf) + strings.Count(lf, "\n")},
		{"Sendmail, bytes as given", func(c *SMTP) error {
			_, err := c.Sendmail("a@example.com", []string{"b@example.com"}, []byte(lf))
			return err
		}, len(lf)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, smtptest.WithSize(1<<20))
			c := dialTest(t, srv)
			require.NoError(t, tt.send(c))
			msgs := srv.Messages()
			require.Len(t, msgs, 1)
			assert.Contains(t, msgs[0].MailOptions, fmt.Sprintf("size=%d", tt.want))
			assert.Len(t, msgs[0].Data, len(lf)+strings.Count(lf, "\n"), "what arrives is the CRLF form")
		})
	}
}
