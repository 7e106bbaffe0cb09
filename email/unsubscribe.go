package email

import (
	"net/url"
	"strings"
)

// SetListUnsubscribe offers one-click unsubscribe (RFC 8058), as Gmail
// and Outlook.com require of bulk senders: it sets
//
//	List-Unsubscribe: <https://...>, <mailto:...>
//	List-Unsubscribe-Post: List-Unsubscribe=One-Click
//
// replacing any such fields. httpsURL is where the receiver POSTs
// "List-Unsubscribe=One-Click"; it must be https (RFC 8058 section 3.1)
// and should carry an opaque token naming the recipient and the list.
// mailto, an address or a "mailto:" URL, may be "". Characters that
// cannot stand between angle brackets (blanks, control and non-ASCII
// characters, <, > and ") must be percent-encoded.
//
// The receiver honours the fields only when a DKIM signature covers
// both: smtplib's DKIM option always signs them.
func (m *Message) SetListUnsubscribe(httpsURL, mailto string) error {
	if m == nil {
		return buildError("SetListUnsubscribe on a nil message")
	}
	if err := checkListURL(httpsURL); err != nil {
		return err
	}
	u, err := url.Parse(httpsURL)
	if err != nil || !strings.EqualFold(u.Scheme, "https") || u.Host == "" {
		return buildError("SetListUnsubscribe: one-click unsubscribe needs an https URL (RFC 8058 section 3.1), not %q", httpsURL)
	}
	value := "<" + httpsURL + ">"
	if mailto != "" {
		if len(mailto) < 7 || !strings.EqualFold(mailto[:7], "mailto:") {
			mailto = "mailto:" + mailto
		}
		if err := checkListURL(mailto); err != nil {
			return err
		}
		if !strings.Contains(mailto, "@") {
			return buildError("SetListUnsubscribe: %q has no address", mailto)
		}
		value += ", <" + mailto + ">"
	}
	m.Set("List-Unsubscribe", value)
	m.Set("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
	return nil
}

// checkListURL refuses a URL that cannot go between angle brackets as it
// is (RFC 2369 section 2).
func checkListURL(s string) error {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == '"' {
			return buildError("SetListUnsubscribe: %q has a character that must be percent-encoded", s)
		}
	}
	return nil
}
