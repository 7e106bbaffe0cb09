package smtplib

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/email"
	"github.com/gosmtplib/smtplib/internal/dkimsign"
	"github.com/gosmtplib/smtplib/smtptest"
)

// The test keys: one RSA-2048 and one Ed25519 key, made once, published
// (for the verifiers) as selectors "rsa" and "ed25519" of example.com.
var (
	testRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		return k
	})
	testEdKey = sync.OnceValue(func() ed25519.PrivateKey {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	})
)

type dkimKey struct {
	name   string // the selector
	signer crypto.Signer
}

func dkimKeys() []dkimKey {
	return []dkimKey{{"rsa", testRSAKey()}, {"ed25519", testEdKey()}}
}

func (k dkimKey) opts() *dkim.SignOptions {
	return &dkim.SignOptions{Domain: "example.com", Selector: k.name, Signer: k.signer}
}

// dkimRecords are the TXT records of the test keys, by DNS name (no
// final dot).
func dkimRecords() map[string]string {
	rsaDER, err := x509.MarshalPKIXPublicKey(&testRSAKey().PublicKey)
	if err != nil {
		panic(err)
	}
	return map[string]string{
		"rsa._domainkey.example.com": "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(rsaDER),
		"ed25519._domainkey.example.com": "v=DKIM1; k=ed25519; p=" +
			base64.StdEncoding.EncodeToString(testEdKey().Public().(ed25519.PublicKey)),
	}
}

// goVerify checks data's one DKIM signature with go-msgauth, its key
// looked up in dkimRecords.
func goVerify(data []byte) error {
	records := dkimRecords()
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(data), &dkim.VerifyOptions{
		LookupTXT: func(name string) ([]string, error) {
			if r, ok := records[strings.TrimSuffix(name, ".")]; ok {
				return []string{r}, nil
			}
			return nil, fmt.Errorf("no TXT record for %s", name)
		},
	})
	if err != nil {
		return err
	}
	if len(vs) != 1 {
		return fmt.Errorf("%d signatures", len(vs))
	}
	return vs[0].Err
}

// signedMessage is a message with RFC 8058's fields, lone LFs (made CRLF
// on the way) and a line-starting period (doubled under DATA), labelled
// so that a test can tell which call sent it.
func signedMessage(label string) []byte {
	return []byte("From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nBcc: hidden@example.org\r\n" +
		"Subject: signed\r\nX-Case: " + label + "\r\n" +
		"List-Unsubscribe: <https://example.com/unsubscribe/opaque-1>\r\n" +
		"List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n\r\n" +
		"Hello Bob,\n.a line that starts with a period\nand  spaces   inside\r\n\r\n\r\n")
}

// sigTags returns the tags of data's first DKIM-Signature field.
func sigTags(t *testing.T, data []byte) map[string]string {
	t.Helper()
	require.True(t, bytes.HasPrefix(data, []byte("DKIM-Signature: ")), "the signature goes first")
	end := regexp.MustCompile(`\r\n[^ \t]`).FindIndex(data)
	require.NotNil(t, end)
	field := strings.NewReplacer("\r\n", "", " ", "", "\t", "").Replace(string(data[len("DKIM-Signature: "):end[0]]))
	tags := map[string]string{}
	for tag := range strings.SplitSeq(field, ";") {
		k, v, _ := strings.Cut(tag, "=")
		tags[k] = v
	}
	return tags
}

