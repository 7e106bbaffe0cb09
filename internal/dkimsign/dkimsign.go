// Package dkimsign makes DKIM signatures (RFC 6376; RFC 8463 for Ed25519)
// in one pass over a message as it is sent, with no allocation per byte,
// formatted as github.com/emersion/go-msgauth formats them: its Signer's
// canonicalizers allocate twice the message's size as they go, so that
// streaming a large message would make the garbage collector's heap, not
// the message, set the memory used.
package dkimsign

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-msgauth/dkim"
)

// NewBody returns the hash of a body, made with h (SHA-256), relaxed or
// simple.
func NewBody(h hash.Hash, relaxed bool) *Body { return &Body{h: h, relaxed: relaxed} }

// Body hashes a message body as RFC 6376 section 3.4.3 (simple) or
// 3.4.4 (relaxed) canonicalizes it. Its input comes from the data writer,
// so every line ends in CRLF: a CR is always the first half of one.
type Body struct {
	h       hash.Hash
	relaxed bool
	pending int  // line ends not yet hashed: they may end the body, and go
	wsp     bool // relaxed: blanks seen since the last byte hashed
	any     bool // something but line ends was hashed
	n       int
	buf     [4096]byte
}

// Add hashes the next bytes of the body, lines ending in CRLF.
func (c *Body) Add(p []byte) {
	for i := 0; i < len(p); {
		switch b := p[i]; {
		case b == '\n':
			c.pending++
			c.wsp = false
			i++
		case b == '\r':
			c.wsp = false
			i++
		case c.relaxed && (b == ' ' || b == '\t'):
			c.wsp = true
			i++
		default:
			j := i + 1
			for j < len(p) && !c.special(p[j]) {
				j++
			}
			for ; c.pending > 0; c.pending-- {
				c.put(crlf)
			}
			if c.wsp {
				c.put(space)
				c.wsp = false
			}
			c.put(p[i:j])
			c.any = true
			i = j
		}
	}
}

var space = []byte{' '}

func (c *Body) special(b byte) bool {
	return b == '\r' || b == '\n' || c.relaxed && (b == ' ' || b == '\t')
}

// put hashes p through the buffer, so that short runs cost no call each.
func (c *Body) put(p []byte) {
	if c.n+len(p) > len(c.buf) {
		c.h.Write(c.buf[:c.n])
		c.n = 0
		if len(p) > len(c.buf) {
			c.h.Write(p)
			return
		}
	}
	c.n += copy(c.buf[c.n:], p)
}

// Sum ends the body: the empty lines at its end are dropped, and its last
// line ends in CRLF; an empty body is a CRLF (simple) or nothing (relaxed).
func (c *Body) Sum() []byte {
	if c.any || !c.relaxed {
		c.put(crlf)
	}
	c.h.Write(c.buf[:c.n])
	return c.h.Sum(nil)
}

// HeaderFields splits a header (CRLF line ends, without the empty line
// after it) into fields as go-msgauth reads them: each with its
// continuation lines and its final CRLF.
func HeaderFields(head []byte) []string {
	var fields []string
	for len(head) > 0 {
		i := bytes.Index(head, crlf)
		if i < 0 {
			i = len(head) // cannot happen: the data writer ends the data with CRLF
			head = append(head, crlf...)
		}
		line := string(head[:i+2])
		head = head[i+2:]
		if len(fields) > 0 && (line[0] == ' ' || line[0] == '\t') {
			fields[len(fields)-1] += line
		} else {
			fields = append(fields, line)
		}
	}
	return fields
}

// FieldName is the name of a field as go-msgauth takes it.
func FieldName(field string) string {
	name, _, _ := strings.Cut(field, ":")
	return strings.TrimSpace(name)
}

// appendCanonHeader appends field canonicalized as go-msgauth does (RFC
// 6376 sections 3.4.1 and 3.4.2).
func appendCanonHeader(dst []byte, field string, relaxed bool) []byte {
	if !relaxed {
		return append(dst, field...)
	}
	k, v, ok := strings.Cut(field, ":")
	if !ok {
		return append(append(dst, strings.TrimSpace(strings.ToLower(field))...), ":\r\n"...)
	}
	dst = append(append(dst, strings.TrimSpace(strings.ToLower(k))...), ':')
	// The value's words, one space between them.
	sep, word := false, false
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case ' ', '\t', '\r', '\n':
			sep = word
		default:
			if sep {
				dst = append(dst, ' ')
				sep = false
			}
			dst, word = append(dst, c), true
		}
	}
	return append(dst, "\r\n"...)
}

