// Command bench compares this library's Sendmail with other SMTP clients:
// net/smtp, github.com/emersion/go-smtp, github.com/wneessen/go-mail,
// Python's smtplib, and a raw socket writer (the physical limit). Each
// client runs in its own process (this binary re-executed with -child, or
// python3), so that its peak resident set can be read, against servers on
// loopback only: Postfix's smtp-sink, a fast sink of our own, and a proxy
// adding 1 ms each way. It prints a markdown table of medians.
//
//	go run . -rounds 5
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/gosmtplib/smtplib/bench/internal/rss"
)

func main() {
	child := flag.String("child", "", "run as a child: the client to run")
	addr := flag.String("addr", "", "child: server address")
	n := flag.Int("n", 1, "child: messages to send")
	size := flag.Int("size", 1024, "child: message size in bytes")
	conns := flag.Int("conns", 1, "child: connections (sessions at once)")
	callers := flag.Int("callers", 0, "child: goroutines calling the Pool's Send (default: one a connection)")
	var o options
	flag.IntVar(&o.rounds, "rounds", 5, "rounds; each figure is the median over them")
	flag.IntVar(&o.small, "small", 1000, "messages of 1 KB sent over one connection")
	flag.IntVar(&o.multi, "multi", 5000, "messages of 1 KB per connection in the cases of 4 connections")
	flag.IntVar(&o.rttMsgs, "rtt-msgs", 200, "messages sent through the latency proxy")
	flag.IntVar(&o.poolMsgs, "pool-msgs", 2000, "messages sent over 4 connections through the latency proxy, 32 callers for the Pool")
	flag.IntVar(&o.bigMB, "big-mb", 50, "size of the large message, in MiB")
	flag.DurationVar(&o.delay, "delay", time.Millisecond, "latency the proxy adds each way")
	flag.StringVar(&o.only, "clients", "", "comma-separated clients to run (default all)")
	flag.StringVar(&o.cases, "cases", "", "comma-separated cases to run: 1k-smtp-sink, 1k-fast, 1k-smtp-sink-4, 1k-fast-4, rtt-chunking, rtt-pipelining, rtt-4-smtp-sink, rtt-4-chunking, big (default all)")
	flag.StringVar(&o.sinkPath, "smtp-sink", "smtp-sink", "Postfix's smtp-sink program")
	flag.BoolVar(&o.syscalls, "syscalls", false, "count smtp-sink's system calls per message for each client (strace) instead of timing")
	flag.BoolVar(&o.pin, "pin", true, "pin servers and clients to CPUs with taskset (see README)")
	attachMB := flag.Int("attach-mb", 0, "compare building and writing a message with an attachment of this many MiB instead (attach.go)")
	attachChild := flag.String("attach-child", "", "child: the attachment builder to run")
	attachHeap := flag.Bool("attach-heap", false, "child: measure the peak heap instead of the time")
	flag.Parse()

	if *attachChild != "" {
		res, err := runAttachChild(*attachChild, *attachMB<<20, *attachHeap)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		json.NewEncoder(os.Stdout).Encode(res)
		return
	}
	if *attachMB > 0 {
		if err := runAttach(context.Background(), *attachMB, o.rounds); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}

	if *child != "" {
		os.Exit(runChild(*child, *addr, *n, *size, *conns, *callers))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	if err := orchestrate(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// runChild sends the messages and prints the result line.
func runChild(name, addr string, n, size, conns, callers int) int {
	send, ok := goClients[name]
	if !ok && name != "ours-pool" {
		fmt.Fprintln(os.Stderr, "bench:", errUnknownClient, name)
		return 2
	}
	sessions = conns
	var err error
	switch {
	case name == "ours-pool":
		err = sendPool(addr, n, size, conns, callers)
	case conns > 1:
		err = runSessions(send, addr, n, size, conns)
	default:
		err = send(addr, n, size)
	}
	if err != nil {
		result.Err = err.Error()
	}
	result.HWMKB = rss.Peak()
	json.NewEncoder(os.Stdout).Encode(result)
	if result.Err != "" {
		return 1
	}
	return 0
}
