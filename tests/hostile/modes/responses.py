"""Responses that lie or never end: bodies cut short, bodies that trickle,
stall or stream for ever, and error texts that try to act on a terminal.

  manifestcut  a manifest GET by tag (not a sha256- referrers tag) is answered
               200 with Content-Length: 1000, the first 40 bytes of a
               manifest, then the connection is closed
  tokencut     a request without a Bearer token is answered 401 with a Bearer
               challenge whose realm is /responses/token-cut here; that realm
               answers 200 with Content-Length: 1000 and a whole JSON token
               ("fragment-token") of fewer bytes, then closes; a request with
               any Bearer token goes on to the registry
  errorcut     the upload-start POST is answered 400 with Content-Length: 1000
               and a whole JSON error (code DENIED) of fewer bytes, then closes
  forged       the upload-start POST is answered 400 with a JSON error whose
               message holds LF, CR, a forged "ocipush:" line, ESC colours, a
               C1 CSI (U+009B) and a bidirectional override (U+202E)
  plainctl     the upload-start POST is answered 400 text/plain: a body with a
               lone 0x9B byte, invalid UTF-8, an encoded U+009B, ESC, CR LF
  longmsg      the upload-start POST is answered 400 with a 20,000-byte message
  realmesc     every /v2/ request is answered 401 with a Bearer challenge whose
               realm (not http or https) holds ESC colours
  trickle500   every request but HEAD is answered 500 with a body of one byte
               every 0.5 s, never ending
  endless500   every request but HEAD is answered 500 with a body without a
               length streamed as fast as it goes, never ending
  stall500     every request but HEAD is answered 500 with Content-Length:
               1000 and 10 bytes, then nothing until the client goes away
"""
import json
import select
import time

TOKEN_PATH = "/responses/token-cut"
CUT_MANIFEST = b'{"schemaVersion":2,"mediaType":"applicat'  # 40 bytes of 1000


def _cut(h, status, content_type, sent, declared):
    """Answers `status` declaring `declared` body bytes, sends `sent`, closes."""
    h.body()
    h.close_connection = True
    h.send_response(status)
    h.send_header("Content-Type", content_type)
    h.send_header("Content-Length", str(declared))
    h.end_headers()
    h.wfile.write(sent)
    h.wfile.flush()
    return True


def _is_upload_start(h, route):
    return h.command == "POST" and route.kind == "blobs/uploads" and not route.ref


def manifestcut(h, route):
    if h.command != "GET" or route.kind != "manifests" or route.ref.startswith("sha256"):
        return False
    assert len(CUT_MANIFEST) == 40
    return _cut(h, 200, "application/vnd.oci.image.manifest.v1+json", CUT_MANIFEST, 1000)


def tokencut(h, route):
    if h.headers.get("Authorization", "").startswith("Bearer "):
        return False
    h.body()
    realm = f"http://{h.own_origin}{TOKEN_PATH}"
    h.answer(401, {"Content-Type": "application/json",
                   "WWW-Authenticate": f'Bearer realm="{realm}",service="hostile"'},
             json.dumps({"errors": [{"code": "UNAUTHORIZED", "message": "token"}]}).encode())
    return True


def errorcut(h, route):
    if not _is_upload_start(h, route):
        return False
    fragment = json.dumps({"errors": [{"code": "DENIED", "message": "from a fragment"}]}).encode()
    return _cut(h, 400, "application/json", fragment, 1000)


FORGED = "x\n\rocipush: forged \u001b[31mred\u009b31m\u202eevil"


def forged(h, route):
    if not _is_upload_start(h, route):
        return False
    h.body()
    h.answer(400, {"Content-Type": "application/json"},
             json.dumps({"errors": [{"code": "DENIED", "message": FORGED}]}).encode())
    return True


PLAIN = b"denied \x9b31m \xc3\x28 \xc2\x9b1m \x1b[31mred\r\nocipush: forged\n"


def plainctl(h, route):
    if not _is_upload_start(h, route):
        return False
    h.body()
    h.answer(400, {"Content-Type": "text/plain"}, PLAIN)
    return True


def longmsg(h, route):
    if not _is_upload_start(h, route):
        return False
    h.body()
    message = "A" * 20000 + "END"
    h.answer(400, {"Content-Type": "application/json"},
             json.dumps({"errors": [{"code": "DENIED", "message": message}]}).encode())
    return True


def realmesc(h, route):
    h.body()
    h.answer(401, {"Content-Type": "application/json",
                   "WWW-Authenticate": 'Bearer realm="ftp://evil.invalid/\x1b[31mred",service="x"'},
             b"{}")
    return True


def _head_500(h, length=None, content_type="text/plain"):
    h.body()
    h.close_connection = True
    h.send_response(500)
    h.send_header("Content-Type", content_type)
    if length is not None:
        h.send_header("Content-Length", str(length))
    h.end_headers()


def _until_gone(h, piece, pause):
    """Writes `piece` every `pause` seconds until the client goes away."""
    try:
        while True:
            h.wfile.write(piece)
            h.wfile.flush()
            if pause:
                time.sleep(pause)
    except OSError:
        pass


def trickle500(h, route):
    if h.command == "HEAD":
        return False
    _head_500(h, length=10 ** 9)
    _until_gone(h, b"x", 0.5)
    return True


def endless500(h, route):
    if h.command == "HEAD":
        return False
    _head_500(h, content_type="application/json")
    h.wfile.write(b'{"errors":[{"code":"UNKNOWN","message":"')
    _until_gone(h, b"A" * 65536, 0)
    return True


def stall500(h, route):
    if h.command == "HEAD":
        return False
    _head_500(h, length=1000)
    h.wfile.write(b"0123456789")
    h.wfile.flush()
    # Nothing more, until the client closes (its end of the socket turns
    # readable) or two minutes pass.
    end = time.monotonic() + 120
    while time.monotonic() < end:
        ready, _, _ = select.select([h.connection], [], [], 1)
        if ready:
            break
    return True


def HOOK(h, route):
    if route.path != TOKEN_PATH:
        return False
    token = json.dumps({"token": "fragment-token", "expires_in": 300}).encode()
    return _cut(h, 200, "application/json", token, 1000)


MODES = {"manifestcut": manifestcut, "tokencut": tokencut, "errorcut": errorcut,
         "forged": forged, "plainctl": plainctl, "longmsg": longmsg, "realmesc": realmesc,
         "trickle500": trickle500, "endless500": endless500, "stall500": stall500}
