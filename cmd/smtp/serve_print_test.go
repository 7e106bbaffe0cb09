package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/gosmtplib/smtplib/smtptest"
)

var fixedTime = time.Date(2025, 3, 4, 5, 6, 7, 890_000_000, time.UTC)

func fakeMessage(data []byte) smtptest.Message {
	return smtptest.Message{ID: "0000002A", From: "a@example.com", To: []string{"b@example.org", "c@example.org"},
		RcptOptions: [][]string{{"NOTIFY=NEVER"}, nil}, MailOptions: []string{"SIZE=9"},
		Data: data, Helo: "client.example", RemoteAddr: "127.0.0.1:5555", TLS: true, AuthUser: "alice"}
}

func TestPrintSummary(t *testing.T) {
	tests := []struct {
		name, data, file, want string
	}{
		{
			name: "message",
			data: "From: =?utf-8?q?Ren=C3=A9?= <rene@example.com>\r\nSubject: =?utf-8?q?Caf=C3=A9?=\r\nX-Evil: a\x1b[2Jb\r\n" +
				"X-Long: " + strings.Repeat("y", 300) + "\r\n\r\nbody\r\n",
			file: "/mail/x.eml",
			want: "#42 05:06:07.890 from 127.0.0.1:5555 (client.example) TLS AUTH alice, SIZE, id 0000002A\n" +
				"  MAIL FROM  <a@example.com> SIZE=9\n" +
				"  RCPT TO    <b@example.org> NOTIFY=NEVER\n" +
				"             <c@example.org>\n" +
				"  kept in    /mail/x.eml\n" +
				"  From: René <rene@example.com>\n" +
				"  Subject: Café\n" +
				"  X-Evil: a\\x1b[2Jb\n" +
				"  X-Long: " + strings.Repeat("y", 200) + "...\n" +
				"  parts\n" +
				"    text/plain, 6 B\n\n",
		},
		{
			name: "not a message",
			data: "no header\r\nsecond \x07line",
			want: "#42 05:06:07.890 from 127.0.0.1:5555 (client.example) TLS AUTH alice, SIZE, id 0000002A\n" +
				"  MAIL FROM  <a@example.com> SIZE=9\n" +
				"  RCPT TO    <b@example.org> NOTIFY=NEVER\n" +
				"             <c@example.org>\n" +
				"  not a message (header line 1 is not a field: \"no header\"); as received:\n" +
				"  | no header\n" +
				"  | second \\x07line\n\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			p := newPrinter(&b, false, false)
			p.print(42, fixedTime, fakeMessage([]byte(tt.data)), tt.file)
			size := itoa(len(tt.data)) + " bytes (" + itoa(len(tt.data)) + " B)"
			assert.Equal(t, strings.Replace(tt.want, "SIZE,", size+",", 1), b.String())
		})
	}
}

func TestPrintRawShownBounded(t *testing.T) {
	data := strings.Repeat("no header line\r\n", 10000)
	var b strings.Builder
	writeSummary(&b, 1, fixedTime, fakeMessage([]byte(data)), "")
	assert.Contains(t, b.String(), "\n  | ... "+itoa(len(data)-maxRawShown)+" more bytes\n")
	assert.Less(t, b.Len(), maxRawShown*2)
}
