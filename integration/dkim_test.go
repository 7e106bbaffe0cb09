package integration

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib"
)

// dkimpyVerify has dkimpy (Debian's python3-dkim, under Debian's python3)
// verify each file, its DNS lookups answered from records, and returns a
// line per file: "ok", or "fail" and why.
func dkimpyVerify(t *testing.T, records map[string]string, files []string) []string {
	t.Helper()
	if err := exec.Command("/usr/bin/python3", "-c", "import dkim").Run(); err != nil {
		require.Empty(t, os.Getenv("SMTPLIB_REQUIRE_SERVERS"), "python3-dkim is needed: run testdata/servers/install.sh")
		t.Skip("python3-dkim is not installed: run testdata/servers/install.sh")
	}
	const script = `
import json, sys, dkim
records = json.loads(sys.argv[1])
def dnsfunc(name, timeout=5):
    r = records.get(name.decode().rstrip("."))
    return r.encode() if r else None
for path in sys.argv[2:]:
    data = open(path, "rb").read()
    try:
        ok, why = dkim.DKIM(data, minkey=1024).verify(dnsfunc=dnsfunc), "signature did not verify"
    except dkim.DKIMException as e:
        ok, why = False, str(e)
    print("ok" if ok else "fail " + why, flush=True)
`
	rec, err := json.Marshal(records)
	require.NoError(t, err)
	out, err := exec.Command("/usr/bin/python3", append([]string{"-c", script, string(rec)}, files...)...).Output()
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.Len(t, lines, len(files))
	return lines
}

// TestServersDKIM sends signed messages (built, with one-click
// unsubscribe and attachments) through each SMTP server, Postfix queueing
// and delivering them into its Maildir, and has dkimpy verify each copy
// as stored: the signature survives a real server.
func TestServersDKIM(t *testing.T) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	_, ek, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(&rk.PublicKey)
	require.NoError(t, err)
	records := map[string]string{
		"rsa._domainkey.example.com":     "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der),
		"ed25519._domainkey.example.com": "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(ek.Public().(ed25519.PublicKey)),
	}
	keys := []struct {
		name string
		key  crypto.Signer
	}{{"rsa", rk}, {"ed25519", ek}}

	dir := t.TempDir()
	var files, labels []string
	for _, m := range servers(t) {
		for _, k := range keys {
			s := m.login(t)
			msg := builtMessage(t, m.user, m.ok[0])
			require.NoError(t, msg.SetListUnsubscribe("https://example.com/unsubscribe?u=1", "unsubscribe@example.com"))
			opts := &dkim.SignOptions{Domain: "example.com", Selector: k.name, Signer: k.key,
				HeaderKeys: []string{"From", "To", "Subject", "Date", "Message-ID"}}
			refused, err := s.SendMessage(msg, smtplib.DKIM(opts))
			require.NoError(t, err)
			assert.Empty(t, refused)
			_, err = s.Quit()
			require.NoError(t, err)

			stored := m.waitStored(t, m.ok[0], msg.Get("Message-ID"))
			if m.lf {
				stored = bytes.ReplaceAll(stored, []byte("\n"), []byte("\r\n")) // as a relay would send it on
			}
			path := filepath.Join(dir, fmt.Sprintf("%d.eml", len(files)))
			require.NoError(t, os.WriteFile(path, stored, 0o600))
			files, labels = append(files, path), append(labels, m.name+" "+k.name)
		}
	}
	verified := 0
	for i, v := range dkimpyVerify(t, records, files) {
		if assert.Equal(t, "ok", v, labels[i]) {
			verified++
		}
	}
	t.Logf("dkimpy verified %d delivered messages (%s)", verified, strings.Join(labels, ", "))
}
