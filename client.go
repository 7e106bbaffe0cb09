package smtplib

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gosmtplib/smtplib/internal/textutil"
)

// Default ports (Python's SMTP_PORT, SMTP_SSL_PORT and LMTP_PORT).
const (
	SMTPPort    = 25
	SMTPSSLPort = 465
	LMTPPort    = 2003
)

// SMTP is a client connection to an SMTP server: Python's smtplib.SMTP (and
// SMTP_SSL), its attributes the exported fields. It is one ordered
// dialogue, not for concurrent use, but Close may abort a blocked call.
type SMTP struct {
	LocalHostname string // sent with EHLO and HELO when given none
	HeloResp      string // the text of the reply to the last HELO
	EhloResp      string // the text of the reply to the last EHLO (LHLO)
	DoesESMTP     bool   // the server accepted EHLO
	// ESMTPFeatures maps each keyword of the last EHLO reply, lower case,
	// to its parameters; "auth" starts with a space, as in smtplib.
	ESMTPFeatures map[string]string
	// CommandEncoding, "ascii" or "utf-8", is what the low-level commands
	// encode in (Mail with SMTPUTF8 sets "utf-8", Rset "ascii"); the
	// sending calls report there the encoding of their last transaction.
	CommandEncoding string
	User            string // for AuthPlain, AuthLogin, AuthCramMD5; Login sets it
	Password        Secret // the same; it never prints

	cfg         config
	mu          sync.Mutex // guards conn, which Close may clear from another goroutine
	conn        net.Conn
	br          *bufio.Reader
	bw          *bufio.Writer
	host        string    // the host dialled, for TLS names and the loopback test
	protocol    *protocol // SMTP's or LMTP's; nil is SMTP
	implicitTLS bool
	isTLS       bool
	heloDone    bool // Python's helo_resp is not None
	ehloDone    bool // Python's ehlo_resp is not None
	debuglevel  int
	ctx         context.Context // the context of the operation under way, if any
	authCount   int             // Python's _auth_challenge_count
	dr          *deadlineReader // the transport under br
	dw          *deadlineWriter // the transport under bw
	pieceBuf    []byte          // reused by body.writeTo for streams
	chunkBuf    []byte          // reused by chunkSender, when small
	tr          traceState      // the session's record for WithTrace, under mu
}

// New returns a client that is not connected yet (Python's SMTP() with no
// host); call [SMTP.Connect].
func New(opts ...Option) *SMTP {
	s := &SMTP{
		ESMTPFeatures:   map[string]string{},
		CommandEncoding: "ascii",
	}
	for _, o := range opts {
		o(&s.cfg)
	}
	s.LocalHostname = s.cfg.localHostname
	return s
}

// Dial connects to an SMTP server and reads its greeting (Python's
// SMTP(host, port)); port 0 means 25, or the port in "host:port". A
// greeting other than 220 is a [*ConnectError].
func Dial(host string, port int, opts ...Option) (*SMTP, error) {
	return DialContext(context.Background(), host, port, opts...)
}

// DialContext is [Dial] bounded by ctx.
func DialContext(ctx context.Context, host string, port int, opts ...Option) (*SMTP, error) {
	s := New(opts...)
	if err := s.dialGreet(ctx, host, port); err != nil {
		return nil, err
	}
	return s, nil
}

// dialGreet is what every Dial function shares: connect, then insist on 220.
func (s *SMTP) dialGreet(ctx context.Context, host string, port int) error {
	r, err := s.connect(ctx, host, port)
	if err != nil {
		return err
	}
	if r.Code != 220 {
		s.Close()
		return &ConnectError{respErr(r)}
	}
	return nil
}

// Connect connects to host on port (port 0: the client's default, or the
// one in "host:port"; an LMTP host may be a socket's path) and returns the
// greeting, whatever its code (Python's connect).
func (s *SMTP) Connect(host string, port int) (Reply, error) {
	return s.connect(context.Background(), host, port)
}

