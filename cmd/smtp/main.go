// Command smtp sends mail and probes mail servers from the command line,
// in the manner of swaks, with the smtplib package doing the talking.
//
// Usage:
//
//	smtp probe [flags] HOST[:PORT]
//	smtp send [flags] --to ADDR [--to ADDR ...]
//	smtp serve [flags]
//	smtp help [probe|send|serve]
//
// probe connects, reads the greeting, says EHLO, starts TLS when the
// server offers it (or connects with implicit TLS under --tls), shows the
// TLS version, cipher and certificate chain and whether the chain
// verifies for HOST, says EHLO again over TLS, and reports the size limit
// and the time each step took; --json prints the same as one JSON object.
//
// send builds a message from --from, --to, --subject, --body, --html,
// --attach and --header, or sends a ready one with --eml, over plain SMTP,
// STARTTLS (--starttls) or implicit TLS (--tls), logging in with --user.
// The password comes from the SMTP_PASSWORD environment variable, from
// --password-file, or from a prompt on the terminal; never from a flag.
// swaks's spellings work too: -t, -f, -s, -au, -ap, --tls-on-connect.
// Without --subject or --body, the message is swaks's "test" and the date,
// and "This is a test mailing".
//
// serve is a mail catcher for development and tests: it listens on
// --listen (127.0.0.1:1025), prints each message it receives, keeps it in
// --dir, and never relays anything. See "smtp help serve".
//
// The exit status tells a script what happened:
//
//	0   the message was sent (probe: the server was probed and its
//	    certificate, if any, verified)
//	64  the command line or its input is wrong
//	69  the server refused for good (a 5xx reply), or the host does not exist
//	75  a temporary failure: a 4xx reply, a timeout, a lost connection
//	78  TLS failed, or the certificate did not verify, or the server
//	    expects TLS first (try --tls) or does not speak it
//	79  the message was sent to some recipients and refused for others,
//	    each listed on stderr: send it again to those only
//
// --debug prints the SMTP dialogue on stderr as smtplib prints it, with
// credentials redacted.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}
