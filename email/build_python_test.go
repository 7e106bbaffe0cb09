package email

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"mime"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosmtplib/smtplib/internal/textutil"
)

// The messages of this file are built twice, here and by Python 3.13's
// EmailMessage under policy.SMTP.clone(cte_type="7bit"), with the same
// calls in the same order, then compared part by part: structure, content
// types and their parameters, dispositions, filenames, transfer encodings,
// Content-IDs and decoded payloads, and what get_body and iter_attachments
// pick. Each side also reads the other's bytes, so the reader is checked
// against Python's on messages Python wrote.

// buildOp is one builder call, as testdata/build/compare.py reads it.
type buildOp struct {
	Op       string `json:"op"`
	Path     []int  `json:"path,omitempty"` // the part it is called on
	Name     string `json:"name,omitempty"`
	Value    string `json:"value,omitempty"`
	Text     string `json:"text,omitempty"`
	Subtype  string `json:"subtype,omitempty"`
	Data     []byte `json:"data,omitempty"`
	Maintype string `json:"maintype,omitempty"`
	Cid      string `json:"cid,omitempty"`
	Filename string `json:"filename,omitempty"`
}

func hdr(name, value string) buildOp { return buildOp{Op: "header", Name: name, Value: value} }
func content(text, subtype string) buildOp {
	return buildOp{Op: "set_content", Text: text, Subtype: subtype}
}
func alternative(text, subtype string, path ...int) buildOp {
	return buildOp{Op: "add_alternative", Text: text, Subtype: subtype, Path: path}
}
func related(data string, maintype, subtype, cid string, path ...int) buildOp {
	return buildOp{Op: "add_related", Data: []byte(data), Maintype: maintype, Subtype: subtype, Cid: cid, Path: path}
}
func attachment(data string, maintype, subtype, filename string, path ...int) buildOp {
	return buildOp{Op: "add_attachment", Data: []byte(data), Maintype: maintype, Subtype: subtype, Filename: filename, Path: path}
}

// applyOps builds a message from ops with this package.
func applyOps(ops []buildOp) (*Message, error) {
	m := &Message{}
	for _, op := range ops {
		if op.Op == "read" {
			var err error
			if m, err = ReadMessage(bytes.NewReader(op.Data)); err != nil {
				return nil, err
			}
			continue
		}
		target := m
		for _, i := range op.Path {
			target = partsOf(target)[i]
		}
		var err error
		switch op.Op {
		case "header":
			target.Set(op.Name, op.Value)
		case "set_content":
			err = target.SetContent(op.Text, op.Subtype)
		case "add_alternative":
			err = target.AddAlternative(op.Text, op.Subtype)
		case "add_related":
			err = target.AddRelated(op.Data, op.Maintype, op.Subtype, op.Cid)
		case "add_attachment":
			err = target.AddAttachment(op.Data, op.Maintype, op.Subtype, op.Filename)
		}
		if err != nil {
			return nil, err
		}
	}
	return m, nil
}

// partDesc and msgDesc are what compare.py's describe writes.
type partDesc struct {
	Type        string            `json:"type"`
	Params      map[string]string `json:"params"`
	Disposition string            `json:"disposition"`
	Filename    string            `json:"filename"`
	CTE         string            `json:"cte"`
	CID         string            `json:"cid"`
	Multipart   bool              `json:"multipart"`
	Parts       []partDesc        `json:"parts,omitempty"`
	Payload     []byte            `json:"payload,omitempty"`
}

type msgDesc struct {
	partDesc
	Body        []int          `json:"body"`
	Plain       []int          `json:"plain"`
	Attachments [][]int        `json:"attachments"`
	Headers     map[string]any `json:"headers"`
}

