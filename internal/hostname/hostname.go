// Package hostname finds the host's fully qualified domain name, which
// the smtplib package says in EHLO and the email package puts in a
// Message-ID, as Python's socket.getfqdn finds it for smtplib and
// email.utils.make_msgid.
package hostname

import (
	"context"
	"net"
	"os"
	"strings"
	"sync"
	"time"
)

// FQDN returns the host's fully qualified name, "" when it has none. It is
// found once per process, with a bounded look-up, so that no caller waits
// on a resolver after the first.
var FQDN = sync.OnceValue(func() string {
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
