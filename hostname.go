package smtplib

import (
	"context"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/idna"
)

// fqdn is the host's fully qualified name, "" when it has none. It is found
// once per process, with a bounded look-up, so that no client waits on a
// resolver after the first.
var fqdn = sync.OnceValue(func() string {
	name, err := os.Hostname()
	if err != nil || name == "" {
		return ""
	}
	if strings.Contains(name, ".") {
		return strings.TrimSuffix(name, ".")
	}
	// As Python's socket.getfqdn: the names of the host's address, the
	// first one with a dot. /etc/hosts answers this at once on most
	// machines; a slow resolver is cut off.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, name)
	if err != nil || len(addrs) == 0 {
		return ""
	}
	names, _ := net.DefaultResolver.LookupAddr(ctx, addrs[0])
	for _, n := range names {
		n = strings.TrimSuffix(n, ".")
		if strings.Contains(n, ".") {
			return n
		}
	}
	return ""
})

// defaultLocalHostname chooses the EHLO name as smtplib does: the host's
// fully qualified name, else an address literal (RFC 5321 section 4.1.3)
// of the connection's local address.
func defaultLocalHostname(local net.Addr) string {
	if n := fqdn(); n != "" {
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
	if isASCII(name) || strings.HasPrefix(name, "[") {
		return name
	}
	if a, err := idna.Lookup.ToASCII(name); err == nil {
		return a
	}
	return name
}

// isASCII reports whether s has only 7-bit characters.
func isASCII[T ~string | ~[]byte](s T) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
