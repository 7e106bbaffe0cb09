//go:build !unix

package smtplib

import "syscall"

// peekSocket has no non-blocking peek here; probeIdle falls back to a
// read that may not wait.
func peekSocket(sc syscall.Conn) (st probeState, err error, ok bool) {
	return probeQuiet, nil, false
}
