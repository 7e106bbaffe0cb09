package email

// Tests of ReadMessage: the samples in testdata/messages written back byte
// for byte, the errors, the cost of reading hostile structures, the
// structures read around with a defect, MaxDepth, concurrent readers, and
// FuzzMessage. The helpers readEML, emlFiles and mustRead are in
// message_test.go; parts_test.go checks the parts themselves.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadMessageRoundTrip(t *testing.T) {
	for _, name := range emlFiles(t) {
		t.Run(name, func(t *testing.T) {
			data := readEML(t, name)
			// A reader that returns one byte at a time exercises the
			// line assembly across reads.
			m, err := ReadMessage(iotest.OneByteReader(bytes.NewReader(data)))
			require.NoError(t, err)
			var buf bytes.Buffer
			n, err := m.WriteTo(&buf)
			require.NoError(t, err)
			assert.Equal(t, int64(len(data)), n)
			assert.Equal(t, string(data), buf.String())
			assert.Equal(t, data, m.Bytes())
			assert.Equal(t, data, m.Clone().Bytes())
		})
	}
}

func TestReadMessageErrors(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		line   int
		reason string
	}{
		{"empty", "", 0, "empty message"},
		{"NUL in a field", "From: a\x00b\r\n\r\n", 1, "NUL byte in header"},
		{"NUL in a later line", "From: a\r\nTo: b\r\n \x00\r\n\r\n", 3, "NUL byte in header"},
		{"first line a continuation", " folded: x\r\n\r\n", 1, "continuation line with no field before it"},
		{"continuation after mbox line", "From a@b Mon\r\n x\r\n\r\n", 2, "continuation line with no field before it"},
		{"no colon", "From: a\r\nnot a field\r\n\r\n", 2, `not a header field: "not a field"`},
		{"space inside a name", "Bad Name: x\r\n\r\n", 1, `not a header field: "Bad Name: x"`},
		{"empty name", ": x\r\n\r\n", 1, `not a header field: ": x"`},
		{"non-ASCII name", "Sübject: x\r\n\r\n", 1, `not a header field: "Sübject: x"`},
		{"control character in name", "X\x01: y\r\n\r\n", 1, `not a header field: "X\x01: y"`},
		{"mbox line not first", "A: b\r\nFrom x@y Mon\r\n\r\n", 2, `not a header field: "From x@y Mon"`},
		{"lone CR line", "A: b\r\n\r", 2, `not a header field: "\r"`},
		{"line too long", "X: " + strings.Repeat("a", MaxHeaderLineLength) + "\r\n\r\n", 1, "line longer than 65536 bytes"},
		{"header block too long", strings.Repeat("X: "+strings.Repeat("a", 1000)+"\r\n", 1100) + "\r\n", 1044, "header block longer than 1048576 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ReadMessage(strings.NewReader(tc.in))
			require.Error(t, err)
			assert.Nil(t, m)
			var me *MessageError
			require.ErrorAs(t, err, &me)
			assert.Equal(t, tc.line, me.Line)
			assert.Equal(t, tc.reason, me.Reason)
			assert.True(t, strings.HasPrefix(err.Error(), "email: "), err.Error())
		})
	}
}

func TestReadMessageAcceptsLimits(t *testing.T) {
	line := "X: " + strings.Repeat("a", MaxHeaderLineLength-5) + "\r\n"
	require.Len(t, line, MaxHeaderLineLength)
	m, err := ReadMessage(strings.NewReader(line + "\r\nbody"))
	require.NoError(t, err)
	assert.Equal(t, "body", string(m.Body()))
	big := strings.Repeat("a", 4<<20)
	m, err = ReadMessage(strings.NewReader("A: b\r\n\r\n" + big))
	require.NoError(t, err, "the body has no limit")
	assert.Len(t, m.Body(), len(big))
}

func TestReadMessageReaderErrors(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name string
		r    io.Reader
	}{
		{"in the header", io.MultiReader(strings.NewReader("A: b\r\n"), iotest.ErrReader(boom))},
		{"in the body", io.MultiReader(strings.NewReader("A: b\r\n\r\nbo"), iotest.ErrReader(boom))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadMessage(tc.r)
			require.Error(t, err)
			assert.ErrorIs(t, err, boom)
			assert.True(t, strings.HasPrefix(err.Error(), "email: "), err.Error())
		})
	}
}

