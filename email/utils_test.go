package email

import (
	"fmt"
	"net/mail"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMakeMsgid(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		id := MakeMsgid("", "example.com")
		assert.False(t, seen[id], "unique: %s", id)
		seen[id] = true
		assert.Regexp(t, `^<\d+\.\d+\.\d+@example\.com>$`, id, "Python's form: time, process, random")
	}
	assert.Regexp(t, `^<\d+\.\d+\.\d+\.part1@example\.com>$`, MakeMsgid("part1", "example.com"))
	assert.Regexp(t, `^<\d+\.\d+\.\d+\.abinjected@examplecom>$`, MakeMsgid("a b\r\n<injected>", "example\r\n@com"),
		"blanks, line breaks and specials are left out")
	assert.Regexp(t, `^<[^<>@\s]+@[^<>@\s]+>$`, MakeMsgid("", ""), "the host's name, or localhost")
	for id := range seen {
		_, err := mail.ParseAddress("x " + id) // a msg-id parses as an angle address
		assert.NoError(t, err)
	}
}

func TestFormatDatetime(t *testing.T) {
	zone := time.FixedZone("", -(4*3600 + 30*60))
	tests := []struct {
		t    time.Time
		want string // RFC 5322 section 3.3
	}{
		{time.Date(2026, 3, 5, 7, 8, 9, 0, time.UTC), "Thu, 05 Mar 2026 07:08:09 +0000"},
		{time.Date(1999, 12, 31, 23, 59, 59, 999, zone), "Fri, 31 Dec 1999 23:59:59 -0430"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, FormatDatetime(tc.t))
		back, err := mail.ParseDate(FormatDatetime(tc.t))
		require.NoError(t, err)
		assert.True(t, back.Equal(tc.t.Truncate(time.Second)))
	}
}

// TestFormatDatetimeMatchesPython compares FormatDatetime with Python's
// email.utils.format_datetime for times in several zones.
func TestFormatDatetimeMatchesPython(t *testing.T) {
	python, why := findPython(11, "FormatDatetime is compared with Python's format_datetime")
	if python == "" {
		t.Skip(why)
	}
	times := []time.Time{
		time.Date(2026, 3, 5, 7, 8, 9, 0, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 999, time.FixedZone("", -(4*3600+30*60))),
		time.Date(2024, 2, 29, 0, 0, 0, 0, time.FixedZone("NPT", 5*3600+45*60)),
		time.Date(1970, 1, 1, 12, 0, 0, 0, time.FixedZone("", 14*3600)),
	}
	var script strings.Builder
	script.WriteString("import datetime\nfrom email.utils import format_datetime\n")
	for _, tm := range times {
		_, off := tm.Zone()
		fmt.Fprintf(&script, "print(format_datetime(datetime.datetime(%d, %d, %d, %d, %d, %d, "+
			"tzinfo=datetime.timezone(datetime.timedelta(seconds=%d)))))\n",
			tm.Year(), tm.Month(), tm.Day(), tm.Hour(), tm.Minute(), tm.Second(), off)
	}
	out, err := exec.Command(python, "-c", script.String()).Output()
	require.NoError(t, err, script.String())
	want := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.Len(t, want, len(times))
	for i, tm := range times {
		assert.Equal(t, want[i], FormatDatetime(tm))
	}
}
