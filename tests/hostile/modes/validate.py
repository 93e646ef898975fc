"""Modes for tests/hostile/test_validate.sh: a token realm that hands out
tokens no header may carry, and answers whose Docker-Content-Digest or
Location hold control characters."""
import json

# Served by HOOK at /validate-token/<name>, named by the mode that challenges.
TOKENS = {
    "crlftoken": "abc\r\nX-Injected: 1",
    "spacetoken": "abc def",
    # Every character a b64token may hold (RFC 6750): accepted as it is.
    "goodtoken": "eyJhbGciOi.J9-_~+/aZ09==",
}
EVIL_DIGEST = "sha256:\x1b[31mforged\x1b[0m"


def HOOK(h, route):
    if not route.path.startswith("/validate-token/"):
        return False
    name = route.path[len("/validate-token/"):]
    h.body()
    if name not in TOKENS:
        h.answer(404)
        return True
    h.answer(200, {"Content-Type": "application/json"},
             json.dumps({"token": TOKENS[name], "expires_in": 300}).encode())
    return True


def bearer_mode(name):
    """Challenges every request but GET and HEAD (so a test reads back with
    plain curl) that has no Bearer token, with a realm on this server that
    answers TOKENS[name]; a request with one goes on."""
    def mode(h, route):
        if h.command in ("GET", "HEAD") or (h.headers.get("Authorization") or "").startswith("Bearer "):
            return False
        h.body()
        h.answer(401, {"Content-Type": "application/json",
                       "WWW-Authenticate": f'Bearer realm="http://{h.own_origin}/validate-token/{name}",'
                                           f'service="hostile",scope="repository:{route.name}:push,pull"'},
                 b'{"errors":[{"code":"UNAUTHORIZED","message":"token"}]}')
        return True
    return mode


def digestesc(h, route):
    """A blob commit (PUT ...?digest=) is answered 201 with a
    Docker-Content-Digest holding terminal escapes; nothing is stored."""
    if route.kind == "blobs/uploads" and h.command == "PUT":
        h.body()
        h.answer(201, {"Location": f"/v2/{route.name}/blobs/x", "Docker-Content-Digest": EVIL_DIGEST})
        return True
    return False


def manifestdigestesc(h, route):
    """A manifest PUT is answered 201 with a Docker-Content-Digest holding
    terminal escapes; nothing is stored or tagged."""
    if route.kind == "manifests" and h.command == "PUT":
        h.body()
        h.answer(201, {"Docker-Content-Digest": EVIL_DIGEST})
        return True
    return False


def locationesc(h, route):
    """The upload-start POST is answered 202 with a Location that holds a
    space and an escape."""
    if route.kind == "blobs/uploads" and h.command == "POST":
        h.body()
        h.answer(202, {"Location": f"/v2/{route.name}/blobs/uploads/a b\x1b[31m",
                       "Range": "0-0", "Docker-Upload-UUID": "x"})
        return True
    return False


def contenttypeesc(h, route):
    """Every manifest GET or HEAD is answered with a manifest whose
    Content-Type holds an escape (what a --subject is read from)."""
    if route.kind == "manifests" and h.command in ("GET", "HEAD"):
        h.body()
        h.answer(200, {"Content-Type": "application/vnd.oci.image.manifest.v1+json\x1b[31m"},
                 b'{"schemaVersion":2,"layers":[]}')
        return True
    return False


MODES = {name: bearer_mode(name) for name in TOKENS}
MODES.update({"digestesc": digestesc, "manifestdigestesc": manifestdigestesc,
              "locationesc": locationesc, "contenttypeesc": contenttypeesc})
