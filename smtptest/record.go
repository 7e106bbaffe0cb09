package smtptest

import (
	"fmt"
	"strings"
	"time"
)

// Message is one message the server accepted, as it arrived.
type Message struct {
	// ID is the queue identifier given in the final reply.
	ID string
	// From is the MAIL FROM address without the angle brackets.
	From string
	// MailOptions are the MAIL parameters after the address, as sent.
	MailOptions []string
	// To are the accepted recipients without angle brackets, in order. In
	// LMTP mode only recipients whose delivery reply was 2xx are listed.
	To []string
	// RcptOptions are the RCPT parameters of each recipient in To.
	RcptOptions [][]string
	// Data is the message after dot-unstuffing, otherwise byte for byte as
	// received, without the terminating ".\r\n". For BDAT it is the
	// concatenated chunks.
	Data []byte
	// Raw is the data exactly as on the wire: dot-stuffed and ending with
	// ".\r\n" for DATA, the chunk bytes for BDAT.
	Raw []byte
	// Chunked tells that the message was sent with BDAT.
	Chunked bool
	// TLS tells that the session was under TLS when the message was sent.
	TLS bool
	// AuthUser is the authenticated identity, "" if none.
	AuthUser string
	// Helo is the argument of the session's EHLO, HELO or LHLO.
	Helo string
	// RemoteAddr is the address of the client that sent the message.
	RemoteAddr string
	// Ret and EnvID are MAIL's RET (upper case) and ENVID (decoded from
	// xtext) of RFC 3461, recorded when the server offers DSN ([WithDSN]);
	// "" when absent.
	Ret, EnvID string
	// DSN holds each recipient's DSN parameters, decoded, in the order of
	// To, when the server offers DSN; nil otherwise.
	DSN []RcptDSN
	// RequireTLS tells that MAIL had REQUIRETLS (RFC 8689).
	RequireTLS bool
}

// Session describes one connection to the server.
type Session struct {
	// Transcript holds the session's lines, in the format of
	// [Server.Transcript].
	Transcript string
	// RoundTrips counts the server's writes: each time it sent what it had
	// buffered because no further command was waiting. The greeting counts
	// as one.
	RoundTrips int
	// TLS tells whether TLS was active at the end of the session (or now,
	// for a session still open).
	TLS bool
	// AuthUser is the authenticated identity, "" if none.
	AuthUser string
	// Helo is the argument of the last successful EHLO, HELO or LHLO.
	Helo string
	// RemoteAddr is the client's address.
	RemoteAddr string
	// Ended tells that the connection is closed.
	Ended bool
}

// sessionRecord is the server's live view of a session, guarded by
// Server.mu because tests read it while the session runs.
type sessionRecord struct {
	transcript strings.Builder
	roundTrips int
	tls        bool
	authUser   string
	helo       string
	remote     string
	ended      bool
}

// Messages returns copies of the accepted messages, in the order their
// final replies were sent.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, len(s.messages))
	for i, m := range s.messages {
		out[i] = m.clone()
	}
	return out
}

func (m Message) clone() Message {
	m.MailOptions = cloneStrings(m.MailOptions)
	m.To = cloneStrings(m.To)
	if m.RcptOptions != nil {
		opts := make([][]string, len(m.RcptOptions))
		for i, o := range m.RcptOptions {
			opts[i] = cloneStrings(o)
		}
		m.RcptOptions = opts
	}
	if m.DSN != nil {
		dsn := make([]RcptDSN, len(m.DSN))
		for i, d := range m.DSN {
			d.Notify = cloneStrings(d.Notify)
			dsn[i] = d
		}
		m.DSN = dsn
	}
	m.Data = append([]byte(nil), m.Data...)
	m.Raw = append([]byte(nil), m.Raw...)
	return m
}

func cloneStrings(s []string) []string {
	if s == nil {
		return nil
	}
	return append([]string(nil), s...)
}

// Transcript returns the lines of all sessions so far, in the order they
// were read or written, each ending in "\n": "C: " and a line the client
// sent, "S: " and a line the server sent, without their CRLF. Message
// data appears as one line "C: <data N bytes>" and each BDAT chunk as
// "C: <chunk N bytes>", N counting the bytes on the wire (for DATA,
// including dot-stuffing and the final ".\r\n").
func (s *Server) Transcript() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transcript.String()
}

// Sessions returns a description of every connection so far, in the order
// they were accepted.
func (s *Server) Sessions() []Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Session, len(s.sessions))
	for i, r := range s.sessions {
		out[i] = Session{
			Transcript: r.transcript.String(),
			RoundTrips: r.roundTrips,
			TLS:        r.tls,
			AuthUser:   r.authUser,
			Helo:       r.helo,
			RemoteAddr: r.remote,
			Ended:      r.ended,
		}
	}
	return out
}

// WaitSessions waits until at least n sessions have ended, so that a test
// can inspect the server's side of a conversation the client has finished,
// without sleeping. It returns an error if that takes longer than
// timeout. A stalled session (see [Stall]) ends only with Close.
func (s *Server) WaitSessions(n int, timeout time.Duration) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		ended, ch := s.ended, s.endedCh
		s.mu.Unlock()
		if ended >= n {
			return nil
		}
		select {
		case <-ch:
		case <-timer.C:
			return fmt.Errorf("smtptest: %d of %d sessions ended within %v", ended, n, timeout)
		}
	}
}

// logLine appends one transcript line for the session and the server.
func (s *Server) logLine(rec *sessionRecord, line string) {
	if s.noRecording {
		return
	}
	s.mu.Lock()
	rec.transcript.WriteString(line)
	rec.transcript.WriteByte('\n')
	s.transcript.WriteString(line)
	s.transcript.WriteByte('\n')
	s.mu.Unlock()
}

// record gives an accepted message its queue ID, passes it to OnMessage,
// and then stores it, unless OnMessage refused it.
func (s *Server) record(m Message) (string, error) {
	s.mu.Lock()
	s.queueID++
	m.ID = fmt.Sprintf("%08X", s.queueID)
	s.mu.Unlock()
	if s.OnMessage != nil {
		if err := s.OnMessage(m); err != nil {
			return "", err
		}
	}
	if !s.noRecording {
		s.mu.Lock()
		s.messages = append(s.messages, m)
		s.mu.Unlock()
	}
	return m.ID, nil
}
