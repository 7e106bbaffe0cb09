package xtext

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestXtext(t *testing.T) {
	tests := []struct{ in, out string }{
		{"", ""},
		{"plain@example.com", "plain@example.com"},
		{"a b", "a+20b"},
		{"1+2=3", "1+2B2+3D3"},
		{"tab\there", "tab+09here"},
		{"crlf\r\n", "crlf+0D+0A"},
		{"é", "+C3+A9"},
		{"~!", "~!"},
		{"\x7f\x00", "+7F+00"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.out, Encode(tt.in), "encode %q", tt.in)
		got, err := Decode(tt.out)
		require.NoError(t, err)
		assert.Equal(t, tt.in, got, "decode %q", tt.out)
	}
	for _, bad := range []string{"a b", "a=b", "+", "+4", "+4g", "+4a", "x\r\n", "é"} {
		_, err := Decode(bad)
		assert.Error(t, err, "%q", bad)
	}
	got, err := Decode("+41")
	require.NoError(t, err)
	assert.Equal(t, "A", got, "any character may be hex-encoded")
}

func TestUTF8Addr(t *testing.T) {
	tests := []struct{ in, xtext, unitext string }{
		{"a@example.com", "a@example.com", "a@example.com"},
		{"a+b=c@example.com", `a\x{2B}b\x{3D}c@example.com`, `a\x{2B}b\x{3D}c@example.com`},
		{`a\b c`, `a\x{5C}b\x{20}c`, `a\x{5C}b\x{20}c`},
		{"jörg@bücher.example", `j\x{F6}rg@b\x{FC}cher.example`, "jörg@bücher.example"},
		{"δοκιμή@例え.jp", `\x{3B4}\x{3BF}\x{3BA}\x{3B9}\x{3BC}\x{3AE}@\x{4F8B}\x{3048}.jp`, "δοκιμή@例え.jp"},
		{"😀@x", `\x{1F600}@x`, "😀@x"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.xtext, EncodeUTF8Addr(tt.in, false), "xtext form of %q", tt.in)
		assert.Equal(t, tt.unitext, EncodeUTF8Addr(tt.in, true), "unitext form of %q", tt.in)
		for _, enc := range []string{tt.xtext, tt.unitext} {
			got, err := DecodeUTF8Addr(enc)
			require.NoError(t, err)
			assert.Equal(t, tt.in, got)
		}
	}
	for _, bad := range []string{`\x{}`, `\x{D800}`, `\x{110000}`, `\x{1234567}`, `\x{fc}`, `\x{FC`, "a b", "a+b", "a=b", `a\b`, "\xff"} {
		_, err := DecodeUTF8Addr(bad)
		assert.Error(t, err, "%q", bad)
	}
}

// FuzzXtext runs the xtext encoder and decoder against each other: any
// string survives encoding and decoding, an encoding is valid xtext that
// cannot end a parameter, and whatever the decoder accepts re-encodes to
// text that decodes the same.
func FuzzXtext(f *testing.F) {
	for _, s := range []string{"", "a b", "1+2=3", "x\r\nRSET", "+2B", "+41", "é", "\x00\xff", "a=b c=d", "\\x{41}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc := Encode(s)
		require.False(t, strings.ContainsFunc(enc, func(r rune) bool { return r <= ' ' || r >= 0x7f || r == '=' }),
			"encoding %q has a space, control, '=' or non-ASCII byte: %q", s, enc)
		dec, err := Decode(enc)
		require.NoError(t, err)
		require.Equal(t, s, dec)

		if d, err := Decode(s); err == nil {
			again, err := Decode(Encode(d))
			require.NoError(t, err)
			require.Equal(t, d, again)
		}

		if utf8.ValidString(s) {
			for _, raw := range []bool{false, true} {
				u := EncodeUTF8Addr(s, raw)
				require.False(t, strings.ContainsFunc(u, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '=' || r == '+' }),
					"utf-8 encoding %q has a space, control, '+' or '=': %q", s, u)
				if !raw {
					require.False(t, strings.ContainsFunc(u, func(r rune) bool { return r >= 0x80 }), "not ASCII: %q", u)
				}
				back, err := DecodeUTF8Addr(u)
				require.NoError(t, err)
				require.Equal(t, s, back)
			}
		}
	})
}
