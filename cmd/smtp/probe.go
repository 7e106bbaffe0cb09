package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/gosmtplib/smtplib"
)

const probeUsage = `Usage: smtp probe [flags] HOST[:PORT]

Connects to HOST (port 25, or 465 with --tls), reads the greeting, says
EHLO, starts TLS if the server offers STARTTLS, shows the TLS version,
cipher and certificate chain and whether the chain verifies for HOST, says
EHLO again over TLS, and shows the size limit and the time of each step.
The exit status is 78 when TLS fails or the certificate does not verify.

Flags:
`

type probeOptions struct {
	connFlags
	json bool
}

func probeFlags() (*flag.FlagSet, *probeOptions) {
	o := &probeOptions{}
	fs := newFlagSet("probe")
	o.register(fs)
	fs.BoolVar(&o.json, "json", false, "print the report as one JSON object")
	return fs, o
}

// probeReport is what probe found, printed as text or JSON.
type probeReport struct {
	Server    string     `json:"server"`
	TLSMode   string     `json:"tls_mode"` // "implicit", "starttls" or "none"
	Steps     []stepTime `json:"steps"`
	Greeting  *replyInfo `json:"greeting,omitempty"`
	EHLO      *ehloInfo  `json:"ehlo,omitempty"`
	StartTLS  *replyInfo `json:"starttls,omitempty"`
	TLS       *tlsInfo   `json:"tls,omitempty"`
	EHLOTLS   *ehloInfo  `json:"ehlo_tls,omitempty"`
	SizeLimit *int64     `json:"size_limit,omitempty"` // 0: SIZE offered without a limit
	Error     string     `json:"error,omitempty"`
	err       error
}

// stepTime is how long one step took.
type stepTime struct {
	Step string  `json:"step"` // dial, tls, greeting, ehlo, starttls, ehlo_tls, quit
	MS   float64 `json:"ms"`
}

type replyInfo struct {
	Code int    `json:"code"`
	Text string `json:"text"`
}

// ehloInfo is the reply to EHLO (or to HELO, when EHLO was refused) and
// the extensions it offers, in the server's order.
type ehloInfo struct {
	Verb       string      `json:"verb"`
	Code       int         `json:"code"`
	Text       string      `json:"text"`
	Extensions []extension `json:"extensions"`
}

type extension struct {
	Keyword string `json:"keyword"`
	Params  string `json:"params,omitempty"`
}

func (c *cli) probe(args []string) error {
	fs, o := probeFlags()
	pos, err := c.parse(fs, probeUsage, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageErrorf("probe needs one HOST[:PORT] (see smtp help probe)")
	}
	def := smtplib.SMTPPort
	if o.implicitTLS {
		def = smtplib.SMTPSSLPort
	}
	host, port, err := splitHostPort(pos[0], def)
	if err != nil {
		return err
	}
	roots, err := o.roots()
	if err != nil {
		return err
	}
	rep := c.runProbe(o, host, port, roots)
	if o.json {
		err = writeProbeJSON(c.stdout, rep)
	} else {
		err = writeProbeText(c.stdout, rep, c.now())
	}
	if err != nil {
		return err
	}
	return rep.err
}

