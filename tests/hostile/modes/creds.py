"""Credentials across origins and schemes: token realms that redirect, upload
Locations and redirects to schemes other than http(s), realms on plain http.

The registry side of the realm-* modes asks for a Bearer token on every write
(reads stay anonymous, so a test can read back with plain curl); the token
endpoint /creds/token (HOOK) grants one only for the Basic credentials
USER:PASSWORD or, in a refresh-token POST, REFRESH_TOKEN below, and answers
401 to anything else.
"""
import base64
from urllib.parse import parse_qs, urlsplit

USER, PASSWORD = "creduser", "credpass-S3cret"
REFRESH_TOKEN = "creds-refresh-S3cret"
TOKEN = "creds-token-S3cret"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

# hostile/loc-scheme/<KEY>/..., hostile/redir-scheme/<KEY>/...: where to.
TARGETS = {
    "file": lambda other: "file:///etc/passwd",
    "filehost": lambda other: "file://localhost/etc/passwd",
    "ftp": lambda other: f"ftp://{other}/",
    "gopher": lambda other: f"gopher://{other}/_GET%20/",
    "dict": lambda other: f"dict://{other}/d:x",
}


def unauthorized(h, challenge):
    h.body()
    h.answer(401, {"Content-Type": "application/json", "WWW-Authenticate": challenge},
             b'{"errors":[{"code":"UNAUTHORIZED","message":"creds: token required"}]}')
    return True


def bearer_writes(h, route, realm):
    """Writes need the token; reads pass through to the registry."""
    if h.command in ("GET", "HEAD") or h.headers.get("Authorization") == "Bearer " + TOKEN:
        return False
    return unauthorized(h, f'Bearer realm="{realm}",service="hostile",'
                           f'scope="repository:{route.name}:push,pull"')


def realm_same(h, route):
    """Challenges with a realm on this server that redirects (307) to the token
    endpoint on this same origin: credentials must still reach it."""
    return bearer_writes(h, route, f"{h.scheme}://{h.own_origin}/creds/realm-same")


def realm_other(h, route):
    """Challenges with a realm on this server that redirects (307) to the
    recorder, another origin: credentials must not go there."""
    return bearer_writes(h, route, f"{h.scheme}://{h.own_origin}/creds/realm-other")


def realm_plain(h, route):
    """(For the https server.) Challenges with a plain-http realm on the plain
    hostile server (its other origin): an https registry's credentials must
    be withheld from it."""
    return bearer_writes(h, route, f"http://{h.other_origin}/creds/token")


def target(h, route):
    key = route.name.split("/")[2] if route.name.count("/") >= 3 else ""
    return TARGETS[key](h.other_origin) if key in TARGETS else None


def loc_scheme(h, route):
    """The upload-start POST answers 202 with a Location of another scheme
    (hostile/loc-scheme/KEY/..., KEY in TARGETS)."""
    if route.kind != "blobs/uploads" or h.command != "POST" or route.ref:
        return False
    h.body()
    h.answer(202, {"Location": target(h, route) or "file:///etc/passwd", "Range": "0-0"})
    return True


def redir_scheme(h, route):
    """Every write answers 307 to a URL of another scheme
    (hostile/redir-scheme/KEY/..., KEY in TARGETS); reads pass."""
    if h.command in ("GET", "HEAD"):
        return False
    h.body()
    h.answer(307, {"Location": target(h, route) or f"ftp://{h.other_origin}/"})
    return True


def basic_required(h, route):
    """Writes need the Basic credentials USER:PASSWORD (the registry's own)."""
    if h.command in ("GET", "HEAD") or h.headers.get("Authorization") == BASIC:
        return False
    return unauthorized(h, 'Basic realm="hostile"')


def loc_other(h, route):
    """Basic credentials required; the upload-start POST answers 202 with a
    Location on the recorder (another origin)."""
    if basic_required(h, route):
        return True
    if route.kind != "blobs/uploads" or h.command != "POST" or route.ref:
        return False
    h.body()
    h.answer(202, {"Location": f"http://{h.other_origin}/v2/{route.name}/blobs/uploads/elsewhere",
                   "Range": "0-0"})
    return True


def put_redir_other(h, route):
    """Basic credentials required; the manifest PUT answers 307 to the
    recorder (another origin)."""
    if basic_required(h, route):
        return True
    if route.kind != "manifests" or h.command != "PUT":
        return False
    h.body()
    h.answer(307, {"Location": f"http://{h.other_origin}/v2/{route.name}/manifests/{route.ref}"})
    return True


def token_endpoint(h):
    body = h.body()
    form = parse_qs(body.decode("utf-8", "replace")) if h.command == "POST" else {}
    granted = (h.headers.get("Authorization") == BASIC or
               (form.get("grant_type") == ["refresh_token"] and form.get("refresh_token") == [REFRESH_TOKEN]))
    if not granted:
        h.answer(401, {"Content-Type": "application/json", "WWW-Authenticate": 'Basic realm="creds"'},
                 b'{"errors":[{"code":"UNAUTHORIZED","message":"creds: no such user"}]}')
        return
    answer = f'{{"token":"{TOKEN}","access_token":"{TOKEN}","expires_in":300}}'.encode()
    h.answer(200, {"Content-Type": "application/json"}, answer)


def HOOK(h, route):
    split = urlsplit(h.path)
    query = "?" + split.query if split.query else ""
    if split.path == "/creds/token":
        token_endpoint(h)
    elif split.path == "/creds/realm-same":
        h.body()
        h.answer(307, {"Location": "/creds/token" + query})
    elif split.path == "/creds/realm-other":
        h.body()
        h.answer(307, {"Location": f"http://{h.other_origin}/token{query}"})
    else:
        return False
    return True


MODES = {
    "realm-same": realm_same,
    "realm-other": realm_other,
    "realm-plain": realm_plain,
    "loc-scheme": loc_scheme,
    "redir-scheme": redir_scheme,
    "loc-other": loc_other,
    "put-redir-other": put_redir_other,
}