// sizeParam returns the SIZE parameter of a message's MAIL, -1 if none.
func sizeParam(m smtptest.Message) int {
	for _, o := range m.MailOptions {
		if k, v, ok := strings.Cut(o, "="); ok && strings.EqualFold(k, "size") {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return -1
}

// TestDKIMSendmail signs with each key in every mode: the signature goes
// first, covers what arrived (go-msgauth verifies it), is relaxed/relaxed
// by default and counted in SIZE, and signing adds no round trip.
func TestDKIMSendmail(t *testing.T) {
	for _, mode := range modes {
		for _, k := range dkimKeys() {
			t.Run(mode.name+"/"+k.name, func(t *testing.T) {
				srv := smtptest.NewServer(t, smtptest.WithExtensions(mode.ext...))
				c := dialTest(t, srv)
				msg := signedMessage("sendmail")
				for _, opts := range [][]SendOption{nil, {DKIM(k.opts())}} {
					_, err := c.Sendmail("alice@example.com", []string{"bob@example.org"}, msg, opts...)
					require.NoError(t, err)
				}
				_, err := c.Quit()
				require.NoError(t, err)
				got := srv.Messages()
				require.Len(t, got, 2)
				plain, signed := got[0], got[1]
				assert.NoError(t, goVerify(signed.Data))
				tags := sigTags(t, signed.Data)
				assert.Equal(t, "relaxed/relaxed", tags["c"])
				assert.Equal(t, map[string]string{"rsa": "rsa-sha256", "ed25519": "ed25519-sha256"}[k.name], tags["a"])
				sig := len(signed.Data) - len(plain.Data)
				assert.Equal(t, plain.Data, signed.Data[sig:], "the message follows the signature unchanged")
				assert.Equal(t, len(msg)+sig, sizeParam(signed), "SIZE counts the signature")

				require.NoError(t, srv.WaitSessions(1, sessionWait))
				tr := srv.Sessions()[0].Transcript
				assert.Equal(t, strings.Count(tr, "C: MAIL")+strings.Count(tr, "C: mail"), 2)
			})
		}
	}
}

// TestDKIMNoRoundTrip checks that signing costs no round trip: with
// PIPELINING and CHUNKING a signed mail takes as many as an unsigned one.
func TestDKIMNoRoundTrip(t *testing.T) {
	trips := map[bool]int{}
	for _, signed := range []bool{false, true} {
		srv := smtptest.NewServer(t, smtptest.WithExtensions("PIPELINING", "CHUNKING", "SIZE 0"))
		c := dialTest(t, srv)
		var opts []SendOption
		if signed {
			opts = append(opts, DKIM(dkimKeys()[1].opts()))
		}
		_, err := c.Sendmail("alice@example.com", []string{"bob@example.org"}, signedMessage("trips"), opts...)
		require.NoError(t, err)
		_, err = c.Quit()
		require.NoError(t, err)
		require.NoError(t, srv.WaitSessions(1, sessionWait))
		trips[signed] = srv.Sessions()[0].RoundTrips
	}
	assert.Equal(t, trips[false], trips[true])
}

// TestDKIMUnsubscribeAlwaysSigned gives a header list that leaves out
// RFC 8058's fields (go-mail's default does) and From: they are signed
// all the same, each instance, and the caller's options are not changed.
func TestDKIMUnsubscribeAlwaysSigned(t *testing.T) {
	srv := smtptest.NewServer(t)
	c := dialTest(t, srv)
	opts := dkimKeys()[1].opts()
	opts.HeaderKeys = []string{"Subject", "To"}
	before := *opts
	msg := signedMessage("keys")
	msg = append([]byte("List-Unsubscribe: <mailto:u@example.com>\r\n"), msg...)
	_, err := c.Sendmail("alice@example.com", []string{"bob@example.org"}, msg, DKIM(opts))
	require.NoError(t, err)
	assert.Equal(t, []string{"Subject", "To"}, opts.HeaderKeys)
	assert.Equal(t, before, *opts)

	data := srv.Messages()[0].Data
	require.NoError(t, goVerify(data))
	assert.Equal(t, "Subject:To:From:List-Unsubscribe:List-Unsubscribe:List-Unsubscribe-Post", sigTags(t, data)["h"])
	for _, tamper := range []struct{ from, to string }{
		{"List-Unsubscribe=One-Click", "List-Unsubscribe=One-Clack"},
		{"opaque-1", "opaque-2"},
		{"<mailto:u@example.com>", "<mailto:x@example.com>"},
		{"From: Alice", "From: Mallory"},
	} {
		bad := bytes.Replace(data, []byte(tamper.from), []byte(tamper.to), 1)
		assert.Error(t, goVerify(bad), "%s changed", tamper.from)
	}
}

// TestDKIMBadOptions checks that options no message can be signed with
// are the caller's mistake, found before anything is sent.
func TestDKIMBadOptions(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	key := testEdKey()
	tests := []struct {
		name string
		opts *dkim.SignOptions
		want string
	}{
		{"nil", nil, "the options are nil"},
		{"no domain", &dkim.SignOptions{Selector: "s", Signer: key}, "the domain and the selector are required"},
		{"no selector", &dkim.SignOptions{Domain: "example.com", Signer: key}, "the domain and the selector are required"},
		{"no key", &dkim.SignOptions{Domain: "example.com", Selector: "s"}, "the key (Signer) is nil"},
		{"ECDSA", &dkim.SignOptions{Domain: "example.com", Selector: "s", Signer: ec}, "the key must be RSA or Ed25519"},
		{"SHA-1", &dkim.SignOptions{Domain: "example.com", Selector: "s", Signer: key, Hash: crypto.SHA1}, "the hash must be SHA-256"},
		{"canonicalization", &dkim.SignOptions{Domain: "example.com", Selector: "s", Signer: key, BodyCanonicalization: "loose"},
			"the canonicalization must be simple or relaxed"},
	}
	srv := smtptest.NewServer(t)
	c := dialTest(t, srv)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Sendmail("alice@example.com", []string{"bob@example.org"}, signedMessage("bad"), DKIM(tt.opts))
			var ce *CommandError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "Sendmail: DKIM: "+tt.want, ce.Reason)
			assert.NotErrorIs(t, err, ErrSMTP)
		})
	}
	assert.NotContains(t, strings.ToUpper(srv.Transcript()), "MAIL FROM")
}

