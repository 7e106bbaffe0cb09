package smtplib

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/internal/rawsrv"
	"github.com/gosmtplib/smtplib/smtptest"
)

// traceLog records every event of a Trace, in order.
type traceLog struct {
	mu     sync.Mutex
	events []any
}

func (l *traceLog) add(v any) {
	l.mu.Lock()
	l.events = append(l.events, v)
	l.mu.Unlock()
}

func (l *traceLog) trace() *Trace {
	return &Trace{
		Connected:     func(i ConnectInfo) { l.add(i) },
		TLSDone:       func(i TLSInfo) { l.add(i) },
		Authenticated: func(i AuthInfo) { l.add(i) },
		Transaction:   func(i TxnInfo) { l.add(i) },
		Closed:        func(i ClosedInfo) { l.add(i) },
	}
}

func (l *traceLog) all() []any {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]any(nil), l.events...)
}

// kinds names each event's type, for comparing a session's sequence.
func kinds(events []any) []string {
	var k []string
	for _, e := range events {
		k = append(k, strings.TrimSuffix(fmt.Sprintf("%T", e), "Info")[len("smtplib."):])
	}
	return k
}

// TestTraceSession follows one session through STARTTLS, a refused login,
// an accepted one, a mail sent, one refused and QUIT: each event comes
// once, in order, with what it says, and the same session throughout.
func TestTraceSession(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithSTARTTLS(), smtptest.WithAuth("PLAIN"),
		smtptest.WithUsers(map[string]string{"alice": "s3cret"}), smtptest.WithEnhancedStatusCodes(),
		smtptest.WithRefuseRecipient("nobody@example.org", "550 5.1.1 No such user"))
	var log traceLog
	c, err := Dial(srv.Host(), srv.Port(), WithTrace(log.trace()), WithTimeout(testTimeout))
	require.NoError(t, err)
	defer c.Close()
	_, err = c.StartTLS(srv.TLSConfig())
	require.NoError(t, err)
	_, err = c.Login("alice", "wrong")
	require.Error(t, err)
	_, err = c.Login("alice", "s3cret")
	require.NoError(t, err)
	msg := []byte("Subject: hi\r\n\r\nhello\r\n")
	_, err = c.Sendmail("alice@example.com", []string{"bob@example.org", "carol@example.org"}, msg)
	require.NoError(t, err)
	_, err = c.Sendmail("alice@example.com", []string{"nobody@example.org"}, msg)
	require.Error(t, err)
	_, err = c.Quit()
	require.NoError(t, err)

	events := log.all()
	require.Equal(t, []string{"Connect", "TLS", "Auth", "Auth", "Txn", "Txn", "Closed"}, kinds(events))
	conn := events[0].(ConnectInfo)
	assert.NoError(t, conn.Err)
	assert.Equal(t, 220, conn.Greeting.Code)
	assert.Equal(t, fmt.Sprintf("%s:%d", srv.Host(), srv.Port()), conn.Server)
	assert.NotNil(t, conn.Remote)
	assert.NotZero(t, conn.ID)

	tlsInfo := events[1].(TLSInfo)
	assert.NoError(t, tlsInfo.Err)
	assert.False(t, tlsInfo.Implicit)
	assert.True(t, tlsInfo.State.HandshakeComplete)

	refused, ok := events[2].(AuthInfo)
	require.True(t, ok)
	assert.Equal(t, "PLAIN", refused.Mechanism)
	var ae *AuthenticationError
	assert.ErrorAs(t, refused.Err, &ae)
	assert.Equal(t, 535, refused.Reply.Code)
	accepted := events[3].(AuthInfo)
	assert.NoError(t, accepted.Err)
	assert.Equal(t, 235, accepted.Reply.Code)

	sent := events[4].(TxnInfo)
	assert.Equal(t, OutcomeSent, sent.Outcome)
	assert.Equal(t, "alice@example.com", sent.From)
	assert.Equal(t, 2, sent.Recipients)
	assert.Zero(t, sent.Refused)
	assert.Equal(t, 250, sent.Code)
	assert.Equal(t, [3]int{2, 0, 0}, sent.EnhancedCode)
	assert.NotEmpty(t, sent.QueueID)
	assert.Equal(t, sent.Reply.QueueID(), sent.QueueID)
	assert.Equal(t, len(msg), sent.Bytes)
	assert.Positive(t, sent.Duration)

	no := events[5].(TxnInfo)
	assert.Equal(t, OutcomeRefused, no.Outcome)
	assert.Equal(t, 550, no.Code)
	assert.Equal(t, [3]int{5, 1, 1}, no.EnhancedCode)
	assert.Empty(t, no.QueueID)

	closed := events[6].(ClosedInfo)
	assert.True(t, closed.Quit)
	assert.Equal(t, 221, closed.Reply.Code)
	assert.NoError(t, closed.Err)
	for i, e := range events {
		assert.Equal(t, conn.Session, sessionOf(e), "event %d", i)
		assert.NotContains(t, fmt.Sprintf("%+v", e), "s3cret", "event %d shows no credential", i)
	}
}

