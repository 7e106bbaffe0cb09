package email

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/gosmtplib/smtplib/internal/textutil"
)

// FuzzBuild builds a message from random calls with random arguments,
// some on parts deep in the tree, and checks what must hold whatever the
// input: each call either works or returns a *MessageError; the message
// written is ASCII, CRLF throughout, with no line over 998 bytes and no
// header field but those the calls made; it reads back with ReadMessage
// into the same tree, every part with the same content, the same body and
// attachments; writing it again gives the same bytes; and the streamed
// reader SendMessage uses gives them too.
func FuzzBuild(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3}, "Hi.\n", "logo.png", []byte("\x89PNG"))
	f.Add([]byte{0, 3, 1, 2, 3, 9}, "Grüße\r\n", "Bericht März.pdf", []byte{0, 1, 2})
	f.Add([]byte{3, 3, 4, 5, 6}, strings.Repeat("x", 200), "a\r\nBcc: v@x", []byte{})
	f.Add([]byte{7, 0, 8, 2, 10, 11}, "--===============", "html\r\n", []byte("--x"))
	f.Fuzz(checkBuild)
}

// checkBuild is FuzzBuild's check of one input.
func checkBuild(t *testing.T, ops []byte, text, name string, data []byte) {
	{
		if len(ops) > 24 || len(text)+len(name)+len(data) > 1<<14 {
			return
		}
		m := NewMessage("a@example.com", []string{"b@example.org"}, "fuzz", "")
		for i, op := range ops {
			// Odd bytes pick a part to call on: the k-th in depth-first order.
			target := m
			if op >= 16 {
				all := flatten(m)
				target = all[int(op>>4)%len(all)]
			}
			var err error
			switch op % 16 {
			case 0:
				err = target.SetContent(text, "")
			case 1:
				err = target.AddAlternative(text, "html")
			case 2:
				err = target.AddRelated(data, "image", "png", name)
			case 3:
				err = target.AddAttachment(data, "application", "octet-stream", name)
			case 4:
				err = target.AddAttachment([]byte(text), "text", "plain", "")
			case 5:
				err = target.SetContent(text, name)
			case 6:
				err = target.AddAlternative(name, text)
			case 7:
				err = target.AddAttachment(data, name, text, name)
			case 8:
				target.Set("Subject", clip(text, 200))
			case 9:
				target.Set("To", clip(name, 200)+", "+clip(text, 200))
			case 10:
				err = target.AddRelated([]byte(text), "text", "css", "")
			default:
				err = target.AddAlternative(text, "plain")
			}
			var me *MessageError
			if err != nil && !errors.As(err, &me) {
				t.Fatalf("call %d (%d): %T %v", i, op, err, err)
			}
		}

		out := m.Bytes()
		if !textutil.IsASCII(string(withoutTo(out))) {
			t.Fatalf("not ASCII (a non-ASCII local part in To is kept, RFC 6532):\n%q", out)
		}
		lines := bytes.Split(out, []byte("\r\n"))
		for _, line := range lines {
			if bytes.ContainsAny(line, "\r\n") || len(line) > maxLineLength {
				t.Fatalf("bad line %q", line)
			}
		}
		assertQPLines(t, m)
		if again := m.Bytes(); !bytes.Equal(out, again) {
			t.Fatal("writing twice gives other bytes")
		}
		streamed, err := io.ReadAll(newSegReader(m.segments(true, false)))
		if err != nil || !bytes.Equal(out, streamed) {
			t.Fatalf("the streamed reader differs: %v", err)
		}

		back, err := ReadMessage(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("cannot read back: %v\n%q", err, out)
		}
		for _, f := range back.Fields() {
			switch strings.ToLower(f) {
			case "from", "to", "subject", "date", "message-id", "mime-version", "content-type", "content-transfer-encoding":
			default:
				t.Fatalf("unexpected field %q at the top", f)
			}
		}
		if shape(m) != shape(back) {
			t.Fatalf("tree differs:\n%s\nvs\n%s", shape(m), shape(back))
		}
		built, read := flatten(m), flatten(back)
		for i := range built {
			a, errA := built[i].GetContent()
			b, errB := read[i].GetContent()
			if (errA == nil) != (errB == nil) || !bytes.Equal(a, b) {
				t.Fatalf("part %d: %q (%v) vs %q (%v)", i, a, errA, b, errB)
			}
			if built[i].GetFilename() != read[i].GetFilename() {
				t.Fatalf("part %d: filename %q vs %q", i, built[i].GetFilename(), read[i].GetFilename())
			}
		}
		if pathOf(m, m.GetBody()) != pathOf(back, back.GetBody()) {
			t.Fatal("GetBody differs")
		}
		if len(attachmentsOf(m)) != len(attachmentsOf(back)) {
			t.Fatal("IterAttachments differs")
		}
	}
}

// flatten lists m and its parts, depth first.
func flatten(m *Message) []*Message { return slices.Collect(m.Walk()) }

// pathOf gives the position of part in the depth-first list, -1 for none.
func pathOf(m, part *Message) int {
	for i, p := range flatten(m) {
		if p == part {
			return i
		}
	}
	return -1
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// withoutTo drops the lines of To fields from a message.
func withoutTo(msg []byte) []byte {
	var out []byte
	inTo := false
	for _, line := range bytes.SplitAfter(msg, []byte("\n")) {
		if len(line) > 0 && line[0] != ' ' && line[0] != '\t' {
			inTo = bytes.HasPrefix(line, []byte("To:"))
		}
		if !inTo {
			out = append(out, line...)
		}
	}
	return out
}