// plainReader hides every method of its reader but Read.
type plainReader struct{ r io.Reader }

func (p plainReader) Read(b []byte) (int, error) { return p.r.Read(b) }

// patternReader gives n bytes of a message: a header, then lines of text.
type patternReader struct{ n, off int }

func (p *patternReader) Read(b []byte) (int, error) {
	const head = "From: alice@example.com\r\nSubject: long\r\n\r\n"
	const line = "0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 01234567\r\n"
	if p.off >= p.n {
		return 0, io.EOF
	}
	n := 0
	for n < len(b) && p.off < p.n {
		var c byte
		if p.off < len(head) {
			c = head[p.off]
		} else {
			c = line[(p.off-len(head))%len(line)]
		}
		b[n] = c
		n++
		p.off++
	}
	return n, nil
}

// TestDKIMReaders signs messages from each kind of reader: one that seeks
// is signed from where it stands and read again from there, one that
// cannot is held in memory, and its SIZE is then declared.
func TestDKIMReaders(t *testing.T) {
	msg := signedMessage("reader")
	tests := []struct {
		name string
		r    func() io.Reader
		size int // SIZE declared, -1 for none
	}{
		{"bytes.Reader", func() io.Reader { return bytes.NewReader(msg) }, len(msg)},
		{"ReadSeeker mid-way", func() io.Reader {
			r := bytes.NewReader(append([]byte("skipped\r\n"), msg...))
			_, err := r.Seek(int64(len("skipped\r\n")), io.SeekStart)
			require.NoError(t, err)
			return struct{ io.ReadSeeker }{r} // no Len: SIZE comes from the signing pass
		}, len(msg) + 2}, // lone LFs made CRLF
		{"plain reader", func() io.Reader { return plainReader{bytes.NewReader(msg)} }, len(msg) + 2},
		{"bytes.Buffer", func() io.Reader { return bytes.NewBuffer(msg) }, len(msg)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, smtptest.WithExtensions("PIPELINING", "CHUNKING", "SIZE 0"))
			c := dialTest(t, srv)
			_, err := c.SendmailReader("alice@example.com", []string{"bob@example.org"}, tt.r(), DKIM(dkimKeys()[0].opts()))
			require.NoError(t, err)
			m := srv.Messages()[0]
			assert.NoError(t, goVerify(m.Data))
			sig := bytes.Index(m.Data, []byte("From: Alice"))
			assert.Equal(t, tt.size+sig, sizeParam(m))
		})
	}
}

// failAfterReader gives some bytes, then fails.
type failAfterReader struct {
	r   io.Reader
	err error
}

