#!/usr/bin/python3
"""Records every request, then refuses it (Debian's /usr/bin/python3, stdlib only).

Usage: recorder.py PORT LOGFILE

Any method, any path: reads the body (Content-Length or chunked), appends
{"method", "path", "headers": {all request headers}, "body_len"} as one JSON
line to LOGFILE and answers 401 with WWW-Authenticate: Basic realm="recorder".
Tests point clients here to see what they would leak to a foreign host.
"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, LOG = int(sys.argv[1]), sys.argv[2]
LOG_LOCK = threading.Lock()
ANSWER = json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "recorder"}]}).encode()


def read_body(rfile, headers):
    """Reads and discards the request body; returns its length."""
    if "chunked" in headers.get("Transfer-Encoding", "").lower():
        total = 0
        while True:
            size = int(rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
                    pass
                return total
            total += len(rfile.read(size))
            rfile.readline()  # CRLF after the chunk
    left = int(headers.get("Content-Length") or 0)
    total = 0
    while left > 0:
        got = len(rfile.read(min(left, 1 << 16)))
        if got == 0:
            break
        total, left = total + got, left - got
    return total


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    # BaseHTTPRequestHandler dispatches to do_<METHOD>: answer every method.
    def __getattr__(self, name):
        if name.startswith("do_"):
            return self.record
        raise AttributeError(name)

    def record(self):
        headers = {}
        for k, v in self.headers.items():  # repeated headers are joined, as HTTP allows
            headers[k] = headers[k] + ", " + v if k in headers else v
        entry = {"method": self.command, "path": self.path, "headers": headers,
                 "body_len": read_body(self.rfile, self.headers)}
        with LOG_LOCK, open(LOG, "a") as f:
            f.write(json.dumps(entry) + "\n")
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="recorder"')
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(ANSWER)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(ANSWER)


server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
server.daemon_threads = True
server.serve_forever()
