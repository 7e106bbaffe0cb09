package dkimsign

import (
	"bytes"
	"crypto/sha256"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestBodyCanonSplit feeds a body to the canonicalizer split at every
// place: the hash is the same as for the body in one piece.
func TestBodyCanonSplit(t *testing.T) {
	body := []byte("  a \t b\r\n\r\n \t\r\nc  \r\n\r\n  \r\n")
	for _, relaxed := range []bool{false, true} {
		whole := NewBody(sha256.New(), relaxed)
		whole.Add(body)
		want := whole.Sum()
		for i := range body {
			c := NewBody(sha256.New(), relaxed)
			c.Add(body[:i])
			c.Add(body[i:])
			assert.Equal(t, want, c.Sum(), "relaxed %v, split at %d", relaxed, i)
		}
	}
}

// TestBodyCanonNoAllocation checks that hashing a body allocates nothing
// per write, whatever its size: the memory of a large signed message stays
// the send's.
func TestBodyCanonNoAllocation(t *testing.T) {
	piece := bytes.Repeat([]byte("some words  and\tblanks \r\n\r\n"), 1000)
	for _, relaxed := range []bool{false, true} {
		c := NewBody(sha256.New(), relaxed)
		allocs := testing.AllocsPerRun(100, func() { c.Add(piece) })
		assert.Zero(t, allocs, "relaxed %v", relaxed)
	}
}
