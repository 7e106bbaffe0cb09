package smtplib

import (
	"crypto/tls"
	"errors"
	"net"
	"sync/atomic"
	"time"
)

// Trace is a set of optional callbacks for a client's events, in the manner
// of net/http/httptrace ([WithTrace]); they must be safe for concurrent use,
// and are never given a credential.
type Trace struct {
	// Connected follows a dial and the greeting, whether it failed or not.
	Connected func(ConnectInfo)
	// TLSDone follows each TLS handshake: DialSSL's and StartTLS's.
	TLSDone func(TLSInfo)
	// Authenticated follows each AUTH exchange; Login may make several.
	Authenticated func(AuthInfo)
	// Transaction follows each mail transaction begun on a connection,
	// once its outcome is known: each try of a mail is one.
	Transaction func(TxnInfo)
	// Closed follows the closing of the connection.
	Closed func(ClosedInfo)
}

// Session names the connection an event belongs to: an ID unique in the
// process, and the address dialled.
type Session struct {
	ID     uint64
	Server string
}

// ConnectInfo is what [Trace.Connected] is told: the greeting, or Err.
type ConnectInfo struct {
	Session
	Local, Remote net.Addr // nil when the dial failed
	Greeting      Reply
	Duration      time.Duration // the dial, TLS for DialSSL, and the greeting
	Err           error
}

// TLSInfo is what [Trace.TLSDone] is told: Implicit for DialSSL's
// handshake, the State, and Err when it failed.
type TLSInfo struct {
	Session
	Implicit bool
	State    tls.ConnectionState
	Duration time.Duration
	Err      error
}

// AuthInfo is what [Trace.Authenticated] is told: the mechanism, the
// server's last reply, and Err unless it was accepted.
type AuthInfo struct {
	Session
	Mechanism string
	Reply     Reply
	Duration  time.Duration
	Err       error
}

// TxnInfo is what [Trace.Transaction] is told about one transaction.
type TxnInfo struct {
	Session
	From         string
	Recipients   int // the recipients given
	Refused      int // those refused one by one, of a mail that was sent
	Outcome      Outcome
	Reply        Reply
	QueueID      string
	Code         int
	EnhancedCode [3]int
	Bytes        int
	Duration     time.Duration
	Err          error
}

// ClosedInfo is what [Trace.Closed] is told: Quit and its Reply, or the
// server's 421, or Err; with neither, the caller closed the connection.
type ClosedInfo struct {
	Session
	Quit     bool
	Reply    Reply
	Err      error
	Duration time.Duration
}

// Outcome sorts a send's result: sent, refused, not sent (send again), or
// unknown (it may have gone).
type Outcome int

// The outcomes, as [Outcome] describes them.
const (
	OutcomeSent Outcome = iota
	OutcomeRefused
	OutcomeNotSent
	OutcomeUnknown
)

var outcomeNames = [...]string{"sent", "refused", "not sent", "unknown"}

// String returns "sent", "refused", "not sent" or "unknown".
func (o Outcome) String() string {
	if o < 0 || int(o) >= len(outcomeNames) {
		return "Outcome(?)"
	}
	return outcomeNames[o]
}

// OutcomeOf returns the [Outcome] of a send that returned err.
func OutcomeOf(err error) Outcome {
	switch {
	case err == nil:
		return OutcomeSent
	case errors.Is(err, ErrDeliveryUnknown):
		return OutcomeUnknown
	case errors.Is(err, ErrNotSent):
		return OutcomeNotSent
	}
	var (
		re *ResponseError
		rr *RecipientsRefusedError
		ce *CommandError
		ns *NotSupportedError
	)
	if errors.As(err, &re) || errors.As(err, &rr) || errors.As(err, &ce) || errors.As(err, &ns) {
		return OutcomeRefused
	}
	return OutcomeNotSent
}

// Outcome returns the [Outcome] of r.
func (r Result) Outcome() Outcome { return OutcomeOf(r.Err) }

// WithTrace makes the client report its events to t; several traces all
// get every event.
func WithTrace(t *Trace) Option {
	return func(c *config) {
		if t != nil {
			c.trace = joinTraces(c.trace, t)
		}
	}
}

// joinTraces returns a trace that calls a's callbacks and then b's.
func joinTraces(a, b *Trace) *Trace {
	if a == nil {
		return b
	}
	return &Trace{
		Connected:     join(a.Connected, b.Connected),
		TLSDone:       join(a.TLSDone, b.TLSDone),
		Authenticated: join(a.Authenticated, b.Authenticated),
		Transaction:   join(a.Transaction, b.Transaction),
		Closed:        join(a.Closed, b.Closed),
	}
}

func join[T any](f, g func(T)) func(T) {
	switch {
	case f == nil:
		return g
	case g == nil:
		return f
	}
	return func(v T) { f(v); g(v) }
}

// sessionIDs numbers the connections of the process, for Session.ID.
var sessionIDs atomic.Uint64

// traceState is a traced client's record of its session, under SMTP.mu.
type traceState struct {
	sess       Session
	since      time.Time
	why        *closeNote // why the connection is being closed, once known
	connecting bool       // connect is under way
	tls        *TLSInfo   // implicit TLS's handshake, told after Connected
}

