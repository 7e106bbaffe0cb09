package email

import (
	"mime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/internal/textutil"
)

func TestFormatParam(t *testing.T) {
	tests := []struct{ name, value string }{
		{"token", "report.pdf"},
		{"quoted", `a "b" \ c; d.txt`},
		{"long ASCII", strings.Repeat("long-name-", 30) + ".txt"},
		{"long ASCII with quotes", strings.Repeat(`q"\`, 60)},
		{"non-ASCII", "Bericht für März.pdf"},
		{"long non-ASCII", strings.Repeat("日本語", 40) + ".pdf"},
		{"tab", "a\tb"},
		{"percent and quote", "100% 'sure'.txt"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := formatMediaHeader(len("Content-Disposition: "), "attachment", []mediaParam{{"filename", tc.value}})
			for _, line := range strings.Split("Content-Disposition: "+v, "\r\n") {
				assert.LessOrEqual(t, len(line), 78, line)
				assert.True(t, textutil.IsASCII(line))
			}
			d, params := parseMediaHeader(strings.ReplaceAll(v, "\r\n", ""))
			assert.Equal(t, "attachment", d)
			assert.Equal(t, tc.value, params["filename"])
			// The standard library's reader agrees.
			_, std, err := mime.ParseMediaType(strings.ReplaceAll(v, "\r\n", ""))
			require.NoError(t, err)
			assert.Equal(t, tc.value, std["filename"])
		})
	}
}