func (s *SMTP) connect(ctx context.Context, host string, port int) (r Reply, err error) {
	if host == "" {
		host = "localhost"
	}
	network, addr := "unix", host
	if !(s.proto().unixSockets && strings.HasPrefix(host, "/")) {
		network = "tcp"
		var err error
		if host, port, err = splitHostPort(host, port); err != nil {
			return Reply{}, err
		}
		if port == 0 {
			port = s.defaultPort()
		}
		addr = net.JoinHostPort(host, strconv.Itoa(port))
	}
	if s.getConn() != nil {
		s.Close()
	}
	s.host = host
	if s.cfg.trace != nil {
		defer s.connectTracer(addr)(&r, &err)
	}
	if s.debuglevel > 0 {
		src := "None"
		if s.cfg.sourceAddress != "" {
			src = pyRepr(s.cfg.sourceAddress)
		}
		s.debugf("connect: to (%s, %d) %s", pyRepr(host), port, src)
	}
	conn, err := s.dial(ctx, network, addr)
	if err != nil {
		// Python raises the socket's OSError (of which its SMTP errors
		// are subclasses); here the transport's failures are all
		// ServerDisconnectedErrors, wrapping the cause.
		return Reply{}, &ServerDisconnectedError{Msg: "connection to " + addr + " failed", Err: err}
	}
	s.attach(conn)
	s.isTLS = s.implicitTLS
	if s.LocalHostname == "" {
		s.LocalHostname = defaultLocalHostname(conn.LocalAddr())
	}
	stop := s.bind(ctx)
	r, err = s.readReplyPhase(phaseCommand)
	stop()
	if err != nil {
		return r, err
	}
	if s.debuglevel > 0 {
		s.debugf("connect: %s", pyReprBytes([]byte(r.Message)))
	}
	return r, nil
}

// splitHostPort applies smtplib's rule for "host:port" strings, and also
// accepts a bracketed IPv6 literal with a port ("[::1]:25").
func splitHostPort(host string, port int) (string, int, error) {
	if port != 0 {
		return strings.Trim(host, "[]"), port, nil
	}
	if strings.HasPrefix(host, "[") {
		if i := strings.LastIndex(host, "]:"); i > 0 {
			p, ok := pyInt([]byte(host[i+2:]))
			if !ok {
				return "", 0, badPort(host[i+2:])
			}
			return host[1:i], p, nil
		}
		return strings.Trim(host, "[]"), 0, nil
	}
	if strings.Count(host, ":") == 1 {
		i := strings.IndexByte(host, ':')
		p, ok := pyInt([]byte(host[i+1:]))
		if !ok {
			return "", 0, badPort(host[i+1:])
		}
		return host[:i], p, nil
	}
	return host, 0, nil
}

// badPort is the error of a "host:port" whose port is not a number.
func badPort(port string) error {
	return &smtpError{msg: fmt.Sprintf("nonnumeric port %q in the host: give the port as a number, or in Connect's port argument", port)}
}

// dial opens the transport, TLS included for implicit-TLS clients, within
// the dial timeout.
func (s *SMTP) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.timeoutFor(phaseDial))
	defer cancel()
	var conn net.Conn
	var err error
	if s.cfg.dialer != nil {
		conn, err = s.cfg.dialer.DialContext(ctx, network, addr)
	} else {
		d := &net.Dialer{}
		if s.cfg.sourceAddress != "" && network == "tcp" {
			if d.LocalAddr, err = net.ResolveTCPAddr("tcp", s.cfg.sourceAddress); err != nil {
				return nil, err
			}
		}
		conn, err = d.DialContext(ctx, network, addr)
	}
	if err != nil || !s.implicitTLS {
		return conn, err
	}
	tc, err := s.handshake(ctx, conn, s.cfg.tlsConfig)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return tc, nil
}

// attach makes conn the client's transport, with fresh buffers: nothing read
// on an earlier transport may be taken for a reply on this one.
func (s *SMTP) attach(conn net.Conn) {
	s.mu.Lock()
	s.conn = conn
	s.mu.Unlock()
	s.dr = &deadlineReader{conn: conn, s: s}
	s.br = bufio.NewReaderSize(s.dr, defaultReadBufSize)
	s.dw = &deadlineWriter{conn: conn, s: s}
	s.bw = bufio.NewWriterSize(s.dw, defaultWriteBufSize)
}

// renewDeadline sets a read or write deadline the phase's timeout from now.
// A context that ended just before has had the past deadline that bind put
// on the connection overwritten, so the deadline is checked against it
// after being set, or the operation would wait out the whole timeout.
func (s *SMTP) renewDeadline(set func(time.Time) error, phase phase) {
	set(time.Now().Add(s.cfg.timeoutFor(phase)))
	if s.ctx != nil && s.ctx.Err() != nil {
		set(time.Unix(1, 0))
	}
}

