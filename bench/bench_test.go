package main

import (
	"bytes"
	"net"
	"testing"

	"github.com/gosmtplib/smtplib"
)

// The in-process benchmarks: our client against the fast sink over
// loopback, for profiles and allocation counts (go test -bench . -benchmem).
// The sink runs in the same process, so its work shows in the profile too.

func benchClient(b *testing.B, noChunking bool) (*smtplib.SMTP, *fastSink) {
	b.Helper()
	sink, err := startFastSink(noChunking)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(sink.close)
	host, port := hostPort(sink.addr())
	s, err := smtplib.Dial(host, port, smtplib.WithLocalHostname(heloName))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Quit() })
	if err := s.EhloOrHeloIfNeeded(); err != nil {
		b.Fatal(err)
	}
	return s, sink
}

func benchSendmail(b *testing.B, size int, noChunking, stream bool) {
	s, _ := benchClient(b, noChunking)
	msg := message(size)
	to := []string{toAddr}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var err error
		if stream {
			_, err = s.SendmailReader(fromAddr, to, bytes.NewReader(msg))
		} else {
			_, err = s.Sendmail(fromAddr, to, msg)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSendmail1K: PIPELINING+CHUNKING, one write and one read per message.
func BenchmarkSendmail1K(b *testing.B) { benchSendmail(b, 1024, false, false) }

// BenchmarkSendmail1KData: PIPELINING alone (MAIL+RCPT+DATA, then the data).
func BenchmarkSendmail1KData(b *testing.B) { benchSendmail(b, 1024, true, false) }

// BenchmarkSendmailReader1K: SendmailReader from a *bytes.Reader.
func BenchmarkSendmailReader1K(b *testing.B) { benchSendmail(b, 1024, false, true) }

func BenchmarkSendmail50M(b *testing.B)       { benchSendmail(b, 50<<20, false, false) }
func BenchmarkSendmail50MData(b *testing.B)   { benchSendmail(b, 50<<20, true, false) }
func BenchmarkSendmailReader50M(b *testing.B) { benchSendmail(b, 50<<20, false, true) }

// BenchmarkRaw50M is the limit: the same message as one BDAT LAST, written
// with writev.
func BenchmarkRaw50M(b *testing.B) {
	sink, err := startFastSink(false)
	if err != nil {
		b.Fatal(err)
	}
	defer sink.close()
	msg := message(50 << 20)
	conn, err := net.Dial("tcp", sink.addr())
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	r := newReplyReader(conn)
	if _, err := rawReplies(r, 1); err != nil {
		b.Fatal(err)
	}
	conn.Write([]byte("EHLO " + heloName + "\r\n"))
	if _, err := rawReplies(r, 1); err != nil {
		b.Fatal(err)
	}
	cmd := []byte("MAIL FROM:<" + fromAddr + ">\r\nRCPT TO:<" + toAddr + ">\r\nBDAT 52428800 LAST\r\n")
	b.SetBytes(int64(len(msg)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bufs := net.Buffers{cmd, msg}
		if _, err := bufs.WriteTo(conn); err != nil {
			b.Fatal(err)
		}
		if _, err := rawReplies(r, 3); err != nil {
			b.Fatal(err)
		}
	}
}