// closeNote is why a connection is closed, for Trace.Closed.
type closeNote struct {
	quit  bool
	reply Reply
	err   error
}

// session returns the client's current session, for an event.
func (s *SMTP) session() Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tr.sess
}

// connectTracer starts a new session, to addr, and returns what reports
// its dial and greeting once connect returns *r and *err (and then the
// handshake of implicit TLS, which came first).
func (s *SMTP) connectTracer(addr string) func(r *Reply, err *error) {
	start := time.Now()
	sess := Session{ID: sessionIDs.Add(1), Server: addr}
	s.mu.Lock()
	s.tr = traceState{sess: sess, since: start, connecting: true}
	s.mu.Unlock()
	return func(r *Reply, err *error) {
		info := ConnectInfo{Session: sess, Greeting: *r, Duration: time.Since(start), Err: *err}
		s.mu.Lock()
		if s.conn != nil {
			info.Local, info.Remote = s.conn.LocalAddr(), s.conn.RemoteAddr()
		}
		tlsInfo := s.tr.tls
		s.tr.connecting, s.tr.tls = false, nil
		s.mu.Unlock()
		if f := s.cfg.trace.Connected; f != nil {
			f(info)
		}
		if tlsInfo != nil {
			s.cfg.trace.TLSDone(*tlsInfo)
		}
	}
}

// tlsTracer returns what reports the handshake of tc once it is done, nil
// when the client is not traced.
func (s *SMTP) tlsTracer(tc *tls.Conn) func(error) {
	if s.cfg.trace == nil || s.cfg.trace.TLSDone == nil {
		return nil
	}
	start := time.Now()
	return func(err error) {
		info := TLSInfo{Implicit: s.implicitTLS, Duration: time.Since(start), Err: err}
		if err == nil {
			info.State = tc.ConnectionState()
		}
		s.mu.Lock()
		info.Session = s.tr.sess
		if s.tr.connecting {
			s.tr.tls = &info // told after Connected
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		s.cfg.trace.TLSDone(info)
	}
}

// authTracer returns what reports an AUTH exchange with mech, starting
// now, once AuthContext returns *r and *err.
func (s *SMTP) authTracer(mech string) func(r *Reply, err *error) {
	start := time.Now()
	return func(r *Reply, err *error) {
		if f := s.cfg.trace.Authenticated; f != nil {
			f(AuthInfo{Session: s.session(), Mechanism: mech, Reply: *r, Duration: time.Since(start), Err: *err})
		}
	}
}

// txnTrace is a traced transaction's record.
type txnTrace struct{ start time.Time }

// traceBegin marks the start of t.
func (s *SMTP) traceBegin(t *txn) { t.tr = &txnTrace{start: time.Now()} }

// traceTxn reports t's outcome, refused and err as Sendmail returns them.
func (s *SMTP) traceTxn(t *txn, refused map[string]Reply, err error) {
	f := s.cfg.trace.Transaction
	if f == nil {
		return
	}
	info := TxnInfo{Session: s.session(), From: t.from, Recipients: len(t.to), Refused: len(refused),
		Outcome: OutcomeOf(err), Bytes: -1, Err: err}
	if t.b != nil {
		info.Bytes = t.b.size
	}
	if t.tr != nil {
		info.Duration = time.Since(t.tr.start)
	}
	if r, ok := t.finalReply(); ok {
		info.Reply, info.QueueID = r, r.QueueID()
		info.Code, info.EnhancedCode = r.Code, r.EnhancedCode()
	}
	if err != nil {
		if r, ok := refusal(err); ok {
			info.Code, info.EnhancedCode = r.Code, r.EnhancedCode()
		}
	}
	f(info)
}

// refusal returns the server's reply that err carries: a
// [*ResponseError]'s, or the one the recipients of a
// [*RecipientsRefusedError] share (the first in order otherwise).
func refusal(err error) (Reply, bool) {
	var re *ResponseError
	if errors.As(err, &re) {
		return re.Reply(), true
	}
	var rr *RecipientsRefusedError
	if errors.As(err, &rr) {
		var first string
		for a := range rr.Recipients {
			if first == "" || a < first {
				first = a
			}
		}
		if first != "" {
			return rr.Recipients[first], true
		}
	}
	return Reply{}, false
}

// noteClose records why the connection is about to be closed, for
// Trace.Closed; the first reason stands.
func (s *SMTP) noteClose(n closeNote) {
	if s.cfg.trace == nil {
		return
	}
	s.mu.Lock()
	if s.tr.why == nil {
		s.tr.why = &n
	}
	s.mu.Unlock()
}

// closeWith closes the client after err, reported as why it closed.
func (s *SMTP) closeWith(err error) {
	s.noteClose(closeNote{err: err})
	s.Close()
}

// closedLocked takes the record of why the connection closed, with s.mu
// held, for traceClosed; had says whether there was a connection.
func (s *SMTP) closedLocked(had bool) *ClosedInfo {
	why := s.tr.why
	s.tr.why = nil
	if !had || s.cfg.trace.Closed == nil {
		return nil
	}
	info := &ClosedInfo{Session: s.tr.sess, Duration: time.Since(s.tr.since)}
	if why != nil {
		info.Quit, info.Reply, info.Err = why.quit, why.reply, why.err
	}
	return info
}