func (f *failAfterReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

// TestDKIMFailures checks that a message that cannot be signed fails with
// a *DKIMError before anything of its transaction is written, and that the
// session goes on: the next mail is sent.
func TestDKIMFailures(t *testing.T) {
	broken := errors.New("disk on fire")
	tests := []struct {
		name  string
		r     io.Reader
		cause error
		text  string
	}{
		{"reader fails", &failAfterReader{strings.NewReader("Subject: x\r\n\r\nbody\r\n"), broken}, broken,
			"smtplib: DKIM signing: reading the message: disk on fire"},
		{"too long to hold", &patternReader{n: DKIMSpoolLimit + 1}, ErrDKIMSpoolLimit,
			"smtplib: DKIM signing: the message from an io.Reader that cannot seek is longer than DKIMSpoolLimit (32 MiB): give an io.ReadSeeker"},
		{"header too long", io.LimitReader(plainReader{strings.NewReader(strings.Repeat("X-Long: "+strings.Repeat("x", 990)+"\r\n", 1100))}, 2<<20), nil,
			"smtplib: DKIM signing: the header is longer than 1 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, smtptest.WithPipelining(), smtptest.WithChunking())
			c := dialTest(t, srv)
			_, err := c.SendmailReader("alice@example.com", []string{"bob@example.org"}, tt.r, DKIM(dkimKeys()[1].opts()))
			var de *DKIMError
			require.ErrorAs(t, err, &de)
			assert.EqualError(t, err, tt.text)
			if tt.cause != nil {
				assert.ErrorIs(t, err, tt.cause)
			}
			assert.NotErrorIs(t, err, ErrSMTP)
			assert.NotContains(t, strings.ToUpper(srv.Transcript()), "MAIL FROM", "nothing of the mail was sent")

			_, err = c.Sendmail("alice@example.com", []string{"bob@example.org"}, signedMessage("next"), DKIM(dkimKeys()[1].opts()))
			require.NoError(t, err, "the session goes on")
			assert.Len(t, srv.Messages(), 1)
		})
	}
}

// cancellingReader cancels its context on the first read.
type cancellingReader struct {
	r      io.Reader
	cancel context.CancelFunc
}

func (c *cancellingReader) Read(p []byte) (int, error) {
	c.cancel()
	return c.r.Read(p)
}

// TestDKIMContextEnds ends the context while the message is being signed:
// as for any call, the client is closed and the error says why; nothing of
// the mail was sent.
func TestDKIMContextEnds(t *testing.T) {
	srv := smtptest.NewServer(t)
	c := dialTest(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := &cancellingReader{r: &patternReader{n: 1 << 20}, cancel: cancel}
	_, err := c.SendmailReaderContext(ctx, "alice@example.com", []string{"bob@example.org"}, r, DKIM(dkimKeys()[1].opts()))
	var sd *ServerDisconnectedError
	require.ErrorAs(t, err, &sd)
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, err, ErrNotSent)
	assert.NotContains(t, strings.ToUpper(srv.Transcript()), "MAIL FROM")
	_, err = c.Noop()
	assert.Error(t, err, "the client is closed")
}

// builtMessage is an *email.Message with every kind of part, so that
// its multipart boundaries are generated.
func builtMessage(t testing.TB, label string, attachment []byte) *email.Message {
	t.Helper()
	m := email.NewMessage("Alice <alice@example.com>", []string{"bob@example.org"}, "built "+label, "Hello Bob,\n.period\n")
	m.Set("Bcc", "hidden@example.org")
	m.Set("X-Case", label)
	require.NoError(t, m.SetListUnsubscribe("https://example.com/unsubscribe?id=opaque-2", "unsubscribe@example.com"))
	require.NoError(t, m.AddAlternative("<p>Hello Bob</p>", "html"))
	require.NoError(t, m.AddRelated([]byte("GIF89a"), "image", "gif", "<logo@example.com>"))
	require.NoError(t, m.AddAttachment(attachment, "application", "octet-stream", "data.bin"))
	return m
}

// TestDKIMMessageReadTwice checks what signing a built message relies on:
// two readers of it give the same bytes, boundaries included, and the size
// it declares.
func TestDKIMMessageReadTwice(t *testing.T) {
	// A read message with an 8-bit text, which adding an attachment makes
	// the first write re-encode; and a text that holds the first boundary
	// made, which the first write replaces.
	read, err := email.ReadMessage(strings.NewReader("From: a@example.com\r\nContent-Type: text/plain; charset=iso-8859-1\r\n" +
		"Content-Transfer-Encoding: 8bit\r\n\r\nGr\xfc\xdfe\r\n"))
	require.NoError(t, err)
	require.NoError(t, read.AddAttachment([]byte("data"), "application", "octet-stream", "d.bin"))
	built := builtMessage(t, "twice", bytes.Repeat([]byte{0, 1, 2, 0xff}, 5000))
	clash := email.NewMessage("a@example.com", []string{"b@example.org"}, "clash", "text")
	require.NoError(t, clash.AddAttachment([]byte("data"), "application", "octet-stream", "d.bin"))
	_, boundary, ok := strings.Cut(clash.Get("Content-Type"), `boundary="`)
	require.True(t, ok, clash.Get("Content-Type"))
	boundary, _, _ = strings.Cut(boundary, `"`)
	for p := range clash.IterParts() {
		require.NoError(t, p.SetContent("--"+boundary+"\n", ""))
		break
	}
	for name, m := range map[string]*email.Message{"read and changed": read, "built": built, "boundary in the text": clash} {
		r1, size1 := m.Reader(true)
		b1, err := io.ReadAll(r1)
		require.NoError(t, err)
		r2, size2 := m.Reader(true)
		b2, err := io.ReadAll(r2)
		require.NoError(t, err)
		assert.Equal(t, string(b1), string(b2), name)
		assert.Equal(t, size1, size2, name)
		assert.Equal(t, int64(len(b1)), size1, name)
		assert.Contains(t, string(b1), "boundary=", name)
	}
	assert.NotContains(t, clash.Get("Content-Type"), boundary, "the first write gave a new boundary")
}

