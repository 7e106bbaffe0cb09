package main

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

// mimePart is one leaf of a received message, decoded.
type mimePart struct {
	path        string // the content types from the top, "multipart/mixed > text/plain"
	filename    string
	content     string
	disposition string
}

// leaves walks a MIME entity and returns its leaves in order.
func leaves(t *testing.T, path string, header map[string][]string, body io.Reader) []mimePart {
	t.Helper()
	get := func(k string) string {
		if v := header[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	mediatype, params, err := mime.ParseMediaType(get("Content-Type"))
	require.NoError(t, err)
	if path != "" {
		path += " > "
	}
	path += mediatype
	if strings.HasPrefix(mediatype, "multipart/") {
		var out []mimePart
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return out
			}
			require.NoError(t, err)
			out = append(out, leaves(t, path, p.Header, p)...)
		}
	}
	raw, err := io.ReadAll(body)
	require.NoError(t, err)
	switch get("Content-Transfer-Encoding") {
	case "base64":
		raw, err = base64.StdEncoding.DecodeString(strings.ReplaceAll(string(raw), "\r\n", ""))
		require.NoError(t, err)
	case "quoted-printable":
		raw, err = io.ReadAll(quotedPrintable(raw))
		require.NoError(t, err)
	}
	disp, dparams, _ := mime.ParseMediaType(get("Content-Disposition"))
	return []mimePart{{path: path, filename: dparams["filename"], content: string(raw), disposition: disp}}
}

func TestSendHTMLAndAttachments(t *testing.T) {
	pdf := writeFile(t, "report.pdf", "%PDF-1.4 not really\x00\xff")
	notes := writeFile(t, "notes.txt", "plain notes\n")
	srv := smtptest.NewServer(t)
	r := run1(t, sendArgs(srv, "--subject", "Report", "--body", "See attached: café.",
		"--html", "<p>See <b>attached</b>.</p>", "--attach", pdf, "--attach", notes)...)
	require.Equal(t, 0, r.code, r.stderr)

	got, m := received(t, srv)
	for _, b := range got.Data {
		require.Less(t, b, byte(0x80), "the message is 7-bit clean")
	}
	assert.Equal(t, "Report", m.Header.Get("Subject"))
	parts := leaves(t, "", m.Header, m.Body)
	assert.Equal(t, []mimePart{
		{path: "multipart/mixed > multipart/alternative > text/plain", content: "See attached: café."},
		{path: "multipart/mixed > multipart/alternative > text/html", content: "<p>See <b>attached</b>.</p>"},
		{path: "multipart/mixed > application/pdf", filename: "report.pdf", content: "%PDF-1.4 not really\x00\xff", disposition: "attachment"},
		{path: "multipart/mixed > text/plain", filename: "notes.txt", content: "plain notes\n", disposition: "attachment"},
	}, trimCRLF(parts))
}

func TestSendHTMLOnly(t *testing.T) {
	srv := smtptest.NewServer(t)
	r := run1(t, sendArgs(srv, "--html", "<p>hi</p>")...)
	require.Equal(t, 0, r.code, r.stderr)
	_, m := received(t, srv)
	assert.Equal(t, []mimePart{{path: "text/html", content: "<p>hi</p>"}}, trimCRLF(leaves(t, "", m.Header, m.Body)))
}

func TestSendAttachmentOnly(t *testing.T) {
	file := writeFile(t, "data.bin", "\x01\x02\x03")
	srv := smtptest.NewServer(t)
	r := run1(t, sendArgs(srv, "--attach", file)...)
	require.Equal(t, 0, r.code, r.stderr)
	_, m := received(t, srv)
	parts := trimCRLF(leaves(t, "", m.Header, m.Body))
	require.Len(t, parts, 2)
	assert.Equal(t, "multipart/mixed > text/plain", parts[0].path)
	assert.Equal(t, "This is a test mailing", parts[0].content, "swaks's default body")
	assert.Equal(t, "data.bin", parts[1].filename)
	assert.Equal(t, "\x01\x02\x03", parts[1].content)
}

// trimCRLF drops the line end a text part's encoding may add at its end,
// so that the comparison is about the text.
func trimCRLF(parts []mimePart) []mimePart {
	for i := range parts {
		if parts[i].disposition == "" {
			parts[i].content = strings.TrimSuffix(parts[i].content, "\r\n")
		}
	}
	return parts
}

func TestParseHeaders(t *testing.T) {
	h, err := parseHeaders([]string{"X-A: one", "X-B:two  ", "Reply-To:  Ann <ann@example.com>"})
	require.NoError(t, err)
	assert.Equal(t, []header{{"X-A", "one"}, {"X-B", "two"}, {"Reply-To", "Ann <ann@example.com>"}}, h)
	for _, bad := range []string{"X-A: a\r\nBcc: x@example.com", "X-A: a\rb", ": x", "nocolon", "X\x7fA: x"} {
		_, err := parseHeaders([]string{bad})
		assert.Error(t, err, "%q", bad)
	}
}

// quotedPrintable decodes b; net/mail's reader leaves this to the caller.
func quotedPrintable(b []byte) io.Reader {
	return quotedprintable.NewReader(bytes.NewReader(b))
}
