package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	netsmtp "net/smtp"
	"slices"
	"strconv"
	"strings"
	"time"

	gosmtp "github.com/emersion/go-smtp"
	"github.com/gosmtplib/smtplib"
	mail "github.com/wneessen/go-mail"
)

// A child process runs one client: it connects to addr, sends n messages of
// size bytes over that one connection, says QUIT, and prints a result line.
// The time covers the whole session, connection included; the message is
// built before the clock starts, except for ours-stream, which generates it
// while sending.

// childResult is what a child prints, as one line of JSON.
type childResult struct {
	NS    int64  `json:"ns"`     // elapsed nanoseconds
	Msgs  int    `json:"msgs"`   // messages sent
	HWMKB int64  `json:"hwm_kb"` // VmHWM at the end: the peak resident set
	Err   string `json:"err,omitempty"`
	// The Pool's callers' waits, from Send to result, in nanoseconds.
	P50NS int64 `json:"p50_ns,omitempty"`
	P99NS int64 `json:"p99_ns,omitempty"`
}

type sendFunc func(addr string, n, size int) error

var goClients = map[string]sendFunc{
	"ours":        sendOurs(false),
	"ours-stream": sendOurs(true),
	"ours-batch":  sendBatch,
	"raw":         sendRaw,
	"raw-pipe":    sendRawPipe,
	"net/smtp":    sendNetSMTP,
	"go-smtp":     sendGoSMTP,
	"go-mail":     sendGoMail,
}

func hostPort(addr string) (string, int) {
	h, p, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(p)
	return h, port
}

// sendOurs sends with Sendmail from memory, or with SendmailReader from a
// generating reader (constant memory, whatever the size).
func sendOurs(stream bool) sendFunc {
	return func(addr string, n, size int) error {
		var msg []byte
		if !stream {
			msg = message(size)
		}
		start := startClock()
		host, port := hostPort(addr)
		s, err := smtplib.Dial(host, port, smtplib.WithLocalHostname(heloName))
		if err != nil {
			return err
		}
		to := []string{toAddr}
		for i := 0; i < n; i++ {
			if stream {
				_, err = s.SendmailReader(fromAddr, to, newMessageReader(size))
			} else {
				_, err = s.Sendmail(fromAddr, to, msg)
			}
			if err != nil {
				return err
			}
		}
		_, err = s.Quit()
		start.stop(n)
		return err
	}
}

func sendNetSMTP(addr string, n, size int) error {
	msg := message(size)
	start := startClock()
	c, err := netsmtp.Dial(addr)
	if err != nil {
		return err
	}
	if err := c.Hello(heloName); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		if err := c.Mail(fromAddr); err != nil {
			return err
		}
		if err := c.Rcpt(toAddr); err != nil {
			return err
		}
		w, err := c.Data()
		if err != nil {
			return err
		}
		if _, err := w.Write(msg); err != nil {
			return err
		}
		if err := w.Close(); err != nil {
			return err
		}
	}
	err = c.Quit()
	start.stop(n)
	return err
}

func sendGoSMTP(addr string, n, size int) error {
	msg := message(size)
	start := startClock()
	c, err := gosmtp.Dial(addr)
	if err != nil {
		return err
	}
	if err := c.Hello(heloName); err != nil {
		return err
	}
	to := []string{toAddr}
	for i := 0; i < n; i++ {
		if err := c.SendMail(fromAddr, to, bytes.NewReader(msg)); err != nil {
			return err
		}
	}
	err = c.Quit()
	start.stop(n)
	return err
}

// sendGoMail sends go-mail's own messages (it renders a Msg; it has no way
// to send prepared bytes), with the body of ours, 8bit, at its fastest
// settings: no NOOP before the batch, no RSET after each message.
func sendGoMail(addr string, n, size int) error {
	m := message(size)
	body := string(m[len(header(size)):])
	msgs := make([]*mail.Msg, n)
	for i := range msgs {
		msgs[i] = mail.NewMsg(mail.WithEncoding(mail.NoEncoding))
		if err := msgs[i].From(fromAddr); err != nil {
			return err
		}
		if err := msgs[i].To(toAddr); err != nil {
			return err
		}
		msgs[i].Subject("bench " + strconv.Itoa(size))
		msgs[i].SetBodyString(mail.TypeTextPlain, body)
	}
	m, body = nil, ""
	start := startClock()
	host, port := hostPort(addr)
	c, err := mail.NewClient(host, mail.WithTLSPolicy(mail.NoTLS), mail.WithPort(port),
		mail.WithHELO(heloName), mail.WithoutNoop(), mail.WithoutRset())
	if err != nil {
		return err
	}
	if err := c.DialAndSend(msgs...); err != nil {
		return err
	}
	start.stop(n)
	return nil
}

