package smtptest_test

import (
	"crypto/tls"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

// faultOpts offers everything a fault can strike at.
var faultOpts = []smtptest.Option{
	smtptest.WithExtensions("PIPELINING", "CHUNKING", "STARTTLS", "AUTH PLAIN"),
	smtptest.WithUsers(map[string]string{"u": "p"}),
}

const ehloFaults = "250-smtptest.example\n250-PIPELINING\n250-CHUNKING\n250-STARTTLS\n250 AUTH PLAIN"

// faultCases lists, for each point, the conversation up to the command
// after which the fault strikes; the last step's want is what the client
// must still get before the fault (or "" for nothing).
var faultCases = []struct {
	name  string
	fault smtptest.Fault
	steps []step
	last  step
}{
	{"greeting", smtptest.Fault{At: "GREETING"}, nil, step{"", ""}},
	{"ehlo", smtptest.Fault{At: "EHLO"}, []step{{"", banner}}, step{"EHLO c\r\n", ""}},
	{"mail", smtptest.Fault{At: "mail"}, []step{{"", banner}, {"EHLO c\r\n", ehloFaults}},
		step{"MAIL FROM:<a@example.com>\r\n", ""}},
	{"second rcpt", smtptest.Fault{At: "RCPT", N: 2}, []step{{"", banner}, {"EHLO c\r\n", ehloFaults},
		{"MAIL FROM:<a@example.com>\r\n", mailOK}, {"RCPT TO:<b@example.com>\r\n", rcptOK}},
		step{"RCPT TO:<c@example.com>\r\n", ""}},
	{"data", smtptest.Fault{At: "DATA"}, []step{{"", banner}, {"EHLO c\r\n", ehloFaults},
		{"MAIL FROM:<a@example.com>\r\n", mailOK}, {"RCPT TO:<b@example.com>\r\n", rcptOK}},
		step{"DATA\r\n", ""}},
	{"data body", smtptest.Fault{At: "DATA_BODY"}, []step{{"", banner}, {"EHLO c\r\n", ehloFaults},
		{"MAIL FROM:<a@example.com>\r\n", mailOK}, {"RCPT TO:<b@example.com>\r\n", rcptOK},
		{"DATA\r\n", dataGo}},
		step{"Subject: x\r\n", ""}},
	{"dot", smtptest.Fault{At: "DOT"}, []step{{"", banner}, {"EHLO c\r\n", ehloFaults},
		{"MAIL FROM:<a@example.com>\r\n", mailOK}, {"RCPT TO:<b@example.com>\r\n", rcptOK},
		{"DATA\r\n", dataGo}},
		step{"Subject: x\r\n\r\nbody\r\n.\r\n", ""}},
	{"bdat", smtptest.Fault{At: "BDAT"}, []step{{"", banner}, {"EHLO c\r\n", ehloFaults},
		{"MAIL FROM:<a@example.com>\r\n", mailOK}, {"RCPT TO:<b@example.com>\r\n", rcptOK}},
		step{"BDAT 3 LAST\r\nabc", ""}},
	{"dot after bdat last", smtptest.Fault{At: "DOT"}, []step{{"", banner}, {"EHLO c\r\n", ehloFaults},
		{"MAIL FROM:<a@example.com>\r\n", mailOK}, {"RCPT TO:<b@example.com>\r\n", rcptOK}},
		step{"BDAT 3 LAST\r\nabc", ""}},
	{"auth", smtptest.Fault{At: "AUTH"}, []step{{"", banner}, {"EHLO c\r\n", ehloFaults}},
		step{"AUTH PLAIN AHUAcA==\r\n", ""}},
	{"starttls", smtptest.Fault{At: "STARTTLS"}, []step{{"", banner}, {"EHLO c\r\n", ehloFaults}},
		step{"STARTTLS\r\n", ""}},
	{"tls handshake", smtptest.Fault{At: "TLS_HANDSHAKE"}, []step{{"", banner}, {"EHLO c\r\n", ehloFaults}},
		step{"STARTTLS\r\n", "220 2.0.0 Ready to start TLS"}},
	{"quit", smtptest.Fault{At: "QUIT"}, []step{{"", banner}}, step{"QUIT\r\n", ""}},
	{"reply then drop", smtptest.Fault{At: "RCPT", Reply: "421 4.3.0 crash\r\n"}, []step{{"", banner},
		{"EHLO c\r\n", ehloFaults}, {"MAIL FROM:<a@example.com>\r\n", mailOK}},
		step{"RCPT TO:<b@example.com>\r\n", "421 4.3.0 crash"}},
}

func TestFaultDrop(t *testing.T) {
	for _, tt := range faultCases {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.fault
			f.Action = smtptest.Drop
			s := smtptest.NewServer(t, append(faultOpts, smtptest.WithFault(f))...)
			c := dial(t, s)
			c.run(tt.steps)
			last := []step{tt.last, {"", "EOF"}}
			if tt.last.want == "" {
				last = []step{{tt.last.send, "EOF"}}
			}
			c.run(last)
			require.NoError(t, s.WaitSessions(1, ioTimeout))
			assert.Empty(t, s.Messages())

			// The fault struck once: the next session is normal.
			c2 := dial(t, s)
			c2.run([]step{{"", banner}, {"EHLO c\r\n", ehloFaults}, {"QUIT\r\n", "221 2.0.0 Bye"}})
		})
	}
}

