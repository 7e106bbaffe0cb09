package smtptest

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gosmtplib/smtplib/internal/xtext"
)

// RcptDSN is what one RCPT asked of delivery status notifications (RFC
// 3461), decoded.
type RcptDSN struct {
	// Notify are the NOTIFY conditions in upper case, as sent ("SUCCESS",
	// "FAILURE", "DELAY" or "NEVER"); nil without NOTIFY.
	Notify []string
	// ORcptType is ORCPT's address type in lower case ("rfc822",
	// "utf-8"), "" without ORCPT.
	ORcptType string
	// ORcpt is ORCPT's original recipient address, decoded from xtext
	// (or, for "utf-8", from RFC 6533's \x{...} escapes).
	ORcpt string
}

// WithDSN offers DSN (RFC 3461). The server then checks and decodes MAIL's
// RET and ENVID and each RCPT's NOTIFY and ORCPT, refusing a malformed one
// with 501 as Postfix does, and records them in [Message]'s Ret, EnvID and
// DSN. Without DSN the parameters are accepted unread, as before.
func WithDSN() Option {
	return func(s *Server) { s.setExtension("DSN") }
}

// WithRequireTLS offers REQUIRETLS (RFC 8689) in sessions under TLS only,
// as a server does that can keep the promise; a MAIL with REQUIRETLS
// outside TLS, or to a server that does not offer it, gets 530. A message
// sent with it has [Message].RequireTLS set. To offer REQUIRETLS in clear
// text as well (to test a client's own check), list it in
// [WithExtensions].
func WithRequireTLS() Option {
	return func(s *Server) {
		s.setExtension("REQUIRETLS")
		s.requireTLSOnlyTLS = true
	}
}

// WithEnhancedStatusCodes offers ENHANCEDSTATUSCODES (RFC 2034). The
// server's own replies carry an RFC 3463 code ("550 5.1.1 ...") whether or
// not it is offered, as Postfix's do; scripted replies are sent as given.
func WithEnhancedStatusCodes() Option {
	return func(s *Server) { s.setExtension("ENHANCEDSTATUSCODES") }
}

// WithoutEnhancedStatusCodes takes the RFC 3463 code out of every reply
// the server makes itself ("550 No such user" instead of "550 5.1.1 No such
// user"), as a server older than RFC 2034 answers, and withholds
// ENHANCEDSTATUSCODES. Scripted replies ([WithReply], [WithRefuseRecipient],
// ...) are still sent exactly as given.
func WithoutEnhancedStatusCodes() Option {
	return func(s *Server) {
		s.noEnhancedCodes = true
		if s.Extensions == nil {
			s.Extensions = append([]string{}, defaultExtensions...)
		}
		s.Extensions = slices.DeleteFunc(s.Extensions, func(l string) bool {
			return strings.EqualFold(keyword(l), "ENHANCEDSTATUSCODES")
		})
	}
}

// stripEnhancedCodes takes "class.subject.detail " off the start of each
// line's text in a reply ("250-2.1.0 Ok" becomes "250-Ok").
func stripEnhancedCodes(text string) string {
	lines := strings.Split(text, "\r\n")
	for i, l := range lines {
		if len(l) < 4 {
			continue
		}
		rest := l[4:]
		code, after, ok := strings.Cut(rest, " ")
		if ok && isEnhancedCode(code) {
			lines[i] = l[:4] + after
		} else if isEnhancedCode(rest) {
			lines[i] = l[:3]
		}
	}
	return strings.Join(lines, "\r\n")
}

// isEnhancedCode tells whether s is "class.subject.detail": one digit 2,
// 4 or 5, then one to three digits twice.
func isEnhancedCode(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 3 || len(parts[0]) != 1 || !strings.Contains("245", parts[0]) {
		return false
	}
	for _, p := range parts[1:] {
		if len(p) < 1 || len(p) > 3 || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}

// checkMailStatus checks MAIL's RET, ENVID and REQUIRETLS, returning the
// refusal to send, or "".
func (c *session) checkMailStatus(params []string) string {
	if hasParam(params, "REQUIRETLS") && (!c.tls || !c.has("REQUIRETLS")) {
		return "530 5.7.10 REQUIRETLS needs a TLS session with a server that offers it"
	}
	if !c.has("DSN") {
		return ""
	}
	if _, _, err := mailDSN(params); err != nil {
		return "501 5.5.4 " + err.Error()
	}
	return ""
}

// mailDSN decodes MAIL's RET and ENVID.
func mailDSN(params []string) (ret, envID string, err error) {
	if v, ok := paramValue(params, "RET"); ok {
		ret = strings.ToUpper(v)
		if ret != "FULL" && ret != "HDRS" {
			return "", "", dsnRefusal("Bad RET parameter syntax")
		}
	}
	if v, ok := paramValue(params, "ENVID"); ok {
		envID, err = xtext.Decode(v)
		if err != nil || envID == "" || len(envID) > 100 || !printable(envID) {
			return "", "", dsnRefusal("Bad ENVID parameter syntax")
		}
	}
	return ret, envID, nil
}

// rcptDSN decodes one RCPT's NOTIFY and ORCPT.
func rcptDSN(params []string) (RcptDSN, error) {
	var d RcptDSN
	if v, ok := paramValue(params, "NOTIFY"); ok {
		seen := map[string]bool{}
		for _, kw := range strings.Split(strings.ToUpper(v), ",") {
			switch kw {
			case "SUCCESS", "FAILURE", "DELAY", "NEVER":
			default:
				return d, dsnRefusal("Error: Bad NOTIFY parameter syntax")
			}
			if seen[kw] {
				return d, dsnRefusal("Error: Bad NOTIFY parameter syntax")
			}
			seen[kw] = true
			d.Notify = append(d.Notify, kw)
		}
		if seen["NEVER"] && len(d.Notify) > 1 {
			return d, dsnRefusal("Error: Bad NOTIFY parameter syntax")
		}
	}
	if v, ok := paramValue(params, "ORCPT"); ok {
		typ, addr, found := strings.Cut(v, ";")
		var err error
		switch d.ORcptType = strings.ToLower(typ); {
		case !found:
			err = fmt.Errorf("no address type")
		case d.ORcptType == "utf-8":
			d.ORcpt, err = xtext.DecodeUTF8Addr(addr)
		default:
			d.ORcpt, err = xtext.Decode(addr)
			if err == nil && !printable(d.ORcpt) {
				err = fmt.Errorf("not printable")
			}
		}
		if err != nil || d.ORcpt == "" {
			return d, dsnRefusal("Error: Bad ORCPT parameter syntax")
		}
	}
	return d, nil
}

// printable tells whether s is printable ASCII, spaces included, as RFC
// 3461 requires of ENVID and of an rfc822 ORCPT once decoded.
func printable(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r > '~' })
}

// dsnRefusal is the text of the 501 reply to a malformed DSN parameter,
// in Postfix's words.
type dsnRefusal string

func (e dsnRefusal) Error() string { return string(e) }