// describe reads data with this package and describes it as compare.py
// does, through JSON so that both descriptions have the same Go types.
func describe(t *testing.T, data []byte) msgDesc {
	t.Helper()
	m, err := ReadMessage(bytes.NewReader(data))
	require.NoError(t, err)
	var tree func(p *Message) partDesc
	tree = func(p *Message) partDesc {
		d := partDesc{Type: p.GetContentType(), Params: map[string]string{}, Filename: p.GetFilename(),
			CTE: strings.ToLower(p.Get("Content-Transfer-Encoding")), CID: p.Get("Content-ID"), Multipart: p.IsMultipart()}
		if p.Has("Content-Type") {
			_, d.Params = parseMediaHeader(p.Get("Content-Type"))
			delete(d.Params, "boundary")
		}
		if p.Has("Content-Disposition") {
			d.Disposition, _ = parseMediaHeader(p.Get("Content-Disposition"))
		}
		if d.Multipart {
			for sub := range p.IterParts() {
				d.Parts = append(d.Parts, tree(sub))
			}
		} else {
			payload, err := p.GetContent()
			require.NoError(t, err)
			if p.contentMaintype() == "text" {
				// Python's get_payload(decode=True) leaves the charset alone;
				// the messages here are all UTF-8 or ASCII.
				payload = bytes.Clone(payload)
			}
			d.Payload = payload // omitted when empty, as compare.py omits it
		}
		return d
	}
	desc := msgDesc{partDesc: tree(m), Attachments: [][]int{}, Headers: map[string]any{}}
	desc.Body = partPath(m, m.GetBody())
	desc.Plain = partPath(m, m.GetBody("plain"))
	for a := range m.IterAttachments() {
		desc.Attachments = append(desc.Attachments, partPath(m, a))
	}
	dec := new(mime.WordDecoder)
	for _, name := range []string{"Subject", "From", "To", "Cc"} {
		if !m.Has(name) {
			continue
		}
		if name == "Subject" {
			s, err := dec.DecodeHeader(m.Get(name))
			require.NoError(t, err)
			desc.Headers[name] = s
			continue
		}
		list, err := (&mail.AddressParser{WordDecoder: dec}).ParseList(m.Get(name))
		require.NoError(t, err, "%s: %s", name, m.Get(name))
		var pairs [][]string
		for _, a := range list {
			pairs = append(pairs, []string{a.Name, a.Address})
		}
		desc.Headers[name] = pairs
	}
	return viaJSON(t, desc)
}

func viaJSON(t *testing.T, d msgDesc) msgDesc {
	t.Helper()
	b, err := json.Marshal(d)
	require.NoError(t, err)
	var out msgDesc
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

// partPath is the index path from root to part, or nil.
func partPath(root, part *Message) []int {
	if part == nil {
		return nil
	}
	if root == part {
		return []int{}
	}
	for i, sub := range partsOf(root) {
		if p := partPath(sub, part); p != nil {
			return append([]int{i}, p...)
		}
	}
	return nil
}

// python313 finds a Python 3.13 or newer: $SMTPLIB_PYTHON, python3.13 on
// the PATH, a pyenv 3.13 under $HOME, or python3 if it is recent enough.
func python313() (string, string) {
	return findPython(13, "the builder is compared with Python 3.13's EmailMessage")
}

// findPython finds a Python 3.minor or newer as python313 does, or says
// why not, and what for.
func findPython(minor int, what string) (string, string) {
	var tried []string
	candidates := []string{os.Getenv("SMTPLIB_PYTHON")}
	if p, err := exec.LookPath(fmt.Sprintf("python3.%d", minor)); err == nil {
		candidates = append(candidates, p)
	}
	if home, err := os.UserHomeDir(); err == nil {
		found, _ := filepath.Glob(filepath.Join(home, ".pyenv/versions/3.*/bin/python3"))
		candidates = append(candidates, found...)
	}
	if p, err := exec.LookPath("python3"); err == nil {
		candidates = append(candidates, p)
	}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		tried = append(tried, c)
		check := fmt.Sprintf("import sys; sys.exit(sys.version_info < (3, %d))", minor)
		if exec.Command(c, "-c", check).Run() == nil {
			return c, ""
		}
	}
	return "", fmt.Sprintf("no Python 3.%d or newer found (tried %s; set SMTPLIB_PYTHON): %s",
		minor, strings.Join(tried, ", "), what)
}

// pyBuilt is a message compare.py built, or the exception it raised.
type pyBuilt struct {
	Bytes []byte `json:"bytes"`
	Error string `json:"error"`
}

// runCompare sends a request to compare.py and returns its answer.
func runCompare(t *testing.T, python string, req any) ([]pyBuilt, []msgDesc) {
	t.Helper()
	resp := askCompare(t, python, req)
	return resp.Built, resp.Described
}

// compareAnswer is what compare.py writes.
type compareAnswer struct {
	Built     []pyBuilt        `json:"built"`
	Described []msgDesc        `json:"described"`
	Decoded   [][]decodedField `json:"decoded"`
}

