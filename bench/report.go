package main

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// metric is the median over the rounds of f applied to each run.
func metric(runs []run, f func(run) float64) float64 {
	var xs []float64
	for _, r := range runs {
		xs = append(xs, f(r))
	}
	return median(xs)
}

func secs(r run) float64 { return float64(r.NS) / 1e9 }

// caseTitle names a case's column.
func caseTitle(key string) string {
	name, placement, _ := strings.Cut(key, "/")
	t := map[string]string{
		"1k-smtp-sink":    "1 KB → smtp-sink",
		"1k-fast":         "1 KB → fast sink",
		"1k-smtp-sink-4":  "1 KB → smtp-sink, 4 connections",
		"1k-fast-4":       "1 KB → fast sink, 4 connections",
		"rtt-chunking":    "PIPELINING+CHUNKING",
		"rtt-pipelining":  "PIPELINING",
		"rtt-4-smtp-sink": "smtp-sink (no CHUNKING)",
		"rtt-4-chunking":  "fast sink with CHUNKING",
	}[name]
	if placement != "" {
		t += " (" + placement + ")"
	}
	return t
}

type report struct {
	o       options
	byKey   map[string]*benchCase
	results map[string]map[string][]run
}

func (r *report) has(key string) bool { return r.byKey[key] != nil }

// best is the fastest of the peers measured in case key.
func (r *report) best(key string, peers []string) (float64, string) {
	best, name := 0.0, ""
	for _, peer := range peers {
		if len(r.results[key][peer]) > 0 && r.rate(key, peer) > best {
			best, name = r.rate(key, peer), peer
		}
	}
	return best, name
}

// bulkTargets prints issue 14's targets: SendBatch over one connection
// against every peer and against smtp-source over one session, the Pool
// against every peer with as many connections (smtp-source -s 4 included),
// and SendBatch's round trips through the proxy.
func (r *report) bulkTargets(p func(string, ...any), small, clients []string, chunkingKey string) {
	for _, key := range small {
		multi := strings.Contains(key, "-4/")
		ours := "ours-batch"
		ps := peers
		if multi {
			ours, ps = "ours-pool", append(slices.Clone(peers), "smtp-source")
		}
		if len(r.results[key][ours]) == 0 {
			continue
		}
		best, name := r.best(key, ps)
		if best > 0 {
			ratio := r.rate(key, ours) / best
			p("| %s, %s: ≥ 2.5× the fastest peer's msg/s | %.0f vs %s %.0f: %.2f× | %s |\n",
				caseTitle(key), label(ours), r.rate(key, ours), label(name), best, ratio, yes(ratio >= 2.5))
		}
		if src := r.results[key]["smtp-source"]; !multi && len(src) > 0 {
			s := r.rate(key, "smtp-source")
			p("| %s, %s: above smtp-source over one session | %.0f vs %.0f: %.2f× | %s |\n",
				caseTitle(key), label(ours), r.rate(key, ours), s, r.rate(key, ours)/s, yes(r.rate(key, ours) > s))
		}
	}
	if chunkingKey != "" && len(r.results[chunkingKey]["ours-batch"]) > 0 {
		f := r.flights(chunkingKey, "ours-batch")
		p("| SendBatch: ≤ 0.3 round trips/msg through the proxy (PIPELINING+CHUNKING) | %.2f (%.2f by time) | %s |\n",
			f, r.byTime(chunkingKey, "ours-batch"), yes(f <= 0.3))
	}
}

func (r *report) rate(key, client string) float64 {
	return metric(r.results[key][client], func(x run) float64 { return float64(x.Msgs) / secs(x) })
}

func (r *report) flights(key, client string) float64 {
	return metric(r.results[key][client], func(x run) float64 { return float64(x.flights) / float64(x.Msgs) })
}

func (r *report) byTime(key, client string) float64 {
	c := r.byKey[key]
	return metric(r.results[key][client], func(x run) float64 { return float64(x.NS) / float64(c.rtt) / float64(x.Msgs) })
}

func (r *report) mbps(client string) float64 {
	c := r.byKey["big"]
	return metric(r.results["big"][client], func(x run) float64 { return float64(c.size) / 1e6 / secs(x) })
}

func (r *report) rss(client string) float64 {
	return metric(r.results["big"][client], func(x run) float64 { return float64(x.HWMKB) / 1024 })
}