func FuzzMessage(f *testing.F) {
	for _, name := range emlFiles(f) {
		f.Add(readEML(f, name))
	}
	f.Add([]byte("A: b"))
	f.Add([]byte("A: b\r\n \r\n\r\n"))
	f.Add([]byte("From x\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ReadMessage(bytes.NewReader(data))
		if err != nil {
			var me *MessageError
			if !errors.As(err, &me) {
				t.Fatalf("error of the wrong type: %v", err)
			}
			return
		}
		out := m.Bytes()
		if !bytes.Equal(out, data) {
			t.Fatalf("write back differs:\n in %q\nout %q", data, out)
		}
		again, err := ReadMessage(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("cannot read back: %v", err)
		}
		if !assert.Equal(t, m.Fields(), again.Fields()) || !assert.Equal(t, m.Header(), again.Header()) ||
			!assert.Equal(t, m.Body(), again.Body()) {
			t.FailNow()
		}
		// Where net/mail reads the message too, the values agree.
		if nm, err := mail.ReadMessage(bytes.NewReader(data)); err == nil {
			if !assert.Equal(t, netMailView(nm.Header), netMailView(strictHeader(m))) {
				t.FailNow()
			}
		}
		// Edits keep the message readable with the same fields.
		c := m.Clone()
		c.Set("Subject", string(data))
		c.Add("X-Fuzz", string(data))
		c.Del("To")
		if !bytes.Equal(m.Bytes(), data) {
			t.Fatal("editing a clone changed the original")
		}
		edited, err := ReadMessage(bytes.NewReader(c.Bytes()))
		if err != nil {
			t.Fatalf("cannot read back an edited message: %v\n%q", err, c.Bytes())
		}
		if !assert.Equal(t, c.Fields(), edited.Fields()) || !assert.Equal(t, c.Values("X-Fuzz"), edited.Values("X-Fuzz")) {
			t.FailNow()
		}
	})
}

// nested returns a message whose body is a multipart nested depth deep,
// each level a multipart/mixed holding the next, the innermost a short
// text; about 66 bytes a level.
func nested(depth int) []byte {
	var b bytes.Buffer
	for i := 0; i < depth; i++ {
		fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\ninnermost\r\n")
	for i := depth - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	return b.Bytes()
}

// flat returns a message with n parts side by side, about 40 bytes each.
func flat(n int) []byte {
	var b bytes.Buffer
	b.WriteString("Content-Type: multipart/mixed; boundary=b\r\n\r\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "--b\r\nContent-Type: text/plain\r\n\r\nx%03d\r\n", i%1000)
	}
	b.WriteString("--b--\r\n")
	return b.Bytes()
}

// crLines returns a message whose parts make the line scanner work: a
// header line of lone CRs, a body of them, and a body of lines that look
// like delimiters but are not; about 7 MB.
func crLines() []byte {
	var b bytes.Buffer
	b.WriteString("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nX: y")
	b.Write(bytes.Repeat([]byte("\r"), 2<<20))
	b.WriteString("\r\n\r\n--b\r\n\r\n")
	b.Write(bytes.Repeat([]byte("x\r"), 1<<20))
	b.WriteString("\r\n--b\r\n\r\n")
	b.Write(bytes.Repeat([]byte("--bx\r\n--b \tz\r\n--\r\n"), 1<<17))
	b.WriteString("--b--\r\n")
	return b.Bytes()
}

// readCost reads data with ReadMessage and walks the whole tree, then
// reports how many parts it found, how long that took, and how many bytes
// of the heap the message holds after a collection, measured while it is
// still reachable: what reading a message costs whoever keeps it.
func readCost(t *testing.T, data []byte) (m *Message, parts int, held int64, took time.Duration) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	m, err := ReadMessage(bytes.NewReader(data))
	require.NoError(t, err)
	for p := range m.Walk() {
		p.GetContentType()
		parts++
	}
	took = time.Since(start)
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(m)
	held = int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d bytes, %d parts: %v, %.1f MB held, %.1f MB allocated", len(data), parts, took,
		float64(held)/1e6, float64(after.TotalAlloc-before.TotalAlloc)/1e6)
	return m, parts, held, took
}

// Reading costs memory in proportion to the message, whatever its shape:
// parts are views into the one body that was read, and nesting deeper
// than MaxDepth is left unparsed.
func TestReadMessageCost(t *testing.T) {
	tests := []struct {
		name     string
		data     []byte
		size     int   // about this many bytes
		maxHeld  int64 // bytes held after a collection
		maxTime  time.Duration
		minParts int
	}{
		{"1000 deep", nested(1000), 68 << 10, 2 << 20, 0, MaxDepth},
		{"100,000 flat parts", flat(100_000), 4 << 20, 40 << 20, 0, 100_001},
		{"100,000 deep", nested(100_000), 7 << 20, 30 << 20, time.Second, MaxDepth},
		{"lone CRs and look-alike delimiters", crLines(), 7 << 20, 30 << 20, time.Second, 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.InDelta(t, tc.size, len(tc.data), float64(tc.size)/4, "the input is the size of the report")
			m, parts, held, took := readCost(t, tc.data)
			assert.Less(t, held, tc.maxHeld, "bytes held")
			if tc.maxTime > 0 && !raceEnabled {
				assert.Less(t, took, tc.maxTime, "time to read and walk")
			}
			assert.GreaterOrEqual(t, parts, tc.minParts)
			assert.True(t, bytes.Equal(tc.data, m.Bytes()), "written back byte for byte")
		})
	}
}

