#!/usr/bin/python3
"""Checks, with Python's smtplib and raw sockets, that the servers started by
start.sh DIR behave as README.md says.  Usage: selftest.py DIR [-v]

Prints one line per check and ends with "N passed, N failed"; exits non-zero
if any check failed.  Sends about 130 MB over loopback (the SIZE checks).
"""

import base64
import email.utils
import glob
import hashlib
import hmac
import json
import os
import re
import smtplib
import socket
import ssl
import sys
import time
import uuid

DIR = sys.argv[1] if len(sys.argv) > 1 else sys.exit(__doc__)
VERBOSE = "-v" in sys.argv[2:]
ENV = {}
with open(os.path.join(DIR, "env")) as f:
    for line in f:
        k, _, v = line.rstrip("\n").partition("=")
        ENV[k] = v

HOST = ENV["SERVERS_HOST"]
USER = ENV["POSTFIX_USER"]
PASSWORD = ENV["POSTFIX_PASSWORD"]
OK = ENV["POSTFIX_OK_RCPTS"].split(",")  # alice, bob, carol
TLS = ssl.create_default_context(cafile=ENV["SERVERS_CA"])  # verifies, no skip
PASSED, FAILED = 0, 0
SEEN_HEADERS = {}


def check(name, cond, detail=""):
    global PASSED, FAILED
    if cond:
        PASSED += 1
        print(f"ok   {name}" + (f"  [{detail}]" if VERBOSE and detail else ""))
    else:
        FAILED += 1
        print(f"FAIL {name}  {detail}")
    return cond


def message(subject, body=b"Hello.\r\n", extra=b"", frm=USER, to=None):
    """A CRLF message with a unique Message-ID; returns (msgid, bytes)."""
    msgid = f"<{uuid.uuid4().hex}@client.example>"
    to = to or OK[1]
    head = (f"From: <{frm}>\r\nTo: <{to}>\r\nSubject: {subject}\r\n"
            f"Date: {email.utils.formatdate()}\r\nMessage-ID: {msgid}\r\n")
    return msgid, head.encode("utf-8") + extra + b"\r\n" + body


