package smtplib

import "fmt"

// Secret is a password or token that prints as "<redacted>".
type Secret string

const redactedText = "<redacted>"

// Format writes "<redacted>" whatever the verb and flags, so that no
// formatting of a value that holds a Secret can show it.
func (Secret) Format(f fmt.State, verb rune) {
	if verb == 'q' || f.Flag('#') {
		fmt.Fprintf(f, "%q", redactedText)
		return
	}
	f.Write([]byte(redactedText))
}

// String returns "<redacted>", never the secret.
func (Secret) String() string { return redactedText }

// GoString returns the quoted "<redacted>", never the secret.
func (Secret) GoString() string { return `"` + redactedText + `"` }

// MarshalText returns "<redacted>", never the secret.
func (Secret) MarshalText() ([]byte, error) { return []byte(redactedText), nil }
