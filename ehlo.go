package smtplib

import (
	"context"
	"strings"

	"github.com/gosmtplib/smtplib/internal/textutil"
)

// Helo sends HELO with name, or LocalHostname (Python's helo); a 421
// closes the client and is a [*HeloError].
func (s *SMTP) Helo(name string) (Reply, error) {
	r, err := s.DoCmd("helo", s.greetName(name))
	if err != nil {
		return r, err
	}
	if err := s.closedBy(r); err != nil {
		return r, err
	}
	s.HeloResp, s.heloDone = r.Message, true
	return r, nil
}

// closedBy closes the client when r, the reply to EHLO or HELO, is 421,
// and returns the [*HeloError] that carries it.
func (s *SMTP) closedBy(r Reply) error {
	if r.Code != 421 {
		return nil
	}
	s.noteClose(closeNote{reply: r})
	s.Close()
	return &HeloError{respErr(r)}
}

// Ehlo sends EHLO (LHLO for LMTP) with name, or LocalHostname (Python's
// ehlo), filling ESMTPFeatures; a 421 closes the client, a [*HeloError].
func (s *SMTP) Ehlo(name string) (Reply, error) {
	s.ESMTPFeatures = map[string]string{}
	r, err := s.DoCmd(s.proto().greetVerb, s.greetName(name))
	if err != nil {
		return r, err
	}
	if r.Code == -1 && r.Message == "" {
		s.Close()
		return r, &ServerDisconnectedError{Msg: "Server not connected", Err: errConnClosed}
	}
	if err := s.closedBy(r); err != nil {
		return r, err
	}
	s.EhloResp, s.ehloDone = r.Message, true
	if r.Code != 250 {
		return r, nil
	}
	s.DoesESMTP = true
	s.ESMTPFeatures = parseEHLO(r.Message)
	return r, nil
}

// greetName is the argument of EHLO and HELO: name or the local host name,
// as its IDNA A-label when it is an international domain name.
func (s *SMTP) greetName(name string) string {
	if name == "" {
		name = s.LocalHostname
	}
	return asciiHostname(name)
}

// parseEHLO reads the extension lines of an EHLO reply as smtplib does. The
// text is taken as Latin-1, so every byte is a character. Each line after
// the first is either the old "AUTH=mech ..." form (RFC 2554 drafts, still
// sent by some servers), whose mechanisms are appended to "auth", or a
// keyword ([A-Za-z0-9][A-Za-z0-9-]*) that maps, in lower case, to the rest
// of the line, trimmed. AUTH lines accumulate too, so a server that lists
// its mechanisms on several lines is understood; as in Python the "auth"
// value then starts with a space. A later line with the same keyword
// replaces an earlier one.
func parseEHLO(msg string) map[string]string {
	features := map[string]string{}
	lines := strings.Split(latin1(msg), "\n")
	for _, line := range lines[1:] {
		if len(line) >= 5 && strings.EqualFold(line[:5], "auth=") {
			features["auth"] += " " + line[5:]
			continue
		}
		n := keywordLen(line)
		if n == 0 {
			continue
		}
		kw := strings.ToLower(line[:n])
		params := strings.TrimFunc(line[n:], textutil.IsPySpace)
		if kw == "auth" {
			features[kw] += " " + params
		} else {
			features[kw] = params
		}
	}
	return features
}

// keywordLen returns the length of the EHLO keyword that starts line, 0 if
// none does.
func keywordLen(line string) int {
	alnum := func(c byte) bool {
		return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	if line == "" || !alnum(line[0]) {
		return 0
	}
	n := 1
	for n < len(line) && (alnum(line[n]) || line[n] == '-') {
		n++
	}
	return n
}

// latin1 decodes s byte by byte as ISO 8859-1, as smtplib decodes the EHLO
// reply, so that any byte a server sends becomes one valid character.
func latin1(s string) string {
	if textutil.IsASCII(s) {
		return s
	}
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}

// HasExtn reports whether the last EHLO reply advertised the extension
// name, case ignored (Python's has_extn).
func (s *SMTP) HasExtn(name string) bool {
	_, ok := s.ESMTPFeatures[pyLower(name)]
	return ok
}

// pyLower is strings.ToLower with the one difference from Python's
// str.lower that can matter here: U+0130 (capital I with dot) becomes
// "i" followed by a combining dot, not a plain "i", so that it never
// matches an ASCII keyword where Python would not. Simple case folding
// (strings.EqualFold) is not used for the same reason: it equates
// U+017F (long s) with "s", which Python's lower does not.
func pyLower(s string) string {
	if strings.ContainsRune(s, '\u0130') {
		s = strings.ReplaceAll(s, "\u0130", "i\u0307")
	}
	return strings.ToLower(s)
}

// EhloOrHeloIfNeeded says EHLO, and HELO if it is refused, unless the
// session has (Python's ehlo_or_helo_if_needed); a [*HeloError] if both
// are refused or EHLO gets 421.
func (s *SMTP) EhloOrHeloIfNeeded() error {
	return s.ehloOrHeloContext(context.Background())
}

// ehloOrHeloContext is EhloOrHeloIfNeeded bounded by ctx.
func (s *SMTP) ehloOrHeloContext(ctx context.Context) error {
	if s.heloDone || s.ehloDone {
		return nil
	}
	defer s.bind(ctx)()
	r, err := s.Ehlo("")
	if err != nil {
		return err
	}
	if r.Code >= 200 && r.Code <= 299 {
		return nil
	}
	if s.proto().heloBack {
		if r, err = s.Helo(""); err != nil {
			return err
		}
		if r.Code >= 200 && r.Code <= 299 {
			return nil
		}
	}
	return &HeloError{respErr(r)}
}
