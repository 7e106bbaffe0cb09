// Package textutil holds the small text checks that the smtplib and email
// packages share: whether text is ASCII, whether its line endings are all
// CRLF already, and what Python counts as white space.
package textutil

import "bytes"

// IsASCII reports whether s has only 7-bit characters. It looks at eight
// bytes at a time (the compiler makes the eight loads one), for a whole
// message checked before MAIL.
func IsASCII[T ~string | ~[]byte](s T) bool {
	for len(s) >= 8 {
		w := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		if w&0x8080808080808080 != 0 {
			return false
		}
		s = s[8:]
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// CleanCRLF reports whether every line end in p is a CRLF: each LF follows
// a CR and there are as many CRs as LFs. It looks at each line once, with
// one search for its LF, where a general scan needs two searches (LF,
// then a lone CR within the line); counting the CRs is one vector pass.
func CleanCRLF(p []byte) bool {
	crs := bytes.Count(p, []byte{'\r'})
	pairs := 0
	for i := 0; ; i++ {
		j := bytes.IndexByte(p[i:], '\n')
		if j < 0 {
			break
		}
		i += j
		if i == 0 || p[i-1] != '\r' {
			return false
		}
		pairs++
	}
	return pairs == crs
}

// IsPySpace reports whether r is white space for Python's str.isspace,
// which unlike unicode.IsSpace includes the separators U+001C to U+001F.
func IsPySpace(r rune) bool {
	if r >= 0x1c && r <= 0x1f {
		return true
	}
	switch r {
	case '\t', '\n', '\v', '\f', '\r', ' ', 0x85, 0xa0, 0x1680,
		0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200a
}
