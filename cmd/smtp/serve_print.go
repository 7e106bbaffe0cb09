package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/gosmtplib/smtplib/smtptest"
)

// maxRawShown bounds what serve prints of a message that is not a
// message, which may be anything a client sent.
const maxRawShown = 64 << 10

// maxFieldShown bounds one header field in the summary; --raw and
// --json show it whole.
const maxFieldShown = 200

// printer prints each message serve receives on stdout: a summary, the
// raw bytes (--raw), or one JSON object a line (--json). Sessions call
// it at once; each message is written whole, under the lock, in one
// write.
type printer struct {
	mu   sync.Mutex
	w    io.Writer
	raw  bool
	json bool
}

func newPrinter(w io.Writer, raw, json bool) *printer {
	return &printer{w: w, raw: raw, json: json}
}

// messageJSON is --json's object for one message.
type messageJSON struct {
	N           int64         `json:"n"`
	ID          string        `json:"id"`
	Time        time.Time     `json:"time"`
	Remote      string        `json:"remote"`
	Helo        string        `json:"helo"`
	TLS         bool          `json:"tls"`
	Auth        string        `json:"auth,omitempty"`
	From        string        `json:"from"`
	MailOptions []string      `json:"mail_options"`
	To          []string      `json:"to"`
	RcptOptions [][]string    `json:"rcpt_options"`
	Size        int           `json:"size"`
	Chunked     bool          `json:"chunked"`
	Subject     string        `json:"subject"`
	Header      []headerField `json:"header"`
	Parts       []partInfo    `json:"parts"`
	Error       string        `json:"error,omitempty"`
	File        string        `json:"file,omitempty"`
	Data        []byte        `json:"data,omitempty"` // with --raw: the bytes, base64
}

// print writes message n, received at at and kept in file ("" if not).
func (p *printer) print(n int64, at time.Time, m smtptest.Message, file string) {
	var b strings.Builder
	switch {
	case p.json:
		p.writeJSON(&b, n, at, m, file)
	case p.raw:
		writeEnvelope(&b, n, at, m, file)
		b.Write(m.Data)
		if len(m.Data) > 0 && m.Data[len(m.Data)-1] != '\n' {
			b.WriteString("\n")
		}
		b.WriteString("\n")
	default:
		writeSummary(&b, n, at, m, file)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// A failed write to stdout (a closed pipe) must not fail delivery.
	io.WriteString(p.w, b.String()) //nolint:errcheck
}

func (p *printer) writeJSON(b *strings.Builder, n int64, at time.Time, m smtptest.Message, file string) {
	s := summarize(m.Data)
	obj := messageJSON{
		N: n, ID: m.ID, Time: at.UTC(), Remote: m.RemoteAddr, Helo: m.Helo, TLS: m.TLS, Auth: m.AuthUser,
		From: m.From, MailOptions: nonNil(m.MailOptions), To: nonNil(m.To), RcptOptions: m.RcptOptions,
		Size: len(m.Data), Chunked: m.Chunked, Subject: subject(s.Header), Header: s.Header, Parts: s.Parts,
		Error: s.Err, File: file,
	}
	if obj.RcptOptions == nil {
		obj.RcptOptions = [][]string{}
	}
	for i, o := range obj.RcptOptions {
		obj.RcptOptions[i] = nonNil(o)
	}
	if obj.Header == nil {
		obj.Header = []headerField{}
	}
	if obj.Parts == nil {
		obj.Parts = []partInfo{}
	}
	if p.raw {
		obj.Data = m.Data
	}
	line, _ := json.Marshal(obj) // only strings, numbers and slices: cannot fail
	b.Write(line)
	b.WriteString("\n")
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// writeEnvelope writes the first lines of a message: its number, time,
// client and size, then MAIL FROM and each RCPT TO with their parameters.
func writeEnvelope(b *strings.Builder, n int64, at time.Time, m smtptest.Message, file string) {
	fmt.Fprintf(b, "#%d %s from %s (%s)", n, at.Format("15:04:05.000"), m.RemoteAddr, clean(m.Helo))
	if m.TLS {
		b.WriteString(" TLS")
	}
	if m.AuthUser != "" {
		b.WriteString(" AUTH " + clean(m.AuthUser))
	}
	fmt.Fprintf(b, ", %d bytes (%s), id %s\n", len(m.Data), humanBytes(int64(len(m.Data))), m.ID)
	fmt.Fprintf(b, "  MAIL FROM  <%s>%s\n", clean(m.From), params(m.MailOptions))
	for i, to := range m.To {
		label := "  RCPT TO   "
		if i > 0 {
			label = "            "
		}
		var opts []string
		if i < len(m.RcptOptions) {
			opts = m.RcptOptions[i]
		}
		fmt.Fprintf(b, "%s <%s>%s\n", label, clean(to), params(opts))
	}
	if file != "" {
		fmt.Fprintf(b, "  kept in    %s\n", file)
	}
}

func params(opts []string) string {
	if len(opts) == 0 {
		return ""
	}
	return " " + clean(strings.Join(opts, " "))
}

// writeSummary writes the envelope, the header fields (decoded, one line
// each) and the tree of MIME parts with their sizes; a message whose
// header cannot be read is shown as it is, up to maxRawShown bytes.
func writeSummary(b *strings.Builder, n int64, at time.Time, m smtptest.Message, file string) {
	writeEnvelope(b, n, at, m, file)
	s := summarize(m.Data)
	for _, f := range s.Header {
		v := f.Value
		switch strings.ToLower(f.Name) {
		case "from", "to", "cc", "bcc", "reply-to", "sender":
			v = addresses(v)
		default:
			v = decodeWords(v)
		}
		fmt.Fprintf(b, "  %s: %s\n", clean(f.Name), clean(truncate(strings.TrimSpace(v), maxFieldShown)))
	}
	if len(s.Header) == 0 && s.Err != "" {
		fmt.Fprintf(b, "  not a message (%s); as received:\n", clean(s.Err))
		shown := m.Data[:min(len(m.Data), maxRawShown)]
		for _, line := range strings.SplitAfter(string(shown), "\n") {
			if line != "" {
				b.WriteString("  | " + clean(strings.TrimRight(line, "\r\n")) + "\n")
			}
		}
		if len(shown) < len(m.Data) {
			fmt.Fprintf(b, "  | ... %d more bytes\n", len(m.Data)-len(shown))
		}
		b.WriteString("\n")
		return
	}
	if len(s.Parts) > 0 {
		b.WriteString("  parts\n")
	}
	for _, p := range s.Parts {
		line := strings.Repeat("  ", p.Depth+2) + clean(p.ContentType)
		if p.Filename != "" {
			line += fmt.Sprintf(" %q", clean(p.Filename))
		}
		if p.Encoding != "" {
			line += " " + clean(p.Encoding)
		}
		fmt.Fprintf(b, "%s, %s\n", line, humanBytes(p.Size))
	}
	if s.Err != "" {
		fmt.Fprintf(b, "  (%s)\n", clean(s.Err))
	}
	b.WriteString("\n")
}
