package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// With -syscalls the harness counts, instead of timing, the system calls
// that Postfix's smtp-sink makes per message for each client (strace -c on
// the sink). When smtp-sink is the busy side, as it is in the cases of 4
// connections on 2 CPUs, its calls per message bound what a client can
// reach: a client that costs the sink k times fewer calls than a peer can
// be at most about k times as fast. Unlike a time, the count does not
// change with the machine's load.

// syscallClients are the rows of the count, with the sessions each uses.
var syscallClients = []struct {
	name  string
	conns int
}{
	{"ours-batch", 1}, {"ours-batch", 4}, {"ours", 4}, {"ours-pool", 4}, {"raw", 4},
	{"net/smtp", 4}, {"go-smtp", 4}, {"go-mail", 4}, {"python", 1}, {"smtp-source", 4},
}

// countSyscalls prints the table of smtp-sink's system calls per message.
func (e env) countSyscalls(ctx context.Context, o options) error {
	strace, err := exec.LookPath("strace")
	if err != nil {
		return fmt.Errorf("-syscalls needs strace: %w", err)
	}
	addr, pid, stop, err := startSMTPSink(ctx, o.sinkPath)
	if err != nil {
		return fmt.Errorf("-syscalls needs smtp-sink: %w", err)
	}
	defer stop()
	fmt.Printf("smtp-sink's system calls per message (strace -c -f on the sink), %d messages of 1 KB per client:\n\n", o.small)
	fmt.Println("| client | sessions | system calls per message |")
	fmt.Println("|---|--:|--:|")
	counts := map[string]float64{} // by client, for 4 sessions or the client's one
	for _, cl := range syscallClients {
		if o.only != "" && !strings.Contains(","+o.only+",", ","+cl.name+",") {
			continue
		}
		if cl.name == "smtp-source" && e.smtpSource == "" {
			continue
		}
		c := &benchCase{key: "syscalls", addr: addr, n: o.small, size: 1024, conns: cl.conns, cpu: -1}
		calls, err := e.traced(ctx, strace, pid, cl.name, c)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: syscalls, %s: %v\n", cl.name, err)
			continue
		}
		perMsg := float64(calls) / float64(c.n)
		if _, seen := counts[cl.name]; !seen || cl.conns == 4 {
			counts[cl.name] = perMsg
		}
		fmt.Printf("| %s | %d | %.1f |\n", label(cl.name), cl.conns, perMsg)
	}
	if floor := counts["ours-batch"]; floor > 0 {
		fmt.Println()
		for _, p := range append(append([]string(nil), peers...), "smtp-source") {
			if n, ok := counts[p]; ok {
				fmt.Printf("- %s costs the sink %.2f× the calls of one flight per message (SendBatch, 4 sessions)\n", p, n/floor)
			}
		}
	}
	return nil
}

// traced runs one client against the sink at pid while strace counts the
// sink's system calls, and returns the total.
func (e env) traced(ctx context.Context, strace string, pid int, name string, c *benchCase) (int, error) {
	out := filepath.Join(e.dir, "strace.out")
	cmd := exec.CommandContext(ctx, strace, "-c", "-f", "-p", strconv.Itoa(pid), "-o", out)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	// The count starts once strace says it is attached.
	sc := bufio.NewScanner(stderr)
	attached := false
	for !attached && sc.Scan() {
		attached = strings.Contains(sc.Text(), "attached")
	}
	if !attached {
		cmd.Wait()
		return 0, errors.New("strace did not attach (it needs ptrace: run as root)")
	}
	go func() {
		for sc.Scan() {
		}
	}()
	_, runErr := e.runOne(ctx, name, c)
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait() // strace ends by the signal; its summary is what counts
	if runErr != nil {
		return 0, runErr
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return 0, err
	}
	return straceTotal(string(b))
}

// straceTotal reads the number of calls from the "total" line of strace
// -c's summary: "100.00 0.5 6 100048 685 total" (the errors column may be
// empty).
func straceTotal(summary string) (int, error) {
	for _, line := range strings.Split(summary, "\n") {
		f := strings.Fields(line)
		if len(f) >= 5 && f[len(f)-1] == "total" {
			return strconv.Atoi(f[3])
		}
	}
	return 0, fmt.Errorf("no total in strace's summary: %q", summary)
}
