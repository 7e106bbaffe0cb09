// Package queueid reads the identifier a mail server gave a message out
// of its reply to the end of the data: free text, in which each common
// server has its own form (see Find). It allocates nothing: an identifier
// is a substring of the reply.
package queueid

import "strings"

// Find returns the identifier in msg, the text of a 2xx reply to the end
// of the data, its lines joined with "\n", or "" when none is in a form
// known here. Each line is looked at in turn, after its enhanced status
// code, for these forms:
//
//	Postfix, SendGrid, Mailjet  250 2.0.0 Ok: queued as 4BXf2k0Q1z                 4BXf2k0Q1z
//	Yandex                      250 2.0.0 Ok: queued on mx3.example as 1430-6ltgN  1430-6ltgN
//	Exim                        250 OK id=1xaYJg-0004NY-1M                         1xaYJg-0004NY-1M
//	Sendmail, OpenSMTPD         250 2.0.0 1b2c3d4e Message accepted for delivery   1b2c3d4e
//	Microsoft 365, Exchange     250 2.0.0 OK <AB12@x.outlook.com> [Hostname=...]   <AB12@x.outlook.com>
//	Amazon SES                  250 Ok 0100018f2b4c6d8e-...-000000                 0100018f2b4c6d8e-...-000000
//	Gmail                       250 2.0.0 OK  1712345678 x1-2002...12 - gsmtp      x1-2002...12
//	Dovecot LMTP                250 2.0.0 <bob@example.com> 8MIHIs7I...:R2 Saved   8MIHIs7I...:R2
//	Haraka                      250 Message Queued (4A9F3B1C-...-2F3A4B.1)         4A9F3B1C-...-2F3A4B.1
//	Stalwart                    250 2.0.0 Message queued with id 2f1a9c0b7d3e.     2f1a9c0b7d3e
//
// Keywords are matched regardless of case. Microsoft's identifier is the
// Internet Message-ID, kept in its angle brackets as Exchange's message
// trace takes it; Dovecot's is the LMTP session id its log prefixes each
// delivery with.
func Find(msg string) string {
	for msg != "" {
		var line string
		line, msg, _ = strings.Cut(msg, "\n")
		if id := lineQueueID(line); id != "" {
			return id
		}
	}
	return ""
}

// lineQueueID finds an identifier in one line of a reply, by the forms
// that QueueID lists, in that order.
func lineQueueID(line string) string {
	line = trimBlanks(skipEnhancedCode(trimBlanks(line)))
	if line == "" {
		return ""
	}
	// The forms with a keyword before the identifier.
	if i := indexFold(line, "queued "); i >= 0 {
		rest := line[i+len("queued "):]
		switch {
		case hasPrefixFold(rest, "as "):
			return queueWord(rest[len("as "):])
		case hasPrefixFold(rest, "with id "):
			return queueWord(rest[len("with id "):])
		case hasPrefixFold(rest, "on "):
			// "queued on mx.example as ID": skip the host.
			rest = trimBlanks(rest[len("on "):])
			if j := indexBlank(rest); j > 0 && hasPrefixFold(rest[j+1:], "as ") {
				return queueWord(rest[j+1+len("as "):])
			}
		case strings.HasPrefix(rest, "("):
			if j := strings.IndexByte(rest, ')'); j > 1 && indexBlank(rest[1:j]) < 0 {
				return rest[1:j]
			}
		}
	}
	for rest, at := line, 0; ; {
		i := indexFold(rest, "id=")
		if i < 0 {
			break
		}
		if at+i == 0 || line[at+i-1] == ' ' { // "id=", not "msgid="
			if id := queueWord(rest[i+len("id="):]); id != "" {
				return id
			}
		}
		rest, at = rest[i+len("id="):], at+i+len("id=")
	}
	// The forms with a keyword after it.
	text := strings.TrimRight(line, ".")
	if before, ok := cutSuffixFold(text, " message accepted for delivery"); ok {
		if indexBlank(before) < 0 && !isOK(before) {
			return before // the one word before the sentence
		}
	}
	if before, ok := cutSuffixFold(text, " saved"); ok && strings.HasPrefix(before, "<") {
		// Dovecot's "<rcpt> session-id Saved".
		if j := strings.Index(before, "> "); j > 0 {
			if id := before[j+2:]; id != "" && indexBlank(id) < 0 {
				return id
			}
		}
	}
	if before, ok := strings.CutSuffix(line, " - gsmtp"); ok {
		if id := lastQueueWord(before); !isOK(id) {
			return id
		}
	}
	// The forms known by their place.
	if id := exchangeID(line); id != "" {
		return id
	}
	return sesID(line)
}

