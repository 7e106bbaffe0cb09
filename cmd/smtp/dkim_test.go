package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/smtptest"
)

// dkimVerify checks data's one signature with go-msgauth, the public key
// of pub published at s1._domainkey.example.com.
func dkimVerify(t *testing.T, data []byte, pub crypto.PublicKey) error {
	t.Helper()
	var record string
	switch k := pub.(type) {
	case ed25519.PublicKey:
		record = "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(k)
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(k)
		require.NoError(t, err)
		record = "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)
	}
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(data), &dkim.VerifyOptions{
		LookupTXT: func(name string) ([]string, error) {
			require.Equal(t, "s1._domainkey.example.com", strings.TrimSuffix(name, "."))
			return []string{record}, nil
		},
	})
	require.NoError(t, err)
	require.Len(t, vs, 1)
	assert.Equal(t, "example.com", vs[0].Domain)
	return vs[0].Err
}

func TestSendDKIM(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	pkcs8 := func(k any) []byte {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		require.NoError(t, err)
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	}
	tests := []struct {
		name string
		pem  []byte
		pub  crypto.PublicKey
	}{
		{"RSA PKCS#1", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}), &rsaKey.PublicKey},
		{"RSA PKCS#8", pkcs8(rsaKey), &rsaKey.PublicKey},
		{"Ed25519 PKCS#8", pkcs8(edKey), edKey.Public()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.NewServer(t)
			key := writeFile(t, "key.pem", "a comment before the key\n"+string(tt.pem))
			r := run1(t, sendArgs(srv, "--subject", "News", "--body", "Hello\n",
				"--header", "List-Unsubscribe: <https://example.com/u/1>",
				"--header", "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
				"--dkim-key", key, "--dkim-domain", "example.com", "--dkim-selector", "s1")...)
			require.Equal(t, 0, r.code, r.stderr)
			got, _ := received(t, srv)
			require.True(t, bytes.HasPrefix(got.Data, []byte("DKIM-Signature: ")))
			assert.NoError(t, dkimVerify(t, got.Data, tt.pub))
			bad := bytes.Replace(got.Data, []byte("One-Click"), []byte("One-Clack"), 1)
			assert.Error(t, dkimVerify(t, bad, tt.pub), "List-Unsubscribe-Post is signed")
		})
	}
}

func TestSendDKIMRefused(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(ec)
	require.NoError(t, err)
	ecPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	tests := []struct {
		name   string
		args   func(t *testing.T) []string
		stderr string
	}{
		{"no domain", func(t *testing.T) []string {
			return []string{"--dkim-key", writeFile(t, "k", ecPEM), "--dkim-selector", "s1"}
		}, "--dkim-key, --dkim-domain and --dkim-selector go together"},
		{"no key", func(*testing.T) []string {
			return []string{"--dkim-domain", "example.com", "--dkim-selector", "s1"}
		}, "--dkim-key, --dkim-domain and --dkim-selector go together"},
		{"missing file", func(t *testing.T) []string {
			return []string{"--dkim-key", t.TempDir() + "/none.pem", "--dkim-domain", "example.com", "--dkim-selector", "s1"}
		}, "--dkim-key: open "},
		{"not PEM", func(t *testing.T) []string {
			return []string{"--dkim-key", writeFile(t, "k", "hello"), "--dkim-domain", "example.com", "--dkim-selector", "s1"}
		}, "no PEM private key (RSA PRIVATE KEY or PRIVATE KEY) in the file"},
		{"ECDSA", func(t *testing.T) []string {
			return []string{"--dkim-key", writeFile(t, "k", ecPEM), "--dkim-domain", "example.com", "--dkim-selector", "s1"}
		}, "a *ecdsa.PrivateKey key: DKIM signs with RSA or Ed25519"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.NewServer(t)
			r := run1(t, sendArgs(srv, tt.args(t)...)...)
			assert.Equal(t, exitUsage, r.code)
			assert.Contains(t, r.stderr, tt.stderr)
			assert.Empty(t, srv.Sessions(), "nothing is sent: no connection made")
		})
	}
	r := run1(t, "help", "send")
	assert.Contains(t, r.stdout+r.stderr, "-dkim-key file")
}
