package smtptest

import (
	"context"
	"errors"
)

// Serve starts the server, if Start has not, and serves until ctx ends or
// the server is closed; it then closes the server as [Server.Close] does
// and returns nil. It returns an error, without failing the test, if the
// server cannot listen or was closed before it ever started.
//
// With [WithListenAddr], [WithMessageHook] and [WithoutRecording] it is
// a long-running server in the program's own process, as "smtp serve" is:
//
//	srv, err := smtptest.New(smtptest.WithListenAddr("127.0.0.1:1025"),
//		smtptest.WithMessageHook(save), smtptest.WithoutRecording())
//	if err != nil {
//		return err // the address is taken, say
//	}
//	log.Printf("listening on %s", srv.Addr)
//	return srv.Serve(ctx) // until ctx is cancelled, as by signal.NotifyContext
//
// When it stops, the connections are closed at once: a message whose data
// had not all arrived is dropped and never passed to OnMessage, while one
// whose hook is running is finished first, since Close waits for every
// session's goroutine.
func (s *Server) Serve(ctx context.Context) error {
	s.mu.Lock()
	started, closed := s.started, s.closed
	s.mu.Unlock()
	switch {
	case closed && !started:
		return errors.New("smtptest: Serve on a closed server")
	case !started:
		if err := s.start(); err != nil {
			return err
		}
	}
	select {
	case <-ctx.Done():
	case <-s.done:
	}
	s.Close()
	return nil
}
