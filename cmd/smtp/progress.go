package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
)

// progressMin is the size from which send shows a progress bar (when
// stderr is a terminal): below it, a message goes too fast to watch.
const progressMin = 1 << 20

// progressBar draws "sending [=====     ]  50% 1.0 MiB/2.0 MiB" on one
// terminal line, redrawn with a carriage return when the percentage
// changes. It counts the bytes written to the connection, commands and
// TLS overhead included, so it is clamped at the total.
type progressBar struct {
	mu    sync.Mutex
	w     io.Writer
	total int64
	last  int // the percentage drawn last, -1 before the first
}

func newProgressBar(w io.Writer, total int64) *progressBar {
	return &progressBar{w: w, total: total, last: -1}
}

// update redraws the bar for n bytes sent.
func (p *progressBar) update(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n = min(n, p.total)
	pct := int(n * 100 / p.total)
	if pct == p.last {
		return
	}
	p.last = pct
	const width = 30
	fill := pct * width / 100
	fmt.Fprintf(p.w, "\rsending [%s%s] %3d%% %s/%s", strings.Repeat("=", fill), strings.Repeat(" ", width-fill),
		pct, humanBytes(n), humanBytes(p.total))
}

// done ends the bar's line, if one was drawn.
func (p *progressBar) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.last >= 0 {
		fmt.Fprintln(p.w)
	}
}
