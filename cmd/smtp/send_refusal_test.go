package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/gosmtplib/smtplib/smtptest"
)

func TestSendRefusals(t *testing.T) {
	tests := []struct {
		name      string
		opts      []smtptest.Option
		args      []string
		code      int
		stderr    string // every line
		delivered []string
	}{
		{
			name: "one recipient refused for good",
			opts: []smtptest.Option{smtptest.WithRefuseRecipient("nobody@example.org", "550 5.1.1 No such user")},
			args: []string{"--to", "nobody@example.org"},
			code: exitPartial,
			stderr: "smtp: 1 of 2 recipients refused; the message was sent to the others\n" +
				"smtp: refused nobody@example.org: 550 5.1.1 No such user\n",
			delivered: []string{"bob@example.org"},
		},
		{
			name: "one recipient refused for now",
			opts: []smtptest.Option{smtptest.WithRefuseRecipient("nobody@example.org", "450 4.2.0 Try later")},
			args: []string{"--to", "nobody@example.org"},
			code: exitPartial,
			stderr: "smtp: 1 of 2 recipients refused; the message was sent to the others\n" +
				"smtp: refused nobody@example.org: 450 4.2.0 Try later\n",
			delivered: []string{"bob@example.org"},
		},
		{
			name: "every recipient refused, for now",
			opts: []smtptest.Option{
				smtptest.WithRefuseRecipient("bob@example.org", "450 4.2.0 Try later"),
				smtptest.WithRefuseRecipient("carol@example.org", "451 4.3.0 Busy"),
			},
			args: []string{"--to", "carol@example.org"},
			code: exitTempFail,
			stderr: "smtp: sending to ADDR: every recipient was refused\n" +
				"smtp: refused bob@example.org: 450 4.2.0 Try later\n" +
				"smtp: refused carol@example.org: 451 4.3.0 Busy\n",
		},
		{
			name: "every recipient refused, one for good",
			opts: []smtptest.Option{
				smtptest.WithRefuseRecipient("bob@example.org", "450 4.2.0 Try later"),
				smtptest.WithRefuseRecipient("carol@example.org", "550 5.1.1 Gone"),
			},
			args: []string{"--to", "carol@example.org"},
			code: exitRefused,
			stderr: "smtp: sending to ADDR: every recipient was refused\n" +
				"smtp: refused bob@example.org: 450 4.2.0 Try later\n" +
				"smtp: refused carol@example.org: 550 5.1.1 Gone\n",
		},
		{
			name:   "sender refused",
			opts:   []smtptest.Option{smtptest.WithRefuseSender("alice@example.com", "553 5.7.1 Not you")},
			code:   exitRefused,
			stderr: "smtp: sending to ADDR: sender Alice <alice@example.com> refused: 553 5.7.1 Not you\n",
		},
		{
			name:   "data refused for now",
			opts:   []smtptest.Option{smtptest.WithReply("DOT", "452 4.3.1 Insufficient system storage")},
			code:   exitTempFail,
			stderr: "smtp: sending to ADDR: data refused: 452 4.3.1 Insufficient system storage\n",
		},
		{
			name:   "message too big",
			opts:   []smtptest.Option{smtptest.WithSize(100)},
			args:   []string{"--body", strings.Repeat("x", 200)},
			code:   exitRefused,
			stderr: "smtp: sending to ADDR: sender Alice <alice@example.com> refused: 552 5.3.4 ",
		},
		{
			name:   "connection lost after the data",
			opts:   []smtptest.Option{smtptest.WithFault(smtptest.Fault{At: "DOT"})},
			code:   exitTempFail,
			stderr: "smtp: sending to ADDR: ",
		},
		{
			name:   "no answer after the data",
			opts:   []smtptest.Option{smtptest.WithFault(smtptest.Fault{At: "DOT", Action: smtptest.Stall})},
			args:   []string{"--timeout", "50ms"},
			code:   exitTempFail,
			stderr: "smtp: sending to ADDR: no answer within 50ms (--timeout)\n",
		},
		{
			name:   "EHLO and HELO refused",
			opts:   []smtptest.Option{smtptest.WithReply("EHLO", "554 5.7.1 Go away"), smtptest.WithReply("HELO", "554 5.7.1 Go away")},
			code:   exitRefused,
			stderr: "smtp: EHLO: HELO refused: 554 5.7.1 Go away\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, tt.opts...)
			r := run1(t, sendArgs(srv, tt.args...)...)
			assert.Equal(t, tt.code, r.code, r.stderr)
			want := strings.ReplaceAll(tt.stderr, "ADDR", srv.Addr)
			if strings.HasSuffix(want, "\n") {
				assert.Equal(t, want, r.stderr)
			} else {
				assert.True(t, strings.HasPrefix(r.stderr, want), r.stderr)
				assert.Equal(t, 1, strings.Count(r.stderr, "\n"), r.stderr)
			}
			if tt.delivered != nil {
				got, _ := received(t, srv)
				assert.Equal(t, tt.delivered, got.To)
				assert.Regexp(t, `^sent \d+ bytes to `+regexp.QuoteMeta(srv.Addr)+` for 1 of 2 recipients: 250 2\.0\.0 Ok: queued as `+got.ID+`\n$`, r.stdout)
			} else if tt.code != exitTempFail || !strings.Contains(tt.name, "after the data") {
				assert.Empty(t, srv.Messages())
			}
		})
	}
}

func TestSendNoAnswerAtConnect(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithFault(smtptest.Fault{At: "GREETING", Action: smtptest.Stall}))
	r := run1(t, sendArgs(srv, "--timeout", "20ms")...)
	assert.Equal(t, exitTempFail, r.code)
	assert.Equal(t, "smtp: connect to "+srv.Addr+": no answer within 20ms (--timeout)\n", r.stderr)
}
