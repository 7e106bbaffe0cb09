package main

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

//go:embed client.py
var pythonClient []byte

type options struct {
	rounds, small, multi, rttMsgs int
	poolMsgs, bigMB               int
	delay                         time.Duration
	only, cases, sinkPath         string
	pin, syscalls                 bool
}

// allClients is the order of the table's rows.
var allClients = []string{"ours", "ours-stream", "ours-batch", "ours-pool", "raw", "raw-pipe", "net/smtp", "go-smtp", "go-mail", "python", "smtp-source"}

// peers are the clients that the targets compare ours with.
var peers = []string{"net/smtp", "go-smtp", "go-mail", "python"}

// benchCase is one column of measurements: n messages of size bytes to addr,
// from a client on CPU cpu (-1: anywhere).
type benchCase struct {
	key   string
	addr  string
	n     int
	size  int
	conns int // sessions at once (0: one)
	// callers is how many goroutines call the Pool's Send (0: one a
	// connection); the other clients run conns sessions.
	callers int
	cpu     int
	sink    *fastSink     // to check that every message arrived, when it is ours
	proxy   *latencyProxy // for the latency cases
	rtt     time.Duration // measured round trip through the proxy
}

// run is one child's outcome.
type run struct {
	childResult
	flights  int64 // counted by the proxy
	maxRSSKB int64 // getrusage of the child, for comparison with VmHWM
}

type env struct {
	dir        string // python script and message files
	python     string
	exe        string
	smtpSource string // Postfix's load generator
	pinned     bool   // the servers are on CPU serverCPU, the clients where each case says
}

// Placement. This machine's CPUs are virtual: a wake-up from one to the
// other costs tens of microseconds, more than the work of a small message,
// and where the scheduler puts a client decides its speed. So the servers
// (this process, smtp-sink) are pinned to serverCPU, and each client to
// clientCPU ("split": every round trip crosses CPUs, as it would cross a
// network) or, for the 1 KB cases also, to serverCPU ("same": no cross-CPU
// wake-up, so the figure is the CPU cost of client and server together).
const (
	serverCPU  = 1
	clientCPU  = 0
	pinnedFlag = "SMTPBENCH_PINNED"
)

// pin re-executes the benchmark on serverCPU, once, with taskset. It
// returns false (run unpinned) when that cannot be done.
func pin() (bool, error) {
	if os.Getenv(pinnedFlag) != "" {
		return true, nil
	}
	taskset, err := exec.LookPath("taskset")
	if err != nil || runtime.NumCPU() < 2 {
		fmt.Fprintln(os.Stderr, "bench: running unpinned (needs taskset and 2 CPUs)")
		return false, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return false, err
	}
	cmd := exec.Command(taskset, append([]string{"-c", strconv.Itoa(serverCPU), exe}, os.Args[1:]...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), pinnedFlag+"=1")
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			os.Exit(ee.ExitCode())
		}
		return false, err
	}
	os.Exit(0)
	return true, nil
}

