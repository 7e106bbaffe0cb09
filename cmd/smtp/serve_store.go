package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// store keeps each message serve receives in a directory, one file a
// message, either as DIR/<time>-<n>.eml or in a Maildir (DIR/new). A file
// is written under a hidden or tmp/ name and renamed when whole, so that
// no reader ever sees part of a message under its final name.
//
// The names sort by arrival: they start with the time in UTC to the
// microsecond, made strictly increasing (a clock that stands still or
// steps back moves the time a microsecond past the last name's), so that
// two runs into the same directory sort too.
type store struct {
	dir     string
	maildir bool
	now     func() time.Time
	host    string // for Maildir names
	pid     int

	mu   sync.Mutex
	last time.Time
	n    int64
}

// newStore creates dir (and new/, cur/, tmp/ for a Maildir) if needed.
func newStore(dir string, maildir bool, now func() time.Time) (*store, error) {
	subdirs := []string{dir}
	if maildir {
		subdirs = append(subdirs, filepath.Join(dir, "tmp"), filepath.Join(dir, "new"), filepath.Join(dir, "cur"))
	}
	for _, d := range subdirs {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, usageErrorf("--dir: %v", err)
		}
	}
	host, _ := os.Hostname()
	// Maildir's rule: "/" and ":" in the host part are written in octal.
	host = strings.NewReplacer("/", `\057`, ":", `\072`).Replace(host)
	if host == "" {
		host = "localhost"
	}
	return &store{dir: dir, maildir: maildir, now: now, host: host, pid: os.Getpid()}, nil
}

// name returns the next file's name (without a directory), in order.
func (s *store) name(size int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.now().UTC().Truncate(time.Microsecond)
	if !t.After(s.last) {
		t = s.last.Add(time.Microsecond)
	}
	s.last = t
	s.n++
	if s.maildir {
		// A Maildir name is unique by time, process and count; the
		// microseconds are padded so that the names also sort by time.
		return fmt.Sprintf("%d.M%06dP%dQ%d.%s,S=%d", t.Unix(), t.Nanosecond()/1000, s.pid, s.n, s.host, size)
	}
	return fmt.Sprintf("%s-%06d.eml", t.Format("20060102T150405.000000Z"), s.n)
}

// save writes data, the message as received, to a new file and returns
// its path.
func (s *store) save(data []byte) (string, error) {
	name := s.name(len(data))
	tmp, final := filepath.Join(s.dir, "."+name+".tmp"), filepath.Join(s.dir, name)
	if s.maildir {
		tmp, final = filepath.Join(s.dir, "tmp", name), filepath.Join(s.dir, "new", name)
	}
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("keeping the message: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("keeping the message: %w", err)
	}
	return final, nil
}