// Structures that cannot be taken apart as they claim are read around,
// as Python reads them, each with its defect.
func TestReadMultipartOddities(t *testing.T) {
	tests := []struct {
		name, raw string
		multipart bool
		parts     int
		defects   []error // of the message and its parts, depth first
	}{
		{"no delimiter in the body", "Content-Type: multipart/mixed; boundary=b\r\n\r\njust text\r\n", false, 0,
			[]error{ErrStartBoundaryNotFound}},
		{"no boundary parameter", "Content-Type: multipart/mixed\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n", false, 0,
			[]error{ErrNoBoundaryInMultipart}},
		{"no close delimiter", "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b\r\n\r\ny\r\n", true, 2,
			[]error{ErrCloseBoundaryNotFound}},
		{"close delimiter only", "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b--\r\n", false, 0,
			[]error{ErrStartBoundaryNotFound}},
		{"a part with a broken header", "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nnot a header\r\n\r\nx\r\n--b--\r\n", true, 1,
			[]error{ErrMissingHeaderBodySeparator}},
		{"empty parts", "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n--b\r\n\r\n--b--", true, 2, nil},
		{"lookalike lines", "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\n--bb\r\n--b x\r\n--b--\r\n", true, 1, nil},
		{"a nested part cut short", "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" +
			"Content-Type: multipart/alternative; boundary=c\r\n\r\n--c\r\n\r\ninner\r\n--b--\r\n", true, 1,
			[]error{ErrCloseBoundaryNotFound}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ReadMessage(strings.NewReader(tc.raw))
			require.NoError(t, err)
			assert.Equal(t, tc.multipart, m.IsMultipart())
			assert.Len(t, partsOf(m), tc.parts)
			assert.Equal(t, tc.raw, string(m.Bytes()), "written back byte for byte")
			var defects []error
			for p := range m.Walk() {
				defects = append(defects, p.Defects()...)
			}
			assert.Equal(t, tc.defects, defects)
			if !tc.multipart {
				_, err := m.GetContent()
				assert.Error(t, err, "a multipart type has no content of its own")
			}
			for p := range m.IterParts() {
				if !p.IsMultipart() {
					_, err := p.GetContent()
					assert.NoError(t, err)
				}
			}
			if !tc.multipart && strings.Contains(tc.raw, "multipart/mixed") {
				err := m.AddAttachment([]byte("x"), "text", "plain", "")
				var me *MessageError
				require.ErrorAs(t, err, &me, "no part can be added to a body that cannot be taken apart")
				assert.Equal(t, tc.raw, string(m.Bytes()), "the message is unchanged")
			}
		})
	}
}

// A multipart nested deeper than MaxDepth is kept whole: the message at
// that depth is a body, with ErrMaxDepth, and everything is written back
// as it was read; a message one level less deep is taken apart to the
// bottom.
func TestReadMessageMaxDepth(t *testing.T) {
	m := mustRead(t, string(nested(MaxDepth)))
	all := slices.Collect(m.Walk())
	require.Len(t, all, MaxDepth+1)
	assert.Equal(t, "text/plain", all[MaxDepth].GetContentType())
	for _, p := range all {
		assert.Empty(t, p.Defects())
	}

	data := nested(MaxDepth + 3)
	m = mustRead(t, string(data))
	all = slices.Collect(m.Walk())
	require.Len(t, all, MaxDepth+1)
	deepest := all[MaxDepth]
	assert.Equal(t, "multipart/mixed", deepest.GetContentType())
	assert.False(t, deepest.IsMultipart())
	assert.Equal(t, []error{ErrMaxDepth}, deepest.Defects())
	assert.True(t, bytes.HasPrefix(deepest.Body(), []byte(fmt.Sprintf("--b%d\r\n", MaxDepth))), "the rest is its body")
	_, err := deepest.GetContent()
	assert.Error(t, err, "a multipart has no content of its own")
	assert.True(t, all[MaxDepth-1].IsMultipart())
	assert.Equal(t, string(data), string(m.Bytes()))

	// The top is still a message to add to.
	require.NoError(t, m.AddAttachment([]byte("added"), "text", "plain", "added.txt"))
	again := reread(t, m)
	atts := attachmentsOf(again)
	require.NotEmpty(t, atts)
	c, err := atts[len(atts)-1].GetContent()
	require.NoError(t, err)
	assert.Equal(t, "added", string(c))
	assert.Len(t, slices.Collect(again.Walk()), MaxDepth+2, "the added part, and the same depth")
}

// TestConcurrentReaders: the reading methods change nothing, so that
// goroutines may read one message at once (the race detector watches).
func TestConcurrentReaders(t *testing.T) {
	m := mustRead(t, string(readEML(t, "multipart_alternative_attachment.eml")))
	want := shapeOf(m)
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range m.Walk() {
				p.GetContent() //nolint:errcheck // a multipart has none
				p.Get("Content-Type")
				p.Values("Received")
				p.Header()
				p.GetFilename()
				_ = slices.Collect(p.IterAttachments())
			}
			m.GetBody()
			m.Bytes()
		}()
	}
	wg.Wait()
	assert.Equal(t, want, shapeOf(m))
}