func sessionOf(e any) Session {
	switch i := e.(type) {
	case ConnectInfo:
		return i.Session
	case TLSInfo:
		return i.Session
	case AuthInfo:
		return i.Session
	case TxnInfo:
		return i.Session
	case ClosedInfo:
		return i.Session
	}
	return Session{}
}

// TestTraceFailures traces the ways a session ends badly: a dial that
// fails, a drop after the data (delivery unknown, connection lost), a
// 421 at MAIL (closed by the server, the mail refused, the next not sent),
// and a client closed by its caller.
func TestTraceFailures(t *testing.T) {
	t.Run("dial", func(t *testing.T) {
		var log traceLog
		_, err := Dial("127.0.0.1", rawsrv.ClosedPort(t), WithTrace(log.trace()))
		require.Error(t, err)
		require.Equal(t, []string{"Connect"}, kinds(log.all()))
		info := log.all()[0].(ConnectInfo)
		assert.ErrorIs(t, info.Err, ErrNotSent)
		assert.Nil(t, info.Remote)
	})
	t.Run("drop after the data", func(t *testing.T) {
		srv := smtptest.NewServer(t, smtptest.WithFault(smtptest.Fault{At: "DOT", Action: smtptest.Drop}))
		var log traceLog
		c, err := Dial(srv.Host(), srv.Port(), WithTrace(log.trace()), WithTimeout(testTimeout))
		require.NoError(t, err)
		_, err = c.Sendmail("a@example.com", []string{"b@example.com"}, []byte("x\r\n"))
		require.ErrorIs(t, err, ErrDeliveryUnknown)
		events := log.all()
		require.Equal(t, []string{"Connect", "Closed", "Txn"}, kinds(events))
		closed := events[1].(ClosedInfo)
		var sd *ServerDisconnectedError
		assert.ErrorAs(t, closed.Err, &sd)
		assert.False(t, closed.Quit)
		assert.Equal(t, OutcomeUnknown, events[2].(TxnInfo).Outcome)
	})
	t.Run("421 at MAIL", func(t *testing.T) {
		srv := smtptest.NewServer(t, smtptest.WithPipelining(), smtptest.WithEnhancedStatusCodes(),
			smtptest.WithReplies("MAIL", "250 2.1.0 Ok", "421 4.7.0 Try again later"))
		var log traceLog
		c, err := Dial(srv.Host(), srv.Port(), WithTrace(log.trace()), WithTimeout(testTimeout))
		require.NoError(t, err)
		results, err := c.SendBatch(context.Background(), batchOf(3))
		require.Error(t, err)
		require.Len(t, results, 3)
		var txns []TxnInfo
		var closed []ClosedInfo
		for _, e := range log.all() {
			switch i := e.(type) {
			case TxnInfo:
				txns = append(txns, i)
			case ClosedInfo:
				closed = append(closed, i)
			}
		}
		require.Len(t, txns, 3)
		assert.Equal(t, []Outcome{OutcomeSent, OutcomeRefused, OutcomeNotSent},
			[]Outcome{txns[0].Outcome, txns[1].Outcome, txns[2].Outcome})
		assert.Equal(t, [3]int{4, 7, 0}, txns[1].EnhancedCode)
		require.Len(t, closed, 1)
		assert.Equal(t, 421, closed[0].Reply.Code)
	})
	t.Run("closed by the caller", func(t *testing.T) {
		srv := smtptest.NewServer(t)
		var log traceLog
		c, err := Dial(srv.Host(), srv.Port(), WithTrace(log.trace()))
		require.NoError(t, err)
		require.NoError(t, c.Close())
		require.NoError(t, c.Close())
		events := log.all()
		require.Equal(t, []string{"Connect", "Closed"}, kinds(events))
		closed := events[1].(ClosedInfo)
		assert.False(t, closed.Quit)
		assert.NoError(t, closed.Err)
		assert.Zero(t, closed.Reply)
	})
}

