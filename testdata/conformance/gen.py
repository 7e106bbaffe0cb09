#!/usr/bin/env python3
"""Record what Python's smtplib does in every scenario of scenarios.json.

Run from the repository root with Python 3.13.0 (the version the Go client
mirrors) and openssl on the PATH (for the STARTTLS scenarios' throw-away
certificate):

    python3 testdata/conformance/gen.py

It writes testdata/conformance/expected.json, which conformance_test.go
compares with the Go client, byte for byte on the wire and value for value
in the results.

Each scenario names one or more scripted servers ("server", or "servers"
for several connections) and a list of client actions ("actions"). A
server script is a list of steps:

    "text"                       send these bytes (each character U+0000 to
    {"send": "text"}             U+00FF is one byte: Latin-1)
    {"send": [["x", 8190], ...]} send each part repeated count times
    N  or  {"read": N}           read N lines from the client (up to LF)
    {"read": "data"}             read lines up to and including ".\\r\\n"
    {"sleep": ms}                pause
    {"starttls": true}           TLS handshake as the server (self-signed
                                 certificate, which the clients do not check)
    {"reset": true}              close at once with a TCP reset; this ends
                                 the script and the recording
    {"bdat": true}               (Go only, in "go_server") read one BDAT
                                 command and its chunk

When the script ends the server shuts down its sending side, so that the
client reads end of file, and records what the client still sends until it
closes. After STARTTLS the server only goes on reading (Python's ssl has no
half close), so a TLS script must carry the dialogue to its end.

Actions are {"do": name, ...arguments}: connect (host, port: default the
server's; "port": "closed" for a port nobody listens on; "port_in_host":
true for "host:port" with port 0), dial (SMTP(host, port) in one step),
ehlo/helo (name), ehlo_or_helo_if_needed, has_extn (name), docmd/putcmd
(cmd, args), send (s), getreply, help (args), rset, noop, mail/rcpt (addr,
options), data (msg), verify/expn (addr), sendmail (from, to, msg,
mail_options, rcpt_options), login (user, password, initial_response_ok),
auth (mechanism, object: plain|login|cram_md5, user, password,
initial_response_ok), starttls, quit, close, sleep (ms, the client waits),
quoteaddr (addr), quotedata (data). A message is "msg" (Latin-1, or UTF-8
with "msg_encoding": "utf-8") or "msg_parts" ([[text, count], ...]).

For each action the record holds the return value or the exception, the
bytes the client wrote ("sent", caught at the socket; null once the session
is encrypted) and smtplib's attributes afterwards; the servers' records
hold everything they read ("received"). Encodings, all lossless: bytes are
JSON strings of their Latin-1 decoding, split after each LF where they are
lists of lines; a (code, msg) tuple is {"code": int, "msg": latin-1};
help's bytes are {"text": latin-1}; sendmail's dict is {"refused": {addr:
{"code", "msg"}}}; None is null. An exception is {"class",
"smtp_exception", "response_exception", and as the class has them "code",
"msg", "sender", "recipients", "text"}; keys that start with "py_" are for
people and are not compared. Every ValueError (UnicodeEncodeError and
binascii.Error included) is recorded as class "ValueError", which the Go
client reports as *CommandError; every OSError that is not an
SMTPException (a refused connection, an SSL error, "nonnumeric port") as
"OSError", which is any Go error outside smtplib's types.

A scenario may carry:
    "wire_off": "reason"   the bytes on the wire are not compared (the Go
                           client uses PIPELINING or CHUNKING by design)
    "go_server": [...]     the script the Go test plays instead of "server"
    "go_normalizes_eols": "reason"
                           the Go client turns lone CR and LF of messages
                           into CRLF (API.md); its expectations are
                           Python's with each message so normalised first
    "go_expect": {"reason": "...", "actions": {"3": {...}}}
                           an accepted divergence: the listed fields of the
                           listed actions (0-based) replace Python's ("attrs"
                           attribute by attribute, any other field whole);
                           "received": {"0": [...]} likewise replaces what
                           the listed servers (0-based) read. In an error's
                           "text", {closed_port} stands for the port that
                           "port": "closed" picked in the Go run
"""
import copy
import hashlib
import json
import os
import re
import smtplib
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIOS = os.path.join(HERE, "scenarios.json")
EXPECTED = os.path.join(HERE, "expected.json")

LOCAL_HOSTNAME = "client.example"
CLIENT_TIMEOUT = 5.0
SERVER_TIMEOUT = 8.0

SERVER_TLS = None  # the servers' ssl.SSLContext, made in main


def lat(b):
    return bytes(b).decode("latin-1")


def unlat(s):
    return s.encode("latin-1")


