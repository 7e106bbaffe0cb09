package main

import (
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/gosmtplib/smtplib/email"
)

// attachment is a file to attach, read and typed.
type attachment struct {
	data              []byte
	maintype, subtype string
	filename          string
}

// message returns the message send is to send: the --eml file, or one
// built from --from, --to, --subject, --body, --html and --attach; either
// way with the --header fields set.
func (c *cli) message(o *sendOptions) (*email.Message, error) {
	headers, err := parseHeaders(o.header)
	if err != nil {
		return nil, err
	}
	var m *email.Message
	if o.eml != "" {
		if m, err = c.readEML(o.eml); err != nil {
			return nil, err
		}
		if err := checkEnvelope(o, m); err != nil {
			return nil, err
		}
	} else if m, err = c.build(o); err != nil {
		return nil, err
	}
	// The first --header of a name replaces the message's fields of that
	// name; the ones after it add to it.
	seen := map[string]bool{}
	for _, h := range headers {
		key := strings.ToLower(h.name)
		if seen[key] {
			m.Add(h.name, h.value)
		} else {
			m.Set(h.name, h.value)
			seen[key] = true
		}
	}
	return m, nil
}

// readEML reads a ready message from the file name, or from standard
// input for "-".
func (c *cli) readEML(name string) (*email.Message, error) {
	var r io.Reader = c.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, usageErrorf("--eml: %v", err)
		}
		defer f.Close()
		r = f
	}
	m, err := email.ReadMessage(r)
	if err != nil {
		return nil, usageErrorf("--eml %s: %s", name, strings.TrimPrefix(err.Error(), "email: "))
	}
	return m, nil
}

// checkEnvelope makes sure that a ready message without --from or --to
// has the header fields SendMessage takes them from, so that the user
// hears which flag to give rather than the library's words for it.
func checkEnvelope(o *sendOptions, m *email.Message) error {
	has := func(names ...string) bool {
		for _, n := range names {
			if m.Has(n) || m.Has("Resent-"+n) {
				return true
			}
		}
		return false
	}
	switch {
	case o.from == "" && !has("From", "Sender"):
		return usageErrorf("missing --from: %s has no From or Sender field", o.eml)
	case len(o.to) == 0 && !has("To", "Cc", "Bcc"):
		return usageErrorf("missing --to: %s has no To, Cc or Bcc field", o.eml)
	}
	return nil
}

// build makes the message from the flags.
func (c *cli) build(o *sendOptions) (*email.Message, error) {
	text, err := c.readText("--body", o.body)
	if err != nil {
		return nil, err
	}
	html, err := c.readText("--html", o.html)
	if err != nil {
		return nil, err
	}
	var atts []attachment
	for _, name := range o.attach {
		a, err := readAttachment(name)
		if err != nil {
			return nil, err
		}
		atts = append(atts, a)
	}
	if html == "" && len(atts) == 0 {
		return email.NewMessage(o.from, o.to, o.subject, text), nil
	}
	m, err := buildMultipart(o.from, o.to, o.subject, text, html, atts)
	if err != nil {
		return nil, usageErrorf("building the message: %s", strings.TrimPrefix(err.Error(), "email: "))
	}
	return m, nil
}

// readText reads the value of --body or --html: the text itself, @FILE
// for a file's contents, or - for standard input.
func (c *cli) readText(flagName, v string) (string, error) {
	switch {
	case v == "-":
		b, err := io.ReadAll(c.stdin)
		if err != nil {
			return "", usageErrorf("%s -: reading standard input: %v", flagName, err)
		}
		return string(b), nil
	case strings.HasPrefix(v, "@"):
		b, err := os.ReadFile(v[1:])
		if err != nil {
			return "", usageErrorf("%s: %v", flagName, err)
		}
		return string(b), nil
	}
	return v, nil
}

// readAttachment reads a file to attach and guesses its type from its
// name, or else from its first bytes.
func readAttachment(name string) (attachment, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return attachment{}, usageErrorf("--attach: %v", err)
	}
	ctype := mime.TypeByExtension(filepath.Ext(name))
	if ctype == "" {
		ctype = http.DetectContentType(data)
	}
	mediatype, _, err := mime.ParseMediaType(ctype)
	if err != nil {
		mediatype = "application/octet-stream"
	}
	maintype, subtype, _ := strings.Cut(mediatype, "/")
	return attachment{data: data, maintype: maintype, subtype: subtype, filename: filepath.Base(name)}, nil
}

// header is one --header field.
type header struct{ name, value string }

// parseHeaders checks each "Name: value" of --header: a name of printable
// ASCII without a colon (RFC 5322 section 3.6.8), and a value on one line,
// so that no value can start a field of its own.
func parseHeaders(list []string) ([]header, error) {
	var out []header
	for _, h := range list {
		name, value, ok := strings.Cut(h, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, usageErrorf("--header %q: want \"Name: value\"", h)
		}
		for _, r := range name {
			if r < '!' || r > '~' {
				return nil, usageErrorf("--header %q: the field name may hold only printable ASCII characters without spaces", h)
			}
		}
		if strings.ContainsAny(value, "\r\n") {
			return nil, usageErrorf("--header %s: the value holds a line break; give each field its own --header", name)
		}
		out = append(out, header{name: name, value: strings.TrimSpace(value)})
	}
	return out, nil
}
