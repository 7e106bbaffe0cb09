package main

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStoreNamesSortByArrival(t *testing.T) {
	base := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	// A clock that stands still, then steps back: the names still sort.
	times := []time.Time{base, base, base.Add(-time.Hour), base.Add(time.Second)}
	for _, maildir := range []bool{false, true} {
		i := 0
		s, err := newStore(t.TempDir(), maildir, func() time.Time { i++; return times[i-1] })
		require.NoError(t, err)
		var names []string
		for range times {
			names = append(names, s.name(10))
		}
		assert.True(t, sort.StringsAreSorted(names), "%q", names)
		if !maildir {
			assert.Equal(t, []string{
				"20250304T050607.000000Z-000001.eml", "20250304T050607.000001Z-000002.eml",
				"20250304T050607.000002Z-000003.eml", "20250304T050608.000000Z-000004.eml",
			}, names)
		} else {
			assert.Regexp(t, `^1741064767\.M000001P\d+Q2\.[^/:]+,S=10$`, names[1])
		}
	}
}

func TestStoreSave(t *testing.T) {
	dir := t.TempDir()
	s, err := newStore(filepath.Join(dir, "a", "b"), false, time.Now)
	require.NoError(t, err, "the directory is made")
	path, err := s.save([]byte("x\r\n"))
	require.NoError(t, err)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "x\r\n", string(b))
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file is left")

	_, err = newStore(filepath.Join(path, "sub"), false, time.Now)
	assert.ErrorContains(t, err, "--dir: mkdir ")
}
