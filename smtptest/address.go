package smtptest

import "strings"

// parsePath parses the argument of MAIL or RCPT: prefix ("FROM:" or
// "TO:", any case), optional spaces, a path in angle brackets, then
// parameters separated by spaces. It returns the address without the
// brackets or any source route (RFC 5321 section 4.1.2), and the
// parameters as sent.
func parsePath(arg, prefix string) (addr string, params []string, ok bool) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", nil, false
	}
	rest := strings.TrimLeft(arg[len(prefix):], " ")
	if rest == "" || rest[0] != '<' {
		return "", nil, false
	}
	end := closingBracket(rest)
	if end < 0 {
		return "", nil, false
	}
	addr, rest = rest[1:end], rest[end+1:]
	if rest != "" && rest[0] != ' ' {
		return "", nil, false
	}
	// A source route "@a,@b:" is obsolete; RFC 5321 says to ignore it.
	if strings.HasPrefix(addr, "@") {
		if i := strings.IndexByte(addr, ':'); i >= 0 {
			addr = addr[i+1:]
		}
	}
	return addr, strings.Fields(rest), true
}

// closingBracket returns the index of the '>' closing the path that s
// starts with, or -1. A quoted local part may hold '>' and spaces
// (<"x> y"@example.com>), and backslash escapes within quotes.
func closingBracket(s string) int {
	quoted := false
	for i := 1; i < len(s); i++ {
		switch {
		case quoted && s[i] == '\\':
			i++
		case s[i] == '"':
			quoted = !quoted
		case !quoted && s[i] == '>':
			return i
		}
	}
	return -1
}

// paramValue returns the value of the ESMTP parameter key (any case).
func paramValue(params []string, key string) (string, bool) {
	for _, p := range params {
		k, v, _ := strings.Cut(p, "=")
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return "", false
}

func hasParam(params []string, key string) bool {
	_, ok := paramValue(params, key)
	return ok
}
