// Package smtptest provides a fake SMTP and LMTP server for tests, in the
// manner of net/http/httptest: [NewServer] starts one on a loopback port,
// configured by options in the spirit of CPython's SimSMTPServer (offer or
// withhold an extension, script the reply to a verb, refuse an address,
// break the connection at a chosen point), and the test then asserts on
// what arrived: [Server.Messages], [Server.Transcript], [Server.Sessions].
//
// The server speaks enough of these to exercise a client fully:
//   - RFC 5321, SMTP, with Postfix's wording of replies and RFC 3463
//     enhanced status codes;
//   - RFC 1870 SIZE, RFC 2920 PIPELINING, RFC 3030 CHUNKING (BDAT),
//     RFC 6152 8BITMIME and RFC 6531 SMTPUTF8;
//   - RFC 3207 STARTTLS and RFC 8314 implicit TLS, with a generated
//     self-signed certificate that [Server.TLSConfig] trusts;
//   - RFC 4954 AUTH with PLAIN (RFC 4616), LOGIN, CRAM-MD5 (RFC 2195),
//     XOAUTH2 and OAUTHBEARER (RFC 7628), with RFC 7628's error challenge
//     for a refused token;
//   - RFC 2033 LMTP, over TCP or a Unix socket.
//
// Replies are buffered and written only when no further command is
// waiting, as a PIPELINING server does, and each write is counted in
// [Session.RoundTrips], so that a test can check how many round trips a
// client needed.
//
// It can also run as a long-lived server in a program of its own, as the
// smtp command's "serve" does: [WithListenAddr] chooses the address,
// [Server.Serve] serves until a context ends, [WithMessageHook] sees each
// message as it is accepted, and [WithoutRecording] keeps memory flat.
//
// The package imports the standard library and the module's internal
// helpers (xtext, textutil), never the smtplib package, whose tests use it.
package smtptest
