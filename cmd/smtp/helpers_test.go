package main

import (
	"bytes"
	"encoding/pem"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

// result is what one run of the command gave.
type result struct {
	code           int
	stdout, stderr string
}

// harness runs the command in-process with a clock that moves one
// millisecond each time it is read, so that step times are exact.
type harness struct {
	stdin    string
	env      map[string]string
	terminal bool   // pretend stdin and stderr are terminals
	typed    string // what the user types at the password prompt
	clock    atomic.Int64
	base     time.Time
}

func newHarness() *harness { return &harness{env: map[string]string{}, base: time.Now()} }

func (h *harness) now() time.Time {
	return h.base.Add(time.Duration(h.clock.Add(1)) * time.Millisecond)
}

func (h *harness) run(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	c := newCLI(strings.NewReader(h.stdin), &stdout, &stderr, func(k string) string { return h.env[k] })
	c.now = h.now
	c.isTerminal = func(any) bool { return h.terminal }
	c.readPassword = func() ([]byte, error) { return []byte(h.typed), nil }
	code := c.run(args)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// run runs the command with nothing on stdin and an empty environment.
func run1(t *testing.T, args ...string) result {
	t.Helper()
	return newHarness().run(t, args...)
}

// caFile writes srv's certificate to a PEM file for --cafile.
func caFile(t *testing.T, srv *smtptest.Server) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "ca.pem")
	b := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	require.NoError(t, os.WriteFile(name, b, 0o600))
	return name
}

// writeFile writes content to a new file in a temporary directory.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

func itoa(n int) string { return strconv.Itoa(n) }