// TestTraceImplicitTLS traces DialSSL: the handshake, which comes before
// the greeting, is told after Connected, in the same session; a failed
// one is told too.
func TestTraceImplicitTLS(t *testing.T) {
	srv := smtptest.NewUnstartedServer(t)
	srv.StartTLS()
	var log traceLog
	c, err := DialSSL(srv.Host(), srv.Port(), WithTLSConfig(srv.TLSConfig()), WithTrace(log.trace()))
	require.NoError(t, err)
	require.NoError(t, c.Close())
	events := log.all()
	require.Equal(t, []string{"Connect", "TLS", "Closed"}, kinds(events))
	info := events[1].(TLSInfo)
	assert.True(t, info.Implicit)
	assert.NoError(t, info.Err)
	assert.Equal(t, events[0].(ConnectInfo).Session, info.Session)

	var failed traceLog
	_, err = DialSSL(srv.Host(), srv.Port(), WithTrace(failed.trace())) // the system's roots: untrusted
	require.Error(t, err)
	events = failed.all()
	require.Equal(t, []string{"Connect", "TLS"}, kinds(events))
	assert.Error(t, events[0].(ConnectInfo).Err)
	assert.Error(t, events[1].(TLSInfo).Err)
}

// TestTraceJoined gives two traces: both see every event, and a nil one
// is ignored.
func TestTraceJoined(t *testing.T) {
	srv := smtptest.NewServer(t)
	var a, b traceLog
	onlyTxn := &Trace{Transaction: func(i TxnInfo) { b.add(i) }}
	c, err := Dial(srv.Host(), srv.Port(), WithTrace(a.trace()), WithTrace(nil), WithTrace(onlyTxn))
	require.NoError(t, err)
	_, err = c.Sendmail("a@example.com", []string{"b@example.com"}, []byte("x\r\n"))
	require.NoError(t, err)
	_, err = c.Quit()
	require.NoError(t, err)
	assert.Equal(t, []string{"Connect", "Txn", "Closed"}, kinds(a.all()))
	assert.Equal(t, []string{"Txn"}, kinds(b.all()))
}

// TestOutcomeOf sorts the errors of a send into the four outcomes.
func TestOutcomeOf(t *testing.T) {
	lost := &ServerDisconnectedError{Msg: "lost", Err: errors.New("reset")}
	tests := []struct {
		err  error
		want Outcome
	}{
		{nil, OutcomeSent},
		{&SenderRefusedError{respErr(Reply{451, "4.3.0 later"}), "a@b"}, OutcomeRefused},
		{&RecipientsRefusedError{Recipients: map[string]Reply{"a@b": {550, "5.1.1 no"}}}, OutcomeRefused},
		{&CommandError{Reason: "bad"}, OutcomeRefused},
		{&NotSupportedError{Msg: "SMTPUTF8"}, OutcomeRefused},
		{lost, OutcomeNotSent},
		{&ServerDisconnectedError{Msg: "421", Err: ptr(respErr(Reply{421, "4.3.2 bye"}))}, OutcomeNotSent},
		{deliveryUnknown(lost), OutcomeUnknown},
		{ErrPoolClosed, OutcomeNotSent},
		{fmt.Errorf("waiting: %w", context.Canceled), OutcomeNotSent},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, OutcomeOf(tt.err), "%v", tt.err)
		assert.Equal(t, tt.want, Result{Err: tt.err}.Outcome())
	}
	assert.Equal(t, "not sent", OutcomeNotSent.String())
	assert.Equal(t, "Outcome(?)", Outcome(9).String())
}