// sendRaw is the physical limit: prepared bytes, hand-made commands, one
// write per pipelined group, no checks. With CHUNKING a message is one write
// (MAIL, RCPT, BDAT LAST and the data) and one read of three replies;
// without it, MAIL+RCPT+DATA, three replies, then the data and its reply.
func sendRaw(addr string, n, size int) error {
	msg := message(size)
	envelope := "MAIL FROM:<" + fromAddr + ">\r\nRCPT TO:<" + toAddr + ">\r\n"
	start := startClock()
	conn, r, ehlo, err := rawSession(addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	// Gathered writes (writev), so the message is not copied.
	var first, second [][]byte
	if strings.Contains(ehlo, "CHUNKING") {
		first = [][]byte{[]byte(envelope + "BDAT " + strconv.Itoa(len(msg)) + " LAST\r\n"), msg}
	} else {
		first = [][]byte{[]byte(envelope + "DATA\r\n")}
		second = [][]byte{msg, []byte(".\r\n")} // no line of msg starts with a period
	}
	for i := 0; i < n; i++ {
		bufs := slices.Clone(net.Buffers(first)) // WriteTo consumes it
		if _, err := bufs.WriteTo(conn); err != nil {
			return err
		}
		if _, err := rawReplies(r, 3); err != nil {
			return err
		}
		if second == nil {
			continue
		}
		bufs = slices.Clone(net.Buffers(second))
		if _, err := bufs.WriteTo(conn); err != nil {
			return err
		}
		if _, err := rawReplies(r, 1); err != nil {
			return err
		}
	}
	if _, err := io.WriteString(conn, "QUIT\r\n"); err != nil {
		return err
	}
	if _, err := rawReplies(r, 1); err != nil {
		return err
	}
	start.stop(n)
	return nil
}

// sendRawPipe is the limit of one round trip a message without CHUNKING:
// each message's data goes in one write with the next message's MAIL,
// RCPT and DATA (RFC 2920 lets DATA end a group, and the data must wait
// for its 354). With CHUNKING it is sendRaw.
func sendRawPipe(addr string, n, size int) error {
	msg := message(size)
	envelope := []byte("MAIL FROM:<" + fromAddr + ">\r\nRCPT TO:<" + toAddr + ">\r\nDATA\r\n")
	start := startClock()
	conn, r, ehlo, err := rawSession(addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if strings.Contains(ehlo, "CHUNKING") {
		conn.Close()
		return sendRaw(addr, n, size)
	}
	if _, err := conn.Write(envelope); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		replies := 3 // MAIL, RCPT, DATA
		if i > 0 {
			replies = 4 // and the previous message's
		}
		if _, err := rawReplies(r, replies); err != nil {
			return err
		}
		bufs := net.Buffers{msg, []byte(".\r\n")}
		if i < n-1 {
			bufs = append(bufs, envelope)
		}
		if _, err := bufs.WriteTo(conn); err != nil {
			return err
		}
	}
	if _, err := io.WriteString(conn, "QUIT\r\n"); err != nil {
		return err
	}
	if _, err := rawReplies(r, 2); err != nil {
		return err
	}
	start.stop(n)
	return nil
}

// rawSession connects to addr, reads the greeting and says EHLO, and
// returns the connection, its reader and the EHLO reply's text.
func rawSession(addr string) (net.Conn, *bufio.Reader, string, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, nil, "", err
	}
	r := bufio.NewReaderSize(conn, 64<<10)
	if _, err := rawReplies(r, 1); err != nil {
		conn.Close()
		return nil, nil, "", err
	}
	if _, err := io.WriteString(conn, "EHLO "+heloName+"\r\n"); err != nil {
		conn.Close()
		return nil, nil, "", err
	}
	ehlo, err := rawReplies(r, 1)
	if err != nil {
		conn.Close()
		return nil, nil, "", err
	}
	return conn, r, ehlo, nil
}

// rawReplies reads n replies, failing on any that is not 2xx or 354, and
// returns their text.
func rawReplies(r *bufio.Reader, n int) (string, error) {
	var all strings.Builder
	for n > 0 {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return "", err
		}
		if len(line) < 4 || (line[0] != '2' && !bytes.HasPrefix(line, []byte("354"))) {
			return "", fmt.Errorf("raw: unexpected reply %q", line)
		}
		all.Write(line)
		if line[3] == ' ' {
			n--
		}
	}
	return all.String(), nil
}

// clock is the child's stopwatch; stop records the result.
type clock struct{ t time.Time }

var result childResult

func startClock() clock { return clock{time.Now()} }

func (c clock) stop(n int) {
	if sessions > 1 {
		return // runSessions times the whole
	}
	result.NS = int64(time.Since(c.t))
	result.Msgs = n
}

// sessions is how many sessions the child runs at once.
var sessions = 1

var errUnknownClient = errors.New("unknown client")

func newReplyReader(c net.Conn) *bufio.Reader { return bufio.NewReaderSize(c, 64<<10) }
