//go:build unix

package smtplib

import (
	"errors"
	"io"
	"syscall"
)

// peekSocket looks at sc's receive queue without consuming it or
// waiting: MSG_PEEK|MSG_DONTWAIT on the descriptor, through RawConn.Read
// so that the runtime's poller keeps the descriptor. ok is false when
// the descriptor could not be had.
func peekSocket(sc syscall.Conn) (st probeState, err error, ok bool) {
	rc, err := sc.SyscallConn()
	if err != nil {
		return probeQuiet, nil, false
	}
	var buf [1]byte
	var n int
	var perr error
	cerr := rc.Read(func(fd uintptr) bool {
		n, _, perr = syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return true // never wait: one look
	})
	switch {
	case cerr != nil:
		return probeQuiet, nil, false
	case perr == nil && n > 0:
		return probeData, nil, true
	case perr == nil:
		return probeClosed, io.EOF, true
	case errors.Is(perr, syscall.EAGAIN), errors.Is(perr, syscall.EWOULDBLOCK), errors.Is(perr, syscall.EINTR):
		return probeQuiet, nil, true
	}
	return probeClosed, perr, true
}