// decodedField is a field name and the values Python's get_all gives for
// it under policy.default.
type decodedField struct {
	Name   string
	Values []string
}

func (f *decodedField) UnmarshalJSON(b []byte) error {
	var pair []json.RawMessage
	if err := json.Unmarshal(b, &pair); err != nil || len(pair) != 2 {
		return fmt.Errorf("a field is [name, values]: %s", b)
	}
	if err := json.Unmarshal(pair[0], &f.Name); err != nil {
		return err
	}
	return json.Unmarshal(pair[1], &f.Values)
}

// askCompare runs compare.py on a request.
func askCompare(t *testing.T, python string, req any) compareAnswer {
	t.Helper()
	in, err := json.Marshal(req)
	require.NoError(t, err)
	cmd := exec.Command(python, filepath.Join("testdata", "build", "compare.py"))
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "compare.py: %s", stderr.String())
	var resp compareAnswer
	require.NoError(t, json.Unmarshal(out, &resp))
	return resp
}

// pythonCase is one message built on both sides. goOps, when set, are the
// calls made here where Python needs others for the same intent (Python
// raises for them; the Go builder builds what Python's documentation
// builds by hand). wantErr: both sides refuse the calls.
type pythonCase struct {
	name    string
	ops     []buildOp
	goOps   []buildOp
	wantErr bool
}

func read(raw string) buildOp { return buildOp{Op: "read", Data: []byte(raw)} }

// Messages as other mailers send them, for the cases that start by reading.
const (
	latin1Text = "From: a@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGr=FC=DFe aus K=F6ln\r\n"
	readMixed = "From: a@example.com\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"frontier\"\r\n\r\n" +
		"A preamble.\r\n--frontier\r\nContent-Type: text/plain\r\n\r\nHello.\r\n" +
		"--frontier\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n" +
		"Content-Disposition: attachment; filename*=iso-8859-1''%E9t%E9.bin\r\n\r\nAAECAw==\r\n--frontier--\r\nAn epilogue.\r\n"
	readAlternative = "From: a@example.com\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=alt\r\n\r\n" +
		"--alt\r\nContent-Type: text/plain; charset=windows-1252\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\x80 5\r\n" +
		"--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>\xe2\x82\xac 5</p>\r\n--alt--\r\n"
)

var (
	png    = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + strings.Repeat("\x00\xff", 40)
	pdf    = "%PDF-1.4\n" + strings.Repeat("binary \x00\x01\x02\xfe\xff ", 300)
	header = []buildOp{hdr("From", "Jörg Müller <joerg@example.de>"), hdr("To", "bob@example.org, Ñandú <n@example.org>"),
		hdr("Subject", "Grüße aus München, "+strings.Repeat("lange Betreffzeile ", 5)+"und Ende")}
)

