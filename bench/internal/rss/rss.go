// Package rss reads a process's own memory figures, for the bench's
// children.
package rss

import (
	"os"
	"strconv"
	"strings"
)

// Peak returns the process's peak resident set size (VmHWM in
// /proc/self/status), in KiB, or -1 where it cannot be read.
func Peak() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return -1
			}
			return kb
		}
	}
	return -1
}