// exchangeID reads Exchange's "OK <id> [Hostname=...]" (Microsoft 365) and
// "<id> [InternalId=...] Queued mail for delivery" (Exchange Server): an
// Internet Message-ID first, optionally after "OK", then the end of the
// line, a bracketed note or "Queued mail for delivery". Requiring what
// follows keeps other replies that start with an address out.
func exchangeID(line string) string {
	if hasPrefixFold(line, "ok ") {
		line = trimBlanks(line[len("ok "):])
	}
	if !strings.HasPrefix(line, "<") {
		return ""
	}
	end := strings.IndexByte(line, '>')
	if end < 2 || indexBlank(line[:end]) >= 0 {
		return ""
	}
	id, rest := line[:end+1], line[end+1:]
	if rest == "" || strings.HasPrefix(rest, " [") || hasPrefixFold(rest, " queued mail for delivery") {
		return id
	}
	return ""
}

// sesID reads Amazon SES's "Ok <message id>", whose identifier is hex
// digits in dash-separated groups (0100018f2b4c6d8e-<uuid>-000000). The
// shape is required, so that "250 Ok thanks" names nothing.
func sesID(line string) string {
	if !hasPrefixFold(line, "ok ") {
		return ""
	}
	id := trimBlanks(line[len("ok "):])
	if len(id) < 20 || !strings.Contains(id, "-") {
		return ""
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; !sesIDByte(c) {
			return ""
		}
	}
	return id
}

// skipEnhancedCode removes an RFC 3463 status code ("2.0.0") and the blanks
// after it from the start of line. Servers with ENHANCEDSTATUSCODES put one
// on every line of a reply.
func skipEnhancedCode(line string) string {
	i := 0
	for part := 0; part < 3; part++ {
		n := 0
		for i < len(line) && n < 3 && line[i] >= '0' && line[i] <= '9' {
			i, n = i+1, n+1
		}
		if n == 0 || (part == 0 && n != 1) {
			return line
		}
		if part < 2 {
			if i >= len(line) || line[i] != '.' {
				return line
			}
			i++
		}
	}
	if i < len(line) && line[i] != ' ' && line[i] != '\t' {
		return line
	}
	return trimBlanks(line[i:])
}

// queueWord returns the identifier at the start of s: up to the first blank,
// less a final period, comma or semicolon (an identifier ending a
// sentence, or the first of a list).
func queueWord(s string) string {
	s = trimBlanks(s)
	if i := indexBlank(s); i >= 0 {
		s = s[:i]
	}
	for s != "" && (s[len(s)-1] == '.' || s[len(s)-1] == ',' || s[len(s)-1] == ';') {
		s = s[:len(s)-1]
	}
	return s
}

// lastQueueWord returns the last blank-separated word of s.
func lastQueueWord(s string) string {
	s = trimBlanks(s)
	i := len(s)
	for i > 0 && !isSpaceTab(s[i-1]) {
		i--
	}
	return s[i:]
}

// trimBlanks removes spaces, tabs and CRs at both ends of s. (The
// strings functions taking a cutset cost a set built on each call.)
func trimBlanks(s string) string {
	for s != "" && (isSpaceTab(s[0]) || s[0] == '\r') {
		s = s[1:]
	}
	for s != "" && (isSpaceTab(s[len(s)-1]) || s[len(s)-1] == '\r') {
		s = s[:len(s)-1]
	}
	return s
}

// indexBlank returns the index of the first space or tab in s, or -1.
func indexBlank(s string) int {
	for i := 0; i < len(s); i++ {
		if isSpaceTab(s[i]) {
			return i
		}
	}
	return -1
}

func isSpaceTab(c byte) bool { return c == ' ' || c == '\t' }

// indexFold is strings.Index ignoring ASCII case; sub is lower case.
func indexFold(s, sub string) int {
	first, upper := sub[0], sub[0]
	if 'a' <= first && first <= 'z' {
		upper -= 'a' - 'A'
	}
	for i := 0; i+len(sub) <= len(s); i++ {
		if c := s[i]; (c == first || c == upper) && hasPrefixFold(s[i+1:], sub[1:]) {
			return i
		}
	}
	return -1
}

// hasPrefixFold is strings.HasPrefix ignoring ASCII case; prefix is lower
// case.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

// cutSuffixFold is strings.CutSuffix ignoring ASCII case; suffix is lower
// case.
func cutSuffixFold(s, suffix string) (string, bool) {
	if len(s) < len(suffix) || !hasPrefixFold(s[len(s)-len(suffix):], suffix) {
		return s, false
	}
	return s[:len(s)-len(suffix)], true
}

// isOK reports whether w is the word "OK", which some servers put where
// others put an identifier.
func isOK(w string) bool { return len(w) == 2 && hasPrefixFold(w, "ok") }

// sesIDByte reports whether c may appear in an SES message id: a hex
// digit or a dash.
func sesIDByte(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' || c == '-'
}
