package main

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"

	"github.com/emersion/go-msgauth/dkim"
)

// dkimFlags are send's --dkim-key, --dkim-domain and --dkim-selector, and
// the signing options made from them.
type dkimFlags struct {
	dkimKey      string
	dkimDomain   string
	dkimSelector string
	dkimSign     *dkim.SignOptions // set by loadDKIM
}

// checkDKIM refuses some of the three flags without the others.
func (o *dkimFlags) checkDKIM() error {
	n := 0
	for _, v := range []string{o.dkimKey, o.dkimDomain, o.dkimSelector} {
		if v != "" {
			n++
		}
	}
	if n != 0 && n != 3 {
		return usageErrorf("--dkim-key, --dkim-domain and --dkim-selector go together: the key signs for selector._domainkey.domain")
	}
	return nil
}

// loadDKIM reads the key of --dkim-key, before the connection is made.
func (o *dkimFlags) loadDKIM() error {
	if o.dkimKey == "" {
		return nil
	}
	b, err := os.ReadFile(o.dkimKey)
	if err != nil {
		return usageErrorf("--dkim-key: %v", err)
	}
	key, err := parseDKIMKey(b)
	if err != nil {
		return usageErrorf("--dkim-key %s: %v", o.dkimKey, err)
	}
	o.dkimSign = &dkim.SignOptions{Domain: o.dkimDomain, Selector: o.dkimSelector, Signer: key}
	return nil
}

// parseDKIMKey takes the first PEM private key in b: RSA as PKCS#1 ("RSA
// PRIVATE KEY", openssl genrsa's traditional form) or PKCS#8 ("PRIVATE
// KEY"), or Ed25519 as PKCS#8 (openssl genpkey -algorithm ed25519).
func parseDKIMKey(b []byte) (crypto.Signer, error) {
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		switch {
		case block == nil:
			return nil, fmt.Errorf("no PEM private key (RSA PRIVATE KEY or PRIVATE KEY) in the file")
		case block.Type == "RSA PRIVATE KEY":
			return x509.ParsePKCS1PrivateKey(block.Bytes)
		case block.Type == "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, err
			}
			switch k := k.(type) {
			case *rsa.PrivateKey:
				return k, nil
			case ed25519.PrivateKey:
				return k, nil
			}
			return nil, fmt.Errorf("a %T key: DKIM signs with RSA or Ed25519", k)
		}
	}
}