func pythonCases() []pythonCase {
	long := strings.Repeat("A line of plain ASCII text that is longer than seventy-eight characters. ", 2)
	umlauts := strings.Repeat("Grüße, schöne Grüße! ", 6)
	return []pythonCase{
		{name: "ASCII text", ops: []buildOp{content("Hello.\nSee you.\n", "")}},
		{name: "empty text", ops: []buildOp{content("", "")}},
		{name: "short non-ASCII text (base64)", ops: []buildOp{content("Grüße\n", "")}},
		{name: "non-ASCII text (quoted-printable)", ops: []buildOp{content("Bis bald,\nJörg\n", "")}},
		{name: "long ASCII line", ops: []buildOp{content(long, "")}},
		{name: "long non-ASCII lines", ops: []buildOp{content(umlauts+"\n"+umlauts, "")}},
		{name: "more than ten lines, the first ten ASCII", ops: []buildOp{content(strings.Repeat("ascii\n", 10)+strings.Repeat("ü", 200)+"\n", "")}},
		{name: "CR, LF and CRLF line ends, trailing blanks", ops: []buildOp{content("a \rb\t\nc\r\nd"+strings.Repeat(" ", 80)+"é \n", "")}},
		{name: "HTML only", ops: []buildOp{content("<p>Hi.</p>\n", "html")}},
		{name: "headers", ops: append(append([]buildOp{}, header...), content("Hi.\n", ""))},
		{name: "plain and HTML", ops: []buildOp{content("Hi.\n", ""), alternative("<p>Hi é.</p>\n", "html")}},
		{
			name:  "plain, HTML and an inline image",
			ops:   []buildOp{content("Hi.\n", ""), alternative(`<img src="cid:logo@example.com">`, "html"), related(png, "image", "png", "<logo@example.com>", 1)},
			goOps: []buildOp{content("Hi.\n", ""), alternative(`<img src="cid:logo@example.com">`, "html"), related(png, "image", "png", "<logo@example.com>")},
		},
		{
			name: "everything: headers, alternative, two images, two attachments",
			ops: append(append([]buildOp{}, header...), content("Hi.\n", ""), alternative("<p>Hi.</p>\n", "html"),
				related(png, "image", "png", "<a@x>", 1), related(png[:20], "image", "gif", "<b@x>", 1),
				attachment(pdf, "application", "pdf", "Bericht für März.pdf"),
				attachment("a,b\n1,2\n", "text", "csv", strings.Repeat("a-very-long-file-name-", 6)+".csv")),
			goOps: append(append([]buildOp{}, header...), content("Hi.\n", ""), alternative("<p>Hi.</p>\n", "html"),
				related(png, "image", "png", "<a@x>"), related(png[:20], "image", "gif", "<b@x>"),
				attachment(pdf, "application", "pdf", "Bericht für März.pdf"),
				attachment("a,b\n1,2\n", "text", "csv", strings.Repeat("a-very-long-file-name-", 6)+".csv")),
		},
		{name: "HTML with a related image", ops: []buildOp{content("<img src=\"cid:i@x\">", "html"), related(png, "image", "png", "<i@x>")}},
		{name: "attachment only", ops: []buildOp{hdr("Subject", "files"), attachment(pdf, "application", "pdf", "report.pdf")}},
		{name: "text and attachments with awkward names", ops: []buildOp{content("See attached.\n", ""),
			attachment("", "application", "octet-stream", `say "hi" \ there; now.txt`),
			attachment("x", "application", "octet-stream", ""),
			attachment("\xff\xfe", "application", "octet-stream", "日本語のファイル名.bin")}},
		{
			name:  "alternative after an attachment",
			ops:   []buildOp{content("Hi.\n", ""), attachment(pdf, "application", "pdf", "a.pdf"), alternative("<p>Hi.</p>", "html", 0)},
			goOps: []buildOp{content("Hi.\n", ""), attachment(pdf, "application", "pdf", "a.pdf"), alternative("<p>Hi.</p>", "html")},
		},
		{name: "alternative without a body part", ops: []buildOp{attachment(pdf, "application", "pdf", "a.pdf"), alternative("x", "plain")}, wantErr: true},
		{name: "other text subtype", ops: []buildOp{content("a,b\n", "csv"), attachment("x", "text", "plain", "x.txt")}},
		{name: "a read latin-1 text, then an attachment", ops: []buildOp{read(latin1Text), attachment(pdf, "application", "pdf", "a.pdf")}},
		{name: "a read multipart, then an attachment", ops: []buildOp{read(readMixed), attachment("x,y\n", "text", "csv", "Zahlen März.csv")}},
		{
			name:  "a read alternative, then an image and an attachment",
			ops:   []buildOp{read(readAlternative), related(png, "image", "png", "<r@x>", 1), attachment(pdf, "application", "pdf", "r.pdf")},
			goOps: []buildOp{read(readAlternative), related(png, "image", "png", "<r@x>"), attachment(pdf, "application", "pdf", "r.pdf")},
		},
		{name: "related on plain text", ops: []buildOp{content("Hi.\n", ""), related(png, "image", "png", "")}},
		{
			name:  "related after an attachment",
			ops:   []buildOp{content("<p>x</p>", "html"), attachment("x", "text", "plain", "x.txt"), related(png, "image", "png", "<i@x>", 0)},
			goOps: []buildOp{content("<p>x</p>", "html"), attachment("x", "text", "plain", "x.txt"), related(png, "image", "png", "<i@x>")},
		},
	}
}

