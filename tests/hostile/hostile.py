#!/usr/bin/python3
"""A small registry that misbehaves on purpose (Debian's /usr/bin/python3, stdlib only).

Usage: hostile.py PORT OTHER_ORIGIN LOGFILE [CERT:KEY]

OTHER_ORIGIN is "127.0.0.1:PORT" of a recorder (tests/auth/recorder.py): a
server standing for another origin, to which hostile modes redirect, so a
test can see what ocipush would have handed to a foreign host.

With CERT:KEY (PEM files) it serves https instead of http (h.scheme says
which), so modes can test what an https registry hands to plain-http hosts.

Without a mode it is a correct, in-memory registry (distribution's answers,
no referrers API): uploads (POST, PATCH with Content-Length or chunked,
PUT ?digest= checked against the bytes), blobs (HEAD, GET), manifests (PUT,
HEAD, GET by tag or digest, the media type kept), upload status (GET) and
cancel (DELETE). So a push that goes through can be read back with curl.

A repository hostile/<MODES>/<anything> gets the modes listed in MODES,
joined by '.' (hostile/realmredirect/app). Each mode is a function in a module
of tests/hostile/modes/ (every *.py there is loaded; each has a dict MODES,
name -> function(h, route) returning True when it answered the request
itself, False to let the next mode or the registry answer). `route` is a
Route (below); `h` the handler, with h.body() (the request body, read once),
h.answer(status, headers=None, body=b"") and h.server_state (a dict kept for
the server's life, under h.lock). Modes may also answer paths outside /v2/
(a token realm, say): every request is offered to each module's HOOK
function, if it has one, before routing.

LOGFILE gets one JSON line per request, written before the answer:
  {"method", "path" (with query), "headers": [[name, value], ...] as
   received, "body_len", "modes": [...]}
"""
import hashlib
import importlib.util
import json
import os
import re
import ssl
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PORT, OTHER, LOGFILE = int(sys.argv[1]), sys.argv[2], sys.argv[3]
TLS = sys.argv[4].split(":", 1) if len(sys.argv) > 4 else None
LOG_LOCK = threading.Lock()
LOCK = threading.Lock()
STATE = {}  # for the modes
BLOBS = {}  # digest -> bytes
UPLOADS = {}  # upload id -> bytearray
MANIFESTS = {}  # (repo, digest) -> (media type, bytes)
TAGS = {}  # (repo, tag) -> digest

ROUTE = re.compile(r"^/v2/(?P<name>.+?)/(?P<kind>blobs/uploads|blobs|manifests|referrers|tags)/?(?P<ref>[^/]*)$")


class Route:
    """A /v2/ request taken apart: name (repository), kind (blobs, blobs/uploads,
    manifests, referrers, tags), ref (digest, tag, upload id or ''), query
    (dict of lists), modes (the hostile/<MODES>/ list, [] for none)."""

    def __init__(self, path):
        split = urlsplit(path)
        self.path, self.query = split.path, parse_qs(split.query)
        m = ROUTE.match(split.path)
        self.name = m.group("name") if m else None
        self.kind = m.group("kind") if m else None
        self.ref = m.group("ref") if m else None
        parts = (self.name or "").split("/")
        self.modes = parts[1].split(".") if len(parts) >= 3 and parts[0] == "hostile" else []


def load_modes():
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "modes")
    modes, hooks = {}, []
    for fn in sorted(os.listdir(here)):
        if not fn.endswith(".py"):
            continue
        spec = importlib.util.spec_from_file_location("hostile_" + fn[:-3], os.path.join(here, fn))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for name, fn_ in getattr(mod, "MODES", {}).items():
            if name in modes:
                raise SystemExit(f"hostile: mode {name} defined twice")
            modes[name] = fn_
        if hasattr(mod, "HOOK"):
            hooks.append(mod.HOOK)
    return modes, hooks


MODES, HOOKS = load_modes()