func orchestrate(ctx context.Context, o options) error {
	e := env{}
	var err error
	if o.pin {
		if e.pinned, err = pin(); err != nil {
			return err
		}
	}
	load0 := loadavg()
	t0 := time.Now()
	if e.exe, err = os.Executable(); err != nil {
		return err
	}
	if e.dir, err = os.MkdirTemp("", "smtpbench"); err != nil {
		return err
	}
	defer os.RemoveAll(e.dir)
	if err := os.WriteFile(filepath.Join(e.dir, "client.py"), pythonClient, 0o644); err != nil {
		return err
	}
	e.python = "/usr/bin/python3"
	if _, err := os.Stat(e.python); err != nil {
		e.python = "python3"
	}
	e.smtpSource = "/usr/sbin/smtp-source"
	if _, err := os.Stat(e.smtpSource); err != nil {
		allClients = slices.DeleteFunc(slices.Clone(allClients), func(c string) bool { return c == "smtp-source" })
		e.smtpSource = ""
	}
	bigSize := o.bigMB << 20
	if o.syscalls {
		if err := os.WriteFile(e.msgFile(1024), message(1024), 0o644); err != nil {
			return err
		}
		return e.countSyscalls(ctx, o)
	}
	for _, size := range []int{1024, bigSize} {
		if err := os.WriteFile(e.msgFile(size), message(size), 0o644); err != nil {
			return err
		}
	}

	full, err := startFastSink(false)
	if err != nil {
		return err
	}
	defer full.close()
	plain, err := startFastSink(true)
	if err != nil {
		return err
	}
	defer plain.close()
	pxChunking, err := startProxy(full.addr(), o.delay)
	if err != nil {
		return err
	}
	defer pxChunking.close()
	pxPipelining, err := startProxy(plain.addr(), o.delay)
	if err != nil {
		return err
	}
	defer pxPipelining.close()

	cases := []*benchCase{}
	sinkAddr, _, stopSink, err := startSMTPSink(ctx, o.sinkPath)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: no smtp-sink column: %v\n", err)
	} else {
		defer stopSink()
		pxSink, err := startProxy(sinkAddr, o.delay)
		if err != nil {
			return err
		}
		defer pxSink.close()
		cases = append(cases,
			&benchCase{key: "1k-smtp-sink/split", addr: sinkAddr, n: o.small, size: 1024, cpu: clientCPU},
			&benchCase{key: "1k-smtp-sink/same", addr: sinkAddr, n: o.small, size: 1024, cpu: serverCPU},
			&benchCase{key: "1k-smtp-sink-4/split", addr: sinkAddr, n: 4 * o.multi, size: 1024, conns: 4, cpu: clientCPU},
			&benchCase{key: "rtt-4-smtp-sink", addr: pxSink.addr(), n: o.poolMsgs, size: 1024, conns: 4, callers: 32, proxy: pxSink, cpu: clientCPU})
	}
	cases = append(cases,
		&benchCase{key: "1k-fast/split", addr: full.addr(), n: o.small, size: 1024, sink: full, cpu: clientCPU},
		&benchCase{key: "1k-fast/same", addr: full.addr(), n: o.small, size: 1024, sink: full, cpu: serverCPU},
		&benchCase{key: "1k-fast-4/split", addr: full.addr(), n: 4 * o.multi, size: 1024, conns: 4, sink: full, cpu: clientCPU},
		&benchCase{key: "rtt-chunking", addr: pxChunking.addr(), n: o.rttMsgs, size: 1024, sink: full, proxy: pxChunking, cpu: clientCPU},
		&benchCase{key: "rtt-pipelining", addr: pxPipelining.addr(), n: o.rttMsgs, size: 1024, sink: plain, proxy: pxPipelining, cpu: clientCPU},
		&benchCase{key: "rtt-4-chunking", addr: pxChunking.addr(), n: o.poolMsgs, size: 1024, conns: 4, callers: 32, sink: full, proxy: pxChunking, cpu: clientCPU},
		&benchCase{key: "big", addr: full.addr(), n: 1, size: bigSize, sink: full, cpu: clientCPU},
	)
	if !e.pinned {
		cases = slices.DeleteFunc(cases, func(c *benchCase) bool { return strings.HasSuffix(c.key, "/same") })
		for _, c := range cases {
			c.cpu = -1
			c.key = strings.TrimSuffix(c.key, "/split")
		}
	}
	if o.cases != "" {
		cases = slices.DeleteFunc(cases, func(c *benchCase) bool {
			return !slices.ContainsFunc(strings.Split(o.cases, ","), func(k string) bool {
				return c.key == k || strings.HasPrefix(c.key, k+"/")
			})
		})
	}
	for _, c := range cases {
		if c.proxy != nil {
			if c.rtt, err = measureRTT(c.proxy); err != nil {
				return err
			}
			c.proxy.idle()
		}
	}

	clients := allClients
	if o.only != "" {
		clients = strings.Split(o.only, ",")
	}
	results := map[string]map[string][]run{} // case, client
	for _, c := range cases {
		results[c.key] = map[string][]run{}
	}
	failures := 0
	for round := 0; round < o.rounds; round++ {
		fmt.Fprintf(os.Stderr, "round %d/%d\n", round+1, o.rounds)
		for _, c := range cases {
			// Rotate the order each round, so no client always goes first.
			for i := range clients {
				name := clients[(i+round)%len(clients)]
				if !runs(name, c) {
					continue
				}
				r, err := e.runOne(ctx, name, c)
				if err != nil {
					// One failed run (a peer timing out on a loaded
					// machine) costs that figure a round, not the table.
					fmt.Fprintf(os.Stderr, "bench: %s, %s: %v\n", c.key, name, err)
					failures++
					continue
				}
				results[c.key][name] = append(results[c.key][name], r)
			}
		}
	}
	if n := full.errors.Load() + plain.errors.Load(); n > int64(failures) {
		return fmt.Errorf("the fast sink saw %d broken sessions", n)
	} else if n > 0 {
		fmt.Fprintf(os.Stderr, "bench: the fast sink saw %d broken sessions, from the failed runs\n", n)
	}
	printReport(o, e.pinned, cases, clients, results, load0, loadavg(), time.Since(t0))
	if failures > 0 {
		fmt.Printf("\n%d runs failed and are left out of the medians (see standard error).\n", failures)
	}
	return nil
}

// runs tells which clients a case measures: the pool only where there are
// several connections, where the clients that have one session per process
// (Python's script, the streaming and batch variants) sit out; Postfix's
// smtp-source only for the 1 KB cases, which are what it generates.
func runs(client string, c *benchCase) bool {
	multi := c.conns > 1
	if strings.HasPrefix(c.key, "rtt-4-") {
		// Issue 22's cases: the Pool with many callers against the
		// 4-connection peers and the raw limit.
		return slices.Contains([]string{"ours", "ours-pool", "raw", "raw-pipe", "net/smtp", "go-smtp", "smtp-source"}, client)
	}
	switch client {
	case "raw-pipe":
		return false
	case "ours-pool":
		return multi
	case "python", "ours-stream", "ours-batch":
		return !multi && !(client == "ours-batch" && c.key == "big")
	case "smtp-source":
		return strings.HasPrefix(c.key, "1k-")
	}
	return true
}

