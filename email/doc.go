// Package email builds and reads Internet messages as Python's email
// package does: [Message] is Python's EmailMessage under policy.default,
// and also the message that smtplib's SMTP.SendMessage sends. It knows
// nothing of SMTP; the smtplib package (github.com/gosmtplib/smtplib)
// imports it to send messages.
//
// The package's name follows Python's. A program that already has a
// variable called email names the import, for example:
//
//	import mail "github.com/gosmtplib/smtplib/email"
//
// (any name will do that does not clash with net/mail, whose Header type
// [Message.Header] returns).
//
// # Reading messages
//
// [ReadMessage] keeps every byte it reads: a message is written back
// ([Message.WriteTo], [Message.Bytes], [Message.Reader]) exactly as it was
// read, DKIM signatures intact, until a builder method changes it. Header
// fields keep their order, repetitions, name case, folding and line
// endings. [Message.Get] and [Message.Values] give the values decoded, as
// Python's msg[name] and get_all do (RFC 2047 encoded-words decoded,
// folding undone); [Message.Header] gives them as sent.
//
// [Message.GetBody], [Message.IterAttachments], [Message.IterParts],
// [Message.Walk] and [Message.GetContent] take a read or a built message
// apart as Python's get_body, iter_attachments, iter_parts, walk and
// get_content do.
//
// Reading costs time and memory in proportion to the message, whatever
// its shape, so that a received message cannot knock its reader over:
// ReadMessage holds the body once, and the parts, found in one pass over
// it, are views into it rather than copies; nesting deeper than
// [MaxDepth] is left unparsed. A structure that cannot be taken apart as
// it claims (no boundary, no delimiter line, a part without a header) is
// read as Python reads it and recorded in [Message.Defects], never
// refused.
//
// # Building messages
//
// [NewMessage] (or a declared Message, Python's EmailMessage()), then
// [Message.SetContent], [Message.AddAlternative], [Message.AddRelated] and
// [Message.AddAttachment] build what Python's EmailMessage builds for the
// same calls, under policy.SMTP.clone(cte_type="7bit"): the same tree,
// content types, parameters and transfer encodings, 7-bit clean, CRLF,
// lines of at most 78 characters where the encoding allows
// (quoted-printable lines of at most 76). Where Python raises ValueError
// for add_related or add_alternative on a message that is already
// multipart/alternative or multipart/mixed, the call goes to the part
// Python's documentation would call it on (the HTML part, the body part);
// parts get no MIME-Version field of their own; a body with no Content-
// field is kept as the first part rather than dropped; and attachments
// are base64-encoded while the message is written or sent, so a large one
// is never held twice.
//
// [Message.Set] and [Message.Add] store non-ASCII text as RFC 2047
// encoded-words and never let a CR or LF start a new field; filenames are
// RFC 2231-encoded. [MakeMsgid] and [FormatDatetime] are Python's
// email.utils.make_msgid and format_datetime.
//
// # Standards
//
//   - RFC 5322, Internet messages, and RFC 6532, UTF-8 in their header
//   - RFC 2045 and 2046, MIME: multipart, base64, quoted-printable
//   - RFC 2047, encoded-words in the header
//   - RFC 2231, parameter values beyond ASCII and continuations
//   - RFC 2183, Content-Disposition; RFC 2392, Content-IDs
//
// # Concurrency
//
// The reading methods (Get, Values, Header, GetContent, GetBody,
// IterParts, IterAttachments, Walk and the like) change nothing, and a
// Message may be read by several goroutines at once. Writing a message
// that the builder methods changed ([Message.WriteTo], [Message.Bytes],
// [Message.Reader], [Message.Body]) may first re-encode its 8-bit parts
// and give a multipart a new boundary, as Python's generator does, and
// counts as a change: a Message is not safe for concurrent use when one
// of the goroutines changes it.
package email