def error(code, message=""):
    return json.dumps({"errors": [{"code": code, "message": message}]}).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_state = STATE
    lock = LOCK
    other_origin = OTHER
    own_origin = f"127.0.0.1:{PORT}"
    scheme = "https" if TLS else "http"

    def log_message(self, *args):
        pass

    # The 100 goes out when a mode or the registry reads the body (body()),
    # so a mode may answer before it, as a proxy that refuses early does.
    def handle_expect_100(self):
        return True

    # BaseHTTPRequestHandler dispatches to do_<METHOD>: answer every method.
    def __getattr__(self, name):
        if name.startswith("do_"):
            return self.handle_any
        raise AttributeError(name)

    def body(self):
        """The request body (Content-Length or chunked), read once."""
        if hasattr(self, "_body"):
            return self._body
        if "100-continue" in self.headers.get("Expect", "").lower():
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        data = bytearray()
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            while True:
                size = int(self.rfile.readline(1024).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                data += self.rfile.read(size)
                self.rfile.readline(1024)
        else:
            left = int(self.headers.get("Content-Length") or 0)
            while left > 0:
                piece = self.rfile.read(min(left, 1 << 16))
                if not piece:
                    break
                data += piece
                left -= len(piece)
        self._body = bytes(data)
        return self._body

    def answer(self, status, headers=None, body=b""):
        """Sends a whole answer (Content-Length set from body unless given)."""
        self.send_response(status)
        headers = dict(headers or {})
        if not any(k.lower() == "content-length" for k in headers):
            headers["Content-Length"] = str(len(body))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def log_request_line(self, route):
        body_len = len(self._body) if hasattr(self, "_body") else None
        entry = {"method": self.command, "path": self.path,
                 "headers": [[k, v] for k, v in self.headers.items()],
                 "body_len": body_len, "modes": route.modes}
        with LOG_LOCK, open(LOGFILE, "a") as f:
            f.write(json.dumps(entry) + "\n")

    # The log line goes out before the answer's first byte, so a client that
    # has its answer finds its request logged.
    def send_response(self, code, message=None):
        self.log_once()
        super().send_response(code, message)

    def log_once(self):
        if not getattr(self, "_logged", True):  # (False: a request of handle_any)
            self._logged = True
            self.log_request_line(self._route)

    def handle_any(self):
        # One handler serves every request of a keep-alive connection.
        self.__dict__.pop("_body", None)
        route = self._route = Route(self.path)
        self._logged = False
        try:
            for hook in HOOKS:
                if hook(self, route):
                    return
            for m in route.modes:
                fn = MODES.get(m)
                if fn is None:
                    self.body()
                    self.answer(400, {"Content-Type": "application/json"}, error("UNSUPPORTED", "unknown mode " + m))
                    return
                if fn(self, route):
                    return
            self.registry(route)
        finally:
            self.log_once()

    # --- a correct registry ----------------------------------------------
    def registry(self, r):
        m = self.command
        if r.path in ("/v2", "/v2/"):
            self.body()
            return self.answer(200, {"Content-Type": "application/json"}, b"{}")
        if r.kind is None:
            self.body()
            return self.answer(404, {"Content-Type": "application/json"}, error("NAME_UNKNOWN"))
        if r.kind == "blobs/uploads":
            return self.uploads(r)
        if r.kind == "blobs" and m in ("HEAD", "GET"):
            self.body()
            data = BLOBS.get(r.ref)
            if data is None:
                return self.answer(404, {"Content-Type": "application/json"}, error("BLOB_UNKNOWN"))
            return self.answer(200, {"Content-Type": "application/octet-stream",
                                     "Docker-Content-Digest": r.ref}, data)
        if r.kind == "manifests":
            return self.manifests(r)
        self.body()
        return self.answer(404, {"Content-Type": "application/json"}, error("UNSUPPORTED"))

    def upload_answer(self, r, uid, status):
        n = len(UPLOADS[uid])
        self.answer(status, {"Location": f"/v2/{r.name}/blobs/uploads/{uid}",
                             "Docker-Upload-UUID": uid,
                             "Range": f"0-{n - 1 if n else 0}"})

    def commit(self, r, uid, digest):
        data = bytes(UPLOADS.pop(uid))
        if "sha256:" + hashlib.sha256(data).hexdigest() != digest:
            return self.answer(400, {"Content-Type": "application/json"}, error("DIGEST_INVALID"))
        BLOBS[digest] = data
        self.answer(201, {"Location": f"/v2/{r.name}/blobs/{digest}", "Docker-Content-Digest": digest})

    def uploads(self, r):
        m, body = self.command, self.body()
        digest = (r.query.get("digest") or [None])[0]
        with LOCK:
            if m == "POST" and not r.ref:
                uid = uuid.uuid4().hex
                UPLOADS[uid] = bytearray(body)
                if digest:
                    return self.commit(r, uid, digest)
                return self.upload_answer(r, uid, 202)
            if r.ref not in UPLOADS:
                return self.answer(404, {"Content-Type": "application/json"}, error("BLOB_UPLOAD_UNKNOWN"))
            if m == "PATCH":
                UPLOADS[r.ref] += body
                return self.upload_answer(r, r.ref, 202)
            if m == "PUT":
                UPLOADS[r.ref] += body
                return self.commit(r, r.ref, digest)
            if m == "GET":
                return self.upload_answer(r, r.ref, 204)
            if m == "DELETE":
                del UPLOADS[r.ref]
                return self.answer(204)
        return self.answer(405)

    def manifests(self, r):
        m, body = self.command, self.body()
        with LOCK:
            if m == "PUT":
                digest = "sha256:" + hashlib.sha256(body).hexdigest()
                MANIFESTS[(r.name, digest)] = (self.headers.get("Content-Type", ""), body)
                if not r.ref.startswith("sha256:"):
                    TAGS[(r.name, r.ref)] = digest
                elif r.ref != digest:
                    return self.answer(400, {"Content-Type": "application/json"}, error("DIGEST_INVALID"))
                return self.answer(201, {"Location": f"/v2/{r.name}/manifests/{digest}",
                                         "Docker-Content-Digest": digest})
            digest = r.ref if r.ref.startswith("sha256:") else TAGS.get((r.name, r.ref))
            got = MANIFESTS.get((r.name, digest))
            if m in ("GET", "HEAD") and got:
                return self.answer(200, {"Content-Type": got[0], "Docker-Content-Digest": digest}, got[1])
            if m in ("GET", "HEAD"):
                return self.answer(404, {"Content-Type": "application/json"}, error("MANIFEST_UNKNOWN"))
        return self.answer(405)


server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
server.daemon_threads = True
if TLS:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(TLS[0], TLS[1])
    # The handshake happens in the handler's thread, so a client that never
    # completes one holds up no one else.
    server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
server.serve_forever()