// runProbe does the probe, filling the report as far as it gets; the
// report's err is why it stopped, or a certificate that did not verify.
func (c *cli) runProbe(o *probeOptions, host string, port int, roots *x509.CertPool) *probeReport {
	rep := &probeReport{Server: net.JoinHostPort(host, strconv.Itoa(port)), TLSMode: "none", Steps: []stepTime{}}
	name := o.servername
	if name == "" {
		name = host
	}
	// The handshake skips verification so that a certificate that fails
	// can still be shown; verifyChain then checks it as the library
	// would, against the same roots and name.
	var (
		state  *tls.ConnectionState
		tlsEnd time.Time
	)
	cfg := &tls.Config{
		InsecureSkipVerify: true, //nolint:gosec // verified by verifyChain below
		ServerName:         o.servername,
		VerifyConnection: func(cs tls.ConnectionState) error {
			state, tlsEnd = &cs, c.now()
			return nil
		},
	}
	fail := func(err error) *probeReport {
		rep.err = err
		rep.Error = describe(err)
		return rep
	}
	mark := func(step string, from time.Time) time.Time {
		now := c.now()
		rep.Steps = append(rep.Steps, stepTime{Step: step, MS: ms(now.Sub(from))})
		return now
	}

	start := c.now()
	if o.implicitTLS {
		rep.TLSMode = "implicit"
	}
	d := &countingDialer{now: c.now}
	s, greeting, err := c.connect(&o.connFlags, host, port, cfg, d)
	// The connection step splits into the dial, the implicit handshake
	// and the wait for the greeting; each is reported as far as it got.
	t := start
	if dialed := d.dialedAt(); !dialed.IsZero() {
		rep.Steps = append(rep.Steps, stepTime{Step: "dial", MS: ms(dialed.Sub(t))})
		t = dialed
	}
	if o.implicitTLS && state != nil {
		rep.Steps = append(rep.Steps, stepTime{Step: "tls", MS: ms(tlsEnd.Sub(t))})
		t = tlsEnd
		rep.TLS = c.tlsInfo(state, name, roots)
	}
	if greeting.Code != 0 {
		rep.Greeting = &replyInfo{Code: greeting.Code, Text: greeting.Message}
	}
	if err != nil {
		return fail(err)
	}
	defer s.Close()
	t = mark("greeting", t)

	ehlo, err := s.probeEHLO()
	rep.EHLO = ehlo
	if err != nil {
		return fail(s.fail("EHLO", err))
	}
	t = mark("ehlo", t)

	if !o.implicitTLS && s.HasExtn("starttls") {
		rep.TLSMode = "starttls"
		r, err := s.StartTLS(cfg)
		if r.Code != 0 {
			rep.StartTLS = &replyInfo{Code: r.Code, Text: r.Message}
		}
		if err != nil {
			return fail(s.fail("STARTTLS", &tlsError{err}))
		}
		t = mark("starttls", t)
		rep.TLS = c.tlsInfo(state, name, roots)
		if rep.EHLOTLS, err = s.probeEHLO(); err != nil {
			return fail(s.fail("EHLO after STARTTLS", err))
		}
		t = mark("ehlo_tls", t)
	}
	if v, ok := s.ESMTPFeatures["size"]; ok {
		n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		rep.SizeLimit = &n
	}
	if _, err := s.Quit(); err == nil {
		mark("quit", t)
	}
	if rep.TLS != nil && !rep.TLS.Verified {
		rep.err = rep.TLS.verifyErr
		rep.Error = describe(rep.err)
	}
	return rep
}

// probeEHLO says EHLO, and HELO if the server refuses EHLO, and returns
// what the server answered.
func (s *session) probeEHLO() (*ehloInfo, error) {
	r, err := s.Ehlo("")
	if err != nil {
		return nil, err
	}
	info := &ehloInfo{Verb: "EHLO", Code: r.Code, Text: r.Message, Extensions: []extension{}}
	if r.Code == 250 {
		lines := strings.Split(r.Message, "\n")
		info.Text = lines[0]
		for _, l := range lines[1:] {
			kw, params, _ := strings.Cut(strings.TrimSpace(l), " ")
			info.Extensions = append(info.Extensions, extension{Keyword: kw, Params: strings.TrimSpace(params)})
		}
		return info, nil
	}
	hr, err := s.Helo("")
	if err != nil {
		return info, err
	}
	info = &ehloInfo{Verb: "HELO", Code: hr.Code, Text: hr.Message, Extensions: []extension{}}
	if hr.Code != 250 {
		return info, &smtplib.HeloError{ResponseError: smtplib.ResponseError{Code: hr.Code, Message: hr.Message}}
	}
	return info, nil
}

// ms is d in milliseconds, to the microsecond.
func ms(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}
