#!/usr/bin/python3
"""A fault-injecting HTTP/1.1 proxy in front of a registry (Debian's /usr/bin/python3, stdlib).

Usage: faultproxy.py PORT UPSTREAM_HOST:PORT LOGFILE

Listens on 127.0.0.1:PORT and forwards every request to UPSTREAM: method,
path+query, headers (Host unchanged, so the registry's absolute Locations point
back here; hop-by-hop headers dropped), bodies streamed both ways in pieces of
64 KiB (Content-Length or chunked request bodies, the latter re-sent chunked).
"Expect: 100-continue" is answered here with a 100 once the body is wanted.
Keep-alive on both sides: one upstream connection per client connection.

A repository faults/<SPEC>/<anything> gets the faults listed in SPEC, joined
by '.' (e.g. /v2/faults/patch201.rangestuck/app/blobs/uploads/); any other
repository is forwarded untouched. M is one of post patch put head get any;
all numbers are decimal. Counters are per repository name and per fault.
  lose-patch-K       the K-th PATCH goes to the registry whole, but its answer is
                     dropped and the client's connection reset (a lost answer)
  goodstatus         a GET of an upload is answered by the proxy: 204 with the
                     Location and Range of the last PATCH the registry accepted
                     (distribution 2.8 answers 404 once its state token is stale)
  reset-patch-N reset-put-N  the first PATCH / PUT with a body: its first N body
                     bytes go upstream, then the upstream connection is ended
                     (FIN), and once upstream has closed it (<= 10 s), the
                     client's connection is reset (RST)
  status-S-M-K       the first K requests of method M are answered S (408 429 500
                     502 503 504) here: {"errors":[{"code":"UNAVAILABLE",...}]}
  retryafter-T       those answers get Retry-After: T
  retrydate-T        those answers get Retry-After: <HTTP date T s from now>
  code-CODE-M-K      the first K requests of method M are answered 400 here
                     with error code CODE upper-cased (CODE: [a-z0-9_]+)
  stall-M-S          the first request of method M is read, then nothing for S
                     seconds, then its connection is closed
  patch201           202 answers to PATCH become 201
  rangestuck         the Range of every answer to PATCH reads 0-<end of the
                     first PATCH's Range>
  rangebytes         Range: 0-N in any answer becomes Range: bytes=0-N
  statusquay         202 answers to the upload-start POST get Range: 0--1
  chunkcap-N         a PATCH with a body over N bytes is answered 416 here,
                     {"errors":[{"code":"SIZE_INVALID",...}]}
  chunkcap413-N      the same with 413
  bodycap-N          any request with a body over N bytes is answered 413 here
                     (an HTML body, as Cloudflare's)
  nocontentrange     a PATCH with Content-Range is answered 400 UNSUPPORTED here
  nochunked          a request with a chunked body is answered 411 here
  chunked400-N       a request with a chunked body longer than N bytes has N
                     (and up to 64 KiB more) of them read here, then is answered
                     400 with Connection: close (as the middleboxes that read
                     megabytes of a chunked body before refusing it); the rest
                     of the body is read and discarded until the client stops
                     sending (a lingering close, so the answer is not lost to a
                     reset). A shorter chunked body is forwarded.
  monocap-N          a PUT with a body over N bytes is answered 400
                     BLOB_UPLOAD_INVALID here
  chunkmin-N         202 answers to the upload-start POST get
                     OCI-Chunk-Min-Length: N; an accepted PATCH with Content-Range
                     and fewer than N body bytes that is followed on the same
                     upload by another accepted PATCH or PUT with a body (so
                     it was not the last chunk) is logged as a line
                     "chunkmin-violation UPLOAD-PATH content_range=R bytes_in=B min=N"
The faults that act on a request before it is forwarded (reset, status, code,
stall, the caps, nocontentrange, nochunked) are tried in SPEC order and the
first that acts decides the request; a fault counts only the requests that
reach it. A request answered here has its body read and discarded, except when
the client asked for 100-continue and the body was not read yet: then the
answer comes without a 100 and the connection is closed. For a chunked body,
the caps read up to N+1 bytes ahead (held in memory) to decide. An unknown
fault name is answered 400 {"errors":[{"code":"UNSUPPORTED",...}]}.

LOGFILE gets one line per request, written before the answer is sent:
  METHOD PATH status=N fault=NAMES|none bytes_in=N content_range=VALUE|none
(PATH without query; status=0 when no answer was sent: reset, stall; NAMES:
the faults that acted, comma-separated; bytes_in: request body bytes read
from the client).
"""
import email.utils
import http.client
import re
import select
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