func TestBuildMatchesPython(t *testing.T) {
	python, why := python313()
	if python == "" {
		t.Skip(why)
	}
	cases := pythonCases()
	var pyOps [][]buildOp
	for _, tc := range cases {
		pyOps = append(pyOps, tc.ops)
	}
	built, _ := runCompare(t, python, map[string]any{"build": pyOps})
	require.Len(t, built, len(cases))

	// Build here, then have Python describe both sides' bytes.
	var ours [][]byte
	var toDescribe [][]byte
	for i, tc := range cases {
		ops := tc.goOps
		if ops == nil {
			ops = tc.ops
		}
		m, err := applyOps(ops)
		if tc.wantErr {
			assert.Error(t, err, tc.name)
			assert.NotEmpty(t, built[i].Error, "%s: Python refuses it too", tc.name)
			ours = append(ours, nil)
			continue
		}
		require.NoError(t, err, tc.name)
		require.Empty(t, built[i].Error, tc.name)
		ours = append(ours, m.Bytes())
		toDescribe = append(toDescribe, built[i].Bytes, ours[i])
	}
	_, described := runCompare(t, python, map[string]any{"describe": toDescribe})
	require.Len(t, described, len(toDescribe))

	k := 0
	for i, tc := range cases {
		if tc.wantErr {
			continue
		}
		pyOfPy, pyOfGo := described[k], described[k+1]
		k += 2
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, pyOfPy, pyOfGo, "Python reads the same message from both")
			assert.Equal(t, pyOfPy, describe(t, ours[i]), "this package reads its own message as Python does")
			assert.Equal(t, pyOfPy, describe(t, built[i].Bytes), "this package reads Python's message as Python does")
			assertWireClean(t, ours[i])
		})
	}
}

// assertWireClean checks what every message built here must be: ASCII,
// CRLF line ends only, no line over 998 bytes, and none over 78 except a
// header line that cannot be folded.
func assertWireClean(t *testing.T, msg []byte) {
	t.Helper()
	assert.True(t, textutil.IsASCII(string(msg)), "the message is 7-bit")
	lines := bytes.Split(msg, []byte("\r\n"))
	for i, line := range lines {
		assert.NotContains(t, string(line), "\r", "line %d has a lone CR", i)
		assert.NotContains(t, string(line), "\n", "line %d has a lone LF", i)
		assert.LessOrEqual(t, len(line), 78, "line %d: %q", i, line)
	}
	assert.Empty(t, lines[len(lines)-1], "the message ends with CRLF")
}

// TestEncodeTextMatchesPython checks the choice of transfer encoding, and
// the decoded text, on texts generated to sit around Python's thresholds:
// lines near 78 bytes, a few non-ASCII characters or many, blanks at line
// ends, more or fewer than ten lines.
func TestEncodeTextMatchesPython(t *testing.T) {
	python, why := python313()
	if python == "" {
		t.Skip(why)
	}
	rng := rand.New(rand.NewPCG(15, 2026))
	pieces := []string{"a", "word ", " ", "\t", "é", "€", "😀", "=", ".", "\n", "\r\n", "\r", "x", "ü", "-", "_"}
	var texts []string
	for i := 0; i < 300; i++ {
		var sb strings.Builder
		n := rng.IntN(400)
		bias := rng.IntN(len(pieces)) // one piece repeated, so some texts are mostly that
		for sb.Len() < n {
			p := pieces[rng.IntN(len(pieces))]
			if rng.IntN(3) > 0 {
				p = pieces[bias]
			}
			sb.WriteString(p)
		}
		texts = append(texts, sb.String())
	}
	var ops [][]buildOp
	for _, text := range texts {
		ops = append(ops, []buildOp{content(text, "")})
	}
	built, _ := runCompare(t, python, map[string]any{"build": ops})
	require.Len(t, built, len(texts))
	var ours [][]byte
	for _, text := range texts {
		m := &Message{}
		require.NoError(t, m.SetContent(text, ""))
		ours = append(ours, m.Bytes())
	}
	_, pyOfGo := runCompare(t, python, map[string]any{"describe": ours})
	var pyBytes [][]byte
	for _, b := range built {
		pyBytes = append(pyBytes, b.Bytes)
	}
	_, pyOfPy := runCompare(t, python, map[string]any{"describe": pyBytes})
	ctes := map[string]int{}
	for i, text := range texts {
		ctes[pyOfPy[i].CTE]++
		if !assert.Equal(t, pyOfPy[i], pyOfGo[i], "text %d: %q", i, text) {
			continue
		}
		assertWireClean(t, ours[i])
	}
	t.Logf("transfer encodings Python chose: %v", ctes)
	assert.Len(t, ctes, 3, "the texts reach all three encodings")
}
