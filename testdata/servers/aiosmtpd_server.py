#!/usr/bin/python3
"""A recording SMTP server for the smtplib real-server tests, on aiosmtpd.

Run with Debian's /usr/bin/python3 (package python3-aiosmtpd).  Two listeners:

  --port        plain SMTP that offers STARTTLS (not required) and AUTH (also
                before TLS; not required for sending)
  --smtps-port  implicit TLS (the TLS handshake comes first)

Both offer SIZE, 8BITMIME, SMTPUTF8, PIPELINING and AUTH PLAIN, LOGIN and
CRAM-MD5 against the --user table.  Each accepted message is saved in
--maildir as NNNNNN.eml (the message exactly as received: dot-unstuffed,
CRLF line ends kept, nothing prepended) and NNNNNN.json (the envelope); the
.json file is written first and the .eml file appears (atomically, by rename)
before the 250 reply is sent, so a client that saw 250 can read both at once.
The 250 reply names the id: "250 2.0.0 OK queued as NNNNNN".
"""

import argparse
import asyncio
import datetime
import hashlib
import hmac
import json
import logging
import os
import secrets
import signal
import ssl

from aiosmtpd.smtp import MISSING, SMTP, AuthResult, LoginPassword


class Handler:
    def __init__(self, maildir, users, refused_senders, refused_rcpts, tempfail_rcpts):
        self.maildir = maildir
        self.users = users  # login (str) -> password (str)
        self.refused_senders = {a.lower() for a in refused_senders}
        self.refused_rcpts = {a.lower() for a in refused_rcpts}
        self.tempfail_rcpts = {a.lower() for a in tempfail_rcpts}
        existing = [int(n[:-4]) for n in os.listdir(maildir)
                    if n.endswith(".eml") and n[:-4].isdigit()]
        self.seq = max(existing, default=0)

    # ---- EHLO: aiosmtpd reads commands as a stream, so pipelined commands
    # work; it just does not say so.  Add PIPELINING before the last line.
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        return responses[:-1] + ["250-PIPELINING"] + responses[-1:]

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if address.lower() in self.refused_senders:
            return f"553 5.7.1 <{address}>: sender refused by test policy"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        envelope.rcpt_options_per_rcpt = []
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        a = address.lower()
        if a in self.refused_rcpts:
            return f"550 5.1.1 <{address}>: recipient refused by test policy"
        if a in self.tempfail_rcpts:
            return f"450 4.2.0 <{address}>: recipient temporarily refused by test policy"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        envelope.rcpt_options_per_rcpt.append(list(rcpt_options))
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.seq += 1
        name = f"{self.seq:06d}"
        sslobj = server.transport.get_extra_info("ssl_object") if server.transport else None
        auth = session.auth_data
        login = getattr(auth, "login", None)
        meta = {
            "id": name,
            "received": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "peer": list(session.peer) if session.peer else None,
            "helo": session.host_name,
            "tls": sslobj is not None,
            "tls_version": sslobj.version() if sslobj else None,
            "auth_user": login.decode("utf-8", "replace") if isinstance(login, bytes) else login,
            "mail_from": envelope.mail_from,
            "mail_options": envelope.mail_options,
            "smtp_utf8": bool(envelope.smtp_utf8),
            "rcpt_tos": envelope.rcpt_tos,
            "rcpt_options": getattr(envelope, "rcpt_options_per_rcpt", []),
            "size": len(envelope.original_content),
        }
        base = os.path.join(self.maildir, name)
        with open(base + ".json.tmp", "w", encoding="utf-8") as f:
            json.dump(meta, f, ensure_ascii=False, indent=1)
            f.write("\n")
        os.replace(base + ".json.tmp", base + ".json")
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        os.replace(base + ".eml.tmp", base + ".eml")
        logging.info("saved %s from %r to %r (%d bytes)", name, envelope.mail_from,
                     envelope.rcpt_tos, meta["size"])
        return f"250 2.0.0 OK queued as {name}"

    # ---- AUTH
    def authenticator(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            login = auth_data.login.decode("utf-8", "replace")
            want = self.users.get(login)
            if want is not None and hmac.compare_digest(
                    want.encode(), auth_data.password):
                return AuthResult(success=True, auth_data=auth_data)
        return AuthResult(success=False, handled=False)

    # aiosmtpd maps handler methods auth_XXX to mechanism XXX ("__" -> "-").
    async def auth_CRAM__MD5(self, server, args):
        if len(args) > 1:
            await server.push("501 5.5.2 CRAM-MD5 takes no initial response")
            return AuthResult(success=False, handled=True)
        challenge = f"<{secrets.randbelow(10**12)}.{os.getpid()}@localhost>"
        resp = await server.challenge_auth(challenge)
        if resp is MISSING:  # "*" or bad base64: already answered with 501
            return AuthResult(success=False, handled=True)
        user, _, digest = resp.decode("utf-8", "replace").rpartition(" ")
        pw = self.users.get(user)
        if pw is not None:
            want = hmac.new(pw.encode(), challenge.encode(), hashlib.md5).hexdigest()
            if hmac.compare_digest(want, digest.lower()):
                return AuthResult(success=True,
                                  auth_data=LoginPassword(user.encode(), b""))
        return AuthResult(success=False, handled=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--smtps-port", type=int, default=0)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--maildir", required=True)
    ap.add_argument("--ready-file", help="written with our PID once listening")
    ap.add_argument("--user", action="append", default=[], metavar="LOGIN:PASSWORD")
    ap.add_argument("--refused-sender", action="append", default=[])
    ap.add_argument("--refused-rcpt", action="append", default=[])
    ap.add_argument("--tempfail-rcpt", action="append", default=[])
    ap.add_argument("--size-limit", type=int, default=30 * 1024 * 1024)
    args = ap.parse_args()

    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    os.makedirs(args.maildir, exist_ok=True)
    users = dict(u.split(":", 1) for u in args.user)
    handler = Handler(args.maildir, users, args.refused_sender, args.refused_rcpt,
                      args.tempfail_rcpt)

    tls = None
    if args.cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.cert, args.key)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    def factory(starttls_ctx):
        return lambda: SMTP(
            handler,
            hostname="localhost",
            data_size_limit=args.size_limit,
            enable_SMTPUTF8=True,
            decode_data=False,
            tls_context=starttls_ctx,
            require_starttls=False,
            auth_required=False,
            auth_require_tls=False,
            authenticator=handler.authenticator,
            loop=loop,
        )

    servers = [loop.run_until_complete(
        loop.create_server(factory(tls), args.host, args.port))]
    if args.smtps_port:
        if tls is None:
            ap.error("--smtps-port needs --cert and --key")
        # Implicit TLS: no STARTTLS offered on this listener.
        servers.append(loop.run_until_complete(
            loop.create_server(factory(None), args.host, args.smtps_port, ssl=tls)))

    if args.ready_file:
        with open(args.ready_file + ".tmp", "w") as f:
            f.write(f"{os.getpid()}\n")
        os.replace(args.ready_file + ".tmp", args.ready_file)
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, loop.stop)
    logging.info("listening on %s:%d (STARTTLS) and %s:%d (implicit TLS)",
                 args.host, args.port, args.host, args.smtps_port)
    try:
        loop.run_forever()
    finally:
        for s in servers:
            s.close()
        if args.ready_file:
            try:
                os.unlink(args.ready_file)
            except FileNotFoundError:
                pass


if __name__ == "__main__":
    main()
