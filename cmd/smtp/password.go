package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"
)

// password returns the password for --user: from SMTP_PASSWORD, from
// --password-file, or typed at a prompt on the terminal, in that order.
// A flag never carries it, since any user of the machine can read a
// process's arguments. There is none with --oauth2-token-cmd.
func (c *cli) password(o *sendOptions) (string, error) {
	if o.user == "" || o.tokenCmd != "" {
		return "", nil
	}
	if p := c.env("SMTP_PASSWORD"); p != "" {
		return p, nil
	}
	if o.passwordFile != "" {
		b, err := os.ReadFile(o.passwordFile)
		if err != nil {
			return "", usageErrorf("--password-file: %v", err)
		}
		// The first line, so that a file written by an editor, with its
		// final newline, works.
		line, _, _ := strings.Cut(string(b), "\n")
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			return "", usageErrorf("--password-file: %s has no password on its first line", o.passwordFile)
		}
		return line, nil
	}
	if !c.isTerminal(c.stdin) {
		return "", usageErrorf("--user %s needs a password: set SMTP_PASSWORD, give --password-file, or run on a terminal to be asked", o.user)
	}
	fmt.Fprintf(c.stderr, "Password for %s: ", o.user)
	p, err := c.readPassword()
	fmt.Fprintln(c.stderr)
	if err != nil {
		return "", usageErrorf("reading the password: %v", err)
	}
	p = bytes.TrimRight(p, "\r\n")
	if len(p) == 0 {
		return "", usageErrorf("no password given")
	}
	return string(p), nil
}
