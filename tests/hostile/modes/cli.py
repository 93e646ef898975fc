"""Modes for the CLI's cancel tests (tests/hostile/test_cli.sh).

Each writes one line to LOGFILE.cli-started (beside the request log) when an
upload is under way, so a test can wait for it (bounded polling) before it
sends ocipush a signal.
"""
import socket
import sys
import time

STARTED = sys.argv[3] + ".cli-started"
# A stalled request gives up after this, so a test that went wrong still ends.
STALL_CAP_S = 120


def _started(h, route, what):
    with h.lock, open(STARTED, "a") as f:
        f.write(f"{what} {h.command} {route.path}\n")


def _wait_for_hangup(h):
    """Block until the client closes the connection (or the cap passes): True
    when it did."""
    sock = h.connection
    deadline = time.monotonic() + STALL_CAP_S
    while time.monotonic() < deadline:
        sock.settimeout(0.2)
        try:
            if sock.recv(1, socket.MSG_PEEK) == b"":
                return True
        except socket.timeout:
            continue
        except OSError:
            return True
        # Bytes past the body: the client sent another request; still waiting.
        time.sleep(0.05)
    return False


def stallbody(h, route):
    """A request that carries a blob's bytes (a PATCH, or a PUT with a body of
    4 KiB or more: not the empty config) is read, then never answered: the
    registry waits until ocipush hangs up."""
    if route.kind != "blobs/uploads" or not route.ref or h.command not in ("PATCH", "PUT"):
        return False
    if len(h.body()) < 4096:
        return False
    _started(h, route, "stalled")
    if _wait_for_hangup(h):
        h.close_connection = True
        return True
    h.answer(500)
    return True


def patch503(h, route):
    """Every PATCH of an upload is answered 503 with Retry-After: 600, so
    ocipush waits ten minutes before it tries again (with the upload session
    open)."""
    if route.kind != "blobs/uploads" or not route.ref or h.command != "PATCH":
        return False
    h.body()
    _started(h, route, "503")
    h.answer(503, {"Content-Type": "application/json", "Retry-After": "600"},
             b'{"errors":[{"code":"UNAVAILABLE","message":"hostile: come back later"}]}')
    return True


MODES = {"stallbody": stallbody, "patch503": patch503}
