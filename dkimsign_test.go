package smtplib

import (
	"bytes"
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// normalised returns msg as the server receives it: through the data
// writer, without dot-stuffing.
func normalised(t *testing.T, msg []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	d := newDataWriter(&out, false)
	_, err := d.Write(msg)
	require.NoError(t, err)
	require.NoError(t, d.finish())
	return out.Bytes()
}

// msgauthSignature is go-msgauth's signature field for data.
func msgauthSignature(t *testing.T, data []byte, o *dkim.SignOptions) string {
	t.Helper()
	s, err := dkim.NewSigner(o)
	require.NoError(t, err)
	_, err = s.Write(data)
	require.NoError(t, err)
	require.NoError(t, s.Close())
	return s.Signature()
}

// TestDKIMSignatureAsMsgauth checks the signing pass against go-msgauth's
// Signer: for the same message, options and second, the same field, byte
// for byte (both key types sign deterministically), for every
// canonicalization and for awkward whitespace, folding, repeated fields
// and empty lines.
func TestDKIMSignatureAsMsgauth(t *testing.T) {
	long := strings.Repeat("a long line without any blank at all, ", 300)
	messages := map[string]string{
		"plain": "From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: hi\r\n\r\nHello\r\n",
		"whitespace": "From:alice@example.com  \r\nSubject:  folded\r\n\tover  two\r\n   lines \r\nX-Empty:\r\n" +
			"RECEIVED: one\r\nReceived: two\r\nreceived: three\r\n\r\n" +
			"  leading\t blanks\r\ntrailing blanks \t \r\n\t\r\n \r\ninner   \t blanks\r\n\r\n\r\n \t\r\n",
		"lone line ends":    "From: a@example.com\nSubject: x\r\n\nline\rline\n\n\n",
		"no final line end": "From: a@example.com\r\n\r\nno end",
		"empty body":        "From: a@example.com\r\nSubject: x\r\n\r\n",
		"only empty lines":  "From: a@example.com\r\n\r\n\r\n\r\n \r\n",
		"long runs":         "From: a@example.com\r\n\r\n" + long + "\r\n" + strings.Repeat("x ", 5000) + "\r\n",
	}
	keysets := map[string][]string{"all fields": nil, "some": {"Subject", "From", "Received", "Received", "X-Absent"}}
	for name, msg := range messages {
		for _, k := range dkimKeys() {
			for _, canon := range []dkim.Canonicalization{dkim.CanonicalizationSimple, dkim.CanonicalizationRelaxed} {
				for kname, keys := range keysets {
					o := k.opts()
					o.HeaderCanonicalization, o.BodyCanonicalization = canon, canon
					o.HeaderKeys = keys
					o.Identifier = "@example.com"
					o.Expiration = time.Unix(4102444800, 0)
					o.QueryMethods = []dkim.QueryMethod{dkim.QueryMethodDNSTXT}
					t.Run(name+"/"+k.name+"/"+string(canon)+"/"+kname, func(t *testing.T) {
						data := normalised(t, []byte(msg))
						if keys != nil {
							o.HeaderKeys = signedKeys(keys, headerFields(data[:bytes.Index(data, headerEnd)+2]))
						}
						// The two run in the same second but at a turn of it.
						var ours, theirs string
						for range 3 {
							sig, n, err := (&SMTP{}).signature(&body{b: []byte(msg), size: len(msg)}, o)
							require.NoError(t, err)
							assert.Equal(t, int64(len(data)), n)
							ours, theirs = string(sig), msgauthSignature(t, data, o)
							if ours == theirs {
								break
							}
						}
						assert.Equal(t, theirs, ours)
						assert.NoError(t, goVerify(append([]byte(ours), data...)))
					})
				}
			}
		}
	}
}

// TestBodyCanonSplit feeds a body to the canonicalizer split at every
// place: the hash is the same as for the body in one piece.
func TestBodyCanonSplit(t *testing.T) {
	body := []byte("  a \t b\r\n\r\n \t\r\nc  \r\n\r\n  \r\n")
	for _, relaxed := range []bool{false, true} {
		whole := &bodyCanon{h: sha256.New(), relaxed: relaxed}
		whole.write(body)
		want := whole.sum()
		for i := range body {
			c := &bodyCanon{h: sha256.New(), relaxed: relaxed}
			c.write(body[:i])
			c.write(body[i:])
			assert.Equal(t, want, c.sum(), "relaxed %v, split at %d", relaxed, i)
		}
	}
}

// TestBodyCanonNoAllocation checks that hashing a body allocates nothing
// per write, whatever its size: the memory of a large signed message stays
// the send's.
func TestBodyCanonNoAllocation(t *testing.T) {
	piece := bytes.Repeat([]byte("some words  and\tblanks \r\n\r\n"), 1000)
	for _, relaxed := range []bool{false, true} {
		c := &bodyCanon{h: sha256.New(), relaxed: relaxed}
		allocs := testing.AllocsPerRun(100, func() { c.write(piece) })
		assert.Zero(t, allocs, "relaxed %v", relaxed)
	}
}
