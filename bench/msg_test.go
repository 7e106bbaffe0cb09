package main

import (
	"bytes"
	"testing"
	"testing/iotest"
)

func TestMessage(t *testing.T) {
	for _, size := range []int{1024, 4999, 1 << 20, 5000, 5001, 5002, 5003} {
		m := message(size)
		if len(m) != size {
			t.Fatalf("size %d: got %d bytes", size, len(m))
		}
		if !bytes.HasSuffix(m, []byte("\r\n")) || bytes.Contains(m, []byte("\n.")) {
			t.Fatalf("size %d: bad shape", size)
		}
		if n := bytes.Count(m, []byte("\r\n")); bytes.Count(m, []byte("\n")) != n || bytes.Count(m, []byte("\r")) != n {
			t.Fatalf("size %d: bare LF", size)
		}
		if err := iotest.TestReader(newMessageReader(size), m); err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
	}
}
