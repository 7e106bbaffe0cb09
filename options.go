package smtplib

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"time"
)

// Option configures a client, as Python's keyword arguments to SMTP() do.
type Option func(*config)

// config holds what the options set. It is copied into each client.
type config struct {
	localHostname string
	timeout       time.Duration // 0: the RFC 5321 defaults below
	sourceAddress string
	debugOut      io.Writer
	tlsConfig     *tls.Config
	dialer        ContextDialer
	insecureAuth  bool
	noPipelining  bool
	noChunking    bool
	probeAfter    time.Duration // 0: idleProbeAfter; below 0: before every command
	trace         *Trace        // WithTrace's, WithLogger's
}

// idleProbe is how long the connection must be quiet before checkIdle
// looks at it.
func (c *config) idleProbe() time.Duration {
	if c.probeAfter < 0 {
		return 0
	}
	if c.probeAfter == 0 {
		return idleProbeAfter
	}
	return c.probeAfter
}

// ContextDialer is what [WithDialer] takes: *net.Dialer and the proxy
// dialers of golang.org/x/net/proxy have this method.
type ContextDialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// WithLocalHostname sets the name sent with EHLO (Python's local_hostname);
// by default the host's name, or an address literal.
func WithLocalHostname(name string) Option {
	return func(c *config) { c.localHostname = name }
}

// WithTimeout bounds the dial and each operation after it (a write, a
// whole reply); 0 restores RFC 5321 section 4.5.3.2's minutes.
func WithTimeout(d time.Duration) Option {
	return func(c *config) { c.timeout = d }
}

// WithSourceAddress binds the local end of the connection to addr
// ("host:port", port 0 for any), Python's source_address.
func WithSourceAddress(addr string) Option {
	return func(c *config) { c.sourceAddress = addr }
}

// WithDebugOutput sends the output of [SMTP.SetDebugLevel] to w instead of
// os.Stderr. It does not turn the output on.
func WithDebugOutput(w io.Writer) Option {
	return func(c *config) { c.debugOut = w }
}

// WithTLSConfig sets the TLS configuration of [DialSSL] and [SMTP.StartTLS]
// (Python's context=).
func WithTLSConfig(cfg *tls.Config) Option {
	return func(c *config) { c.tlsConfig = cfg }
}

// WithDialer makes the client connect through d instead of a net.Dialer,
// for a proxy or a test transport. [WithSourceAddress] does not apply to it.
func WithDialer(d ContextDialer) Option {
	return func(c *config) { c.dialer = d }
}

// WithInsecureAuth allows PLAIN, LOGIN and XOAUTH2 in clear text.
func WithInsecureAuth() Option {
	return func(c *config) { c.insecureAuth = true }
}

// WithoutPipelining waits for each reply though the server offers
// PIPELINING.
func WithoutPipelining() Option {
	return func(c *config) { c.noPipelining = true }
}

// WithoutChunking makes the client send message data with DATA even when
// the server offers CHUNKING (RFC 3030).
func WithoutChunking() Option {
	return func(c *config) { c.noChunking = true }
}

// Timeouts from RFC 5321 section 4.5.3.2, used when WithTimeout is not.
const (
	defaultDialTimeout = time.Minute
	defaultCmdTimeout  = 5 * time.Minute  // greeting, EHLO, MAIL, RCPT, others
	defaultDataInit    = 2 * time.Minute  // the reply to DATA
	defaultDataBlock   = 3 * time.Minute  // each write of message data
	defaultDataFinal   = 10 * time.Minute // the reply after the final dot
)

// phase is the step of the dialogue a deadline is for: each has its own
// timeout in RFC 5321 section 4.5.3.2.
type phase int

const (
	phaseCommand       phase = iota // a command's reply, or a command's write
	phaseDataInit                   // the reply to DATA
	phaseDataBlock                  // a write of message data
	phaseDataTermReply              // the reply after the end of the data
	phaseDial                       // the dial
)

const (
	defaultReadBufSize  = 16 << 10
	defaultWriteBufSize = 64 << 10
)

// timeoutFor returns the deadline span of one operation.
func (c *config) timeoutFor(phase phase) time.Duration {
	if c.timeout > 0 {
		return c.timeout
	}
	switch phase {
	case phaseDataInit:
		return defaultDataInit
	case phaseDataBlock:
		return defaultDataBlock
	case phaseDataTermReply:
		return defaultDataFinal
	case phaseDial:
		return defaultDialTimeout
	}
	return defaultCmdTimeout
}
