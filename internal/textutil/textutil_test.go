package textutil

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestIsASCII(t *testing.T) {
	assert.True(t, IsASCII(""))
	assert.True(t, IsASCII("plain \x00\x7f text"))
	assert.False(t, IsASCII("Grüße"))
	assert.False(t, IsASCII([]byte{'a', 0x80}))
	// An 8-bit byte at every place of the eight-byte words and of the
	// tail, in both kinds of text.
	for n := 1; n <= 19; n++ {
		plain := []byte(strings.Repeat("\x7f", n))
		assert.True(t, IsASCII(plain), "%d bytes", n)
		assert.True(t, IsASCII(string(plain)), "%d bytes", n)
		for i := range n {
			p := bytes.Clone(plain)
			p[i] = 0x80
			assert.False(t, IsASCII(p), "byte %d of %d", i, n)
			assert.False(t, IsASCII(string(p)), "byte %d of %d", i, n)
		}
	}
}

func TestCleanCRLF(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"", true},
		{"no line end", true},
		{"a\r\nb\r\n", true},
		{"a\nb\r\n", false},
		{"a\rb\r\n", false},
		{"\n", false},
		{"a\r", false},
		{"\r\r\n", false},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, CleanCRLF([]byte(tc.in)), "%q", tc.in)
	}
}

func TestIsPySpace(t *testing.T) {
	for _, r := range " \t\n\v\f\r\x1c\x1d\x1e\x1f\u0085\u00a0\u2000\u200a\u3000" {
		assert.True(t, IsPySpace(r), "%U", r)
	}
	for _, r := range "a_\x00\u200b\ufeff" {
		assert.False(t, IsPySpace(r), "%U", r)
	}
}
