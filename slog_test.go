package smtplib

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

// logSession runs one session (STARTTLS, a login, a mail sent, one refused,
// QUIT) with WithLogger on a JSON handler at level, and returns the records.
func logSession(t *testing.T, level slog.Level) []map[string]any {
	t.Helper()
	srv := smtptest.NewServer(t, smtptest.WithSTARTTLS(), smtptest.WithAuth("PLAIN"),
		smtptest.WithUsers(map[string]string{"alice": "s3cret"}), smtptest.WithEnhancedStatusCodes(),
		smtptest.WithRefuseRecipient("nobody@example.org", "550 5.1.1 No such user"))
	var buf bytes.Buffer
	l := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: level}))
	c, err := Dial(srv.Host(), srv.Port(), WithLogger(l), WithTimeout(testTimeout))
	require.NoError(t, err)
	defer c.Close()
	_, err = c.StartTLS(srv.TLSConfig())
	require.NoError(t, err)
	_, err = c.Login("alice", "s3cret")
	require.NoError(t, err)
	_, err = c.Sendmail("alice@example.com", []string{"bob@example.org"}, []byte("Subject: hi\r\n\r\nhello\r\n"))
	require.NoError(t, err)
	_, err = c.Sendmail("alice@example.com", []string{"nobody@example.org"}, []byte("x\r\n"))
	require.Error(t, err)
	_, err = c.Quit()
	require.NoError(t, err)
	assert.NotContains(t, buf.String(), "s3cret")
	var records []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
		var rec map[string]any
		require.NoError(t, json.Unmarshal(line, &rec), "%s", line)
		records = append(records, rec)
	}
	return records
}

// TestWithLogger checks the records of one session: their levels,
// messages and stable attributes, the details only at DEBUG.
func TestWithLogger(t *testing.T) {
	records := logSession(t, slog.LevelInfo)
	var got [][2]any
	for _, r := range records {
		got = append(got, [2]any{r["level"], r["msg"]})
	}
	assert.Equal(t, [][2]any{
		{"INFO", "smtp connected"},
		{"INFO", "smtp tls"},
		{"INFO", "smtp authenticated"},
		{"INFO", "smtp sent"},
		{"WARN", "smtp refused"},
		{"INFO", "smtp closed"},
	}, got)
	id := records[0]["smtp.session"]
	for _, r := range records {
		assert.Equal(t, id, r["smtp.session"])
		assert.NotEmpty(t, r["smtp.server"])
		assert.Contains(t, r, "smtp.duration")
		assert.NotContains(t, r, "smtp.reply", "details are for DEBUG")
	}
	assert.Equal(t, "PLAIN", records[2]["smtp.auth.mechanism"])
	assert.Regexp(t, `^TLS 1\.[23]$`, records[1]["smtp.tls.version"])
	sent := records[3]
	assert.Equal(t, "alice@example.com", sent["smtp.from"])
	assert.EqualValues(t, 1, sent["smtp.recipients"])
	assert.NotEmpty(t, sent["smtp.queue_id"])
	assert.EqualValues(t, 250, sent["smtp.code"])
	assert.Equal(t, "2.0.0", sent["smtp.enhanced_code"])
	assert.EqualValues(t, 22, sent["smtp.bytes"])
	refused := records[4]
	assert.EqualValues(t, 550, refused["smtp.code"])
	assert.Equal(t, "5.1.1", refused["smtp.enhanced_code"])
	assert.Contains(t, refused["error"], "No such user")
	assert.Equal(t, "quit", records[5]["smtp.reason"])

	debug := logSession(t, slog.LevelDebug)
	require.Len(t, debug, len(records))
	assert.Contains(t, debug[0], "smtp.greeting")
	assert.Contains(t, debug[1], "smtp.tls.cipher")
	assert.Contains(t, debug[3]["smtp.reply"], "queued as")
}

// TestWithLoggerNil is no logger at all.
func TestWithLoggerNil(t *testing.T) {
	var c config
	WithLogger(nil)(&c)
	assert.Nil(t, c.trace)
}

// jsonRecords decodes the JSON handler's lines.
func jsonRecords(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var records []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var rec map[string]any
		require.NoError(t, json.Unmarshal(line, &rec), "%s", line)
		records = append(records, rec)
	}
	return records
}

// TestWithLoggerRefusals checks the records of what goes wrong before a
// mail: a greeting refused, a login refused and a session the server
// shuts down with 421, each WARN with the reply's code, enhanced code
// and, at DEBUG, its text.
func TestWithLoggerRefusals(t *testing.T) {
	logTo := func() (*bytes.Buffer, Option) {
		var buf bytes.Buffer
		return &buf, WithLogger(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	}

	buf, opt := logTo()
	srv := smtptest.NewServer(t, smtptest.WithReply("GREETING", "554 5.3.2 not now"))
	_, err := Dial(srv.Host(), srv.Port(), opt, WithTimeout(testTimeout))
	require.Error(t, err)
	rec := jsonRecords(t, buf.Bytes())[0]
	assert.Equal(t, "WARN", rec["level"])
	assert.Equal(t, "smtp greeting refused", rec["msg"])
	assert.EqualValues(t, 554, rec["smtp.code"])
	assert.Equal(t, "5.3.2", rec["smtp.enhanced_code"])
	assert.Equal(t, "5.3.2 not now", rec["smtp.reply"])

	buf, opt = logTo()
	srv = smtptest.NewServer(t, smtptest.WithAuth("PLAIN"), smtptest.WithUsers(map[string]string{"alice": "right"}),
		smtptest.WithEnhancedStatusCodes(), smtptest.WithRefuseSender("a@example.com", "421 4.3.2 going down"))
	c, err := Dial(srv.Host(), srv.Port(), opt, WithTimeout(testTimeout))
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Login("alice", "wrong")
	require.Error(t, err)
	_, err = c.Sendmail("a@example.com", []string{"b@example.org"}, []byte("x\r\n"))
	require.Error(t, err)
	warn := map[string]map[string]any{}
	for _, r := range jsonRecords(t, buf.Bytes()) {
		if r["level"] == "WARN" {
			warn[r["msg"].(string)] = r
		}
	}
	require.Len(t, warn, 3, "%s", buf)
	assert.EqualValues(t, 535, warn["smtp authentication refused"]["smtp.code"])
	assert.NotContains(t, buf.String(), "wrong", "no credential is logged")
	assert.EqualValues(t, 421, warn["smtp refused"]["smtp.code"])
	closed := warn["smtp closed by server"]
	assert.EqualValues(t, 421, closed["smtp.code"])
	assert.Equal(t, "4.3.2 going down", closed["smtp.reply"])
}
