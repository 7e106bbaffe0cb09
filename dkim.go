package smtplib

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/gosmtplib/smtplib/internal/dkimsign"

	"github.com/emersion/go-msgauth/dkim"
)

// DKIM signs each message (RFC 6376) with opts, go-msgauth's options:
// relaxed/relaxed by default, From and RFC 8058's List-Unsubscribe fields
// always signed. It signs exactly the bytes sent, before MAIL (no round
// trip), reading the message twice: a []byte or *email.Message again, an
// io.ReadSeeker sought back, another io.Reader held up to [DKIMSpoolLimit].
func DKIM(opts *dkim.SignOptions) SendOption {
	var c *dkim.SignOptions
	if opts != nil {
		cp := *opts
		cp.HeaderKeys = slices.Clone(opts.HeaderKeys)
		cp.QueryMethods = slices.Clone(opts.QueryMethods)
		c = &cp
	}
	return func(o *sendOptions) { o.dkim, o.dkimSet = c, true }
}

// DKIMSpoolLimit bounds a message from an io.Reader that cannot seek, held
// in memory for [DKIM] ([ErrDKIMSpoolLimit] past it).
const DKIMSpoolLimit = 32 << 20

// ErrDKIMSpoolLimit is the [*DKIMError] of a message past [DKIMSpoolLimit].
var ErrDKIMSpoolLimit = errors.New("the message from an io.Reader that cannot seek is longer than DKIMSpoolLimit (32 MiB): give an io.ReadSeeker")

// maxDKIMHeader bounds the header held while it is looked at for the
// fields to sign; servers refuse far smaller ones (Postfix: 100 KiB).
const maxDKIMHeader = 1 << 20

// DKIMError reports a message [DKIM] could not sign, before any of its
// commands was sent; like a [*CommandError], it is not an [ErrSMTP].
type DKIMError struct {
	Err error
}

func (e *DKIMError) Error() string { return "smtplib: DKIM signing: " + e.Err.Error() }

// Unwrap returns the cause.
func (e *DKIMError) Unwrap() error { return e.Err }

// checkDKIM refuses, before anything is sent, the options that
// go-msgauth's dkim.NewSigner refuses.
func (o *sendOptions) checkDKIM(call string) error {
	if !o.dkimSet {
		return nil
	}
	d := o.dkim
	reason := ""
	switch {
	case d == nil:
		reason = "the options are nil"
	case d.Domain == "" || d.Selector == "":
		reason = "the domain and the selector are required"
	case d.Signer == nil:
		reason = "the key (Signer) is nil"
	case d.Hash != 0 && d.Hash != crypto.SHA256:
		reason = "the hash must be SHA-256"
	case !knownCanon(d.HeaderCanonicalization) || !knownCanon(d.BodyCanonicalization):
		reason = "the canonicalization must be simple or relaxed"
	}
	if reason == "" {
		switch d.Signer.Public().(type) {
		case *rsa.PublicKey, ed25519.PublicKey:
		default:
			reason = "the key must be RSA or Ed25519"
		}
	}
	if reason != "" {
		return &CommandError{Reason: call + ": DKIM: " + reason}
	}
	return nil
}

func knownCanon(c dkim.Canonicalization) bool {
	return c == "" || c == dkim.CanonicalizationSimple || c == dkim.CanonicalizationRelaxed
}

// sign makes t's DKIM signature, when its options ask for one, before its
// envelope is built: the message is read through the data writer's
// normalisation, without dot-stuffing, into the signer, and t's body is
// made ready to be read again from its start. It reports whether t can go
// on; otherwise t.err says why, and a context that ended has closed the
// connection, as any write would.
func (e *engine) sign(t *txn) bool {
	if t.o.dkim == nil {
		return true
	}
	s, b := e.s, t.b
	b.sig = nil
	src := *b // what is read to sign
	var (
		seeker io.Seeker
		start  int64
		spool  *spooler
	)
	if b.r != nil && t.msg == nil {
		if sk, ok := b.r.(io.Seeker); ok {
			if pos, err := sk.Seek(0, io.SeekCurrent); err == nil {
				seeker, start = sk, pos
			}
		}
		if seeker == nil {
			spool = &spooler{r: b.r}
			src.r = spool
		}
	}
	sig, n, err := s.signature(&src, t.o.dkim)
	if err == nil && seeker != nil {
		_, err = seeker.Seek(start, io.SeekStart)
		if err != nil {
			err = &DKIMError{Err: errors.New("seeking back to the start of the message: " + err.Error())}
		}
	}
	if err != nil {
		t.err = err
		if s.ctx != nil && s.ctx.Err() != nil {
			t.err = s.disconnected("Server not connected", s.ctx.Err())
			e.end(t.err, false)
		}
		return false
	}
	switch {
	case t.msg != nil:
		// The reader signed is spent: the message is read again, the same
		// bytes (its boundaries are fixed once made).
		r, size := t.msg.Reader(true)
		*b = body{r: r, size: int(size)}
	case spool != nil:
		b.r = bytes.NewReader(spool.buf)
	}
	if b.size < 0 {
		b.size = int(n)
	}
	b.sig = sig
	return true
}

