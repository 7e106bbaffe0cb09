package main

import (
	"bufio"
	"net"
	"strings"
	"testing"
)

// TestFastSink checks the sink's dialogue and that it allocates nothing per
// message, so that the in-process benchmarks count the client's allocations.
func TestFastSink(t *testing.T) {
	s, err := startFastSink(false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	c, err := net.Dial("tcp", s.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	say := func(cmd string, replies int) string {
		t.Helper()
		if cmd != "" {
			if _, err := c.Write([]byte(cmd)); err != nil {
				t.Fatal(err)
			}
		}
		got, err := rawReplies(r, replies)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	say("", 1)
	if ext := say("EHLO x\r\n", 1); !strings.Contains(ext, "CHUNKING") || !strings.Contains(ext, "PIPELINING") {
		t.Fatalf("EHLO: %q", ext)
	}
	msg := "Subject: x\r\n\r\n.a\r\nb\r\n"
	say("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nBDAT 3\r\nabcBDAT 2 LAST\r\nde", 4)
	say("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n", 3)
	say(strings.ReplaceAll(msg, "\n.", "\n..")+".\r\n", 1)
	say("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\n", 3)
	say(".\r\n", 1) // empty data
	if got := s.messages.Load(); got != 3 {
		t.Fatalf("messages: %d", got)
	}
	one := []byte("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nBDAT 5 LAST\r\nhello")
	allocs := testing.AllocsPerRun(100, func() {
		c.Write(one)
		for i := 0; i < 3; i++ {
			if _, err := r.ReadSlice('\n'); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs > 0 {
		t.Errorf("%.1f allocations per message", allocs)
	}
	if s.errors.Load() != 0 {
		t.Fatal("sink errors")
	}
}
