package main

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/gosmtplib/smtplib"
)

// What DKIM signing costs (issue 25). BenchmarkDKIM1K runs, side by side
// in one run, a 1 KB Sendmail into the fast sink unsigned and signed, and
// go-msgauth's own dkim.Sign of the same bytes, for each key type: the
// price of signing is (signed - unsigned) / sign, 1 when signing costs
// exactly what go-msgauth's Sign does.
//
//	go test -run '^$' -bench DKIM1K -benchmem

func dkimTestKeys(b testing.TB) map[string]crypto.Signer {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	_, ek, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	return map[string]crypto.Signer{"rsa2048": rk, "ed25519": ek}
}

func dkimOpts(key crypto.Signer) *dkim.SignOptions {
	return &dkim.SignOptions{Domain: "bench.example", Selector: "s1", Signer: key,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed}
}

func BenchmarkDKIM1K(b *testing.B) {
	msg := message(1024)
	to := []string{toAddr}
	keys := dkimTestKeys(b)
	send := func(opts ...smtplib.SendOption) func(b *testing.B) {
		return func(b *testing.B) {
			s, _ := benchClient(b, false)
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Sendmail(fromAddr, to, msg, opts...); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.Run("unsigned", send())
	for _, name := range []string{"ed25519", "rsa2048"} {
		opts := dkimOpts(keys[name])
		b.Run("signed-"+name, send(smtplib.DKIM(opts)))
		b.Run("dkim.Sign-"+name, func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				if err := dkim.Sign(io.Discard, bytes.NewReader(msg), opts); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestDKIMStreamRSS signs and sends a 50 MiB message streamed from a file
// (SendmailReader with the *os.File, read once to sign and once to send)
// in a child process, dkimrss, and checks its peak resident set: under 16
// MiB. The same send unsigned is measured for comparison.
func TestDKIMStreamRSS(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 50 MiB twice")
	}
	const size = 50 << 20
	dir := t.TempDir()
	bin := filepath.Join(dir, "dkimrss")
	if out, err := exec.Command("go", "build", "-o", bin, "./dkimrss").CombinedOutput(); err != nil {
		t.Fatalf("go build ./dkimrss: %v\n%s", err, out)
	}
	msg := filepath.Join(dir, "50M.eml")
	f, err := os.Create(msg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, newMessageReader(size)); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(rk)
	if err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	sink, err := startFastSink(false)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.close()

	hwm := map[bool]int64{}
	for _, signed := range []bool{false, true} {
		bytes0 := sink.bytes.Load()
		args := []string{"-addr", sink.addr(), "-file", msg, "-key", key}
		if !signed {
			args = append(args, "-unsigned")
		}
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("dkimrss: %v\n%s", err, out)
		}
		v, ok := strings.CutPrefix(strings.TrimSpace(string(out)), "hwm_kb=")
		if hwm[signed], err = strconv.ParseInt(v, 10, 64); !ok || err != nil {
			t.Fatalf("dkimrss printed no peak RSS: %s", out)
		}
		got := sink.bytes.Load() - bytes0
		if signed && got <= size || !signed && got != size {
			t.Errorf("signed %v: the sink got %d bytes of the %d", signed, got, size)
		}
	}
	t.Logf("50 MiB sent from a file: peak RSS %.1f MiB signed (RSA-2048), %.1f MiB unsigned",
		float64(hwm[true])/1024, float64(hwm[false])/1024)
	if hwm[true] >= 16<<10 {
		t.Errorf("peak RSS %d KiB signed, want under 16 MiB", hwm[true])
	}
}