func TestFaultStall(t *testing.T) {
	for _, tt := range faultCases {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.fault
			f.Action = smtptest.Stall
			s := smtptest.NewServer(t, append(faultOpts, smtptest.WithFault(f))...)
			c := dial(t, s)
			c.run(tt.steps)
			if tt.last.send != "" {
				c.send(tt.last.send)
			}
			if tt.last.want != "" {
				assert.Equal(t, tt.last.want, c.reply())
			}
			// Nothing more comes: a short deadline proves the stall.
			require.NoError(t, c.conn.SetReadDeadline(time.Now().Add(50*time.Millisecond)))
			_, err := c.r.ReadByte()
			assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
			require.NoError(t, c.conn.SetReadDeadline(time.Now().Add(ioTimeout)))

			assertCloseReturns(t, s)
			assert.True(t, c.closed(), "Close ends the stalled session")
			assert.Empty(t, s.Messages())
		})
	}
}

func assertCloseReturns(t *testing.T, s *smtptest.Server) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		s.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(ioTimeout):
		t.Fatal("Close did not return")
	}
}

func TestFaultPartialReply(t *testing.T) {
	s := smtptest.NewServer(t, smtptest.WithFault(smtptest.Fault{At: "EHLO", Reply: "250-half a"}))
	c := dial(t, s)
	c.reply()
	c.send("EHLO c\r\n")
	got, err := c.readReply()
	assert.Equal(t, "250-half a", got)
	assert.Error(t, err, "the reply is cut off by the close")
}

func TestFaultDropSendsPendingReplies(t *testing.T) {
	s := smtptest.NewServer(t, smtptest.WithFault(smtptest.Fault{At: "RCPT", N: 2}))
	c := dialGreeted(t, s)
	c.send("MAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nRCPT TO:<c@example.com>\r\nDATA\r\n")
	c.run([]step{{"", mailOK}, {"", rcptOK}, {"", "EOF"}})
}

func TestFaultOnSecondSession(t *testing.T) {
	s := smtptest.NewServer(t, smtptest.WithFault(smtptest.Fault{At: "GREETING", N: 2, Reply: "421 4.3.2 Busy\r\n"}))
	dial(t, s).run([]step{{"", banner}})
	dial(t, s).run([]step{{"", "421 4.3.2 Busy"}, {"", "EOF"}})
	dial(t, s).run([]step{{"", banner}})
}

func TestFaultImplicitTLSHandshake(t *testing.T) {
	for _, action := range []smtptest.FaultAction{smtptest.Drop, smtptest.Stall} {
		s := smtptest.NewUnstartedServer(t, smtptest.WithFault(smtptest.Fault{At: "TLS_HANDSHAKE", Action: action}))
		s.StartTLS()
		conn, err := net.Dial("tcp", s.Addr)
		require.NoError(t, err)
		cfg := s.TLSConfig()
		cfg.ServerName = "localhost"
		tc := tls.Client(conn, cfg)
		if action == smtptest.Stall {
			require.NoError(t, conn.SetDeadline(time.Now().Add(50*time.Millisecond)))
		}
		err = tc.Handshake()
		require.Error(t, err)
		var ne net.Error
		assert.Equal(t, action == smtptest.Stall, errors.As(err, &ne) && ne.Timeout(), "%v", err)
		conn.Close()
		assertCloseReturns(t, s)
	}
}
