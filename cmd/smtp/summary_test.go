package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSummarize(t *testing.T) {
	const nested = "From: a@example.com\r\nContent-Type: multipart/mixed; boundary=outer\r\n\r\n" +
		"preamble\r\n--outer\r\nContent-Type: multipart/alternative; boundary=\"inner\"\r\n\r\n" +
		"--inner\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nCaf=C3=A9\r\n" +
		"--inner\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n--inner--\r\n" +
		"--outer\r\nContent-Type: application/pdf; name=\"old.pdf\"\r\nContent-Disposition: attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\nJVBERg==\r\n--outer--\r\n"
	tests := []struct {
		name   string
		data   string
		header []headerField
		parts  []partInfo
		err    string
	}{
		{
			name:   "plain, folded",
			data:   "Subject: a\r\n b\r\nX-Empty:\r\n\r\nbody\r\n",
			header: []headerField{{"Subject", "a b"}, {"X-Empty", ""}},
			parts:  []partInfo{{ContentType: "text/plain", Size: 6}},
		},
		{
			name:   "bare LF and no body",
			data:   "Subject: x\n",
			header: []headerField{{"Subject", "x"}},
			parts:  []partInfo{{ContentType: "text/plain"}},
		},
		{
			name:   "nested",
			data:   nested,
			header: []headerField{{"From", "a@example.com"}, {"Content-Type", "multipart/mixed; boundary=outer"}},
			parts: []partInfo{
				{Depth: 0, ContentType: "multipart/mixed", Size: int64(len(nested) - strings.Index(nested, "\r\n\r\n") - 4)},
				{Depth: 1, ContentType: "multipart/alternative", Size: 164},
				{Depth: 2, ContentType: "text/plain; charset=utf-8", Encoding: "quoted-printable", Size: 9},
				{Depth: 2, ContentType: "text/html", Size: 9},
				{Depth: 1, ContentType: "application/pdf", Encoding: "base64", Filename: "résumé.pdf", Size: 8},
			},
		},
		{
			name:   "not a message",
			data:   "garbage\r\n\r\n",
			err:    `header line 1 is not a field: "garbage"`,
			header: nil,
		},
		{
			name: "starts with a continuation",
			data: " x: y\r\n\r\n",
			err:  "the message starts with a continuation line",
		},
		{
			name:   "multipart cut short",
			data:   "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhalf",
			header: []headerField{{"Content-Type", "multipart/mixed; boundary=b"}},
			parts:  []partInfo{{ContentType: "multipart/mixed", Size: 37}, {Depth: 1, ContentType: "text/plain", Size: 4}},
			err:    "multipart: NextPart: EOF",
		},
		{
			name:   "bad content type",
			data:   "Content-Type: ;;;\r\n\r\nx",
			header: []headerField{{"Content-Type", ";;;"}},
			parts:  []partInfo{{ContentType: "text/plain", Size: 1}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := summarize([]byte(tt.data))
			assert.Equal(t, tt.header, s.Header)
			assert.Equal(t, tt.parts, s.Parts)
			assert.Equal(t, tt.err, s.Err)
		})
	}
}

func TestSummarizeBounds(t *testing.T) {
	// Multiparts nested deeper than maxPartDepth: the walk stops there.
	var b strings.Builder
	b.WriteString("Content-Type: multipart/mixed; boundary=b0\r\n\r\n")
	for i := 1; i <= 50; i++ {
		b.WriteString("--b" + itoa(i-1) + "\r\nContent-Type: multipart/mixed; boundary=b" + itoa(i) + "\r\n\r\n")
	}
	s := summarize([]byte(b.String()))
	assert.Len(t, s.Parts, maxPartDepth+1)
	assert.Equal(t, "multiparts nested deeper than 8: the rest is not shown", s.Err)

	// More parts than maxParts: the rest is not listed.
	b.Reset()
	b.WriteString("Content-Type: multipart/mixed; boundary=b\r\n\r\n")
	for range 1000 {
		b.WriteString("--b\r\n\r\nx\r\n")
	}
	b.WriteString("--b--\r\n")
	s = summarize([]byte(b.String()))
	assert.Len(t, s.Parts, maxParts)
	assert.Equal(t, "more than 200 parts: the rest is not shown", s.Err)
}

func FuzzSummarize(f *testing.F) {
	f.Add([]byte("Subject: x\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n"))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := summarize(data)
		assert.LessOrEqual(t, len(s.Parts), maxParts)
		var b strings.Builder
		writeSummary(&b, 1, fixedTime, fakeMessage(data), "")
		assert.True(t, strings.HasSuffix(b.String(), "\n\n"))
	})
}

func TestAddresses(t *testing.T) {
	assert.Equal(t, "Ann <ann@example.com>, bob@example.org", addresses("=?utf-8?q?Ann?= <ann@example.com>, bob@example.org"))
	assert.Equal(t, "not, an: address", addresses("not, an: address"))
}
