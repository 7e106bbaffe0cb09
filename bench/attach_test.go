package main

import (
	"bytes"
	"runtime"
	"slices"
	"testing"

	"github.com/gosmtplib/smtplib"
	"github.com/gosmtplib/smtplib/email"
)

// TestAttachStreams checks the streaming bound of issue 15 where it can be
// measured without other tests' garbage in the way: building and writing a
// message with a 25 MiB attachment keeps the peak heap under twice the
// attachment (the attachment itself included), and allocates less than a
// tenth of it; then that the message written carries the attachment.
func TestAttachStreams(t *testing.T) {
	const size = 25 << 20
	res, err := runAttachChild("ours", size, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("peak heap %.1f MiB (%.2f× the attachment), %.2f MiB allocated, %d bytes written",
		float64(res.PeakHeap)/(1<<20), float64(res.PeakHeap)/size, float64(res.Allocated)/(1<<20), res.Written)
	if res.PeakHeap >= 2*size {
		t.Errorf("peak heap %d bytes, not under twice the attachment (%d)", res.PeakHeap, 2*size)
	}
	if res.Allocated >= size/10 {
		t.Errorf("build and write allocated %d bytes: the encoded form is being held", res.Allocated)
	}

	data := attachData(size)
	var buf bytes.Buffer
	n, err := attachBuilders["ours"](data, &buf)
	if err != nil || n != int64(buf.Len()) || n != res.Written {
		t.Fatalf("wrote %d bytes (%d in the buffer, %d measured): %v", n, buf.Len(), res.Written, err)
	}
	m, err := email.ReadMessage(&buf)
	if err != nil {
		t.Fatal(err)
	}
	atts := slices.Collect(m.IterAttachments())
	if len(atts) != 1 || atts[0].GetFilename() != "report.bin" {
		t.Fatalf("attachments: %d", len(atts))
	}
	got, err := atts[0].GetContent()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("the attachment does not read back: %v", err)
	}
}

// TestAttachSendMessage checks that SendMessage encodes the attachment on
// the way to the wire too: sending the message to the fast sink (which
// allocates nothing per message) allocates less than a tenth of the
// attachment.
func TestAttachSendMessage(t *testing.T) {
	const size = 25 << 20
	sink, err := startFastSink(false)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.close()
	host, port := hostPort(sink.addr())
	s, err := smtplib.Dial(host, port, smtplib.WithLocalHostname(heloName))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.EhloOrHeloIfNeeded(); err != nil {
		t.Fatal(err)
	}
	m := email.NewMessage(fromAddr, []string{toAddr}, "Report", "The report is attached.\n")
	if err := m.AddAttachment(attachData(size), "application", "octet-stream", "report.bin"); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := s.SendMessage(m); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("SendMessage of a %d MiB attachment allocated %.2f MiB", size>>20, float64(allocated)/(1<<20))
	if allocated >= size/10 {
		t.Errorf("SendMessage allocated %d bytes: the encoded form is being held", allocated)
	}
	if _, err := s.Quit(); err != nil {
		t.Fatal(err)
	}
}
