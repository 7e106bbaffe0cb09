package smtplib

import "strings"

// EnhancedCode returns the reply's RFC 3463 code ({5, 1, 1} for "550 5.1.1
// No such user"), zeros when there is none.
func (r Reply) EnhancedCode() [3]int { return enhancedCode(r.Code, r.Message) }

// Temporary reports whether the reply is a transient (4xx) refusal.
func (r Reply) Temporary() bool { return r.Code >= 400 && r.Code <= 499 }

// EnhancedCode returns the enhanced status code of the error's reply.
func (e *ResponseError) EnhancedCode() [3]int {
	if e.parsed {
		return e.enhanced
	}
	return enhancedCode(e.Code, e.Message)
}

// EnhancedCode returns the enhanced status code all refusals share, if any.
func (e *RecipientsRefusedError) EnhancedCode() [3]int {
	var code [3]int
	first := true
	for _, r := range e.Recipients {
		c := r.EnhancedCode()
		if !first && c != code {
			return [3]int{}
		}
		code, first = c, false
	}
	return code
}

// Temporary reports whether every refusal was transient (4xx).
func (e *RecipientsRefusedError) Temporary() bool {
	for _, r := range e.Recipients {
		if !r.Temporary() {
			return false
		}
	}
	return len(e.Recipients) > 0
}

// enhancedCode parses "class.subject.detail" (RFC 3463 section 2: class 2,
// 4 or 5; subject and detail one to three digits) at the start of the
// first line of msg, followed by white space or the end of the line. The
// reply text has already lost its leading blanks.
func enhancedCode(code int, msg string) [3]int {
	class := code / 100
	if code < 200 || code > 599 || class == 3 {
		return [3]int{}
	}
	line, _, _ := strings.Cut(msg, "\n")
	var ec [3]int
	for i := range ec {
		n, digits := 0, 0
		for digits < len(line) && digits < 4 && line[digits] >= '0' && line[digits] <= '9' {
			n = n*10 + int(line[digits]-'0')
			digits++
		}
		// The class is one digit, the others one to three.
		if digits == 0 || digits > 3 || (i == 0 && digits != 1) {
			return [3]int{}
		}
		ec[i], line = n, line[digits:]
		if i < 2 {
			if line == "" || line[0] != '.' {
				return [3]int{}
			}
			line = line[1:]
		}
	}
	if line != "" && line[0] != ' ' && line[0] != '\t' {
		return [3]int{}
	}
	if ec[0] != class {
		return [3]int{}
	}
	return ec
}