func (e env) msgFile(size int) string {
	return filepath.Join(e.dir, "msg"+strconv.Itoa(size)+".eml")
}

// runOne runs one client in its own process against c, checking that the
// sink got every message.
func (e env) runOne(ctx context.Context, name string, c *benchCase) (run, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	var args []string
	if c.cpu >= 0 {
		args = []string{"taskset", "-c", strconv.Itoa(c.cpu)}
	}
	if name == "smtp-source" {
		args = append(args, e.smtpSource, "-d", "-s", strconv.Itoa(max(c.conns, 1)), "-m", strconv.Itoa(c.n),
			"-l", strconv.Itoa(c.size), "-f", fromAddr, "-t", toAddr, "-M", heloName, c.addr)
	} else if name == "python" {
		host, port, _ := net.SplitHostPort(c.addr)
		args = append(args, e.python, filepath.Join(e.dir, "client.py"),
			host, port, strconv.Itoa(c.n), e.msgFile(c.size))
	} else {
		args = append(args, e.exe, "-child", name, "-addr", c.addr,
			"-n", strconv.Itoa(c.n), "-size", strconv.Itoa(c.size), "-conns", strconv.Itoa(max(c.conns, 1)),
			"-callers", strconv.Itoa(c.callers))
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	var msgs0, flights0 int64
	if c.sink != nil {
		msgs0 = c.sink.messages.Load()
	}
	if c.proxy != nil {
		flights0 = c.proxy.flights.Load()
	}
	t0 := time.Now()
	err := cmd.Run()
	var r run
	if name == "smtp-source" {
		// A C program with no clock of its own: its process's wall time,
		// start-up included (a millisecond or two).
		r.NS, r.Msgs = int64(time.Since(t0)), c.n
	} else if jerr := json.Unmarshal(lastLine(stdout.Bytes()), &r.childResult); jerr != nil && err == nil {
		err = jerr
	}
	if err != nil || r.Err != "" {
		return r, fmt.Errorf("%v %s %s", err, r.Err, strings.TrimSpace(stderr.String()))
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSSKB = ru.Maxrss
	}
	if c.proxy != nil {
		c.proxy.idle()
		r.flights = c.proxy.flights.Load() - flights0
	}
	if c.sink != nil {
		if got := c.sink.messages.Load() - msgs0; got != int64(c.n) {
			return r, fmt.Errorf("the sink received %d messages, not %d", got, c.n)
		}
	}
	return r, nil
}

func lastLine(b []byte) []byte {
	b = bytes.TrimSpace(b)
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return b
}

// startSMTPSink runs Postfix's smtp-sink on a free loopback port. It
// advertises PIPELINING and 8BITMIME (and cannot do CHUNKING); -a, -C and
// -F drop AUTH, XCLIENT and XFORWARD, which no client here uses.
func startSMTPSink(ctx context.Context, path string) (addr string, pid int, stop func(), err error) {
	prog, err := exec.LookPath(path)
	if err != nil {
		for _, p := range []string{"/usr/sbin/smtp-sink", "/usr/lib/postfix/sbin/smtp-sink"} {
			if _, serr := os.Stat(p); serr == nil {
				prog, err = p, nil
				break
			}
		}
	}
	if err != nil {
		return "", 0, nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", 0, nil, err
	}
	addr = ln.Addr().String()
	ln.Close()
	args := []string{"-a", "-C", "-F", "-t", "60"}
	if os.Geteuid() == 0 {
		args = append(args, "-u", "nobody") // it refuses to run as root
	}
	cmd := exec.CommandContext(ctx, prog, append(args, addr, "128")...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return "", 0, nil, err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	stop = func() {
		cmd.Process.Kill()
		<-exited
	}
	for i := 0; i < 100; i++ {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, "220") {
				return addr, cmd.Process.Pid, stop, nil
			}
		}
		select {
		case <-exited:
			return "", 0, nil, fmt.Errorf("smtp-sink exited: %s", strings.TrimSpace(stderr.String()))
		case <-time.After(50 * time.Millisecond):
		}
	}
	stop()
	return "", 0, nil, errors.New("smtp-sink did not answer")
}

// measureRTT times NOOP round trips through the proxy: the real cost of a
// round trip, timer overshoot included. The connection's flights are
// counted but the caller reads differences only.
func measureRTT(p *latencyProxy) (time.Duration, error) {
	c, err := net.Dial("tcp", p.addr())
	if err != nil {
		return 0, err
	}
	defer c.Close()
	r := bufio.NewReader(c)
	if _, err := rawReplies(r, 1); err != nil {
		return 0, err
	}
	var times []time.Duration
	for i := 0; i < 51; i++ {
		t := time.Now()
		if _, err := c.Write([]byte("NOOP\r\n")); err != nil {
			return 0, err
		}
		if _, err := rawReplies(r, 1); err != nil {
			return 0, err
		}
		times = append(times, time.Since(t))
	}
	c.Write([]byte("QUIT\r\n"))
	rawReplies(r, 1)
	slices.Sort(times)
	return times[len(times)/2], nil
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
