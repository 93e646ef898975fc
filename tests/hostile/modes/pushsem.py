"""Modes for what a push commits to: a blob HEAD that lies about the size,
manifest PUTs refused with MANIFEST_BLOB_UNKNOWN for blobs just pushed, and
a tag refused after the manifest landed."""
import json

BLOB_UNKNOWN = json.dumps({"errors": [{
    "code": "MANIFEST_BLOB_UNKNOWN",
    "message": "blob unknown to registry",
    "detail": "hostile: the race of distribution's link rewrite"}]}).encode()


def headsize0(h, route):
    """Every blob HEAD is answered 200 with Content-Length: 0 (and the digest),
    whether the blob is there or not."""
    if route.kind != "blobs" or h.command != "HEAD":
        return False
    h.body()
    h.answer(200, {"Content-Type": "application/octet-stream", "Content-Length": "0",
                   "Docker-Content-Digest": route.ref})
    return True


def refuse_manifest(h):
    h.body()
    h.answer(400, {"Content-Type": "application/json"}, BLOB_UNKNOWN)
    return True


def first_put(h, route):
    """True for the first manifest PUT of the repository, False after it."""
    if route.kind != "manifests" or h.command != "PUT":
        return False
    with h.lock:
        seen = h.server_state.setdefault("pushsem-put", set())
        first = route.name not in seen
        seen.add(route.name)
    return first


def blobunknown1(h, route):
    """The first manifest PUT of the repository is refused with
    MANIFEST_BLOB_UNKNOWN; then the registry behaves."""
    return refuse_manifest(h) if first_put(h, route) else False


def blobunknown(h, route):
    """Every manifest PUT is refused with MANIFEST_BLOB_UNKNOWN."""
    if route.kind != "manifests" or h.command != "PUT":
        return False
    return refuse_manifest(h)


def bloblost(h, route):
    """The first manifest PUT is refused with MANIFEST_BLOB_UNKNOWN, and from
    then on every blob HEAD of the repository answers 404: the blob is lost."""
    if first_put(h, route):
        return refuse_manifest(h)
    with h.lock:
        lost = route.name in h.server_state.get("pushsem-put", set())
    if route.kind == "blobs" and h.command == "HEAD" and lost:
        h.body()
        h.answer(404, {"Content-Type": "application/json"},
                 b'{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry"}]}')
        return True
    return False


def tagrefused(h, route):
    """A manifest PUT to the tag "refused" is answered 403 DENIED: every other
    PUT (by digest, to another tag) lands."""
    if route.kind != "manifests" or h.command != "PUT" or route.ref != "refused":
        return False
    h.body()
    h.answer(403, {"Content-Type": "application/json"},
             b'{"errors":[{"code":"DENIED","message":"hostile: this tag is protected"}]}')
    return True


MODES = {"headsize0": headsize0, "tagrefused": tagrefused, "blobunknown1": blobunknown1, "blobunknown": blobunknown,
         "bloblost": bloblost}
