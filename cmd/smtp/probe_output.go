package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// writeProbeJSON prints rep as one indented JSON object.
func writeProbeJSON(w io.Writer, rep *probeReport) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// writeProbeText prints rep for a person: one labelled line per step,
// its time in brackets, details indented below it. now is the time
// against which certificate expiry is told.
func writeProbeText(w io.Writer, rep *probeReport, now time.Time) error {
	bw := bufio.NewWriter(w)
	line := func(label, text string) { fmt.Fprintf(bw, "%-12s%s\n", label, text) }
	detail := func(text string) { fmt.Fprintf(bw, "%-14s%s\n", "", text) }
	took := func(step string) string {
		for _, s := range rep.Steps {
			if s.Step == step {
				return fmt.Sprintf(" (%.1f ms)", s.MS)
			}
		}
		return ""
	}
	reply := func(label string, code int, text, step string) {
		lines := strings.Split(text, "\n")
		line(label, fmt.Sprintf("%d %s%s", code, clean(lines[0]), took(step)))
		for _, l := range lines[1:] {
			detail(clean(l))
		}
	}
	ehlo := func(e *ehloInfo, step, suffix string) {
		reply(e.Verb+suffix, e.Code, e.Text, step)
		for _, x := range e.Extensions {
			detail(strings.TrimSpace(clean(x.Keyword + " " + x.Params)))
		}
	}

	if len(rep.Steps) == 0 {
		return nil // not even connected: the error says it all
	}
	mode := map[string]string{"implicit": " (implicit TLS)", "starttls": " (STARTTLS)", "none": " (no TLS)"}[rep.TLSMode]
	if rep.EHLO == nil && rep.TLSMode == "none" {
		mode = "" // not known yet
	}
	line("server", rep.Server+mode)
	if t := took("dial"); t != "" {
		line("dial", "connected"+t)
	}
	if rep.TLSMode == "implicit" && rep.TLS != nil {
		writeTLSText(line, detail, rep.TLS, took("tls"), now)
	}
	if rep.Greeting != nil {
		reply("greeting", rep.Greeting.Code, rep.Greeting.Text, "greeting")
	}
	if rep.EHLO != nil {
		ehlo(rep.EHLO, "ehlo", "")
	}
	if rep.StartTLS != nil {
		reply("STARTTLS", rep.StartTLS.Code, rep.StartTLS.Text, "starttls")
	}
	if rep.TLSMode == "starttls" && rep.TLS != nil {
		writeTLSText(line, detail, rep.TLS, "", now)
	}
	if rep.EHLOTLS != nil {
		ehlo(rep.EHLOTLS, "ehlo_tls", " (TLS)")
	}
	switch {
	case rep.SizeLimit == nil && rep.EHLO != nil:
		line("size limit", "not announced")
	case rep.SizeLimit != nil && *rep.SizeLimit == 0:
		line("size limit", "SIZE offered without a fixed limit")
	case rep.SizeLimit != nil:
		line("size limit", fmt.Sprintf("%d bytes (%s)", *rep.SizeLimit, humanBytes(*rep.SizeLimit)))
	}
	if t := took("quit"); t != "" {
		line("QUIT", "done"+t)
	}
	return bw.Flush()
}

// writeTLSText prints the TLS parameters and the certificate chain.
func writeTLSText(line func(label, text string), detail func(string), t *tlsInfo, took string, now time.Time) {
	line("TLS", t.Version+", "+t.Cipher+took)
	for i, c := range t.Chain {
		line(fmt.Sprintf("cert %d", i), clean(c.Subject))
		if len(c.Names) > 0 {
			detail("names    " + clean(strings.Join(c.Names, ", ")))
		}
		detail("issuer   " + clean(c.Issuer))
		detail("expires  " + c.NotAfter.Format("2006-01-02 15:04 UTC") + " (" + untilText(c.NotAfter, now) + ")")
	}
	if t.Verified {
		line("verified", "yes, for "+clean(t.Name))
	} else {
		line("verified", "NO, for "+clean(t.Name)+": "+clean(t.VerifyError))
	}
}

// untilText says how far t is from now, in the largest sensible unit.
func untilText(t, now time.Time) string {
	d := t.Sub(now)
	if d < 0 {
		return "expired " + roughly(-d) + " ago"
	}
	return "in " + roughly(d)
}

func roughly(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
	case d >= 2*time.Hour:
		return fmt.Sprintf("%d hours", int(d/time.Hour))
	default:
		return fmt.Sprintf("%d minutes", int(d/time.Minute))
	}
}

// humanBytes writes n in KiB, MiB or GiB, with one decimal.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, suffix := float64(n)/unit, "KiB"
	for _, s := range []string{"MiB", "GiB", "TiB"} {
		if v < unit {
			break
		}
		v, suffix = v/unit, s
	}
	return fmt.Sprintf("%.1f %s", v, suffix)
}