func printReport(o options, pinned bool, cases []*benchCase, clients []string, results map[string]map[string][]run, load0, load1 string, took time.Duration) {
	r := &report{o: o, byKey: map[string]*benchCase{}, results: results}
	var small []string
	for _, c := range cases {
		r.byKey[c.key] = c
		if strings.HasPrefix(c.key, "1k-") {
			small = append(small, c.key)
		}
	}
	rttKey := func(name string) string { // the latency cases have no placement variants
		for _, c := range cases {
			if strings.HasPrefix(c.key, name) {
				return c.key
			}
		}
		return ""
	}
	chunkingKey, pipeliningKey := rttKey("rtt-chunking"), rttKey("rtt-pipelining")

	out := &strings.Builder{}
	p := func(format string, a ...any) { fmt.Fprintf(out, format, a...) }
	p("Medians of %d interleaved rounds; each client in its own process, over one connection. %s/%s, %d CPUs, %s.\n",
		o.rounds, runtime.GOOS, runtime.GOARCH, onlineCPUs(), runtime.Version())
	p("Load average before: %s; after: %s. The run took %s.\n", load0, load1, took.Round(time.Second))
	if pinned {
		p("Servers pinned to CPU %d; clients to CPU %d (split) or to CPU %d with the server (same).\n", serverCPU, clientCPU, serverCPU)
	} else {
		p("Unpinned: the figures for small messages depend on where the scheduler puts each process.\n")
	}

	if len(small) > 0 {
		p("\n1 KB messages, %d over one connection, %d over each of 4 connections; messages per second:\n\n| client |", o.small, o.multi)
		for _, k := range small {
			p(" %s |", caseTitle(k))
		}
		p("\n|---|%s\n", strings.Repeat("--:|", len(small)))
		for _, cl := range clients {
			p("| %s |", label(cl))
			for _, k := range small {
				if len(results[k][cl]) == 0 {
					p(" – |")
					continue
				}
				p(" %.0f |", r.rate(k, cl))
			}
			p("\n")
		}
	}

	var cols []string
	if chunkingKey != "" {
		cols = append(cols, "round trips/msg, "+caseTitle("rtt-chunking"))
	}
	if pipeliningKey != "" {
		cols = append(cols, "round trips/msg, "+caseTitle("rtt-pipelining"))
	}
	if r.has("big") {
		cols = append(cols, fmt.Sprintf("%d MiB → fast sink, MB/s", o.bigMB), fmt.Sprintf("%d MiB, peak RSS, MiB", o.bigMB))
	}
	if len(cols) > 0 {
		p("\n%d messages of 1 KB through a proxy adding %s each way; one message of %d MiB:\n\n| client | %s |\n|---|%s\n",
			o.rttMsgs, o.delay, o.bigMB, strings.Join(cols, " | "), strings.Repeat("--:|", len(cols)))
		for _, cl := range clients {
			p("| %s |", label(cl))
			for _, k := range []string{chunkingKey, pipeliningKey} {
				switch {
				case k == "":
				case len(results[k][cl]) == 0:
					p(" – |")
				default:
					p(" %.2f (%.2f) |", r.flights(k, cl), r.byTime(k, cl))
				}
			}
			if r.has("big") && len(results["big"][cl]) == 0 {
				p(" – | – |")
			} else if r.has("big") {
				p(" %.0f | %.1f |", r.mbps(cl), r.rss(cl))
			}
			p("\n")
		}
		if chunkingKey != "" || pipeliningKey != "" {
			p("\nRound trips: the client's flights (bursts sent after hearing from the server) counted by the proxy, per message, EHLO and QUIT included; in brackets, elapsed time / measured round trip / messages (measured round trip: %s; %s).",
				rttOf(r.byKey[chunkingKey]), rttOf(r.byKey[pipeliningKey]))
		}
		if r.has("big") {
			p(" Peak RSS: VmHWM of the client's process (every client but ours-stream holds the %d MiB message in memory; ours-stream generates it while sending).", o.bigMB)
		}
		p("\n")
	}

	r.poolLatency(p, clients)

	if slices.Contains(clients, "ours") || slices.Contains(clients, "ours-batch") {
		p("\n| target | measured | met |\n|---|---|---|\n")
		r.poolTargets(p)
		r.bulkTargets(p, small, clients, chunkingKey)
		for _, key := range small {
			if strings.Contains(key, "-4/") {
				continue
			}
			best, bestName := 0.0, ""
			for _, peer := range peers {
				if slices.Contains(clients, peer) && r.rate(key, peer) > best {
					best, bestName = r.rate(key, peer), peer
				}
			}
			if best == 0 {
				continue
			}
			ratio := r.rate(key, "ours") / best
			p("| %s: ≥ 2.5× the fastest peer's msg/s | %.0f vs %s %.0f: %.2f× | %s |\n",
				caseTitle(key), r.rate(key, "ours"), label(bestName), best, ratio, yes(ratio >= 2.5))
		}
		if chunkingKey != "" {
			f := r.flights(chunkingKey, "ours")
			p("| ≤ 1.1 round trips/msg with PIPELINING+CHUNKING | %.2f (%.2f by time; raw socket %.2f) | %s |\n",
				f, r.byTime(chunkingKey, "ours"), r.byTime(chunkingKey, "raw"), yes(f <= 1.1))
		}
		if pipeliningKey != "" {
			f := r.flights(pipeliningKey, "ours")
			p("| ≤ 2.1 round trips/msg with PIPELINING alone | %.2f (%.2f by time; raw socket %.2f) | %s |\n",
				f, r.byTime(pipeliningKey, "ours"), r.byTime(pipeliningKey, "raw"), yes(f <= 2.1))
		}
		if r.has("big") && slices.Contains(clients, "raw") {
			raw := r.mbps("raw")
			ratio := r.mbps("ours") / raw
			p("| %d MiB at ≥ 70%% of the raw copy's speed | %.0f vs %.0f MB/s: %.0f%% | %s |\n", o.bigMB, r.mbps("ours"), raw, 100*ratio, yes(ratio >= 0.7))
			if slices.Contains(clients, "ours-stream") {
				ratio := r.mbps("ours-stream") / raw
				p("| (the same, streamed from a reader) | %.0f vs %.0f MB/s: %.0f%% | %s |\n", r.mbps("ours-stream"), raw, 100*ratio, yes(ratio >= 0.7))
			}
			p("| the fast sink takes a raw copy at well over 1 GB/s | %.0f MB/s | %s |\n", raw, yes(raw >= 1000))
		}
		if r.has("big") && slices.Contains(clients, "ours-stream") {
			m := r.rss("ours-stream")
			p("| peak RSS < 16 MiB streaming %d MiB from a reader | %.1f MiB | %s |\n", o.bigMB, m, yes(m < 16))
		}
	}
	os.Stdout.WriteString(out.String())
}