// TestDKIMSendMessage signs built and read messages with SendMessage, in
// SendBatch and through a Pool: without their Bcc, and verified.
func TestDKIMSendMessage(t *testing.T) {
	read, err := email.ReadMessage(bytes.NewReader(signedMessage("read")))
	require.NoError(t, err)
	srv := smtptest.NewServer(t, smtptest.WithExtensions("PIPELINING", "CHUNKING", "8BITMIME", "SIZE 0"))
	c := dialTest(t, srv)
	sign := DKIM(dkimKeys()[0].opts())
	for _, m := range []*email.Message{builtMessage(t, "send", []byte("data")), read} {
		_, err := c.SendMessage(m, sign)
		require.NoError(t, err)
	}
	res, err := c.SendBatch(context.Background(), []Mail{
		{Message: builtMessage(t, "batch", []byte("data")), Options: []SendOption{sign}},
		{From: "alice@example.com", To: []string{"bob@example.org"}, Data: signedMessage("batch"), Options: []SendOption{sign}},
	})
	require.NoError(t, err)
	for _, r := range res {
		require.NoError(t, r.Err)
	}
	got := srv.Messages()
	require.Len(t, got, 4)
	for i, m := range got[:3] {
		assert.NoError(t, goVerify(m.Data), "message %d", i)
		assert.NotContains(t, string(m.Data), "hidden@example.org", "message %d", i)
		assert.Equal(t, len(m.Data), sizeParam(m), "message %d: SIZE is what was sent", i)
	}
	assert.NoError(t, goVerify(got[3].Data))
	assert.Contains(t, string(got[3].Data), "hidden@example.org", "Data is sent as it is")
}

// TestDKIMPoolResend checks that a mail a Pool sends again, after its
// first connection failed before the end of its data, is signed afresh
// from its start: the second copy verifies too.
func TestDKIMPoolResend(t *testing.T) {
	for _, data := range []bool{true, false} {
		t.Run(map[bool]string{true: "Data", false: "Message"}[data], func(t *testing.T) {
			srv := smtptest.NewServer(t, smtptest.WithPipelining(), smtptest.WithFault(smtptest.Fault{At: "MAIL"}))
			d := &poolDialer{srv: srv}
			p := NewPool(d.dial, WithPoolSize(1))
			m := Mail{Options: []SendOption{DKIM(dkimKeys()[1].opts())}}
			if data {
				m.From, m.To, m.Data = "alice@example.com", []string{"bob@example.org"}, signedMessage("pool")
			} else {
				m.Message = builtMessage(t, "pool", []byte("data"))
			}
			r := p.Send(context.Background(), m)
			require.NoError(t, r.Err, "sent again on a new connection")
			closePool(t, p)
			assert.Equal(t, int32(2), d.dials.Load())
			got := srv.Messages()
			require.Len(t, got, 1)
			assert.NoError(t, goVerify(got[0].Data))
			assert.Equal(t, 1, bytes.Count(got[0].Data, []byte("DKIM-Signature:")))
		})
	}
}

// TestDKIMLMTP signs over LMTP as over SMTP.
func TestDKIMLMTP(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.WithLMTP())
	l, err := DialLMTP(srv.Host(), srv.Port(), WithTimeout(testTimeout))
	require.NoError(t, err)
	defer l.Close()
	_, err = l.Sendmail("alice@example.com", []string{"bob@example.org", "cat@example.org"}, signedMessage("lmtp"),
		DKIM(dkimKeys()[0].opts()))
	require.NoError(t, err)
	got := srv.Messages()
	require.Len(t, got, 1)
	assert.NoError(t, goVerify(got[0].Data))
}

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
							o.HeaderKeys = signedKeys(keys, dkimsign.HeaderFields(data[:bytes.Index(data, headerEnd)+2]))
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