def big_body(n):
    line = b"x" * 76 + b"\r\n"
    return line * (n // len(line) + 1)


# --------------------------------------------------------------- SMTP side
ENDPOINTS = [
    # name, port, mode, kind, AUTH needed to send
    ("postfix-plain", ENV["POSTFIX_PLAIN_PORT"], "plain", "postfix", False),
    ("postfix-submission", ENV["POSTFIX_SUBMISSION_PORT"], "starttls", "postfix", True),
    ("postfix-smtps", ENV["POSTFIX_SMTPS_PORT"], "smtps", "postfix", True),
    ("aiosmtpd-plain", ENV["AIOSMTPD_PORT"], "plain", "aiosmtpd", False),
    ("aiosmtpd-starttls", ENV["AIOSMTPD_PORT"], "starttls", "aiosmtpd", False),
    ("aiosmtpd-smtps", ENV["AIOSMTPD_SMTPS_PORT"], "smtps", "aiosmtpd", False),
]


def connect(port, mode, server_name="localhost"):
    if mode == "smtps":
        s = smtplib.SMTP_SSL(server_name, int(port), local_hostname="client.example",
                             context=TLS, timeout=30)
    else:
        s = smtplib.SMTP(HOST, int(port), local_hostname="client.example", timeout=30)
        s._host = server_name  # name that STARTTLS verifies
    s.ehlo()
    if mode == "starttls":
        s.starttls(context=TLS)
        s.ehlo()
    return s


def login_with(s, mech, user, password):
    s.user, s.password = user, password
    method = {"PLAIN": s.auth_plain, "LOGIN": s.auth_login,
              "CRAM-MD5": s.auth_cram_md5}[mech]
    return s.auth(mech, method, initial_response_ok=(mech == "PLAIN"))


def postfix_find(local, msgid, timeout=10):
    """Postfix delivers asynchronously: poll the Maildir for the message."""
    pattern = os.path.join(ENV["POSTFIX_MAILDIR"], ENV["POSTFIX_DOMAIN"], local, "new", "*")
    deadline = time.time() + timeout
    while time.time() < deadline:
        for p in glob.glob(pattern):
            with open(p, "rb") as f:
                data = f.read()
            if msgid.encode() in data:
                return p, data
        time.sleep(0.05)
    return None, None


def aiosmtpd_find(msgid):
    for p in sorted(glob.glob(os.path.join(ENV["AIOSMTPD_MAILDIR"], "*.eml"))):
        with open(p, "rb") as f:
            data = f.read()
        if msgid.encode() in data:
            with open(p[:-4] + ".json") as f:
                return p, data, json.load(f)
    return None, None, None


def split_prepended(stored, sent):
    """Checks that stored == some header lines + sent; returns those lines."""
    if not stored.endswith(sent):
        return None
    pre = stored[: len(stored) - len(sent)]
    text = pre.decode("utf-8", "replace")
    if text and not re.fullmatch(r"([A-Za-z-]+:[^\n]*\n([ \t][^\n]*\n)*)+", text.replace("\r\n", "\n")):
        return None
    return text


def check_delivered(ep, kind, local, msgid, sent, expect_rcpts=None):
    if kind == "postfix":
        path, data = postfix_find(local, msgid)
        if not check(f"{ep}: delivered to Maildir of {local}", path is not None):
            return
        # Postfix stores LF line ends.
        pre = split_prepended(data, sent.replace(b"\r\n", b"\n"))
        check(f"{ep}: {local}'s copy is the sent message (LF) after trace headers",
              pre is not None, f"{path}")
        if pre is not None:
            SEEN_HEADERS.setdefault("postfix", pre)
    else:
        path, data, meta = aiosmtpd_find(msgid)
        if not check(f"{ep}: saved by aiosmtpd", path is not None):
            return
        check(f"{ep}: saved bytes identical to sent bytes", data == sent, path)
        if expect_rcpts is not None:
            check(f"{ep}: envelope recipients recorded", meta["rcpt_tos"] == expect_rcpts,
                  str(meta["rcpt_tos"]))


def smtp_checks(ep, port, mode, kind, auth_needed):
    # EHLO / TLS
    s = connect(port, mode)
    feats = s.esmtp_features
    print(f"--- {ep}: EHLO {sorted(feats)} auth={feats.get('auth', '').strip()!r}")
    if mode == "plain":
        check(f"{ep}: STARTTLS {'not ' if kind == 'postfix' else ''}offered",
              ("starttls" in feats) == (kind == "aiosmtpd"))
    mechs = feats.get("auth", "").split()
    check(f"{ep}: AUTH offers PLAIN LOGIN CRAM-MD5",
          {"PLAIN", "LOGIN", "CRAM-MD5"} <= set(mechs), str(mechs))
    for ext in ("size", "8bitmime", "smtputf8", "pipelining"):
        check(f"{ep}: advertises {ext.upper()}", ext in feats)
    if kind == "postfix":
        for ext in ("dsn", "chunking", "enhancedstatuscodes"):
            check(f"{ep}: advertises {ext.upper()}", ext in feats)
        check(f"{ep}: SIZE is {ENV['POSTFIX_SIZE_LIMIT']}",
              feats.get("size") == ENV["POSTFIX_SIZE_LIMIT"])
    s.quit()

    if mode == "starttls" and kind == "postfix":
        s = smtplib.SMTP(HOST, int(port), local_hostname="client.example")
        s.ehlo()
        check(f"{ep}: no AUTH before STARTTLS", not s.has_extn("auth"))
        s.mail(USER)
        code, resp = s.rcpt(OK[1])
        check(f"{ep}: RCPT without AUTH refused", code == 554, f"{code} {resp!r}")
        s.quit()
    if mode == "smtps" and kind == "postfix":
        s = connect(port, mode)
        s.mail(USER)
        code, resp = s.rcpt(OK[1])
        check(f"{ep}: RCPT without AUTH refused", code == 554, f"{code} {resp!r}")
        s.quit()
    if mode == "starttls":
        # Verification against the CA with the IP address as the name.
        s = connect(port, mode, server_name="127.0.0.1")
        check(f"{ep}: certificate verifies for 127.0.0.1 too",
              s.sock.version() is not None, s.sock.version())
        s.quit()

    # AUTH: each mechanism, good and wrong password.
    for mech in ("PLAIN", "LOGIN", "CRAM-MD5"):
        s = connect(port, mode)
        code, resp = login_with(s, mech, USER, PASSWORD)
        check(f"{ep}: AUTH {mech} accepted", code == 235, f"{code} {resp!r}")
        s.quit()
        s = connect(port, mode)
        try:
            login_with(s, mech, USER, PASSWORD + "-wrong")
            check(f"{ep}: AUTH {mech} wrong password refused", False, "accepted")
        except smtplib.SMTPAuthenticationError as e:
            check(f"{ep}: AUTH {mech} wrong password -> 535", e.smtp_code == 535,
                  f"{e.smtp_code} {e.smtp_error!r}")
        s.quit()

    # Mail: one refused and two accepted recipients.
    s = connect(port, mode)
    s.login(USER, PASSWORD)
    refused = ENV["POSTFIX_REFUSED_RCPT"]
    msgid, msg = message(f"{ep} three rcpts", to=OK[1])
    errs = s.sendmail(USER, [refused, OK[1], OK[2]], msg)
    check(f"{ep}: refused recipient reported, others accepted",
          list(errs) == [refused] and errs[refused][0] == 550, str(errs))
    check_delivered(ep, kind, OK[1].split("@")[0], msgid, msg, [OK[1], OK[2]])
    if kind == "postfix":
        check_delivered(ep, kind, OK[2].split("@")[0], msgid, msg)

    # Temporarily refused recipient.
    s.mail(USER)
    code, resp = s.rcpt(ENV["POSTFIX_TEMPFAIL_RCPT"])
    check(f"{ep}: tempfail recipient -> 450", code == 450, f"{code} {resp!r}")
    s.rset()

    # Refused sender.
    try:
        s.sendmail(ENV["POSTFIX_REFUSED_SENDER"], [OK[1]], msg)
        check(f"{ep}: refused sender", False, "accepted")
    except smtplib.SMTPSenderRefused as e:
        check(f"{ep}: refused sender -> 5xx at MAIL FROM", 550 <= e.smtp_code < 560,
              f"{e.smtp_code} {e.smtp_error!r}")
    s.rset()

    # Relaying elsewhere is refused by Postfix (aiosmtpd records anything).
    if kind == "postfix":
        s.mail(USER)
        code, resp = s.rcpt("someone@other.example")
        check(f"{ep}: relaying refused", code == 554, f"{code} {resp!r}")
        s.rset()

    # SMTPUTF8: UTF-8 local part and headers.
    utf8_local = "jösé"
    utf8_rcpt = f"{utf8_local}@{ENV['POSTFIX_DOMAIN']}"
    msgid, msg = message(f"{ep} smtputf8 – ünïcödé", to=utf8_rcpt,
                         body="Grüße 👋\r\n".encode())
    errs = s.sendmail(USER, [utf8_rcpt], msg, mail_options=["SMTPUTF8", "BODY=8BITMIME"])
    check(f"{ep}: SMTPUTF8 recipient accepted", errs == {}, str(errs))
    check_delivered(ep, kind, utf8_local, msgid, msg, [utf8_rcpt])
    s.quit()


def size_checks(ep, port, mode, kind):
    limit = int(ENV["POSTFIX_SIZE_LIMIT"])
    s = connect(port, mode)
    s.login(USER, PASSWORD)
    # 20 MB passes.
    msgid, msg = message(f"{ep} 20MB", body=big_body(20_000_000))
    t = time.time()
    errs = s.sendmail(USER, [OK[1]], msg)
    check(f"{ep}: 20 MB message accepted", errs == {}, f"{time.time() - t:.1f}s")
    check_delivered(ep, kind, OK[1].split("@")[0], msgid, msg)
    # Over the limit, announced with SIZE=: refused at MAIL FROM.
    msgid, msg = message(f"{ep} too big", body=big_body(limit + 1000))
    try:
        s.sendmail(USER, [OK[1]], msg)
        check(f"{ep}: SIZE= over limit refused", False, "accepted")
    except smtplib.SMTPSenderRefused as e:
        check(f"{ep}: MAIL FROM SIZE= over limit -> 552", e.smtp_code == 552,
              f"{e.smtp_code} {e.smtp_error!r}")
    s.quit()
    # Over the limit, not announced: refused after the data.
    s = connect(port, mode)
    s.login(USER, PASSWORD)
    s.mail(USER)
    s.rcpt(OK[1])
    code, resp = s.data(msg)
    check(f"{ep}: DATA over limit -> 552", code == 552, f"{code} {resp!r}")
    s.quit()


# --------------------------------------------------------------- LMTP side
def lmtp_raw(connect_to, rcpts, msg):
    """Speaks LMTP by hand; returns (list of RCPT replies, list of DATA replies)."""
    if isinstance(connect_to, str):
        sock = socket.socket(socket.AF_UNIX)
    else:
        sock = socket.socket()
    sock.settimeout(30)
    sock.connect(connect_to)
    f = sock.makefile("rb")

    def reply():
        lines = []
        while True:
            line = f.readline().decode().rstrip("\r\n")
            lines.append(line)
            if line[3:4] != "-":
                return int(line[:3]), "\n".join(lines)

    def cmd(c):
        sock.sendall(c.encode() + b"\r\n")
        return reply()

    reply()
    cmd("LHLO client.example")
    cmd("MAIL FROM:<sender@client.example>")
    rcpt_replies = [cmd(f"RCPT TO:<{r}>") for r in rcpts]
    accepted = [r for r, (c, _) in zip(rcpts, rcpt_replies) if c == 250]
    data_replies = []
    if accepted:
        code, _ = cmd("DATA")
        assert code == 354
        body = re.sub(rb"(?m)^\.", b"..", msg)
        sock.sendall(body + b".\r\n")
        data_replies = [reply() for _ in accepted]  # one reply per accepted RCPT
    cmd("QUIT")
    sock.close()
    return rcpt_replies, data_replies


def dovecot_find(user, msgid):
    local, _, domain = user.partition("@")
    for p in glob.glob(os.path.join(ENV["DOVECOT_MAILDIR_ROOT"], domain, local, "Maildir", "new", "*")):
        with open(p, "rb") as f:
            data = f.read()
        if msgid.encode() in data:
            return p, data
    return None, None


def lmtp_checks():
    ok = ENV["DOVECOT_OK_RCPTS"].split(",")
    full, small = ENV["DOVECOT_FULL_RCPT"], ENV["DOVECOT_SMALL_RCPT"]
    for name, where in (("unix", ENV["DOVECOT_LMTP_SOCKET"]),
                        ("tcp", (HOST, int(ENV["DOVECOT_LMTP_PORT"])))):
        ep = f"dovecot-lmtp-{name}"
        # smtplib.LMTP: the over-quota RCPT is refused up front.
        if name == "unix":
            s = smtplib.LMTP(where)
        else:
            s = smtplib.LMTP(*where)
        s.ehlo_or_helo_if_needed()
        print(f"--- {ep}: LHLO {sorted(s.esmtp_features)}")
        msgid, msg = message(f"{ep} smtplib", to=ok[0])
        errs = s.sendmail("sender@client.example", [ok[0], ok[1], full], msg)
        check(f"{ep}: smtplib.LMTP: over-quota recipient refused at RCPT with 552",
              list(errs) == [full] and errs[full][0] == 552, str(errs))
        s.quit()
        for u in ok[:2]:
            path, data = dovecot_find(u, msgid)
            pre = split_prepended(data or b"", msg)
            check(f"{ep}: {u}'s copy is the sent message (CRLF) after trace headers",
                  path is not None and pre is not None, str(path))
            if pre:
                SEEN_HEADERS.setdefault("dovecot", pre)

        # Raw: per-recipient replies after DATA; small@ is refused there.
        msgid, msg = message(f"{ep} raw", body=big_body(10_000), to=ok[0])
        rr, dr = lmtp_raw(where, [ok[0], ok[1], full, small, "nosuchuser@" + ENV["POSTFIX_DOMAIN"]], msg)
        codes = [c for c, _ in rr]
        check(f"{ep}: RCPT replies 250 250 552 250 550", codes == [250, 250, 552, 250, 550],
              " | ".join(t for _, t in rr))
        dcodes = [c for c, _ in dr]
        check(f"{ep}: DATA replies, one per recipient: 250 250 552", dcodes == [250, 250, 552],
              " | ".join(t for _, t in dr))
        for u in ok[:2]:
            path, data = dovecot_find(u, msgid)
            check(f"{ep}: raw delivery to {u} stored", path is not None)
        path, _ = dovecot_find(small, msgid)
        check(f"{ep}: nothing stored for {small}", path is None)


# ------------------------------------------- Dovecot submission with OAuth
def oauth2_post(url, form, auth=None):
    """POSTs form; returns (HTTP status, decoded JSON body)."""
    import urllib.error
    import urllib.parse
    import urllib.request
    req = urllib.request.Request(url, urllib.parse.urlencode(form).encode())
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def oauth2_token(user, scope=None):
    return oauth2_post(ENV["OAUTH2_TOKEN_URL"], {"grant_type": "client_credentials",
                                                "scope": scope or ENV["OAUTH2_SCOPE"]},
                       auth=f"{user}:{ENV['OAUTH2_CLIENT_SECRET']}")


def oauth2_checks():
    users = ENV["OAUTH2_USERS"].split(",")
    code, body = oauth2_token(users[0])
    check("oauth2: client-credentials token issued", code == 200 and body.get("token_type") == "Bearer"
          and body.get("expires_in") == 3600, f"{code} {body}")
    code, bad = oauth2_token(users[0], scope="https://outlook.office.com/SMTP.Send")
    check("oauth2: another scope refused with invalid_scope", code == 400 and bad.get("error") == "invalid_scope",
          f"{code} {bad}")
    code, bad = oauth2_post(ENV["OAUTH2_TOKEN_URL"], {"grant_type": "client_credentials", "scope": ENV["OAUTH2_SCOPE"]},
                            auth=f"{users[0]}:wrong")
    check("oauth2: wrong client secret refused with invalid_client", code == 401, f"{code} {bad}")
    tok = body.get("access_token", "")
    _, intro = oauth2_post(ENV["OAUTH2_INTROSPECTION_URL"], {"token": tok})
    check("oauth2: introspection: active, for the client's mailbox",
          intro.get("active") is True and intro.get("username") == users[0], str(intro))

    for ep, port, mech, auth_line, err in [
            ("submission", ENV["DOVECOT_SUBMISSION_PORT"], "OAUTHBEARER", "PLAIN LOGIN OAUTHBEARER XOAUTH2",
             {"status": "invalid_token"}),
            ("submission-xoauth2", ENV["DOVECOT_SUBMISSION_XOAUTH2_PORT"], "XOAUTH2", "LOGIN XOAUTH2",
             {"status": "401", "schemes": "bearer", "scope": "mail"})]:
        _, body = oauth2_token(users[0])
        tok = body["access_token"]
        if mech == "OAUTHBEARER":
            ir = f"n,a={users[0]},\x01auth=Bearer {tok}\x01\x01"
        else:
            ir = f"user={users[0]}\x01auth=Bearer {tok}\x01\x01"
        s = smtplib.SMTP(HOST, int(port), local_hostname="client.example", timeout=30)
        s.ehlo()
        check(f"{ep}: AUTH offers {auth_line}", s.esmtp_features.get("auth", "").split() == auth_line.split(),
              s.esmtp_features.get("auth"))
        code, resp = s.docmd("AUTH", f"{mech} " + base64.b64encode(ir.encode()).decode())
        check(f"{ep}: AUTH {mech} with an issued token accepted", code == 235, f"{code} {resp!r}")
        msgid, msg = message(f"{ep} oauth", to=OK[2])
        errs = s.sendmail(users[0], [OK[2]], msg)
        check(f"{ep}: message relayed to Postfix", errs == {}, str(errs))
        s.quit()
        check_delivered(ep, "postfix", OK[2].split("@")[0], msgid, msg)

        oauth2_post(ENV["OAUTH2_REVOKE_URL"], {"token": tok})
        s = smtplib.SMTP(HOST, int(port), local_hostname="client.example", timeout=30)
        s.ehlo()
        code, resp = s.docmd("AUTH", f"{mech} " + base64.b64encode(ir.encode()).decode())
        got = json.loads(base64.b64decode(resp)) if code == 334 else None
        check(f"{ep}: revoked token: 334 with the JSON error {err}", got == err, f"{code} {resp!r}")
        code, resp = s.docmd("AQ==" if mech == "OAUTHBEARER" else "")
        check(f"{ep}: revoked token: then 535 5.7.8", code == 535 and resp.startswith(b"5.7.8"), f"{code} {resp!r}")
        s.quit()


def main():
    oauth2_checks()
    for ep, port, mode, kind, auth_needed in ENDPOINTS:
        smtp_checks(ep, port, mode, kind, auth_needed)
    size_checks("postfix-plain", ENV["POSTFIX_PLAIN_PORT"], "plain", "postfix")
    size_checks("aiosmtpd-plain", ENV["AIOSMTPD_PORT"], "plain", "aiosmtpd")
    lmtp_checks()
    for k, v in SEEN_HEADERS.items():
        print(f"--- headers {k} prepends:\n{v.rstrip()}")
    print(f"{PASSED} passed, {FAILED} failed")
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
