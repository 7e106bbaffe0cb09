#!/usr/bin/python3
"""A small OAuth 2.0 authorization server for the smtplib real-server tests.

Run with Debian's /usr/bin/python3 (standard library only).  It listens on
--host:--port (plain HTTP, loopback only) and keeps its tokens in memory:

  POST /token       RFC 6749 section 4.4, the client-credentials grant, as
                    Microsoft Entra ID gives it to a program: client_id and
                    client_secret in HTTP Basic or in the form; client_id is
                    the mailbox the token is for (one of --user), the secret
                    --client-secret, scope must be --scope.  The answer is
                    {"access_token", "token_type": "Bearer", "expires_in",
                    "scope"}; expires_in is the form's "expires_in" when
                    given (a test asks for a lifetime its client counts as
                    already expired, so that each login takes a new token),
                    else 3600.  Errors are RFC 6749 section 5.2's JSON.
  POST /introspect  RFC 7662, for Dovecot's oauth2 passdb (introspection_mode
                    = post): form "token"; {"active": true, "username",
                    "scope", "exp"} for a token issued and not revoked,
                    {"active": false} otherwise.
  POST /revoke      RFC 7009: form "token"; the token is no longer active.
                    A test uses it to make a token expire at the server
                    without waiting for the clock.

Tokens do not expire by the clock here: a test decides when one stops
working, with /revoke.  Each request is logged to stderr, tokens shortened.
"""

import argparse
import base64
import json
import os
import secrets
import signal
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class State:
    def __init__(self, users, secret, scope):
        self.users = set(users)
        self.secret = secret
        self.scope = scope
        self.lock = threading.Lock()
        self.tokens = {}  # access token -> (user, exp)
        self.issued = 0


def short(token):
    return token[:10] + "..." if len(token) > 10 else token


class Handler(BaseHTTPRequestHandler):
    server_version = "smtplib-test-oauth2/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("oauth2: " + (fmt % args) + "\n")

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def form(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode()
        return {k: v[0] for k, v in urllib.parse.parse_qs(body, keep_blank_values=True).items()}

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        form = self.form()
        st = self.server.state
        if path == "/token":
            self.token(st, form)
        elif path == "/introspect":
            with st.lock:
                entry = st.tokens.get(form.get("token", ""))
            if entry is None:
                self.log_message("introspect %s: inactive", short(form.get("token", "")))
                self.reply(200, {"active": False})
                return
            user, exp = entry
            self.log_message("introspect %s: active for %s", short(form["token"]), user)
            self.reply(200, {"active": True, "username": user, "scope": st.scope, "exp": exp})
        elif path == "/revoke":
            with st.lock:
                entry = st.tokens.pop(form.get("token", ""), None)
            self.log_message("revoke %s: %s", short(form.get("token", "")), "revoked" if entry else "unknown")
            self.reply(200, {})
        else:
            self.reply(404, {"error": "not_found"})

    def token(self, st, form):
        client_id, secret = form.get("client_id"), form.get("client_secret")
        auth = self.headers.get("Authorization", "")
        if auth.lower().startswith("basic "):
            raw = base64.b64decode(auth[6:]).decode()
            cid, _, sec = raw.partition(":")
            client_id, secret = urllib.parse.unquote_plus(cid), urllib.parse.unquote_plus(sec)
        if form.get("grant_type") != "client_credentials":
            self.reply(400, {"error": "unsupported_grant_type"})
            return
        if client_id not in st.users or not secrets.compare_digest(secret or "", st.secret):
            self.reply(401, {"error": "invalid_client"})
            return
        if form.get("scope") != st.scope:
            self.reply(400, {"error": "invalid_scope", "error_description": "the scope is " + st.scope})
            return
        expires_in = int(form.get("expires_in") or 3600)
        token = "at-" + secrets.token_urlsafe(24)
        with st.lock:
            st.tokens[token] = (client_id, int(time.time()) + expires_in)
            st.issued += 1
        self.log_message("token %s for %s, expires_in %d", short(token), client_id, expires_in)
        self.reply(200, {"access_token": token, "token_type": "Bearer",
                         "expires_in": expires_in, "scope": st.scope})


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", action="append", default=[], help="a mailbox a token may be for")
    ap.add_argument("--client-secret", required=True)
    ap.add_argument("--scope", required=True)
    ap.add_argument("--ready-file", help="written with our PID once listening")
    args = ap.parse_args()

    httpd = ThreadingHTTPServer((args.host, args.port), Handler)
    httpd.daemon_threads = True
    httpd.state = State(args.user, args.client_secret, args.scope)
    if args.ready_file:
        with open(args.ready_file + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.replace(args.ready_file + ".tmp", args.ready_file)
    # serve_forever runs on this thread; the handler stops it from another.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=httpd.shutdown).start())
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
        if args.ready_file:
            try:
                os.unlink(args.ready_file)
            except FileNotFoundError:
                pass


if __name__ == "__main__":
    main()
