package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"time"

	"github.com/gosmtplib/smtplib/bench/internal/rss"
	"github.com/gosmtplib/smtplib/email"
	mail "github.com/wneessen/go-mail"
)

// The attachment comparison (issue 15): build a message with a text part
// and one large attachment, and write it out, with ours (NewMessage,
// AddAttachment, WriteTo), go-mail (NewMsg, AttachReader, WriteTo) and
// Python (EmailMessage, add_attachment, as_bytes). Each run is its own
// process, the attachment's bytes made before the clock starts; the
// figures are the time to build and write, and the peak heap during it,
// attachment included, in two separate runs so that measuring the heap
// does not slow the timed one:
//   - Go: runtime/metrics' heap objects, sampled every 100 µs, and after.
//   - Python: tracemalloc's peak, plus the attachment's bytes, which were
//     made before tracing started.
//
//	go run . -attach-mb 25

//go:embed attach.py
var attachPython []byte

// attachResult is what an attachment child prints, as one line of JSON.
type attachResult struct {
	NS        int64  `json:"ns"`        // build and write, nanoseconds (timed run)
	PeakHeap  int64  `json:"peak_heap"` // bytes (heap run)
	Allocated int64  `json:"allocated"` // bytes allocated by build and write (Go only)
	Written   int64  `json:"written"`   // bytes of the message
	HWMKB     int64  `json:"hwm_kb"`    // peak resident set of the process
	Python    string `json:"python,omitempty"`
}

// attachBuilders build the message and write it to w.
var attachBuilders = map[string]func(data []byte, w io.Writer) (int64, error){
	"ours": func(data []byte, w io.Writer) (int64, error) {
		m := email.NewMessage("alice@example.com", []string{"bob@example.org"}, "Report", "The report is attached.\n")
		if err := m.AddAttachment(data, "application", "octet-stream", "report.bin"); err != nil {
			return 0, err
		}
		return m.WriteTo(w)
	},
	"go-mail": func(data []byte, w io.Writer) (int64, error) {
		m := mail.NewMsg()
		if err := m.From("alice@example.com"); err != nil {
			return 0, err
		}
		if err := m.To("bob@example.org"); err != nil {
			return 0, err
		}
		m.Subject("Report")
		m.SetBodyString(mail.TypeTextPlain, "The report is attached.\n")
		if err := m.AttachReader("report.bin", &onlyReader{data: data}); err != nil {
			return 0, err
		}
		return m.WriteTo(w)
	},
}

// onlyReader hides bytes.Reader's WriterTo and Len, as a file or a network
// stream would: go-mail reads it to the end either way.
type onlyReader struct{ data []byte }

func (r *onlyReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// attachData is the attachment: bytes that do not repeat in short cycles.
func attachData(size int) []byte {
	data := make([]byte, size)
	x := uint32(2463534242)
	for i := range data {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		data[i] = byte(x)
	}
	return data
}

// countWriter counts what is written and keeps nothing.
type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// runAttachChild builds and writes one message; with heap it samples the
// heap instead of timing.
func runAttachChild(name string, size int, heap bool) (attachResult, error) {
	build, ok := attachBuilders[name]
	if !ok {
		return attachResult{}, fmt.Errorf("%w %q", errUnknownClient, name)
	}
	data := attachData(size)
	runtime.GC()
	var res attachResult
	var before, after runtime.MemStats
	if !heap {
		start := time.Now()
		n, err := build(data, &countWriter{})
		res.NS, res.Written = time.Since(start).Nanoseconds(), n
		res.HWMKB = rss.Peak()
		return res, err
	}
	stop := make(chan struct{})
	peak := make(chan int64)
	go func() {
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var max int64
		tick := time.NewTicker(100 * time.Microsecond)
		defer tick.Stop()
		for {
			metrics.Read(sample)
			max = maxInt(max, int64(sample[0].Value.Uint64()))
			select {
			case <-stop:
				peak <- max
				return
			case <-tick.C:
			}
		}
	}()
	runtime.ReadMemStats(&before)
	n, err := build(data, &countWriter{})
	runtime.ReadMemStats(&after)
	close(stop)
	res.PeakHeap = maxInt(<-peak, int64(after.HeapAlloc))
	res.Allocated = int64(after.TotalAlloc - before.TotalAlloc)
	res.Written = n
	res.HWMKB = rss.Peak()
	runtime.KeepAlive(data)
	return res, err
}

func maxInt(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}

// attachRun is one client's runs.
type attachRun struct {
	name   string
	times  []float64 // seconds
	heaps  []float64 // bytes
	alloc  []float64
	rss    []float64 // KiB
	python string
}

// runAttach runs every client rounds times in turn, each run in its own
// process, and prints the table.
func runAttach(ctx context.Context, sizeMB, rounds int) error {
	size := sizeMB << 20
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "attach")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "attach.py")
	if err := os.WriteFile(script, attachPython, 0o644); err != nil {
		return err
	}
	python := findPython()
	runs := []*attachRun{{name: "ours"}, {name: "go-mail"}, {name: "python"}}
	for round := 0; round < rounds; round++ {
		for i := range runs {
			r := runs[(i+round)%len(runs)]
			for _, heap := range []bool{false, true} {
				var cmd *exec.Cmd
				if r.name == "python" {
					if python == "" {
						continue
					}
					cmd = exec.CommandContext(ctx, python, script, strconv.Itoa(size), strconv.FormatBool(heap))
				} else {
					cmd = exec.CommandContext(ctx, exe, "-attach-child", r.name, "-attach-mb", strconv.Itoa(sizeMB), "-attach-heap="+strconv.FormatBool(heap))
				}
				out, err := cmd.Output()
				if err != nil {
					return fmt.Errorf("%s: %v: %s", r.name, err, out)
				}
				var res attachResult
				if err := json.Unmarshal(lastLine(out), &res); err != nil {
					return fmt.Errorf("%s: %v: %s", r.name, err, out)
				}
				if heap {
					r.heaps = append(r.heaps, float64(res.PeakHeap))
					r.alloc = append(r.alloc, float64(res.Allocated))
					r.rss = append(r.rss, float64(res.HWMKB))
				} else {
					r.times = append(r.times, float64(res.NS)/1e9)
				}
				r.python = res.Python
			}
		}
	}
	printAttach(size, rounds, runs)
	return nil
}

