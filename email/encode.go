package email

import (
	"bytes"
	"encoding/base64"
	"strings"

	"github.com/gosmtplib/smtplib/internal/textutil"
)

// The content transfer encodings of RFC 2045 (sections 2.7, 6.7 and 6.8) as
// Python's email.contentmanager applies them under a 7-bit policy: text
// goes as 7bit when it can, else as quoted-printable or base64, whichever
// is shorter on a sample; bytes always go as base64.

const (
	// b64LineBytes is how many bytes make one base64 line of 76
	// characters, the longest RFC 2045 section 6.8 allows.
	b64LineBytes = 57
	// b64LineLen is the length of a full base64 line, CRLF included.
	b64LineLen = 78
	// qpLineLen is the longest quoted-printable line written (RFC 2045
	// section 6.7, rule 5), soft line break included.
	qpLineLen = 76
	// pyMaxLineLength is policy.SMTP's max_line_length, the length RFC
	// 5322 section 2.1.1 recommends: header values this package encodes
	// are folded to it, and Python's choice of a transfer encoding is
	// measured against it.
	pyMaxLineLength = 78
)

// textLines splits b into lines at CRLF, CR or LF, as Python's
// bytes.splitlines does; a final line ending makes no extra empty line.
func textLines(b []byte) [][]byte {
	var lines [][]byte
	for len(b) > 0 {
		i := bytes.IndexAny(b, "\r\n")
		if i < 0 {
			lines = append(lines, b)
			break
		}
		lines = append(lines, b[:i])
		if b[i] == '\r' && i+1 < len(b) && b[i+1] == '\n' {
			i++
		}
		b = b[i+1:]
	}
	return lines
}

// joinCRLF joins lines with CRLF after each one, as Python's set_content
// gives a text every line ending, the last included.
func joinCRLF(lines [][]byte) []byte {
	n := 0
	for _, l := range lines {
		n += len(l) + 2
	}
	out := make([]byte, 0, max(n, 2))
	for _, l := range lines {
		out = append(append(out, l...), "\r\n"...)
	}
	if len(lines) == 0 {
		out = append(out, "\r\n"...)
	}
	return out
}

// encodeText returns the content transfer encoding Python 3.13 chooses for
// UTF-8 text under policy.SMTP.clone(cte_type="7bit"), and the text
// encoded with it: "7bit" when every line is ASCII and at most 78 bytes;
// otherwise the first ten lines are encoded both ways, and
// quoted-printable is chosen unless it comes out longer than base64.
// The text's line endings become CRLF, and it gets a final one.
func encodeText(text []byte) (cte string, encoded []byte) {
	lines := textLines(text)
	body := joinCRLF(lines)
	long := false
	for _, l := range lines {
		long = long || len(l) > pyMaxLineLength
	}
	if !long && textutil.IsASCII(body) {
		return "7bit", body
	}
	sample := joinCRLF(lines[:min(10, len(lines))])
	// Python compares its quoted-printable at 78 characters a line, with
	// LF line ends, against base64 with one LF.
	qpLen := len(qpEncode(sample, pyMaxLineLength, "\n"))
	b64Len := base64.StdEncoding.EncodedLen(len(sample)) + 1
	if qpLen > b64Len {
		var buf bytes.Buffer
		writeBase64Lines(&buf, body) //nolint:errcheck // bytes.Buffer does not fail
		return "base64", buf.Bytes()
	}
	return "quoted-printable", qpEncode(body, qpLineLen, "\r\n")
}

// qpSafe reports whether a byte stands for itself in a quoted-printable
// body: printable ASCII other than "=", the space and the tab.
func qpSafe(c byte) bool {
	return c == ' ' || c == '\t' || (c > ' ' && c < 0x7f && c != '=')
}

const hexDigits = "0123456789ABCDEF"