// bind makes ctx abort the client's blocking reads and writes when it is
// done, by moving the connection's deadline into the past; the returned
// function undoes the binding. Errors seen meanwhile name ctx's error.
//
// When ctx ends just as the operation finishes, the callback may already
// be running when the binding is undone, and its past deadline could then
// land after the next operation has set its own, failing that operation
// for a context it never had. So undoing the binding waits for a callback
// that has started: once it returns, ctx can no longer touch the
// connection, and the next operation's deadlines stand.
func (s *SMTP) bind(ctx context.Context) (stop func()) {
	conn := s.getConn()
	if ctx == nil || ctx.Done() == nil || conn == nil {
		return func() {}
	}
	s.ctx = ctx
	aborted := make(chan struct{})
	release := context.AfterFunc(ctx, func() {
		defer close(aborted)
		conn.SetDeadline(time.Unix(1, 0))
	})
	return func() {
		if !release() {
			<-aborted
		}
		s.ctx = nil
	}
}

// defaultPort is the port of Connect's port 0: the class's default.
func (s *SMTP) defaultPort() int {
	if s.implicitTLS {
		return SMTPSSLPort
	}
	return s.proto().defaultPort
}

// getConn returns the connection, nil when the client is closed.
func (s *SMTP) getConn() net.Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn
}

// Close closes the connection without QUIT (Python's close); on a closed or
// nil client it does nothing.
func (s *SMTP) Close() error {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	conn := s.conn
	s.conn = nil
	var closed *ClosedInfo
	if s.cfg.trace != nil {
		closed = s.closedLocked(conn != nil)
	}
	s.mu.Unlock()
	if conn == nil {
		return nil
	}
	err := conn.Close()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	if closed != nil {
		s.cfg.trace.Closed(*closed)
	}
	return err
}

// disconnected closes the client and returns smtplib's
// SMTPServerDisconnected for the failure err, naming the context's error
// when a context ended the operation.
func (s *SMTP) disconnected(msg string, err error) error {
	if s.ctx != nil && s.ctx.Err() != nil && !errors.Is(err, s.ctx.Err()) {
		err = fmt.Errorf("%w (%w)", s.ctx.Err(), err)
	}
	de := &ServerDisconnectedError{Msg: msg, Err: err}
	s.closeWith(de)
	return de
}

// notConnected is the error of any I/O on a client with no connection.
func notConnected() error {
	return &ServerDisconnectedError{Msg: "not connected: use Dial or Connect first", Err: errConnClosed}
}

// Send writes raw bytes, str as it is, to the server (Python's send): no
// mail, no CRLF added; to send a mail, see [SMTP.Sendmail].
func (s *SMTP) Send(str string) error {
	if err := checkEncoding(str, s.CommandEncoding); err != nil {
		return err
	}
	if s.getConn() == nil {
		return notConnected()
	}
	if s.debuglevel > 0 {
		s.debugf("send: %s", pyRepr(str))
	}
	return s.write([]byte(str), wrCommand)
}

// PutCmd sends cmd, a space and args if any, and CRLF (Python's putcmd),
// refusing a CR, LF or NUL with a [*CommandError] before writing.
func (s *SMTP) PutCmd(cmd, args string) error {
	return s.putcmd(cmd, args, wrCommand)
}

// putcmd is PutCmd writing as w says: left in the buffer for a pipelined
// group, hidden from the debug output for credentials.
func (s *SMTP) putcmd(cmd, args string, w wr) error {
	enc := w.enc
	if enc == "" {
		enc = s.CommandEncoding
	}
	if err := checkCommand(cmd, args, enc); err != nil {
		return err
	}
	if s.getConn() == nil {
		return notConnected()
	}
	if s.debuglevel > 0 {
		s.debugf("send: %s", redacted(cmd, joinCommand(cmd, args)+"\r\n", w.redact))
	}
	// Straight into the buffer: no line is built for the common case.
	s.writing(w)
	s.bw.WriteString(cmd)
	if args != "" {
		s.bw.WriteByte(' ')
		s.bw.WriteString(args)
	}
	_, err := s.bw.WriteString("\r\n")
	return s.afterWrite(err, w)
}

// joinCommand is the command line for cmd and args, as smtplib forms it.
func joinCommand(cmd, args string) string {
	if args == "" {
		return cmd
	}
	return cmd + " " + args
}

// checkCommand is checkLine for the line that cmd and args make, in the
// encoding enc, without making it unless it has to be reported.
func checkCommand(cmd, args, enc string) error {
	const bad = "\r\n\x00"
	plain := !strings.ContainsAny(cmd, bad) && !strings.ContainsAny(args, bad)
	if plain && (enc == "utf-8" || (enc == "ascii" || enc == "") && textutil.IsASCII(cmd) && textutil.IsASCII(args)) {
		return nil
	}
	return checkLine(joinCommand(cmd, args), enc)
}

