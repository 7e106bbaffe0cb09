package mailaddr

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// addressCases is the shape of testdata/address_cases.json, written by
// testdata/gen_address_cases.py from Python 3.11.7's own results.
type addressCases struct {
	Python string `json:"python"`
	Single []struct {
		In       string     `json:"in"`
		Name     string     `json:"name"`
		Addr     string     `json:"addr"`
		All      [][]string `json:"all"`
		Quote    string     `json:"quote"`
		AddrOnly string     `json:"addr_only"`
	} `json:"single"`
	Fields []struct {
		In  []string   `json:"in"`
		Out [][]string `json:"out"`
	} `json:"fields"`
}

func loadAddressCases(t *testing.T) addressCases {
	t.Helper()
	data, err := os.ReadFile("testdata/address_cases.json")
	require.NoError(t, err)
	var c addressCases
	require.NoError(t, json.Unmarshal(data, &c))
	require.Equal(t, "3.11.7", c.Python, "cases must come from the lenient parser of 3.11.7")
	require.GreaterOrEqual(t, len(c.Single), 60)
	return c
}

// pairs turns Python's list of 2-lists into GetAddresses' result type.
func pairs(t *testing.T, in [][]string) [][2]string {
	t.Helper()
	out := [][2]string{}
	for _, p := range in {
		require.Len(t, p, 2)
		out = append(out, [2]string{p[0], p[1]})
	}
	return out
}

func orEmpty(p [][2]string) [][2]string {
	if p == nil {
		return [][2]string{}
	}
	return p
}

func TestAddressAgainstPython(t *testing.T) {
	c := loadAddressCases(t)
	for _, tc := range c.Single {
		t.Run(tc.In, func(t *testing.T) {
			name, addr := ParseAddr(tc.In)
			assert.Equal(t, tc.Name, name, "ParseAddr name")
			assert.Equal(t, tc.Addr, addr, "ParseAddr addr")
			assert.Equal(t, pairs(t, tc.All), orEmpty(GetAddresses([]string{tc.In})), "GetAddresses")
			assert.Equal(t, tc.Quote, QuoteAddr(tc.In), "QuoteAddr")
			assert.Equal(t, tc.AddrOnly, AddrOnly(tc.In), "AddrOnly")
		})
	}
}

func TestGetAddressesFieldsAgainstPython(t *testing.T) {
	c := loadAddressCases(t)
	for _, tc := range c.Fields {
		t.Run(strings.Join(tc.In, "|"), func(t *testing.T) {
			assert.Equal(t, pairs(t, tc.Out), orEmpty(GetAddresses(tc.In)))
		})
	}
}

// TestAddressBytesPassThrough checks what Python cannot express: bytes that
// are not valid UTF-8 are carried through as they are, not replaced.
func TestAddressBytesPassThrough(t *testing.T) {
	tests := []struct {
		name, in, addr string
	}{
		{"invalid byte in local part", "a\xffb@example.com", "a\xffb@example.com"},
		{"invalid byte in display name", "N\xfe <x@y>", "x@y"},
		{"truncated sequence in domain", "u@d\xc3", "u@d\xc3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, addr := ParseAddr(tc.in)
			assert.Equal(t, tc.addr, addr)
		})
	}
}

func FuzzAddressList(f *testing.F) {
	for _, s := range []string{
		"John Doe <john@example.com>",
		`"x> ORCPT=rfc822;y"@example.com`,
		"team: a@b, c@d;",
		"<@relay.example:user@example.com>",
		"用户@例子.广告",
		"(a (b) c) d@e",
		"a@b>\r\nRCPT TO:<evil@example.com",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		hadBad := strings.ContainsAny(s, "\r\n\x00")
		for _, p := range GetAddresses([]string{s, s}) {
			q := QuoteAddr(p[1])
			if !hadBad && strings.ContainsAny(q, "\r\n\x00") {
				t.Fatalf("QuoteAddr(%q) = %q from input %q", p[1], q, s)
			}
		}
		name, addr := ParseAddr(s)
		q := QuoteAddr(s)
		if !hadBad && strings.ContainsAny(name+addr+q, "\r\n\x00") {
			t.Fatalf("CR, LF or NUL appeared from %q", s)
		}
		if AddrOnly(s) == "" && s != "" && name == "" && addr == "" {
			t.Fatalf("addrOnly lost the unparsable input %q", s)
		}
	})
}

// TestPlainAddrAgreesWithParser checks the quoting fast path against the
// parser it skips: every address it takes is one the parser returns as it
// is.
func TestPlainAddrAgreesWithParser(t *testing.T) {
	atoms := []string{"a", "Z9", "x+tag", "o'neil", "f_b", "q=1", "#", "~", "-", "é", "a b", `"q"`, "(c)", "[1]", ""}
	taken := 0
	for _, l1 := range atoms {
		for _, l2 := range atoms {
			for _, d := range []string{"example.com", "ex-ample.co", "a..b", ".a", "a.", "[1.2.3.4]", "x_y.z", "bücher.de", ""} {
				for _, s := range []string{l1 + "@" + d, l1 + "." + l2 + "@" + d, l1 + ".." + l2 + "@" + d, l1 + "@" + l2 + "@" + d} {
					if !plainAddr(s) {
						continue
					}
					taken++
					name, addr := ParseAddr(s)
					assert.Equal(t, "", name, s)
					assert.Equal(t, s, addr, s)
				}
			}
		}
	}
	assert.Greater(t, taken, 100, "the fast path is taken for ordinary addresses")
}

// TestToASCII: an internationalised domain becomes its A-label, a
// display name goes, and a non-ASCII local part or an invalid domain is
// refused.
func TestToASCII(t *testing.T) {
	tests := []struct {
		in, want string
		err      error
	}{
		{"plain@example.com", "plain@example.com", nil},
		{"Jörg <joerg@example.de>", "joerg@example.de", nil},
		{"joerg@Bücher.example", "joerg@xn--bcher-kva.example", nil},
		{"bob@例子.广告", "bob@xn--fsqu00a.xn--4rr70v", nil},
		{"用户@例子.广告", "", ErrNonASCIILocalPart},
	}
	for _, tc := range tests {
		got, err := ToASCII(tc.in)
		assert.Equal(t, tc.want, got, tc.in)
		assert.ErrorIs(t, err, tc.err, tc.in)
	}
	_, err := ToASCII("user@-bücher-.example")
	assert.Error(t, err, "an invalid IDN")
}
