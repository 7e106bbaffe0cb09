package smtplib

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

// pairs turns Python's list of 2-lists into getAddresses' result type.
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
			name, addr := parseAddr(tc.In)
			assert.Equal(t, tc.Name, name, "parseAddr name")
			assert.Equal(t, tc.Addr, addr, "parseAddr addr")
			assert.Equal(t, pairs(t, tc.All), orEmpty(getAddresses([]string{tc.In})), "getAddresses")
			assert.Equal(t, tc.Quote, quoteAddr(tc.In), "quoteAddr")
			assert.Equal(t, tc.AddrOnly, addrOnly(tc.In), "addrOnly")
		})
	}
}

func TestGetAddressesFieldsAgainstPython(t *testing.T) {
	c := loadAddressCases(t)
	for _, tc := range c.Fields {
		t.Run(strings.Join(tc.In, "|"), func(t *testing.T) {
			assert.Equal(t, pairs(t, tc.Out), orEmpty(getAddresses(tc.In)))
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
			_, addr := parseAddr(tc.in)
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
		for _, p := range getAddresses([]string{s, s}) {
			q := quoteAddr(p[1])
			if !hadBad && strings.ContainsAny(q, "\r\n\x00") {
				t.Fatalf("quoteAddr(%q) = %q from input %q", p[1], q, s)
			}
		}
		name, addr := parseAddr(s)
		q := quoteAddr(s)
		if !hadBad && strings.ContainsAny(name+addr+q, "\r\n\x00") {
			t.Fatalf("CR, LF or NUL appeared from %q", s)
		}
		if addrOnly(s) == "" && s != "" && name == "" && addr == "" {
			t.Fatalf("addrOnly lost the unparsable input %q", s)
		}
	})
}