def lines(b):
    """Split b after each LF, keeping every byte."""
    out, i = [], 0
    while i < len(b):
        j = b.find(b"\n", i)
        if j < 0:
            out.append(lat(b[i:]))
            break
        out.append(lat(b[i:j + 1]))
        i = j + 1
    return out


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class ScriptServer:
    """A one-connection server that plays a script (see the module doc)."""

    def __init__(self, steps):
        self.steps = steps
        self.ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.ls.bind(("127.0.0.1", 0))
        self.ls.listen(1)
        self.ls.settimeout(0.05)
        self.port = self.ls.getsockname()[1]
        self.received = bytearray()
        self.stop = threading.Event()
        self.conn = self.f = None
        self.tls = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        deadline = time.monotonic() + 30
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                self.conn, _ = self.ls.accept()
                break
            except socket.timeout:
                continue
        self.ls.close()
        if self.conn is None:
            return
        self.conn.settimeout(SERVER_TIMEOUT)
        self.f = self.conn.makefile("rb")
        try:
            for step in self.steps:
                if not self.step(step):
                    return
        except OSError:
            pass
        try:
            if not self.tls:
                self.conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        try:
            while True:
                b = self.f.read1(65536)
                if not b:
                    break
                self.received += b
        except OSError:
            pass
        self.f.close()
        self.conn.close()

    def readline(self):
        line = self.f.readline()
        self.received += line
        return line

    def step(self, step):
        """Play one step; False when the connection is gone for good."""
        if isinstance(step, str):
            step = {"send": step}
        elif isinstance(step, int):
            step = {"read": step}
        if "send" in step:
            s = step["send"]
            if isinstance(s, list):
                s = "".join(part * n for part, n in s)
            self.conn.sendall(unlat(s))
        elif step.get("read") == "data":
            while True:
                line = self.readline()
                if not line or line == b".\r\n":
                    break
        elif "read" in step:
            for _ in range(step["read"]):
                if not self.readline():
                    break
        elif "sleep" in step:
            time.sleep(step["sleep"] / 1000)
        elif "starttls" in step:
            self.f.close()
            self.conn = SERVER_TLS.wrap_socket(self.conn, server_side=True)
            self.f = self.conn.makefile("rb")
            self.tls = True
        elif "reset" in step:
            self.conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.f.close()
            self.conn.close()
            return False
        else:
            raise ValueError("unknown step %r" % (step,))
        return True

    def finish(self):
        self.stop.set()
        self.thread.join(SERVER_TIMEOUT * 3)
        return lines(self.received)


class RecSock:
    """A socket that records what the client writes in clear."""

    def __init__(self, sock, rec):
        self._sock = sock
        self._rec = rec

    def sendall(self, data, *args):
        self._rec += data
        return self._sock.sendall(data, *args)

    def __getattr__(self, name):
        return getattr(self._sock, name)


class RecSMTP(smtplib.SMTP):
    def __init__(self, rec, **kw):
        self._rec = rec
        super().__init__(**kw)

    def _get_socket(self, host, port, timeout):
        return RecSock(super()._get_socket(host, port, timeout), self._rec)


def reply(t):
    code, msg = t
    return {"code": code, "msg": msg if isinstance(msg, str) else lat(msg)}


FIX_EOLS = re.compile(rb"(?:\r\n|\n|\r(?!\n))")


def message(a, normalize):
    if "msg_parts" in a:
        b = unlat("".join(part * n for part, n in a["msg_parts"]))
    elif a.get("msg_encoding") == "utf-8":
        b = a["msg"].encode("utf-8")
    else:
        b = unlat(a["msg"])
    if normalize:
        b = FIX_EOLS.sub(b"\r\n", b)
    return b


class ClientTLS(ssl.SSLContext):
    """An unverifying client context that tells the session when the
    handshake starts: from then on the client's writes are encrypted and
    no longer recorded."""

    sess = None

    def wrap_socket(self, *args, **kw):
        self.sess.tls = True
        return super().wrap_socket(*args, **kw)