// onlineCPUs counts the machine's CPUs (runtime.NumCPU counts those this
// process may use, one once pinned).
func onlineCPUs() int {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return runtime.NumCPU()
	}
	n := 0
	for _, l := range strings.Split(string(b), "\n") {
		if len(l) > 3 && strings.HasPrefix(l, "cpu") && l[3] >= '0' && l[3] <= '9' {
			n++
		}
	}
	return n
}

func rttOf(c *benchCase) string {
	if c == nil {
		return "–"
	}
	return c.rtt.Round(time.Microsecond).String()
}

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

func label(client string) string {
	switch client {
	case "ours":
		return "**ours**, Sendmail ([]byte)"
	case "ours-stream":
		return "**ours**, SendmailReader"
	case "raw":
		return "raw socket (the limit)"
	case "ours-batch":
		return "**ours**, SendBatch"
	case "ours-pool":
		return "**ours**, Pool (4 callers; 32 through the proxy)"
	case "raw-pipe":
		return "raw socket, data + next envelope in one flight"
	case "python":
		return "Python smtplib"
	case "smtp-source":
		return "Postfix smtp-source -d"
	}
	return client
}

// poolKeys are issue 22's cases, when they ran: 4 connections through the
// proxy, the Pool with 32 callers.
func (r *report) poolKeys() []string {
	var keys []string
	for _, k := range []string{"rtt-4-smtp-sink", "rtt-4-chunking"} {
		if r.has(k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// poolLatency prints the cases of many callers across latency: messages
// per second, round trips a message a connection, and the Pool's waits.
func (r *report) poolLatency(p func(string, ...any), clients []string) {
	keys := r.poolKeys()
	if len(keys) == 0 {
		return
	}
	p("\n%d messages of 1 KB over 4 connections through the proxy (%s each way); the Pool with 32 callers, each waiting for each result; messages per second, and round trips a message on each connection (elapsed / round trip / (messages / 4)):\n\n| client |", r.o.poolMsgs, r.o.delay)
	for _, k := range keys {
		p(" %s |", caseTitle(k))
	}
	p("\n|---|%s\n", strings.Repeat("--:|", len(keys)))
	for _, cl := range clients {
		if !runs(cl, r.byKey[keys[0]]) {
			continue
		}
		p("| %s |", label(cl))
		for _, k := range keys {
			if len(r.results[k][cl]) == 0 {
				p(" – |")
				continue
			}
			p(" %.0f (%.2f) |", r.rate(k, cl), r.perConn(k, cl))
		}
		p("\n")
	}
	p("\nThe Pool's waits, from Send to result, in round trips (median, 99th percentile; each caller's first mail, which waits for the connections to be made, left out):")
	for _, k := range keys {
		if len(r.results[k]["ours-pool"]) == 0 {
			continue
		}
		rtt := float64(r.byKey[k].rtt)
		p(" %s: %.1f, %.1f (round trip %s);", caseTitle(k),
			metric(r.results[k]["ours-pool"], func(x run) float64 { return float64(x.P50NS) / rtt }),
			metric(r.results[k]["ours-pool"], func(x run) float64 { return float64(x.P99NS) / rtt }),
			rttOf(r.byKey[k]))
	}
	p("\n")
}

// perConn is the round trips a message took on each connection.
func (r *report) perConn(key, client string) float64 {
	c := r.byKey[key]
	return metric(r.results[key][client], func(x run) float64 {
		return float64(x.NS) / float64(c.rtt) / (float64(x.Msgs) / float64(max(c.conns, 1)))
	})
}

// poolTargets prints issue 22's targets.
func (r *report) poolTargets(p func(string, ...any)) {
	fourPeers := []string{"net/smtp", "go-smtp", "smtp-source"}
	if k := "rtt-4-smtp-sink"; r.has(k) && len(r.results[k]["ours-pool"]) > 0 && len(r.results[k]["raw-pipe"]) > 0 {
		ratio := r.rate(k, "ours-pool") / r.rate(k, "raw-pipe")
		p("| through 1 ms each way into smtp-sink, 32 callers: ≥ 90%% of the raw socket's msg/s | %.0f vs %.0f: %.0f%% (%.2f round trips a mail a connection) | %s |\n",
			r.rate(k, "ours-pool"), r.rate(k, "raw-pipe"), 100*ratio, r.perConn(k, "ours-pool"), yes(ratio >= 0.9))
	}
	if k := "rtt-4-chunking"; r.has(k) && len(r.results[k]["ours-pool"]) > 0 {
		if best, name := r.best(k, fourPeers); best > 0 {
			ratio := r.rate(k, "ours-pool") / best
			p("| through 1 ms each way into the CHUNKING sink, 32 callers: ≥ 25× the best peer | %.0f vs %s %.0f: %.1f× | %s |\n",
				r.rate(k, "ours-pool"), label(name), best, ratio, yes(ratio >= 25))
		}
		p99 := metric(r.results[k]["ours-pool"], func(x run) float64 { return float64(x.P99NS) / float64(r.byKey[k].rtt) })
		p("| p99 wait of a mail under 32 callers (CHUNKING sink): < 4 round trips plus the server's time | %.1f round trips | %s |\n", p99, yes(p99 < 4))
	}
	for _, k := range []string{"1k-smtp-sink-4/split", "1k-fast-4/split", "1k-smtp-sink-4", "1k-fast-4"} {
		if r.has(k) && len(r.results[k]["ours-pool"]) > 0 && len(r.results[k]["ours"]) > 0 {
			ratio := r.rate(k, "ours-pool") / r.rate(k, "ours")
			p("| %s: the Pool no slower than four Sendmail clients | %.0f vs %.0f: %.2f× | %s |\n",
				caseTitle(k), r.rate(k, "ours-pool"), r.rate(k, "ours"), ratio, yes(ratio >= 0.97))
		}
	}
}