// qpEncode encodes text as quoted-printable lines of at most width
// characters, soft line break included, joined by eol; the text's own line
// breaks (CRLF, CR or LF) are kept as line breaks. The rules are those of
// Python's quoprimime.body_encode: a long line is cut before width-1
// characters without splitting an escape, and a blank at the end of a line
// is escaped (RFC 2045 section 6.7, rule 3).
func qpEncode(text []byte, width int, eol string) []byte {
	if len(text) == 0 {
		return nil
	}
	out := make([]byte, 0, len(text)+len(text)/8)
	var esc []byte // one line, escaped
	lines := textLines(text)
	for li, line := range lines {
		esc = esc[:0]
		for _, c := range line {
			if qpSafe(c) {
				esc = append(esc, c)
			} else {
				esc = append(esc, '=', hexDigits[c>>4], hexDigits[c&15])
			}
		}
		start := 0
		last := len(esc) - 1 - width // a piece may start up to here
		for start <= last {
			stop := start + width - 1
			switch {
			case esc[stop-2] == '=':
				out = append(out, esc[start:stop-1]...)
				start = stop - 2
			case esc[stop-1] == '=':
				out = append(out, esc[start:stop]...)
				start = stop - 1
			default:
				out = append(out, esc[start:stop]...)
				out = append(out, '=')
				start = stop
			}
			out = append(out, eol...)
		}
		if n := len(esc); n > 0 && (esc[n-1] == ' ' || esc[n-1] == '\t') {
			blank := esc[n-1]
			quoted := []byte{'=', hexDigits[blank>>4], hexDigits[blank&15]}
			out = append(out, esc[start:n-1]...)
			switch room := start - last; {
			case room >= 3:
				out = append(out, quoted...)
			case room == 2:
				out = append(out, blank, '=')
				out = append(out, eol...)
			default:
				out = append(out, '=')
				out = append(out, eol...)
				out = append(out, quoted...)
			}
		} else {
			out = append(out, esc[start:]...)
		}
		if li < len(lines)-1 {
			out = append(out, eol...)
		}
	}
	if c := text[len(text)-1]; c == '\r' || c == '\n' {
		out = append(out, eol...)
	}
	return out
}

// b64Len is the length of data written by writeBase64Lines.
func b64Len(n int) int64 {
	full, rest := n/b64LineBytes, n%b64LineBytes
	size := int64(full) * b64LineLen
	if rest > 0 {
		size += int64(base64.StdEncoding.EncodedLen(rest)) + 2
	}
	return size
}

// appendBase64Lines encodes whole lines of data (the last may be short)
// into dst, at most maxLines of them, and returns dst and how many bytes
// of data it took.
func appendBase64Lines(dst, data []byte, maxLines int) ([]byte, int) {
	used := 0
	for i := 0; i < maxLines && used < len(data); i++ {
		chunk := data[used:min(used+b64LineBytes, len(data))]
		dst = base64.StdEncoding.AppendEncode(dst, chunk)
		dst = append(dst, '\r', '\n')
		used += len(chunk)
	}
	return dst, used
}

// writeBase64Lines writes data base64-encoded in lines of 76 characters
// and CRLF, through a buffer of a bounded size, so that the encoded form
// is never whole in memory.
func writeBase64Lines(w interface{ Write([]byte) (int, error) }, data []byte) (int64, error) {
	const linesPerWrite = 512 // 39 KiB of output a write
	buf := make([]byte, 0, min(linesPerWrite, len(data)/b64LineBytes+1)*b64LineLen)
	var n int64
	for len(data) > 0 {
		var used int
		buf, used = appendBase64Lines(buf[:0], data, linesPerWrite)
		data = data[used:]
		k, err := w.Write(buf)
		n += int64(k)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// decodeBase64 decodes base64 text leniently, as Python's decoder does:
// characters outside the alphabet (line breaks, blanks, junk) are skipped,
// and missing padding is supplied.
func decodeBase64(b []byte) []byte {
	clean := make([]byte, 0, len(b))
	for _, c := range b {
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' {
			clean = append(clean, c)
		}
	}
	if len(clean)%4 == 1 { // a lone character decodes to nothing
		clean = clean[:len(clean)-1]
	}
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
	n, _ := base64.RawStdEncoding.Decode(out, clean)
	return out[:n]
}

// decodeQP decodes quoted-printable text leniently, as Python does: "=XX"
// gives the byte, "=" before a line break joins the lines, blanks before a
// line break are dropped, and any other "=" stays as it is.
func decodeQP(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for len(b) > 0 {
		line := b
		eol := []byte(nil)
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
			eol = []byte("\n")
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line, eol = line[:n-1], []byte("\r\n")
			}
		} else {
			b = nil
		}
		line = bytes.TrimRight(line, " \t")
		if n := len(line); n > 0 && line[n-1] == '=' {
			line, eol = line[:n-1], nil
		}
		out = appendUnescaped(out, line, '=')
		out = append(out, eol...)
	}
	return out
}

// appendUnescaped appends s to out with each esc followed by two hex
// digits (of either case) replaced by the byte they give, keeping an esc
// that starts no such escape: quoted-printable's "=XX", RFC 2231's "%XX".
func appendUnescaped[T ~string | ~[]byte](out []byte, s T, esc byte) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == esc && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		out = append(out, s[i])
	}
	return out
}

// decodeTransfer undoes the content transfer encoding cte of body; 7bit,
// 8bit, binary and any unknown encoding give the body as it is, as Python.
func decodeTransfer(cte string, body []byte) []byte {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		return decodeBase64(body)
	case "quoted-printable":
		return decodeQP(body)
	}
	return body
}

// unhex is the value of a hex digit of either case.
func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