PORT = int(sys.argv[1])
UP_HOST, UP_PORT = sys.argv[2].rsplit(":", 1)
LOG = open(sys.argv[3], "a", buffering=1, encoding="utf-8")  # line-buffered
PIECE = 64 * 1024
# Hop-by-hop headers (RFC 9110 7.6.1) are not forwarded; Expect is handled here.
HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer",
       "transfer-encoding", "upgrade", "expect"}
REPO = re.compile(r"^/v2/(.+?)/(?:blobs|manifests|tags)/")
UPLOAD_START = re.compile(r"^/v2/.+/blobs/uploads/$")
M = "(post|patch|put|head|get|any)"
GRAMMAR = [(name, re.compile(rx)) for name, rx in [
    ("reset", r"reset-(patch|put)-(\d+)"),
    ("lose", r"lose-patch-(\d+)"),
    ("goodstatus", "goodstatus"),
    ("status", rf"status-(408|429|500|502|503|504)-{M}-(\d+)"),
    ("retryafter", r"retryafter-(\d+)"),
    ("retrydate", r"retrydate-(\d+)"),
    ("code", rf"code-([a-z0-9_]+)-{M}-(\d+)"),
    ("stall", rf"stall-{M}-(\d+)"),
    ("patch201", "patch201"),
    ("rangestuck", "rangestuck"),
    ("rangebytes", "rangebytes"),
    ("statusquay", "statusquay"),
    ("chunkcap", r"chunkcap-(\d+)"),
    ("chunkcap413", r"chunkcap413-(\d+)"),
    ("bodycap", r"bodycap-(\d+)"),
    ("nocontentrange", "nocontentrange"),
    ("nochunked", "nochunked"),
    ("chunked400", r"chunked400-(\d+)"),
    ("monocap", r"monocap-(\d+)"),
    ("chunkmin", r"chunkmin-(\d+)"),
]]
LOCK = threading.Lock()
COUNTS = {}  # (repository, fault) -> requests that fault has seen
STUCK = {}  # repository -> end of the Range of its first answered PATCH (rangestuck)
SMALL = {}  # upload path -> (Content-Range, size) of its last short PATCH (chunkmin)
UPLOADS = {}  # upload path -> (Location, Range) of its last accepted PATCH (goodstatus)


def faults_of(repo):
    """[(token, name, args)] for a repository faults/SPEC/...; ValueError(token) if unknown."""
    parts = (repo or "").split("/")
    if len(parts) < 3 or parts[0] != "faults":
        return []
    out = []
    for tok in parts[1].split("."):
        for name, rx in GRAMMAR:
            m = rx.fullmatch(tok)
            if m:
                out.append((tok, name, m.groups()))
                break
        else:
            raise ValueError(tok)
    return out


def nth(repo, tok, k):
    """Counts one more request seen by fault tok of repo; True for the k-th."""
    with LOCK:
        COUNTS[repo, tok] = COUNTS.get((repo, tok), 0) + 1
        return COUNTS[repo, tok] == k


def within_first(repo, tok, k):
    """Counts one more request seen by fault tok of repo; True for the first k."""
    with LOCK:
        COUNTS[repo, tok] = COUNTS.get((repo, tok), 0) + 1
        return COUNTS[repo, tok] <= k


def error(code, message):
    return b'{"errors":[{"code":"%s","message":"%s"}]}' % (code.encode(), message.encode())