// findPython prefers Python 3.13, the version the builder mirrors.
func findPython() string {
	for _, p := range []string{"python3.13", os.ExpandEnv("$HOME/.pyenv/versions/3.13.0/bin/python3"), "python3"} {
		// A pyenv shim is on the PATH even where its version is not
		// selected, so each candidate must run.
		if path, err := exec.LookPath(p); err == nil && exec.Command(path, "-c", "pass").Run() == nil {
			return path
		}
	}
	return ""
}

func printAttach(size, rounds int, runs []*attachRun) {
	mib := func(b float64) float64 { return b / (1 << 20) }
	fmt.Printf("One message with a %d MiB attachment (random bytes), built and written to a counting writer; medians of %d runs, each its own process. %s/%s, %d CPUs, %s.\n\n",
		size>>20, rounds, runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	fmt.Println("| client | build + write, ms | peak heap, MiB (× attachment) | allocated, MiB | peak RSS, MiB |")
	fmt.Println("|---|--:|--:|--:|--:|")
	var ours *attachRun
	for _, r := range runs {
		if len(r.times) == 0 {
			continue
		}
		if r.name == "ours" {
			ours = r
		}
		label := map[string]string{"ours": "**ours** (AddAttachment + WriteTo)", "go-mail": "go-mail v0.8.1 (AttachReader + WriteTo)",
			"python": "Python " + r.python + " (add_attachment + as_bytes)"}[r.name]
		alloc := "n/a"
		if r.name != "python" {
			alloc = fmt.Sprintf("%.1f", mib(median(r.alloc)))
		}
		fmt.Printf("| %s | %.1f | %.1f (%.2f×) | %s | %.1f |\n", label, median(r.times)*1000,
			mib(median(r.heaps)), median(r.heaps)/float64(size), alloc, median(r.rss)/1024)
	}
	if ours == nil {
		return
	}
	fmt.Println()
	for _, r := range runs {
		if r == ours || len(r.times) == 0 {
			continue
		}
		fmt.Printf("- ours vs %s: %.2f× the speed, %.2f× the peak heap\n", r.name,
			median(r.times)/median(ours.times), median(ours.heaps)/median(r.heaps))
	}
	ok := median(ours.heaps) < 2*float64(size)
	fmt.Printf("- target: peak heap under twice the attachment: %.2f× — %s\n", median(ours.heaps)/float64(size), yes(ok))
	if gm := find(runs, "go-mail"); gm != nil && len(gm.times) > 0 {
		fmt.Printf("- target: at least as fast as go-mail: %.1f vs %.1f ms — %s\n", median(ours.times)*1000, median(gm.times)*1000,
			yes(median(ours.times) <= median(gm.times)))
	}
}

func find(runs []*attachRun, name string) *attachRun {
	i := slices.IndexFunc(runs, func(r *attachRun) bool { return r.name == name })
	if i < 0 {
		return nil
	}
	return runs[i]
}
