#!/usr/bin/python3
"""Docker registry token server for tests (run with Debian's /usr/bin/python3).

  GET  /token?service=S&scope=repository:NAME:pull,push[&scope=...][&offline_token=true]
       optional Authorization: Basic (testuser:testpass); anonymous gets pull only
  POST /token  form grant_type=refresh_token&refresh_token=R | grant_type=password&username=U&password=P
       (+ service, scope, client_id); the answer also carries "refresh_token"
  GET  /healthz  readiness probe (not logged)

Every /token request appends "METHOD user=<user|anonymous|refresh> scopes=<scopes>"
to --log. Tokens are ES256 JWTs whose header carries "x5c": [signing cert]:
distribution 2.8 (registry/auth/token) checks that chain against its
auth.token.rootcertbundle, so the bundle is the signing cert itself.
Needs the Debian packages python3-jwt and python3-cryptography.
"""
import argparse
import base64
import json
import os
import ssl
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import jwt

USERS = {"testuser": "testpass"}
REFRESH_TOKENS = {"refresh-testuser": "testuser"}
ALLOWED = {None: ("pull",), "testuser": ("pull", "push")}  # None: anonymous

p = argparse.ArgumentParser()
p.add_argument("--port", type=int, required=True)
p.add_argument("--key", required=True, help="PEM private key (EC P-256)")
p.add_argument("--cert", required=True, help="PEM certificate of that key")
p.add_argument("--log", required=True)
p.add_argument("--issuer", default="ocipush-test-issuer")
p.add_argument("--service", default="ocipush-test", help="audience when the request names none")
p.add_argument("--lifetime", type=int,
               default=int(os.environ.get("OCIPUSH_TEST_TOKEN_LIFETIME", "300")))
ARGS = p.parse_args()

with open(ARGS.key, "rb") as f:
    KEY = f.read()
with open(ARGS.cert) as f:
    X5C = [base64.b64encode(ssl.PEM_cert_to_DER_cert(f.read())).decode()]
LOG_LOCK = threading.Lock()


def first(params, name):
    return params.get(name, [""])[0]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, code, obj, extra=()):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def deny(self):
        self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]},
                   [("WWW-Authenticate", 'Basic realm="ocipush-test-token"')])

    def record(self, who, params):
        with LOG_LOCK, open(ARGS.log, "a") as f:
            f.write(f"{self.command} user={who} scopes={' '.join(params.get('scope', []))}\n")

    def grant(self, user, params, refresh):
        access = []
        for scope in " ".join(params.get("scope", [])).split():
            typ, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            if typ == "repository" and name:
                wanted = dict.fromkeys(actions.split(","))  # ordered, no duplicates
                access.append({"type": typ, "name": name,
                               "actions": [a for a in wanted if a in ALLOWED[user]]})
        now = int(time.time())
        claims = {"iss": ARGS.issuer, "sub": user or "", "aud": first(params, "service") or ARGS.service,
                  "exp": now + ARGS.lifetime, "nbf": now, "iat": now,
                  "jti": uuid.uuid4().hex, "access": access}
        token = jwt.encode(claims, KEY, algorithm="ES256", headers={"x5c": X5C})
        out = {"token": token, "access_token": token, "expires_in": ARGS.lifetime,
               "issued_at": datetime.fromtimestamp(now, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
        if refresh:
            out["refresh_token"] = "refresh-" + user
        self.reply(200, out)

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path == "/healthz":
            return self.reply(200, {})
        if url.path != "/token":
            return self.reply(404, {"errors": [{"code": "NOT_FOUND"}]})
        params = parse_qs(url.query)
        user = password = None
        auth = self.headers.get("Authorization", "")
        if auth[:6].lower() == "basic ":
            try:
                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                user = "?"
        self.record(user or "anonymous", params)
        if user is not None and (user not in USERS or USERS[user] != password):
            return self.deny()
        self.grant(user, params, refresh=user is not None and first(params, "offline_token") == "true")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if urlsplit(self.path).path != "/token":
            return self.reply(404, {"errors": [{"code": "NOT_FOUND"}]})
        form = parse_qs(body.decode("utf-8", "replace"))
        grant_type = first(form, "grant_type")
        if grant_type == "refresh_token":
            self.record("refresh", form)
            user = REFRESH_TOKENS.get(first(form, "refresh_token"))
        elif grant_type == "password":
            name = first(form, "username")
            self.record(name or "anonymous", form)
            user = name if name and USERS.get(name) == first(form, "password") else None
        else:
            self.record("anonymous", form)
            return self.reply(400, {"error": "unsupported_grant_type"})
        if user is None:
            return self.deny()
        self.grant(user, form, refresh=True)


server = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
server.daemon_threads = True
server.serve_forever()
