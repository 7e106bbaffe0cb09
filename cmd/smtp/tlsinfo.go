package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"time"
)

// tlsInfo is what the TLS handshake showed: the version, the cipher, the
// certificate chain as the server sent it, and whether that chain
// verifies for the name asked for.
type tlsInfo struct {
	Version     string     `json:"version"`
	Cipher      string     `json:"cipher"`
	Name        string     `json:"name"` // the name the chain was verified for
	Verified    bool       `json:"verified"`
	VerifyError string     `json:"verify_error,omitempty"`
	Chain       []certInfo `json:"chain"`
	verifyErr   error
}

// certInfo describes one certificate of the chain.
type certInfo struct {
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	Names     []string  `json:"names,omitempty"` // DNS names and IP addresses
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
}

// tlsInfo describes the handshake in state and verifies its chain for
// name against roots (nil: the system's).
func (c *cli) tlsInfo(state *tls.ConnectionState, name string, roots *x509.CertPool) *tlsInfo {
	if state == nil {
		return nil
	}
	info := &tlsInfo{
		Version: tls.VersionName(state.Version),
		Cipher:  tls.CipherSuiteName(state.CipherSuite),
		Name:    name,
		Chain:   []certInfo{},
	}
	for _, cert := range state.PeerCertificates {
		ci := certInfo{
			Subject:   cert.Subject.String(),
			Issuer:    cert.Issuer.String(),
			Names:     append([]string{}, cert.DNSNames...),
			NotBefore: cert.NotBefore.UTC(),
			NotAfter:  cert.NotAfter.UTC(),
		}
		for _, ip := range cert.IPAddresses {
			ci.Names = append(ci.Names, ip.String())
		}
		info.Chain = append(info.Chain, ci)
	}
	if err := verifyChain(state.PeerCertificates, name, roots); err != nil {
		info.verifyErr = &verifyError{name: name, err: err}
		info.VerifyError = err.Error()
	} else {
		info.Verified = true
	}
	return info
}

// verifyChain checks certs, leaf first, as crypto/tls does for a client:
// a path from the leaf to one of roots (through the other certificates
// sent), valid now, for name and for server authentication.
func verifyChain(certs []*x509.Certificate, name string, roots *x509.CertPool) error {
	if len(certs) == 0 {
		return errNoCertificate
	}
	inter := x509.NewCertPool()
	for _, cert := range certs[1:] {
		inter.AddCert(cert)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{
		DNSName:       name,
		Roots:         roots,
		Intermediates: inter,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	return err
}

// errNoCertificate is a TLS server that sent no certificate at all.
var errNoCertificate = errors.New("the server sent no certificate")