// checkLine refuses a command line that would carry more than one command,
// or characters the encoding enc cannot.
func checkLine(line, enc string) error {
	if i := strings.IndexAny(line, "\r\n\x00"); i >= 0 {
		reason := "command and arguments contain prohibited newline characters"
		if line[i] == 0 {
			reason = "command and arguments contain a prohibited NUL character"
		}
		return &CommandError{Command: escapeControls(line), Reason: reason}
	}
	return checkEncoding(line, enc)
}

// checkEncoding refuses text that the command encoding enc cannot carry,
// as Python's str.encode does before anything is sent.
func checkEncoding(line, enc string) error {
	switch strings.ToLower(enc) {
	case "", "ascii", "us-ascii":
		for i, c := range line {
			if c >= 0x80 {
				return &CommandError{Command: line, Reason: fmt.Sprintf(
					"%q at byte %d is not ASCII, and CommandEncoding is \"ascii\" "+
						"(send with the SMTPUTF8 option to a server that offers it)", c, i)}
			}
		}
	case "utf-8", "utf8":
	default:
		return &CommandError{Command: line, Reason: "unsupported command encoding " + strconv.Quote(enc)}
	}
	return nil
}

// GetReply reads one reply (Python's getreply), lines joined with "\n",
// code -1 when it breaks RFC 5321's grammar; one over 8192 bytes a line,
// 1000 lines or 1 MiB is smtplib's 500 "Line too long.".
func (s *SMTP) GetReply() (Reply, error) {
	return s.readReplyPhase(phaseCommand)
}

// readReplyPhase reads a reply within the phase's deadline.
func (s *SMTP) readReplyPhase(phase phase) (Reply, error) {
	conn := s.getConn()
	if conn == nil {
		return Reply{}, notConnected()
	}
	s.dr.phase, s.dr.fresh = phase, true
	var trace func([]byte)
	if s.debuglevel > 0 {
		trace = func(line []byte) { s.debugf("reply: %s", pyReprBytes(line)) }
	}
	r, err := readReply(s.br, trace)
	if err != nil {
		if err == errTooLong {
			err = replyTooLong()
			s.closeWith(err)
			return Reply{}, err
		}
		return Reply{}, s.disconnected("Connection unexpectedly closed", err)
	}
	if s.debuglevel > 0 {
		s.debugf("reply: retcode (%d); Msg: %s", r.Code, pyReprBytes([]byte(r.Message)))
	}
	return r, nil
}

// DoCmd sends a command and returns its reply (Python's docmd), after
// checking that no reply arrived unasked ([ErrOutOfStep]).
func (s *SMTP) DoCmd(cmd, args string) (Reply, error) {
	return s.docmdPhase(phaseCommand, cmd, args)
}

// docmdPhase is DoCmd waiting for the reply within the phase's deadline.
func (s *SMTP) docmdPhase(phase phase, cmd, args string) (Reply, error) {
	return s.docmd(cmd, args, wrCommand, phase)
}

// docmd is the one way a command that waits for its reply is written: the
// session is checked to be in step, the command written as w says, and
// its reply read within the deadline of phase.
func (s *SMTP) docmd(cmd, args string, w wr, phase phase) (Reply, error) {
	if err := s.checkInStep(); err != nil {
		return Reply{}, err
	}
	if err := s.putcmd(cmd, args, w); err != nil {
		return Reply{}, err
	}
	return s.readReplyPhase(phase)
}

// checkInStep is called before a command that waits for its reply, or a
// pipelined group, is written. Any byte already buffered was not asked
// for (every command written so far has had its reply read), so the
// session is out of step: the client is closed, and the error says why
// (see DoCmd). It costs no system call, only a look at the read buffer;
// the engine also looks at the socket before a transaction (checkIdle).
func (s *SMTP) checkInStep() error {
	if s.br == nil || s.br.Buffered() == 0 || s.getConn() == nil {
		return nil
	}
	return s.strayFound()
}

// strayFound closes the client for the unasked bytes in the read buffer
// and returns the error that says what they were.
func (s *SMTP) strayFound() error {
	peeked, _ := s.br.Peek(s.br.Buffered())
	stray := bytes.Clone(peeked) // the error outlives the buffer
	err := unaskedError(stray)
	if s.debuglevel > 0 {
		s.debugf("unasked: %s", pyReprBytes(stray))
	}
	s.closeWith(err)
	return err
}