class Body:
    """The client's request body, read on demand in pieces of at most PIECE bytes."""

    def __init__(self, h):
        self.h = h
        self.chunked = "chunked" in h.headers.get("Transfer-Encoding", "").lower()
        self.length = None if self.chunked else int(h.headers.get("Content-Length") or 0)
        self.left = self.length or 0  # bytes left in the body (or the current chunk)
        self.present = self.chunked or self.left > 0
        self.done = not self.present
        self.started = False  # reading began (and a 100 Continue went out if asked for)
        self.n = 0  # bytes read from the client
        self.ahead = []  # pieces read by larger_than() and not handed out yet

    def _next(self):
        """The next piece from the client; b'' at the end of the body."""
        if self.done:
            return b""
        rfile = self.h.rfile
        if not self.started:
            self.started = True
            if self.h.expect:
                self.h.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        if self.chunked and self.left == 0:
            self.left = int(rfile.readline(1024).split(b";")[0], 16)  # size [;ext] CRLF
            if self.left == 0:
                while rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                    pass  # trailer fields, dropped
                self.done = True
                return b""
        piece = rfile.read(min(self.left, PIECE))
        if not piece:
            raise ConnectionError("client closed the connection mid-body")
        self.left -= len(piece)
        self.n += len(piece)
        if self.left == 0:
            if self.chunked:
                rfile.readline(1024)  # the CRLF after the chunk's data
            else:
                self.done = True
        return piece

    def pieces(self):
        while self.ahead:
            yield self.ahead.pop(0)
        while piece := self._next():
            yield piece

    def discard(self):
        for _ in self.pieces():
            pass

    def larger_than(self, limit):
        if not self.chunked:
            return self.length > limit
        while not self.done and self.n <= limit:  # read ahead, at most limit + PIECE bytes
            piece = self._next()
            if piece:
                self.ahead.append(piece)
        return self.n > limit


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    up = None  # keep-alive connection to upstream, one per client connection

    def __getattr__(self, name):  # do_<ANY METHOD> -> handle
        if name.startswith("do_"):
            return self.handle_any
        raise AttributeError(name)

    def handle_expect_100(self):
        return True  # the 100 goes out when the body is first read (Body._next)

    def log_message(self, *args):
        pass

    def finish(self):
        super().finish()
        self.drop_upstream()

    def drop_upstream(self):
        if self.up:
            self.up.close()
            self.up = None

    def handle_any(self):
        try:
            self.handle_request()
        except (OSError, ValueError, http.client.HTTPException):
            # The client went away or sent garbage, or upstream broke mid-answer.
            self.close_connection = True
            self.drop_upstream()

    def handle_request(self):
        self.req_path = urlsplit(self.path).path
        self.expect = self.headers.get("Expect", "").lower() == "100-continue"
        self.body = Body(self)
        m = REPO.match(self.req_path)
        self.repo = m.group(1) if m else None
        try:
            faults = faults_of(self.repo)
        except ValueError as e:
            return self.refuse(400, error("UNSUPPORTED", f"faultproxy: unknown fault {e}"), ["unknown"])
        for tok, name, args in faults:
            if self.before(faults, tok, name, args):
                return
        self.forward(faults)

    def method_is(self, m):
        return m in ("any", self.command.lower())

    def before(self, faults, tok, name, a):
        """Applies a fault that acts before forwarding; True if it decided the request."""
        cmd, repo, body = self.command, self.repo, self.body
        if name == "reset" and cmd == a[0].upper() and body.present and within_first(repo, tok, 1):
            return self.forward(faults, reset=(tok, int(a[1])))
        if name == "lose" and cmd == "PATCH" and nth(repo, tok, int(a[0])):
            return self.forward(faults, lose=tok)
        if name == "goodstatus" and cmd == "GET" and self.req_path in UPLOADS:
            # distribution 2.8 answers 404 to a status asked with an upload
            # state token older than its data; this stands for a registry
            # whose status works: what it last accepted, and where to go on.
            location, rng = UPLOADS[self.req_path]
            return self.refuse(204, b"", [tok], [("Location", location), ("Range", rng)])
        if name == "stall" and self.method_is(a[0]) and within_first(repo, tok, 1):
            body.discard()
            self.log(0, [tok])
            time.sleep(int(a[1]))
            self.close_connection = True
            return True
        if name == "status" and self.method_is(a[1]) and within_first(repo, tok, int(a[2])):
            headers, used = [], [tok]
            for t, n, b in faults:
                if n in ("retryafter", "retrydate"):
                    secs = int(b[0])
                    used.append(t)
                    headers.append(("Retry-After", str(secs) if n == "retryafter" else
                                    email.utils.formatdate(time.time() + secs, usegmt=True)))
            return self.refuse(int(a[0]), error("UNAVAILABLE", "injected"), used, headers)
        if name == "code" and self.method_is(a[1]) and within_first(repo, tok, int(a[2])):
            return self.refuse(400, error(a[0].upper(), "injected"), [tok])
        if name == "nochunked" and body.chunked:
            return self.refuse(411, b"", [tok])
        if name == "chunked400" and body.chunked and body.larger_than(int(a[0])):
            self.log(400, [tok])
            self.answer(400, [("Content-Type", "application/json")],
                        error("BLOB_UPLOAD_INVALID", "chunked body refused part-way"), True)
            self.wfile.flush()
            self.close_connection = True
            try:
                body.ahead.clear()
                body.discard()  # until the client, told to close, stops sending
            except (OSError, ValueError):
                pass
            return True
        if name == "nocontentrange" and cmd == "PATCH" and "Content-Range" in self.headers:
            return self.refuse(400, error("UNSUPPORTED", "chunked upload not supported"), [tok])
        if name in ("chunkcap", "chunkcap413") and cmd == "PATCH" and body.larger_than(int(a[0])):
            return self.refuse(416 if name == "chunkcap" else 413, error(
                "SIZE_INVALID", f"request body is too large (over {a[0]} bytes)"), [tok])
        if name == "bodycap" and body.larger_than(int(a[0])):
            return self.refuse(413, b"<html><head><title>413 Request Entity Too Large</title></head>"
                               b"<body><center><h1>413 Request Entity Too Large</h1></center>"
                               b"<hr><center>cloudflare</center></body></html>\n", [tok])
        if name == "monocap" and cmd == "PUT" and body.larger_than(int(a[0])):
            return self.refuse(400, error("BLOB_UPLOAD_INVALID", "too large"), [tok])
        return False

    def log(self, status, used):
        with LOCK:
            LOG.write(f"{self.command} {self.req_path} status={status} fault={','.join(used) or 'none'} "
                      f"bytes_in={self.body.n} content_range={self.headers.get('Content-Range') or 'none'}\n")

    def answer(self, code, headers, body, close):
        self.send_response_only(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")  # also makes the server drop the connection
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def refuse(self, code, body, used, headers=()):
        """Answers here; True."""
        close = self.body.present and self.expect and not self.body.started
        if not close:
            self.body.discard()
        self.log(code, used)
        ctype = "application/json" if body.startswith(b"{") else "text/html"
        self.answer(code, ([("Content-Type", ctype)] if body else []) + list(headers), body, close)
        return True

    def upstream(self):
        if self.up and self.up.sock and select.select([self.up.sock], [], [], 0)[0]:
            self.drop_upstream()  # readable while idle: upstream closed it
        if not self.up:
            self.up = http.client.HTTPConnection(UP_HOST, int(UP_PORT), timeout=300)
        return self.up

    def cut_upstream(self):
        """Ends the request to upstream where it is (a FIN, as a cut connection gives it) and
        waits (<= 10 s) until upstream closes, so that what it makes of the partial body is
        settled before the client learns of the cut and asks."""
        sock = self.up.sock
        try:
            sock.shutdown(socket.SHUT_WR)
            sock.settimeout(10)
            while sock.recv(PIECE):
                pass  # its answer to the cut request, if any
        except OSError:
            pass
        self.drop_upstream()

    def reset_client(self):
        """Ends the client's connection with a TCP RST (SO_LINGER 0)."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()  # (it holds a reference that would keep the socket open)
        self.connection.close()  # RST, as SO_LINGER is 0
        self.close_connection = True

    def forward(self, faults, reset=None, lose=None):
        """Forwards the request, streaming; with reset=(token, N): cuts after N body bytes;
        with lose=token: the upstream answer is read and dropped, the client reset. True."""
        chunked = self.body.chunked
        try:
            up = self.upstream()
            up.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for k, v in self.headers.items():  # Host included, as received
                if k.lower() not in HOP and not (chunked and k.lower() == "content-length"):
                    up.putheader(k, v)
            if chunked:
                up.putheader("Transfer-Encoding", "chunked")
            up.endheaders()
        except OSError as e:
            self.drop_upstream()
            return self.refuse(502, error("UNAVAILABLE", f"faultproxy: upstream: {e}"), [])
        limit = reset[1] if reset else None
        sent, broken = 0, False  # broken: upstream answered early or failed; stop sending
        for piece in self.body.pieces():
            if limit is not None:
                piece = piece[:limit - sent]
            if piece and not broken:
                try:
                    if select.select([up.sock], [], [], 0)[0]:
                        broken = True
                    else:
                        up.send(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                        sent += len(piece)
                except OSError:
                    broken = True
            if limit is not None and sent >= limit:
                break
        if reset:
            self.log(0, [reset[0]])
            self.cut_upstream()
            self.reset_client()
            return True
        try:
            if chunked and not broken:
                up.send(b"0\r\n\r\n")
            resp = up.getresponse()
        except (OSError, http.client.HTTPException) as e:
            self.drop_upstream()
            return self.refuse(502, error("UNAVAILABLE", f"faultproxy: upstream: {e}"), [])
        if any(n == "goodstatus" for _, n, _ in faults) and self.command == "PATCH" and \
                resp.status in (201, 202) and resp.getheader("Location"):
            with LOCK:
                UPLOADS[self.req_path] = (resp.getheader("Location"), resp.getheader("Range") or "")
        if lose:
            resp.read()
            resp.close()
            self.log(0, [lose])
            self.drop_upstream()
            self.reset_client()
            return True
        self.relay(faults, resp, broken)
        return True

    def relay(self, faults, resp, broken):
        status = resp.status
        headers = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP]
        used = []
        status = self.rewrite(faults, status, headers, used)
        self.check_chunkmin(faults, status)
        self.log(status, used)
        self.send_response_only(status, resp.reason if status == resp.status else None)
        for k, v in headers:
            self.send_header(k, v)
        has_body = self.command != "HEAD" and status >= 200 and status not in (204, 304)
        rechunk = has_body and resp.getheader("Content-Length") is None
        if rechunk:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        while has_body and (data := resp.read(PIECE)):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if rechunk else data)
        if rechunk:
            self.wfile.write(b"0\r\n\r\n")
        resp.close()  # (an answer without a body must be closed to reuse the connection)
        if broken or resp.will_close:
            self.drop_upstream()

    def rewrite(self, faults, status, headers, used):
        """Applies the answer-rewriting faults to headers (in place); the new status."""
        f = {name: (tok, a) for tok, name, a in faults}

        def get(name):
            return next((v for k, v in headers if k.lower() == name.lower()), None)

        def put(name, value, tok):
            headers[:] = [(k, v) for k, v in headers if k.lower() != name.lower()] + [(name, value)]
            used.append(tok)

        patch = self.command == "PATCH"
        start = self.command == "POST" and status == 202 and UPLOAD_START.match(self.req_path)
        if "patch201" in f and patch and status == 202:
            status = 201
            used.append(f["patch201"][0])
        if "rangestuck" in f and patch and get("Range"):
            with LOCK:
                end = STUCK.setdefault(self.repo, get("Range").split("-", 1)[1])
            put("Range", f"0-{end}", f["rangestuck"][0])
        if "statusquay" in f and start:
            put("Range", "0--1", f["statusquay"][0])
        if "rangebytes" in f and re.fullmatch(r"0-\d+", get("Range") or ""):
            put("Range", "bytes=" + get("Range"), f["rangebytes"][0])
        if "chunkmin" in f and start:
            put("OCI-Chunk-Min-Length", f["chunkmin"][1][0], f["chunkmin"][0])
        return status

    def check_chunkmin(self, faults, status):
        mins = [int(a[0]) for _, name, a in faults if name == "chunkmin"]
        if not mins or self.command not in ("PATCH", "PUT") or not 200 <= status < 300:
            return
        cr = self.headers.get("Content-Range")
        with LOCK:
            prev = SMALL.pop(self.req_path, None)
            if prev and self.body.n > 0:  # more data came: the short chunk was not the last
                LOG.write(f"chunkmin-violation {self.req_path} content_range={prev[0]} "
                          f"bytes_in={prev[1]} min={mins[0]}\n")
            if self.command == "PATCH" and cr and self.body.n < mins[0]:
                SMALL[self.req_path] = (cr, self.body.n)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64


Server(("127.0.0.1", PORT), Proxy).serve_forever()