def client_tls(sess):
    ctx = ClientTLS(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.sess = sess
    return ctx


class Session:
    """The client of one scenario: the SMTP object may be replaced (dial)."""

    def __init__(self, rec, ports):
        self.rec = rec
        self.ports = ports
        self.s = RecSMTP(rec, local_hostname=LOCAL_HOSTNAME, timeout=CLIENT_TIMEOUT)
        self.tls = False

    def address(self, a):
        host = a.get("host", "127.0.0.1")
        port = a.get("port")
        if port is None:
            port = self.ports[a.get("server", 0)]
        elif port == "closed":
            port = closed_port()
        if a.get("port_in_host"):
            host, port = "%s:%d" % (host, port), 0
        return host, port

    def act(self, a, normalize):
        s = self.s
        do = a["do"]
        if do == "connect":
            return reply(s.connect(*self.address(a)))
        if do == "dial":
            host, port = self.address(a)
            self.s = RecSMTP.__new__(RecSMTP)
            self.s.__init__(self.rec, host=host, port=port, local_hostname=LOCAL_HOSTNAME,
                            timeout=CLIENT_TIMEOUT)
            return None
        if do == "ehlo":
            return reply(s.ehlo(a.get("name", "")))
        if do == "helo":
            return reply(s.helo(a.get("name", "")))
        if do == "ehlo_or_helo_if_needed":
            return s.ehlo_or_helo_if_needed()
        if do == "has_extn":
            return s.has_extn(a["name"])
        if do == "docmd":
            return reply(s.docmd(a["cmd"], a.get("args", "")))
        if do == "putcmd":
            return s.putcmd(a["cmd"], a.get("args", ""))
        if do == "send":
            return s.send(a["s"])
        if do == "getreply":
            return reply(s.getreply())
        if do == "help":
            return {"text": lat(s.help(a.get("args", "")))}
        if do == "rset":
            return reply(s.rset())
        if do == "noop":
            return reply(s.noop())
        if do == "mail":
            return reply(s.mail(a["addr"], a.get("options", [])))
        if do == "rcpt":
            return reply(s.rcpt(a["addr"], a.get("options", [])))
        if do == "data":
            return reply(s.data(message(a, normalize)))
        if do == "verify":
            return reply(s.verify(a["addr"]))
        if do == "expn":
            return reply(s.expn(a["addr"]))
        if do == "sendmail":
            refused = s.sendmail(a["from"], a["to"], message(a, normalize),
                                 a.get("mail_options", []), a.get("rcpt_options", []))
            return {"refused": {k: reply(v) for k, v in refused.items()}}
        if do == "login":
            return reply(s.login(a["user"], a["password"],
                                 initial_response_ok=a.get("initial_response_ok", True)))
        if do == "auth":
            s.user, s.password = a["user"], a["password"]
            obj = getattr(s, "auth_" + a["object"])
            return reply(s.auth(a["mechanism"], obj,
                                initial_response_ok=a.get("initial_response_ok", True)))
        if do == "starttls":
            return reply(s.starttls(context=client_tls(self)))
        if do == "quit":
            return reply(s.quit())
        if do == "close":
            return s.close()
        if do == "sleep":
            time.sleep(a["ms"] / 1000)
            return None
        if do == "quoteaddr":
            return smtplib.quoteaddr(a["addr"])
        if do == "quotedata":
            return smtplib.quotedata(a["data"])
        raise ValueError("unknown action %r" % do)


DISCONNECTED_PREFIX = "Connection unexpectedly closed: "


def exception(e):
    cls = type(e).__name__
    if isinstance(e, smtplib.SMTPException):
        name = cls
    elif isinstance(e, ValueError):
        name = "ValueError"
    elif isinstance(e, OSError):
        name = "OSError"
    else:
        name = cls
    d = {"class": name}
    if name != cls:
        d["py_class"] = cls
    d["smtp_exception"] = isinstance(e, smtplib.SMTPException)
    d["response_exception"] = isinstance(e, smtplib.SMTPResponseException)
    if isinstance(e, smtplib.SMTPResponseException):
        d["code"] = e.smtp_code
        d["msg"] = e.smtp_error if isinstance(e.smtp_error, str) else lat(e.smtp_error)
    if isinstance(e, smtplib.SMTPSenderRefused):
        d["sender"] = e.sender
    if isinstance(e, smtplib.SMTPRecipientsRefused):
        d["recipients"] = {k: reply(v) for k, v in e.recipients.items()}
    text = str(e)
    if type(e) in (smtplib.SMTPServerDisconnected, smtplib.SMTPNotSupportedError, smtplib.SMTPException):
        if text.startswith(DISCONNECTED_PREFIX):
            d["py_cause"] = text[len(DISCONNECTED_PREFIX):]
            text = DISCONNECTED_PREFIX[:-2]
        d["text"] = text
    else:
        d["py_text"] = text
    return d


def attrs(s):
    return {
        "helo_resp": None if s.helo_resp is None else lat(s.helo_resp),
        "ehlo_resp": None if s.ehlo_resp is None else lat(s.ehlo_resp),
        "helo_done": s.helo_resp is not None,
        "ehlo_done": s.ehlo_resp is not None,
        "does_esmtp": bool(s.does_esmtp),
        "esmtp_features": dict(s.esmtp_features),
        "command_encoding": s.command_encoding,
        "user": getattr(s, "user", None),
        "password": getattr(s, "password", None),
        "connected": s.sock is not None,
    }


def scripts(sc):
    if "servers" in sc:
        return sc["servers"]
    if "server" in sc:
        return [sc["server"]]
    return []


def run(sc, normalize=False):
    servers = [ScriptServer(steps) for steps in scripts(sc)]
    rec = bytearray()
    sess = Session(rec, [srv.port for srv in servers])
    out = []
    try:
        for a in sc["actions"]:
            del rec[:]
            r = {"do": a["do"]}
            tls = sess.tls
            try:
                r["result"] = sess.act(a, normalize)
            except Exception as e:  # every exception is a recorded outcome
                r["error"] = exception(e)
            # Once encrypted, the client's writes bypass the recording
            # socket; the server's record still has them in clear.
            r["sent"] = None if sess.tls else lines(rec)
            if sess.tls and not tls:
                r["py_sent_in_clear"] = lines(rec)
            r["attrs"] = attrs(sess.s)
            out.append(r)
    finally:
        sess.s.close()
    return {"actions": out, "received": [srv.finish() for srv in servers]}


def merge(dst, src):
    """Apply go_expect's fields for one action to its record: "attrs" one
    attribute at a time (each value whole), every other field whole."""
    for k, v in src.items():
        if k == "attrs" and isinstance(v, dict) and isinstance(dst.get(k), dict):
            dst[k].update(v)
        else:
            dst[k] = v
            if k == "result":
                dst.pop("error", None)
            if k == "error":
                dst.pop("result", None)


def server_tls(tmp):
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "2", "-subj", "/CN=mx.example", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


def dump(result):
    """expected.json, one line per action record and per server record, so
    that a change shows as a change of the lines concerned."""
    def j(v):
        return json.dumps(v, ensure_ascii=True)

    def run_text(r):
        acts = ",\n".join("     " + j(a) for a in r["actions"])
        recv = ",\n".join("     " + j(x) for x in r["received"])
        return ('{\n    "actions": [\n%s\n    ],\n    "received": [%s]\n   }'
                % (acts, "\n" + recv + "\n    " if recv else ""))

    scs = []
    for e in result["scenarios"]:
        fields = []
        for k, v in e.items():
            fields.append('   %s: %s' % (j(k), run_text(v) if k in ("python", "go") else j(v)))
        scs.append("  {\n" + ",\n".join(fields) + "\n  }")
    head = ",\n".join(' %s: %s' % (j(k), j(v)) for k, v in result.items() if k != "scenarios")
    return "{\n%s,\n \"scenarios\": [\n%s\n ]\n}\n" % (head, ",\n".join(scs))


def main():
    global SERVER_TLS
    raw = open(SCENARIOS, "rb").read()
    doc = json.loads(raw)
    with tempfile.TemporaryDirectory() as tmp:
        SERVER_TLS = server_tls(tmp)
    names = set()
    out = []
    for sc in doc["scenarios"]:
        name = sc["name"]
        if name in names:
            sys.exit("duplicate scenario name %r" % name)
        names.add(name)
        e = {"name": name, "python": run(sc)}
        if "wire_off" in sc:
            e["wire_off"] = sc["wire_off"]
        if "go_normalizes_eols" in sc:
            e["divergence"] = sc["go_normalizes_eols"]
            e["go"] = run(sc, normalize=True)
        if "go_expect" in sc:
            g = e.get("go") or copy.deepcopy(e["python"])
            for i, fields in sc["go_expect"]["actions"].items():
                merge(g["actions"][int(i)], fields)
            for i, got in sc["go_expect"].get("received", {}).items():
                g["received"][int(i)] = got
            e["divergence"] = "; ".join(filter(None, [e.get("divergence"), sc["go_expect"]["reason"]]))
            e["go"] = g
        out.append(e)
        print("%-50s %d actions" % (name, len(sc["actions"])), file=sys.stderr)
    result = {
        "comment": "Generated by testdata/conformance/gen.py from scenarios.json; do not edit.",
        "python": sys.version.split()[0],
        "scenarios_sha256": hashlib.sha256(raw).hexdigest(),
        "scenarios": out,
    }
    with open(EXPECTED, "w", encoding="utf-8") as f:
        f.write(dump(result))
    print("wrote %s: %d scenarios" % (EXPECTED, len(out)), file=sys.stderr)


if __name__ == "__main__":
    if sys.version_info[:3] != (3, 13, 0):
        print("warning: the Go client mirrors Python 3.13.0; this is %s" % sys.version.split()[0],
              file=sys.stderr)
    main()