// dkimTag is one tag of the signature field.
type dkimTag struct{ name, value string }

// signatureField returns the DKIM-Signature field with tags (in
// alphabetical order) and b, folded as go-msgauth folds it.
func signatureField(tags []dkimTag, b string) string {
	var s strings.Builder
	s.Grow(128 + 80*len(tags)/3 + len(b)*77/75)
	s.WriteString("DKIM-Signature:")
	line := 0 // the length of the line's tags
	for _, t := range tags {
		if 3+line+len(t.value)+len(t.name) > 75 {
			s.WriteString("\r\n")
			line = 0
		}
		s.WriteString(" " + t.name + "=" + t.value + ";")
		line += len(t.name) + len(t.value) + 3
	}
	s.WriteString("\r\n")
	for rest := " b=" + b; ; {
		n := min(len(rest), 75)
		s.WriteString(rest[:n])
		if rest = rest[n:]; rest == "" {
			break
		}
		s.WriteString("\r\n ")
	}
	s.WriteString("\r\n")
	return s.String()
}

// Signature signs the header fields and the body hash bh with o (its
// canonicalizations set) and returns the DKIM-Signature field, folded,
// ending in CRLF.
func Signature(o *dkim.SignOptions, fields []string, bh []byte) (string, error) {
	algo, hashOpt := "rsa-sha256", crypto.Hash(crypto.SHA256)
	if _, ok := o.Signer.Public().(ed25519.PublicKey); ok {
		// Ed25519 signs the SHA-256 digest itself (RFC 8463 section 3).
		algo, hashOpt = "ed25519-sha256", crypto.Hash(0)
	}
	keys := o.HeaderKeys
	if keys == nil {
		for _, f := range fields {
			keys = append(keys, FieldName(f))
		}
	}
	tags := []dkimTag{
		{"a", algo},
		{"bh", base64.StdEncoding.EncodeToString(bh)},
		{"c", string(o.HeaderCanonicalization) + "/" + string(o.BodyCanonicalization)},
		{"d", o.Domain},
		{"h", strings.Join(keys, ":")},
	}
	if o.Identifier != "" {
		tags = append(tags, dkimTag{"i", o.Identifier})
	}
	if o.QueryMethods != nil {
		q := make([]string, len(o.QueryMethods))
		for i, m := range o.QueryMethods {
			q[i] = string(m)
		}
		tags = append(tags, dkimTag{"q", strings.Join(q, ":")})
	}
	tags = append(tags, dkimTag{"s", o.Selector}, dkimTag{"t", strconv.FormatInt(time.Now().Unix(), 10)}, dkimTag{"v", "1"})
	if !o.Expiration.IsZero() {
		tags = append(tags, dkimTag{"x", strconv.FormatInt(o.Expiration.Unix(), 10)})
	}

	relaxed := o.HeaderCanonicalization == dkim.CanonicalizationRelaxed
	var data []byte // what is signed
	// Each name in h= takes the last instance of the field not yet taken
	// (RFC 6376 section 5.4.2); a name with none left adds nothing.
	taken := map[string]int{}
	for _, k := range keys {
		k = strings.ToLower(k)
		skip := taken[k]
		for i := len(fields) - 1; i >= 0; i-- {
			if !strings.EqualFold(FieldName(fields[i]), k) {
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			taken[k]++
			data = appendCanonHeader(data, fields[i], relaxed)
			break
		}
	}
	data = bytes.TrimRight(appendCanonHeader(data, signatureField(tags, ""), relaxed), "\r\n")
	digest := sha256.Sum256(data)
	sig, err := o.Signer.Sign(rand.Reader, digest[:], hashOpt)
	if err != nil {
		return "", err
	}
	return signatureField(tags, base64.StdEncoding.EncodeToString(sig)), nil
}

var crlf = []byte("\r\n")
