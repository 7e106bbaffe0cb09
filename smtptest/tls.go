package smtptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"time"
)

// NewCertificate generates a self-signed certificate for names, each a
// DNS name or an IP address, valid from an hour ago for a day. It is its
// own CA, so a client trusts it by adding the returned *x509.Certificate
// to its RootCAs. Tests use it to give a server a certificate for another
// name (see [WithCertificate]).
func NewCertificate(names ...string) (tls.Certificate, *x509.Certificate, error) {
	// ECDSA P-256 keys take microseconds to make, where RSA takes
	// milliseconds to seconds: every Server can afford its own.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{Organization: []string{"smtptest"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		// A CA that is also the leaf lets a client trust it as a root
		// without InsecureSkipVerify, as httptest's certificate does.
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	seen := map[string]bool{}
	for _, n := range names {
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
		if tmpl.Subject.CommonName == "" {
			tmpl.Subject.CommonName = n
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, leaf, nil
}

// tlsConfig returns the server's TLS configuration, making the certificate
// on first use.
func (s *Server) tlsConfig() (*tls.Config, error) {
	s.certMu.Lock()
	defer s.certMu.Unlock()
	if s.serverTLS != nil {
		return s.serverTLS, nil
	}
	if s.cert == nil {
		cert, _, err := NewCertificate("localhost", s.Hostname, "127.0.0.1", "::1")
		if err != nil {
			return nil, err
		}
		s.cert = &cert
	}
	leaf := s.cert.Leaf
	if leaf == nil {
		if len(s.cert.Certificate) == 0 {
			return nil, errors.New("certificate has no certificate data")
		}
		var err error
		if leaf, err = x509.ParseCertificate(s.cert.Certificate[0]); err != nil {
			return nil, err
		}
	}
	s.leaf = leaf
	s.serverTLS = &tls.Config{
		Certificates: []tls.Certificate{*s.cert},
		MinVersion:   tls.VersionTLS12,
	}
	return s.serverTLS, nil
}

// Certificate returns the server's certificate: the one given with
// [WithCertificate], or else a self-signed one, made once per Server, for
// "localhost", Hostname, 127.0.0.1 and ::1.
func (s *Server) Certificate() *x509.Certificate {
	if s.t != nil {
		s.t.Helper()
	}
	if _, err := s.tlsConfig(); err != nil {
		s.fail(err)
	}
	s.certMu.Lock()
	defer s.certMu.Unlock()
	return s.leaf
}

// TLSConfig returns a new client configuration that trusts
// [Server.Certificate] as its only root, with verification on. ServerName
// is left empty so that the client's own choice of host name is checked,
// as it would be against a real server.
func (s *Server) TLSConfig() *tls.Config {
	if s.t != nil {
		s.t.Helper()
	}
	pool := x509.NewCertPool()
	pool.AddCert(s.Certificate())
	return &tls.Config{RootCAs: pool}
}
