package smtplib

import (
	"net"
	"strings"

	"golang.org/x/net/idna"

	"github.com/gosmtplib/smtplib/internal/hostname"
	"github.com/gosmtplib/smtplib/internal/textutil"
)

// defaultLocalHostname chooses the EHLO name as smtplib does: the host's
// fully qualified name, else an address literal (RFC 5321 section 4.1.3)
// of the connection's local address.
func defaultLocalHostname(local net.Addr) string {
	if n := hostname.FQDN(); n != "" {
		return n
	}
	return defaultLocalHostnameNoFQDN(local)
}

// defaultLocalHostnameNoFQDN is the address literal for local.
func defaultLocalHostnameNoFQDN(local net.Addr) string {
	if a, ok := local.(*net.TCPAddr); ok {
		if ip4 := a.IP.To4(); ip4 != nil {
			return "[" + ip4.String() + "]"
		}
		return "[IPv6:" + a.IP.String() + "]"
	}
	return "[127.0.0.1]"
}

// asciiHostname returns name as it goes on the wire: a non-ASCII domain as
// its IDNA A-label (RFC 5890), anything else as it is. Address literals and
// names IDNA refuses are left for the server to judge.
func asciiHostname(name string) string {
	if textutil.IsASCII(name) || strings.HasPrefix(name, "[") {
		return name
	}
	if a, err := idna.Lookup.ToASCII(name); err == nil {
		return a
	}
	return name
}
