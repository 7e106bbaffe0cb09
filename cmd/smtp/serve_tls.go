package main

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/gosmtplib/smtplib/smtptest"
)

// certificate returns the option giving the server its certificate:
// --cert and --key, or one made now, whose PEM it also returns so that
// clients can be told to trust it.
func (o *serveOptions) certificate() (smtptest.Option, []byte, error) {
	if o.cert != "" {
		cert, err := tls.LoadX509KeyPair(o.cert, o.key)
		if err != nil {
			return nil, nil, usageErrorf("--cert %s --key %s: %v", o.cert, o.key, err)
		}
		return smtptest.WithCertificate(cert), nil, nil
	}
	names := []string{"localhost", o.hostname, "127.0.0.1", "::1"}
	if host, _, err := net.SplitHostPort(o.listen); err == nil && host != "" && !net.ParseIP(host).IsUnspecified() {
		names = append(names, host)
	}
	cert, leaf, err := smtptest.NewCertificate(names...)
	if err != nil {
		return nil, nil, err
	}
	return smtptest.WithCertificate(cert), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw}), nil
}

// writeCert writes a certificate made at start to --cert-out, or else to
// a temporary file that cleanup removes, and returns the line that tells
// the user where it is and how to trust it.
func (c *cli) writeCert(o *serveOptions, certPEM []byte) (note string, cleanup func(), err error) {
	cleanup = func() {}
	if certPEM == nil {
		return "", cleanup, nil
	}
	path := o.certOut
	if path == "" {
		f, err := os.CreateTemp("", "smtp-serve-*.pem")
		if err != nil {
			return "", cleanup, err
		}
		path = f.Name()
		f.Close()
		cleanup = func() { os.Remove(path) }
	}
	if err := os.WriteFile(path, certPEM, 0o644); err != nil {
		cleanup()
		return "", func() {}, usageErrorf("--cert-out: %v", err)
	}
	block, _ := pem.Decode(certPEM)
	sum := sha256.Sum256(block.Bytes)
	hexes := make([]string, len(sum))
	for i, b := range sum {
		hexes[i] = fmt.Sprintf("%02X", b)
	}
	return fmt.Sprintf("certificate %s (SHA-256 %s); trust it with smtp send --cafile %s, "+
		"or Python's ssl.create_default_context(cafile=%q)", path, strings.Join(hexes, ":"), path, path), cleanup, nil
}
