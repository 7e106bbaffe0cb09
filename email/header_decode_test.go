package email

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decodeSample is a header with the cases of RFC 2047 and of folding that
// Python's policy.default decodes in its own way; what Python 3.11 and
// 3.13 give for each field is in TestGetDecodes, and TestGetMatchesPython
// asks the Python on the machine.
const decodeSample = "Subject: Rechnung =?utf-8?q?f=C3=BCr?= Dezember\r\n" +
	"X-Adjacent: =?utf-8?q?a?= =?utf-8?q?b?=  c\r\n" +
	"X-Folded: foo\r\n  \tbar   baz  \r\n" +
	"To: =?utf-8?q?Doe=2C_John?= <j@example.com>, \"Q\" <q@example.com>\r\n" +
	"Cc: =?iso-8859-1?q?J=F6rg?= <j@example.com>, \"J. Doe\" <jd@example.com>, plain@example.com\r\n" +
	"X-No-Blank-After: =?utf-8?b?w7w=?=x\r\n" +
	"X-Unknown-Charset: =?bogus?q?abc?=\r\n" +
	"X-Raw-UTF-8: caf\xc3\xa9\r\n" +
	"X-Underscore: =?utf-8?q?a_b?=\r\n" +
	"X-Leading:    lead\r\n" +
	"X-Empty: \r\n" +
	"X-Fold-First:\r\n cont\r\n" +
	"X-Unclosed: =?utf-8?q?broken\r\n" +
	"X-No-Blank-Before: a=?utf-8?q?b?=\r\n" +
	"X-Split-Character: =?utf-8?q?=E2=82?= =?utf-8?q?=AC?=\r\n" +
	"X-Bad-Byte: =?utf-8?q?=FF?=\r\n" +
	"X-Raw-Bad: \xff\xfe raw\r\n" +
	"X-Cut-Character: =?utf-8?q?=E2=82?=x\r\n" +
	"Reply-To: =?utf-8?b?5pel5pys?= <jp@example.com>\r\n" +
	"X-Tab-Between: =?utf-8?q?a?=\t=?UTF-8?B?Yg==?=\r\n" +
	"X-Bad-Encoding: =?utf-8?x?abc?= text\r\n" +
	"X-Question: =?utf-8?q?a?b?= c\r\n" +
	"Sender: =?utf-8?q?Zo=C3=AB?= <z@example.com>\r\n" +
	"Message-ID: <a@example.com>\r\n" +
	"Date: Mon, 02 Jan 2006 15:04:05 -0700\r\n" +
	"\r\nbody\r\n"

// TestGetDecodes: Get gives each value as Python's policy.default gives
// msg[name] (3.11 and 3.13 agree on these).
func TestGetDecodes(t *testing.T) {
	m := mustRead(t, decodeSample)
	want := map[string]string{
		"Subject":           "Rechnung für Dezember",
		"X-Adjacent":        "ab  c",
		"X-Folded":          "foo  \tbar   baz  ",
		"To":                `"Doe, John" <j@example.com>, Q <q@example.com>`,
		"Cc":                `Jörg <j@example.com>, "J. Doe" <jd@example.com>, plain@example.com`,
		"X-No-Blank-After":  "üx",
		"X-Unknown-Charset": "abc",
		"X-Raw-UTF-8":       "café",
		"X-Underscore":      "a b",
		"X-Leading":         "lead",
		"X-Empty":           "",
		"X-Fold-First":      " cont",
		"X-Unclosed":        "=?utf-8?q?broken",
		"X-No-Blank-Before": "ab",
		"X-Split-Character": "€",
		"X-Bad-Byte":        "\ufffd",
		"X-Raw-Bad":         "\ufffd\ufffd raw",
		"X-Cut-Character":   "\ufffdx",
		"Reply-To":          "日本 <jp@example.com>",
		"X-Tab-Between":     "ab",
		"X-Bad-Encoding":    "=?utf-8?x?abc?= text",
		"X-Question":        "=?utf-8?q?a?b?= c",
		"Sender":            "Zoë <z@example.com>",
		"Message-ID":        "<a@example.com>",
		"Date":              "Mon, 02 Jan 2006 15:04:05 -0700",
		"X-Absent":          "",
	}
	for name, v := range want {
		assert.Equal(t, v, m.Get(name), name)
		assert.Equal(t, v, m.Get(strings.ToUpper(name)), "any case: %s", name)
	}
	assert.Equal(t, "=?utf-8?q?f=C3=BCr?=", strings.Fields(m.Header().Get("Subject"))[1], "Header keeps the value as sent")
	assert.Nil(t, m.Values("X-Absent"))
}

// TestValuesDecodes: Values gives every field of the name, each decoded,
// as Python's get_all.
func TestValuesDecodes(t *testing.T) {
	m := mustRead(t, "Received: =?utf-8?q?f=C3=BCr?= a\r\nX: x\r\nreceived: from\r\n b\r\n\r\n")
	assert.Equal(t, []string{"für a", "from b"}, m.Values("Received"))
	assert.Equal(t, []string{"=?utf-8?q?f=C3=BCr?= a", "from b"}, m.Header()["Received"], "as sent, unfolded")
}

// TestGetMatchesPython asks Python's policy.default for every value of
// the samples, of decodeSample, and of values Set stored, and compares
// each with Values. Python rewrites the parameters of Content-Type and
// Content-Disposition, which Get leaves as they are: those are left out.
func TestGetMatchesPython(t *testing.T) {
	python, _ := python313()
	if python == "" {
		var why string
		if python, why = findPython(11, "Get is compared with Python's policy.default"); python == "" {
			t.Skip(why)
		}
	}
	set := NewMessage("Jörg Müller <joerg@example.de>", []string{"André <a@example.fr>", "bob@example.org"},
		"Grüße aus München, "+strings.Repeat("lange Betreffzeile ", 5)+"und Ende", "x")
	set.Set("X-Mixed", "plain ascii then Ünïcödé then 👋 emoji")
	set.Set("Reply-To", "\"Müller, Hans\" <h@example.de>")
	msgs := [][]byte{[]byte(decodeSample), set.Bytes()}
	for _, name := range emlFiles(t) {
		msgs = append(msgs, readEML(t, name))
	}
	resp := askCompare(t, python, map[string]any{"decode": msgs})
	require.Len(t, resp.Decoded, len(msgs))
	compared := 0
	for i, data := range msgs {
		m := mustRead(t, string(data))
		for _, f := range resp.Decoded[i] {
			if f.Name == "content-type" || f.Name == "content-disposition" {
				continue
			}
			assert.Equal(t, f.Values, m.Values(f.Name), "message %d, %s", i, f.Name)
			compared++
		}
	}
	assert.Greater(t, compared, 80)
}
