// Command dkimrss sends one message from a file with smtplib's
// SendmailReader, signed with DKIM unless -unsigned, and prints its peak
// resident set (VmHWM, KiB): the child of bench's TestDKIMStreamRSS, a
// program that does only that, so that the figure is the send's.
//
//	dkimrss -addr 127.0.0.1:2525 -file 50M.eml -key key.pem
package main

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/gosmtplib/smtplib"
	"github.com/gosmtplib/smtplib/bench/internal/rss"
)

func main() {
	addr := flag.String("addr", "", "the server, host:port")
	file := flag.String("file", "", "the message file")
	keyFile := flag.String("key", "", "the PKCS#8 PEM private key (RSA or Ed25519)")
	unsigned := flag.Bool("unsigned", false, "send without signing, for comparison")
	flag.Parse()
	if err := send(*addr, *file, *keyFile, !*unsigned); err != nil {
		fmt.Fprintln(os.Stderr, "dkimrss:", err)
		os.Exit(1)
	}
	fmt.Printf("hwm_kb=%d\n", rss.Peak())
}

func send(addr, file, keyFile string, sign bool) error {
	var opts []smtplib.SendOption
	if sign {
		b, err := os.ReadFile(keyFile)
		if err != nil {
			return err
		}
		block, _ := pem.Decode(b)
		if block == nil {
			return errors.New("no PEM block in " + keyFile)
		}
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return err
		}
		signer, ok := k.(crypto.Signer)
		if !ok {
			return fmt.Errorf("a %T cannot sign", k)
		}
		opts = append(opts, smtplib.DKIM(&dkim.SignOptions{Domain: "bench.example", Selector: "s1", Signer: signer}))
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	host, p, _ := strings.Cut(addr, ":")
	port, _ := strconv.Atoi(p)
	s, err := smtplib.Dial(host, port)
	if err != nil {
		return err
	}
	defer s.Close()
	if _, err := s.SendmailReader("sender@bench.example", []string{"rcpt@bench.example"}, f, opts...); err != nil {
		return err
	}
	_, err = s.Quit()
	return err
}