// signature reads b's message as it will be sent and returns its
// DKIM-Signature field, folded and ending in CRLF, and the length of the
// message.
func (s *SMTP) signature(b *body, opts *dkim.SignOptions) (sig []byte, n int64, err error) {
	h := &dkimHasher{opts: *opts}
	if h.opts.HeaderCanonicalization == "" {
		h.opts.HeaderCanonicalization = dkim.CanonicalizationRelaxed
	}
	if h.opts.BodyCanonicalization == "" {
		h.opts.BodyCanonicalization = dkim.CanonicalizationRelaxed
	}
	h.body = dkimsign.NewBody(sha256.New(), h.opts.BodyCanonicalization == dkim.CanonicalizationRelaxed)
	d := newDataWriter(h, false)
	err = b.writeTo(s, d, chunkSize)
	if err == nil {
		err = d.finish()
	}
	var field string
	if err == nil {
		field, err = h.sign()
	}
	switch e := err.(type) {
	case nil:
		return []byte(field), h.n, nil
	case *readError:
		if errors.Is(e.err, ErrDKIMSpoolLimit) {
			return nil, 0, &DKIMError{Err: ErrDKIMSpoolLimit}
		}
		return nil, 0, &DKIMError{Err: fmt.Errorf("reading the message: %w", e.err)}
	case *DKIMError:
		return nil, 0, e
	}
	if s.ctx != nil && s.ctx.Err() != nil {
		return nil, 0, err
	}
	return nil, 0, &DKIMError{Err: err}
}

// dkimHasher takes the message as sent: it holds the header until its
// end, then hashes the body as it comes.
type dkimHasher struct {
	opts   dkim.SignOptions // a copy, whose HeaderKeys are extended
	head   []byte
	fields []string // the header's fields, once its end was seen
	inBody bool
	body   *dkimsign.Body
	n      int64 // the bytes of the message
}

var headerEnd = []byte("\r\n\r\n")

func (h *dkimHasher) Write(p []byte) (int, error) {
	h.n += int64(len(p))
	if h.inBody {
		h.body.Add(p)
		return len(p), nil
	}
	from := max(len(h.head)-3, 0)
	h.head = append(h.head, p...)
	switch i := bytes.Index(h.head[from:], headerEnd); {
	case bytes.HasPrefix(h.head, crlf): // no header at all
		h.startBody(0, 2)
	case i >= 0:
		h.startBody(from+i+2, from+i+4)
	case len(h.head) > maxDKIMHeader:
		return 0, &DKIMError{Err: errors.New("the header is longer than 1 MiB")}
	}
	return len(p), nil
}

// startBody takes the header, head[:end], and hashes what follows it from
// head[body:].
func (h *dkimHasher) startBody(end, body int) {
	h.fields = dkimsign.HeaderFields(h.head[:end])
	h.inBody = true
	h.body.Add(h.head[body:])
	h.head = nil
}

// sign ends the message and returns the signature field.
func (h *dkimHasher) sign() (string, error) {
	if !h.inBody {
		h.startBody(len(h.head), len(h.head)) // all header, no body
	}
	if h.opts.HeaderKeys != nil {
		h.opts.HeaderKeys = signedKeys(h.opts.HeaderKeys, h.fields)
	}
	field, err := dkimsign.Signature(&h.opts, h.fields, h.body.Sum())
	if err != nil {
		return "", &DKIMError{Err: err}
	}
	return field, nil
}

// alwaysSigned are the fields signed whenever the message has them: From,
// which DMARC aligns with the signing domain, and RFC 8058's pair, which a
// receiver trusts for one-click unsubscribe only when signed.
var alwaysSigned = []string{"From", "List-Unsubscribe", "List-Unsubscribe-Post"}

// signedKeys returns keys with each of alwaysSigned named as many times as
// the header has the field (From at least once, as go-msgauth requires),
// so that every instance is signed.
func signedKeys(keys []string, fields []string) []string {
	keys = slices.Clone(keys)
	for _, name := range alwaysSigned {
		have, want := 0, 0
		for _, k := range keys {
			if strings.EqualFold(k, name) {
				have++
			}
		}
		for _, f := range fields {
			if strings.EqualFold(dkimsign.FieldName(f), name) {
				want++
			}
		}
		if name == "From" {
			want = max(want, 1)
		}
		for ; have < want; have++ {
			keys = append(keys, name)
		}
	}
	return keys
}

// spooler keeps what is read from r, up to DKIMSpoolLimit, so that a
// reader that cannot seek can be sent after it was signed.
type spooler struct {
	r   io.Reader
	buf []byte
}

func (s *spooler) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if len(s.buf)+n > DKIMSpoolLimit {
		return 0, ErrDKIMSpoolLimit
	}
	s.buf = append(s.buf, p[:n]...)
	return n, err
}
