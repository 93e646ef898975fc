"""Python binding of ocipush (ctypes, standard library only).

ocipush pushes blobs, manifests and whole artifacts to OCI registries. This
module wraps its C API (include/ocipush.h) one to one, in Python terms:

    import ocipush

    with ocipush.Session("localhost:5000", plain_http=True) as s, \\
         ocipush.Source.from_file("chart.tgz") as src:
        digest, size = ocipush.blob_push(s, "charts/mychart", src)

The library is loaded from $OCIPUSH_LIBRARY, else from what
ctypes.util.find_library("ocipush") finds, else as "libocipush.so.0".

- Every failing call raises OcipushError(code, name, message): `code` is the
  library's negative OCIPUSH_E_* status (the E_* constants here), `name` what
  ocipush_strerror() calls it, `message` the detail from
  ocipush_session_errmsg() (or, for calls made without a session, what was
  being done). Wrong Python types raise TypeError, and NUL characters in
  strings ValueError, before C is called.
- Session, Source, Descriptor, Manifest and Push own one C handle each. It is
  freed by close() or at the end of a `with` block; __del__ frees it too, as
  a fallback. Using a closed object raises ValueError.
- Callbacks (a session's log and progress callbacks, a callback source's
  read and rewind, a push's progress callback) run inside the ocipush call
  that needs them, on the calling thread, except during Push.run() with a
  concurrency above 1 and more than one distinct layer source: the layers
  are then uploaded by threads of the library, which call the layers'
  sources (each source on one thread), the session's log callback and the
  push's progress callback (these two one call at a time) from there; the
  session's progress callback is then not called for the layers (see
  Push.set_concurrency). Such a callback holds the GIL
  (ctypes takes it) but is not on the thread that called run(). An
  exception raised in a callback is caught and makes the callback report
  failure to C (a read or rewind fails, a progress callback aborts), and
  once the C call has returned that same exception is raised from it, in
  the calling thread (with a note saying what ocipush made of it). A log
  callback cannot fail the C call: the exception it raised is raised once
  the call returns, whether the call succeeded or not.
- Strings are passed to C as UTF-8 (paths as os.fsencode makes them), and
  the library's strings are decoded as UTF-8.
- Threads: as in C, one object is used by one thread at a time; different
  sessions may push from different threads at once (the GIL is released
  while C runs).
- Not bound: ocipush_set_allocator() (see README.md).
"""

import collections
import ctypes
import ctypes.util
import enum
import itertools
import os
import threading

# The binding's own version, the package's (pyproject.toml); version() is the
# library's, which may be newer.
__version__ = "0.1.0"

__all__ = [
    "OcipushError", "LogLevel", "Session", "Source", "Descriptor", "Manifest", "Push",
    "Reference", "Blob", "BlobStatus", "manifest_media_type", "copy", "blob_push", "blob_push_mount", "blob_exists", "manifest_push",
    "manifest_push_raw", "chart_push", "credentials_store", "credentials_erase",
    "reference_parse", "strerror", "version", "is_valid_repository", "is_valid_tag",
    "is_valid_digest", "is_valid_media_type",
    "OK", "E_INVALID", "E_NOMEM", "E_IO", "E_NETWORK", "E_HTTP", "E_AUTH",
    "E_DIGEST_MISMATCH", "E_SOURCE", "E_NOT_REPLAYABLE", "E_ABORTED", "E_PROTOCOL",
    "E_UNSUPPORTED", "E_NOT_MOUNTED", "DIGEST_MAX", "MEDIA_TYPE_MANIFEST", "MEDIA_TYPE_INDEX",
    "MEDIA_TYPE_EMPTY", "MEDIA_TYPE_LAYER", "TAR_PRESERVE_OWNER",
    "COMPRESS_NONE", "COMPRESS_GZIP", "COMPRESS_ZSTD",
]

# Status codes (fixed by the C header, never renumbered).
OK = 0
E_INVALID = -1
E_NOMEM = -2
E_IO = -3
E_NETWORK = -4
E_HTTP = -5
E_AUTH = -6
E_DIGEST_MISMATCH = -7
E_SOURCE = -8
E_NOT_REPLAYABLE = -9
E_ABORTED = -10
E_PROTOCOL = -11
E_UNSUPPORTED = -12
E_NOT_MOUNTED = -13

# OCIPUSH_DIGEST_MAX: every digest output buffer ("sha512:" + 128 hex + NUL).
DIGEST_MAX = 136

MEDIA_TYPE_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_TYPE_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_TYPE_EMPTY = "application/vnd.oci.empty.v1+json"
MEDIA_TYPE_LAYER = "application/vnd.oci.image.layer.v1.tar"

# ocipush_source_new_tar_dir() flag (Source.tar_dir(preserve_owner=True)).
TAR_PRESERVE_OWNER = 1
COMPRESS_NONE = 0  # Session.set_layer_compression(): layers as they are
COMPRESS_GZIP = 1  # Source.compressed(): gzip (zlib)
COMPRESS_ZSTD = 2  # Source.compressed(): zstd, in a build with libzstd (feature("zstd"))


class BlobStatus(enum.IntEnum):
    """What a push did with a blob (ocipush_blob_status)."""

    PUSHED = 0   # read from its source and uploaded (or written into a layout)
    SKIPPED = 1  # the repository had it: nothing sent
    MOUNTED = 2  # mounted from another repository: nothing sent


# One blob a call or a push stored: its status a BlobStatus (an int the
# binding does not know yet stays an int).
Blob = collections.namedtuple("Blob", "digest size media_type status")


def _blob_status(value):
    try:
        return BlobStatus(value)
    except ValueError:
        return value


def _blobs(count, get, handle):
    out = []
    for i in range(count(handle)):
        digest, media_type = c_char_p(), c_char_p()
        size, status = c_uint64(0), c_int(0)
        _check(get(handle, ctypes.byref(digest), ctypes.byref(size), ctypes.byref(media_type),
                   ctypes.byref(status), i), "cannot read what the push stored")
        out.append(Blob(_decode(digest.value), size.value, _decode(media_type.value),
                        _blob_status(status.value)))
    return out


class LogLevel(enum.IntEnum):
    """Levels given to a log callback (ocipush_log_level)."""

    ERROR = 0
    WARN = 1
    INFO = 2
    DEBUG = 3


_SPOOL_DISK_DEFAULT = 64 << 20  # the library's default disk cap for the spool

_STRATEGIES = {"auto": 0, "monolithic": 1, "stream": 2, "chunked": 3}
_MANIFEST_KINDS = {"image": 0, "index": 1}


class OcipushError(Exception):
    """A call into ocipush failed.

    code:    the status, one of the E_* constants (negative)
    name:    its name, as ocipush_strerror() gives it ("network error", ...)
    message: what happened (the session's error message, when there is one)
    http_status: the HTTP status of the registry's answer the message is
                 about (400, 403, ...), 0 when none
    error_code:  the registry's error code in it (MANIFEST_BLOB_UNKNOWN,
                 DENIED, ...), "" when none
    """

    def __init__(self, code, name, message, http_status=0, error_code=""):
        super().__init__(code, name, message)
        self.code = code
        self.name = name
        self.message = message
        self.http_status = http_status
        self.error_code = error_code

    def __str__(self):
        if self.message and self.message != self.name:
            return f"{self.name}: {self.message}"
        return self.name


# ---------------------------------------------------------------------------
# The library and its prototypes
# ---------------------------------------------------------------------------


class _session(ctypes.Structure):
    pass


class _source(ctypes.Structure):
    pass


class _descriptor(ctypes.Structure):
    pass


class _manifest(ctypes.Structure):
    pass


class _push(ctypes.Structure):
    pass


_P = ctypes.POINTER
_SESSION = _P(_session)
_SOURCE = _P(_source)
_DESCRIPTOR = _P(_descriptor)
_MANIFEST = _P(_manifest)
_PUSH = _P(_push)
_CHARS = _P(ctypes.c_char)  # an out buffer (create_string_buffer)
c_int, c_long, c_char_p, c_void_p = ctypes.c_int, ctypes.c_long, ctypes.c_char_p, ctypes.c_void_p
c_size_t, c_int64, c_uint64 = ctypes.c_size_t, ctypes.c_int64, ctypes.c_uint64

_LOG_FN = ctypes.CFUNCTYPE(None, c_int, c_char_p, c_void_p)
_PROGRESS_FN = ctypes.CFUNCTYPE(c_int, c_uint64, c_int64, c_void_p)
_READ_FN = ctypes.CFUNCTYPE(c_int, c_void_p, c_size_t, _P(c_size_t), c_void_p)
_REWIND_FN = ctypes.CFUNCTYPE(c_int, c_void_p)
_CLOSE_FN = ctypes.CFUNCTYPE(None, c_void_p)
_PUSH_PROGRESS_FN = ctypes.CFUNCTYPE(c_int, c_size_t, c_uint64, c_int64, c_uint64, c_int64,
                                     c_void_p)

_PROTOTYPES = [
    ("ocipush_strerror", c_char_p, [c_int]),
    ("ocipush_version", c_char_p, []),
    ("ocipush_free", None, [c_void_p]),
    # session
    ("ocipush_session_new", c_int, [_P(_SESSION), c_char_p]),
    ("ocipush_session_new_layout", c_int, [_P(_SESSION), c_char_p]),
    ("ocipush_session_free", None, [_SESSION]),
    ("ocipush_session_errmsg", c_char_p, [_SESSION]),
    ("ocipush_session_http_status", c_int, [_SESSION]),
    ("ocipush_session_error_code", c_char_p, [_SESSION]),
    ("ocipush_session_blob_count", c_size_t, [_SESSION]),
    ("ocipush_session_blob", c_int,
     [_SESSION, _P(c_char_p), _P(c_uint64), _P(c_char_p), _P(c_int), c_size_t]),
    ("ocipush_version_num", ctypes.c_uint, []),
    ("ocipush_feature", c_int, [c_char_p]),
    ("ocipush_libcurl_version", c_char_p, []),
    ("ocipush_global_init", c_int, []),
    ("ocipush_global_cleanup", None, []),
    ("ocipush_session_set_plain_http", c_int, [_SESSION, c_int]),
    ("ocipush_session_set_ca_file", c_int, [_SESSION, c_char_p]),
    ("ocipush_session_set_insecure", c_int, [_SESSION, c_int]),
    ("ocipush_session_set_basic_auth", c_int, [_SESSION, c_char_p, c_char_p]),
    ("ocipush_session_set_identity_token", c_int, [_SESSION, c_char_p]),
    ("ocipush_session_set_client_cert", c_int, [_SESSION, c_char_p, c_char_p]),
    ("ocipush_session_load_credentials", c_int, [_SESSION, _P(c_int)]),
    ("ocipush_session_set_helper_timeout", c_int, [_SESSION, c_int64]),
    ("ocipush_credentials_store", c_int, [c_char_p, c_char_p, c_char_p]),
    ("ocipush_credentials_erase", c_int, [_P(c_int), c_char_p]),
    ("ocipush_session_ping", c_int, [_SESSION, c_char_p]),
    ("ocipush_session_set_user_agent", c_int, [_SESSION, c_char_p]),
    ("ocipush_session_set_timeouts", c_int, [_SESSION, ctypes.c_int64, ctypes.c_int64]),
    ("ocipush_session_set_timeout", c_int, [_SESSION, c_int64]),
    ("ocipush_session_set_log_callback", c_int, [_SESSION, _LOG_FN, c_int, c_void_p]),
    ("ocipush_session_set_progress_callback", c_int, [_SESSION, _PROGRESS_FN, c_void_p]),
    ("ocipush_session_cancel", c_int, [_SESSION]),
    ("ocipush_session_set_strategy", c_int, [_SESSION, c_int]),
    ("ocipush_session_set_chunk_size", c_int, [_SESSION, c_uint64]),
    ("ocipush_session_set_retry", c_int, [_SESSION, c_int, ctypes.c_int64, ctypes.c_int64, c_int]),
    ("ocipush_session_set_spool", c_int, [_SESSION, c_int, c_uint64, c_uint64]),
    ("ocipush_session_set_layer_compression", c_int, [_SESSION, c_int, c_int]),
    ("ocipush_session_set_copy_concurrency", c_int, [_SESSION, c_int]),
    ("ocipush_session_set_copy_mount_from", c_int, [_SESSION, c_char_p]),
    # sources
    ("ocipush_source_new_memory", c_int, [_P(_SOURCE), c_void_p, c_size_t, c_int]),
    ("ocipush_source_new_file", c_int, [_P(_SOURCE), c_char_p]),
    ("ocipush_source_new_fd", c_int, [_P(_SOURCE), c_int, c_int]),
    ("ocipush_source_new_callback", c_int,
     [_P(_SOURCE), _READ_FN, _REWIND_FN, _CLOSE_FN, c_int64, c_void_p]),
    ("ocipush_source_size", c_int64, [_SOURCE]),
    ("ocipush_source_new_compressed", c_int, [_P(_SOURCE), _SOURCE, c_int, c_int]),
    ("ocipush_source_uncompressed_digest", c_int, [_SOURCE, _CHARS, _P(c_uint64)]),
    ("ocipush_source_new_tar_dir", c_int, [_P(_SOURCE), c_char_p, c_int, c_int64]),
    ("ocipush_source_free", None, [_SOURCE]),
    # blobs
    ("ocipush_blob_push", c_int, [_SESSION, _CHARS, _P(c_uint64), c_char_p, _SOURCE, c_char_p]),
    ("ocipush_blob_push_mount", c_int,
     [_SESSION, _P(c_uint64), _P(c_int), c_char_p, _SOURCE, c_char_p, c_char_p]),
    ("ocipush_blob_exists", c_int, [_SESSION, _P(c_int), c_char_p, c_char_p]),
    # descriptors and manifests
    ("ocipush_descriptor_new", c_int, [_P(_DESCRIPTOR), c_char_p, c_char_p, c_uint64]),
    ("ocipush_descriptor_free", None, [_DESCRIPTOR]),
    ("ocipush_descriptor_add_annotation", c_int, [_DESCRIPTOR, c_char_p, c_char_p]),
    ("ocipush_descriptor_set_artifact_type", c_int, [_DESCRIPTOR, c_char_p]),
    ("ocipush_descriptor_set_platform", c_int, [_DESCRIPTOR, c_char_p, c_char_p, c_char_p]),
    ("ocipush_manifest_new", c_int, [_P(_MANIFEST), c_int]),
    ("ocipush_manifest_free", None, [_MANIFEST]),
    ("ocipush_manifest_set_config", c_int, [_MANIFEST, _DESCRIPTOR]),
    ("ocipush_manifest_add_layer", c_int, [_MANIFEST, _DESCRIPTOR]),
    ("ocipush_manifest_add_manifest", c_int, [_MANIFEST, _DESCRIPTOR]),
    ("ocipush_manifest_set_subject", c_int, [_MANIFEST, _DESCRIPTOR]),
    ("ocipush_manifest_set_artifact_type", c_int, [_MANIFEST, c_char_p]),
    ("ocipush_manifest_add_annotation", c_int, [_MANIFEST, c_char_p, c_char_p]),
    ("ocipush_manifest_serialize", c_int, [_MANIFEST, _P(c_void_p), _P(c_size_t)]),
    ("ocipush_manifest_push", c_int, [_SESSION, _CHARS, c_char_p, c_char_p, _MANIFEST]),
    ("ocipush_manifest_media_type", c_int, [_P(c_void_p), c_void_p, c_size_t]),
    ("ocipush_manifest_push_raw", c_int,
     [_SESSION, _CHARS, c_char_p, c_char_p, c_char_p, c_void_p, c_size_t]),
    # whole artifacts
    ("ocipush_push_new", c_int, [_P(_PUSH)]),
    ("ocipush_push_free", None, [_PUSH]),
    ("ocipush_push_set_config", c_int, [_PUSH, _SOURCE, c_char_p]),
    ("ocipush_push_add_layer", c_int, [_PUSH, _SOURCE, c_char_p, c_char_p]),
    ("ocipush_push_add_layer_digest", c_int, [_PUSH, _SOURCE, c_char_p, c_char_p, c_char_p]),
    ("ocipush_push_set_mount_source", c_int, [_PUSH, c_char_p]),
    ("ocipush_push_set_artifact_type", c_int, [_PUSH, c_char_p]),
    ("ocipush_push_add_annotation", c_int, [_PUSH, c_char_p, c_char_p]),
    ("ocipush_push_add_tag", c_int, [_PUSH, c_char_p]),
    ("ocipush_push_set_concurrency", c_int, [_PUSH, c_int]),
    ("ocipush_push_set_progress_callback", c_int, [_PUSH, _PUSH_PROGRESS_FN, c_void_p]),
    ("ocipush_push_set_subject", c_int, [_PUSH, c_char_p]),
    ("ocipush_push_run", c_int, [_SESSION, _PUSH, _CHARS, c_char_p]),
    ("ocipush_push_landed", c_char_p, [_PUSH]),
    ("ocipush_push_tagged", ctypes.c_size_t, [_PUSH]),
    ("ocipush_push_landed_size", c_uint64, [_PUSH]),
    ("ocipush_push_blob_count", c_size_t, [_PUSH]),
    ("ocipush_push_blob", c_int,
     [_PUSH, _P(c_char_p), _P(c_uint64), _P(c_char_p), _P(c_int), c_size_t]),
    # copying images
    ("ocipush_copy", c_int, [_SESSION, _CHARS, c_char_p, c_char_p, c_char_p, c_int]),
    # Helm charts
    ("ocipush_chart_push", c_int, [_SESSION, _P(c_void_p), _CHARS, c_char_p, c_char_p]),
    # references
    ("ocipush_repository_validate", c_int, [c_char_p]),
    ("ocipush_tag_validate", c_int, [c_char_p]),
    ("ocipush_digest_validate", c_int, [c_char_p]),
    ("ocipush_media_type_validate", c_int, [c_char_p]),
    ("ocipush_reference_parse", c_int,
     [_P(c_void_p), _P(c_void_p), _P(c_void_p), _P(c_void_p), _P(c_char_p), c_char_p]),
]


def _sanitizer_runtime_missing(path):
    """The sanitizer a library at `path` needs but this process lacks, or None.

    A library built with -fsanitize=address or thread cannot be loaded into
    an uninstrumented python: the runtime kills the process. Say so instead.
    """
    try:
        with open(path, "rb") as f:
            data = f.read()
        with open("/proc/self/maps", "rb") as f:
            maps = f.read()
    except OSError:
        return None
    for init, runtime in ((b"__asan_init", b"libasan.so"), (b"__tsan_init", b"libtsan.so"),
                          (b"__hwasan_init", b"libhwasan.so")):
        if init in data and runtime not in maps:
            return runtime.decode()
    return None


def _load():
    path = (os.environ.get("OCIPUSH_LIBRARY") or ctypes.util.find_library("ocipush")
            or "libocipush.so.0")
    runtime = _sanitizer_runtime_missing(path) if os.sep in path else None
    if runtime:
        raise OSError(f"{path} is built with a sanitizer and needs {runtime} loaded first "
                      f"(LD_PRELOAD); python cannot load it as it is")
    lib = ctypes.CDLL(path, use_errno=True)
    for name, restype, argtypes in _PROTOTYPES:
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


_lib = _load()


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def _text(value, what):
    """str (or bytes) to NUL-terminated UTF-8 bytes; None stays None."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.encode("utf-8")
    elif not isinstance(value, bytes):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    if b"\0" in value:
        raise ValueError(f"{what} contains a NUL character")
    return value


def _path(value, what="path"):
    value = os.fsencode(value)
    if b"\0" in value:
        raise ValueError(f"{what} contains a NUL character")
    return value


def _decode(raw):
    return raw.decode("utf-8", "replace") if raw is not None else None


def strerror(code):
    """The library's name for a status code ("network error", ...)."""
    return _decode(_lib.ocipush_strerror(code))


def version():
    """The library's version, "MAJOR.MINOR.PATCH"."""
    return _decode(_lib.ocipush_version())


def version_num():
    """The library's version as 0xMMmmpp (OCIPUSH_VERSION_NUM)."""
    return _lib.ocipush_version_num()


def feature(name):
    """Whether the library was built with `name` ("helm", "mbedtls",
    "openssl"): True or False, False for an unknown name."""
    return bool(_lib.ocipush_feature(_text(name, "feature")))


def libcurl_version():
    """The version of the libcurl the library runs with."""
    return _decode(_lib.ocipush_libcurl_version())


def global_init():
    """Set up libcurl's global state now (optional: done on first use).
    Counted: call global_cleanup() once for each."""
    _check(_lib.ocipush_global_init(), "libcurl's global set-up failed")


def global_cleanup():
    """Undo one global_init(); no session may be in use during the last."""
    _lib.ocipush_global_cleanup()


def _check(rc, message):
    """Raise OcipushError for a failed call made without a session."""
    if rc != OK:
        raise OcipushError(rc, strerror(rc), message)


_SEQ = itertools.count()  # next() is atomic: one C call under the GIL


class _Pending:
    """The first exception a callback raised during the current C call.

    Shared by an object and its callbacks' closures (not the object itself,
    so a closure makes no reference cycle and __del__ stays prompt). The
    callbacks of a parallel push run on the library's threads: catch() may
    be called from several threads at once, hence the lock (the first
    exception stays the first).
    """

    __slots__ = ("seq", "exc", "_lock")

    def __init__(self):
        self.seq = self.exc = None
        self._lock = threading.Lock()

    def catch(self, exc):
        with self._lock:
            if self.exc is None:
                self.seq, self.exc = next(_SEQ), exc

    def clear(self):
        with self._lock:
            self.seq = self.exc = None


def _call(session, name, *args, sources=()):
    """Call the C function `name`(session handle, *args), which may run the
    session's callbacks and those of `sources` (objects with a _pending: the
    Sources used, a Push), then raise what went wrong: the first exception a
    callback raised, else an OcipushError carrying the session's message."""
    if not isinstance(session, Session):
        raise TypeError(f"expected a Session, not {type(session).__name__}")
    handle = session._ptr()
    pendings = [session._pending] + [s._pending for s in sources]
    for p in pendings:
        p.clear()
    rc = getattr(_lib, name)(handle, *args)
    message = _decode(_lib.ocipush_session_errmsg(handle)) if rc != OK else ""
    status = _lib.ocipush_session_http_status(handle) if rc != OK else 0
    code = _decode(_lib.ocipush_session_error_code(handle)) if rc != OK else ""
    first = min((p for p in pendings if p.exc is not None), key=lambda p: p.seq, default=None)
    exc = first.exc if first else None
    for p in pendings:
        p.clear()
    if exc is not None:
        add_note = getattr(exc, "add_note", None)  # Python 3.11+
        if add_note and rc != OK:
            add_note(f"(raised in an ocipush callback: {name} failed with "
                     f"{strerror(rc)}: {message})")
        elif add_note:
            add_note(f"(raised in an ocipush log callback; {name} succeeded)")
        raise exc
    if rc != OK:
        raise OcipushError(rc, strerror(rc), message or strerror(rc), status, code)


class _Handle:
    """An object owning one C handle, freed once: close(), `with`, __del__."""

    _handle = None
    _free = None  # the ocipush_*_free function's name

    def __init__(self, *args, **kwargs):
        raise TypeError(f"use the {type(self).__name__} class methods to make one")

    def _ptr(self):
        if not self._handle:
            raise ValueError(f"{type(self).__name__} is closed")
        return self._handle

    @property
    def closed(self):
        return not self._handle

    def close(self):
        """Free the C handle now. Calling it again does nothing."""
        handle, self._handle = self._handle, None
        if handle:
            getattr(_lib, self._free)(handle)
        self._release()

    def _release(self):
        """Drop what the C side no longer needs once the handle is freed."""

    def __enter__(self):
        self._ptr()
        return self

    def __exit__(self, *exc_info):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 -- interpreter shutdown: nothing to do
            pass


# ---------------------------------------------------------------------------
# Session
# ---------------------------------------------------------------------------


class Session(_Handle):
    """A connection to one registry ("host", "host:port", "[::1]:5000"),
    or with Session.layout(directory), an OCI image layout on disk.

    Keyword settings (None or the default keeps the library's default):

    plain_http     use http:// instead of https://
    insecure       skip TLS certificate and host name verification
    ca_file        PEM CA bundle to trust instead of the system store
    client_cert, client_key
                   PEM files for mutual TLS (client_key None: in client_cert)
    username, password
                   credentials (Basic, or for a Bearer token realm)
    identity_token an OAuth2 refresh token instead of a password
    load_credentials
                   True: look the registry up in docker's and helm's stores;
                   `credentials_found` then says whether something was found
    helper_timeout seconds (float) a docker-credential helper may take (30)
    user_agent     the User-Agent header
    connect_timeout, idle_timeout
                   seconds (float) to connect, and for a transfer moving no byte
    timeout        seconds (float) one call may take in all, every request,
                   retry and wait included (default 3600; 0: no limit)
    strategy       "auto" (default), "monolithic", "stream" or "chunked"
    chunk_size     bytes per request for "chunked" and length-delimited uploads
                   (0: the default; else at least 65536, E_INVALID below)
    spool          True (default: a window of the stream, 1 MiB in memory and
                   64 MiB in a temporary file), False (off: a rejected stream
                   cannot be replayed), an int: on, with that many bytes kept
                   in memory and 64 MiB on disk, or a pair (memory, disk)
    retries, retry_delay, retry_max_delay, retry_jitter
                   tries after the first (default 3), seconds before the first
                   retry (0.5, doubling), at most this many seconds (10), and
                   +- percent of spread (20)
    log            a callable log(level: LogLevel, message: str)
    log_level      the most detailed level passed to `log` (LogLevel.INFO)
    progress       a callable progress(done: int, total: int | None) -> bool;
                   a true result aborts the push (OcipushError E_ABORTED)
    """

    _free = "ocipush_session_free"

    def __init__(self, registry, *, plain_http=False, insecure=False, ca_file=None,
                 client_cert=None, client_key=None, username=None, password=None,
                 identity_token=None, load_credentials=False, user_agent=None,
                 connect_timeout=None, idle_timeout=None, strategy="auto", chunk_size=None,
                 spool=True, retries=None, retry_delay=None, retry_max_delay=None,
                 retry_jitter=None, log=None, log_level=LogLevel.INFO, progress=None,
                 helper_timeout=None, timeout=None):
        self._start(registry, None)
        handle = _SESSION()
        _check(_lib.ocipush_session_new(ctypes.byref(handle), _text(registry, "registry")),
               f"cannot make a session for registry {registry!r}")
        self._handle = handle
        try:
            self.set_log_callback(log, log_level)
            self.set_progress_callback(progress)
            if helper_timeout is not None:
                _check(_lib.ocipush_session_set_helper_timeout(handle, _ms(helper_timeout)),
                       "helper_timeout must not be negative")
            self._configure(plain_http, insecure, ca_file, client_cert, client_key, username,
                            password, identity_token, load_credentials, user_agent,
                            connect_timeout, idle_timeout, strategy, chunk_size, spool, retries,
                            retry_delay, retry_max_delay, retry_jitter)
            if timeout is not None:
                self.set_timeout(timeout)
        except BaseException:
            self.close()
            raise

    @classmethod
    def layout(cls, directory, *, log=None, log_level=LogLevel.INFO, progress=None):
        """A session that pushes into the OCI image layout at `directory`
        (made if missing, with its missing parents, as mkdir -p does)
        instead of a registry.

        Blobs and manifests become files under blobs/sha256/, a tag an entry
        of index.json (a tag pushed again moves); the bytes, and so the
        digests, are those a registry would get. Repository names given to
        the push calls are checked but not used (a layout holds one image
        store), and mounts upload instead. Only the log and progress
        settings apply (the network settings of Session() have no meaning
        here). Not safe with another process writing the same layout.
        E_IO (with the system's reason) when the directory cannot be made
        or written."""
        self = cls.__new__(cls)
        self._start(None, os.fsdecode(directory))
        handle = _SESSION()
        ctypes.set_errno(0)
        rc = _lib.ocipush_session_new_layout(ctypes.byref(handle), _path(directory, "directory"))
        _check(rc, f"cannot use {os.fsdecode(directory)!r} as an OCI layout" + _errno_text(rc))
        self._handle = handle
        try:
            self.set_log_callback(log, log_level)
            self.set_progress_callback(progress)
        except BaseException:
            self.close()
            raise
        return self

    def _start(self, registry, layout):
        self._pending = _Pending()
        self._log_fn = self._progress_fn = None  # the ctypes callbacks C holds
        self.credentials_found = False
        self.registry = registry  # None for a layout
        self.layout_directory = layout  # None for a registry

    def _configure(self, plain_http, insecure, ca_file, client_cert, client_key, username,
                   password, identity_token, load_credentials, user_agent, connect_timeout,
                   idle_timeout, strategy, chunk_size, spool, retries, retry_delay,
                   retry_max_delay, retry_jitter):
        h = self._handle
        _check(_lib.ocipush_session_set_plain_http(h, bool(plain_http)), "plain_http")
        _check(_lib.ocipush_session_set_insecure(h, bool(insecure)), "insecure")
        if ca_file is not None:
            _check(_lib.ocipush_session_set_ca_file(h, _path(ca_file, "ca_file")),
                   f"ca_file {ca_file!r}")
        if client_cert is not None:
            key = _path(client_key, "client_key") if client_key is not None else None
            _check(_lib.ocipush_session_set_client_cert(h, _path(client_cert, "client_cert"), key),
                   "client_cert/client_key")
        if username is not None or password is not None:
            _check(_lib.ocipush_session_set_basic_auth(h, _text(username, "username"),
                                                       _text(password, "password")),
                   "invalid credentials: a non-empty username without ':' and a password "
                   "are needed")
        if identity_token is not None:
            _check(_lib.ocipush_session_set_identity_token(
                h, _text(identity_token, "identity_token")), "identity_token")
        if load_credentials:
            found = c_int(0)
            _call(self, "ocipush_session_load_credentials", ctypes.byref(found))
            self.credentials_found = bool(found.value)
        if user_agent is not None:
            _check(_lib.ocipush_session_set_user_agent(h, _text(user_agent, "user_agent")),
                   "user_agent")
        if connect_timeout is not None or idle_timeout is not None:
            _check(_lib.ocipush_session_set_timeouts(h, _ms(connect_timeout),
                                                     _ms(idle_timeout)),
                   "timeouts must not be negative")
        if strategy not in _STRATEGIES:
            raise ValueError(f"strategy must be one of {', '.join(_STRATEGIES)}, not {strategy!r}")
        _check(_lib.ocipush_session_set_strategy(h, _STRATEGIES[strategy]), "strategy")
        if chunk_size is not None:
            _check(_lib.ocipush_session_set_chunk_size(h, _count(chunk_size, "chunk_size")),
                   "chunk_size")
        if spool is False:
            _check(_lib.ocipush_session_set_spool(h, 0, 0, 0), "spool")
        elif spool is not True:
            memory, disk = spool if isinstance(spool, tuple) else (spool, _SPOOL_DISK_DEFAULT)
            _check(_lib.ocipush_session_set_spool(h, 1, _count(memory, "spool"),
                                                  _count(disk, "spool")), "spool")
        if any(v is not None for v in (retries, retry_delay, retry_max_delay, retry_jitter)):
            attempts = 4 if retries is None else _count(retries, "retries") + 1
            base = 500 if retry_delay is None else _ms(retry_delay)
            cap = 10000 if retry_max_delay is None else _ms(retry_max_delay)
            jitter = 20 if retry_jitter is None else _count(retry_jitter, "retry_jitter")
            _check(_lib.ocipush_session_set_retry(h, attempts, base, cap, jitter),
                   "invalid retry settings: retries >= 0, 0 <= retry_delay <= retry_max_delay, "
                   "0 <= retry_jitter <= 100")

    def set_timeout(self, seconds):
        """The longest one call on this session may take, in seconds (float),
        every request, retry and wait included; 0: no limit. A call still
        running then fails with E_NETWORK, its message saying so."""
        _check(_lib.ocipush_session_set_timeout(self._ptr(), _ms(seconds)),
               "the timeout must not be negative")

    def set_layer_compression(self, algorithm, level=-1):
        """How copy() compresses the layers of a legacy docker archive (they
        are uncompressed tars there): COMPRESS_GZIP (the default, level
        0-9), COMPRESS_ZSTD (level 0-19; E_UNSUPPORTED without libzstd) or
        COMPRESS_NONE (as they are; level ignored); level -1: the
        algorithm's default. Layouts and OCI archives are copied byte for
        byte whatever this says."""
        _check(_lib.ocipush_session_set_layer_compression(self._ptr(), int(algorithm), int(level)),
               "invalid layer compression (gzip: a level -1 to 9, zstd: -1 to 19)")

    def set_copy_concurrency(self, concurrency):
        """How many blobs copy() uploads at once, 1 to 64 (default 4). Above
        1 the session's log and progress callbacks are called from the
        copy's worker threads, one call at a time."""
        _check(_lib.ocipush_session_set_copy_concurrency(self._ptr(), int(concurrency)),
               "the copy concurrency is 1 to 64")

    def set_copy_mount_from(self, repository):
        """The repository of the same registry copy() mounts blobs from
        before it uploads them (None: none)."""
        _call(self, "ocipush_session_set_copy_mount_from",
              None if repository is None else _text(repository, "repository"))

    @property
    def errmsg(self):
        """The message of the last failing call on this session ("" if none)."""
        return _decode(_lib.ocipush_session_errmsg(self._ptr()))

    @property
    def http_status(self):
        """The HTTP status of the answer errmsg is about (0: none)."""
        return _lib.ocipush_session_http_status(self._ptr())

    @property
    def error_code(self):
        """The registry's error code in that answer ("" if none)."""
        return _decode(_lib.ocipush_session_error_code(self._ptr()))

    @property
    def blobs(self):
        """What the last call stored, as Blob tuples: one after blob_push()
        or blob_push_mount() (media_type ""), the config, the chart and its
        provenance after chart_push(), none after a failure or Push.run()
        (see Push.blobs)."""
        return _blobs(_lib.ocipush_session_blob_count, _lib.ocipush_session_blob, self._ptr())

    def set_log_callback(self, log, level=LogLevel.INFO):
        """Call log(level, message) for each message up to `level`; None: stop."""
        if log is None:
            fn = _LOG_FN()  # NULL
        elif not callable(log):
            raise TypeError("log must be callable")
        else:
            pending = self._pending

            def fn(lvl, message, _user_data):
                try:
                    try:
                        lvl = LogLevel(lvl)
                    except ValueError:
                        pass
                    log(lvl, _decode(message))
                except BaseException as exc:  # noqa: BLE001 -- raised after the call
                    pending.catch(exc)

            fn = _LOG_FN(fn)
        _check(_lib.ocipush_session_set_log_callback(self._ptr(), fn, int(level), None),
               "log callback")
        self._log_fn = fn if log is not None else None

    def set_progress_callback(self, progress):
        """Call progress(done, total) as bytes are read (total None when not
        known); a true result aborts the push. None: stop."""
        if progress is None:
            fn = _PROGRESS_FN()  # NULL
        elif not callable(progress):
            raise TypeError("progress must be callable")
        else:
            pending = self._pending

            def fn(done, total, _user_data):
                try:
                    return 1 if progress(done, None if total < 0 else total) else 0
                except BaseException as exc:  # noqa: BLE001 -- re-raised after the call
                    pending.catch(exc)
                    return 1

            fn = _PROGRESS_FN(fn)
        _check(_lib.ocipush_session_set_progress_callback(self._ptr(), fn, None),
               "progress callback")
        self._progress_fn = fn if progress is not None else None

    def cancel(self):
        """Cancel what the session is doing: the call in progress (made from
        another thread, or from this session's own callbacks) and every later
        one fail with E_ABORTED as soon as they can; an open upload session
        is deleted, nothing is tagged. The session stays cancelled. Safe from
        any thread while another uses the session."""
        _check(_lib.ocipush_session_cancel(self._ptr()), "cancel")

    def ping(self, repository=None):
        """Check that the registry answers and accepts the credentials."""
        _call(self, "ocipush_session_ping", _text(repository, "repository"))

    def _release(self):
        self._log_fn = self._progress_fn = None

    def __repr__(self):
        where = (repr(self.registry) if self.layout_directory is None
                 else f"layout {self.layout_directory!r}")
        return f"<ocipush.Session {where}{' closed' if self.closed else ''}>"


def _ms(seconds):
    if seconds is None:
        return 0
    if not isinstance(seconds, (int, float)):
        raise TypeError(f"a time in seconds must be a number, not {type(seconds).__name__}")
    return int(round(seconds * 1000))


def _errno_text(rc):
    """": <strerror>" for a local I/O failure (errno is set then), else ""."""
    err = ctypes.get_errno() if rc == E_IO else 0
    return f": {os.strerror(err)}" if err else ""


def _count(value, what):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{what} must not be negative")
    return value


# ---------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------


class Source(_Handle):
    """Where the bytes of a blob come from. Make one with from_bytes,
    from_file, from_fd or from_callback. A rewindable source (bytes, a
    regular file, a callback with rewind) can be pushed several times; a
    stream is consumed by its first push."""

    _free = "ocipush_source_free"

    @classmethod
    def _new(cls, keep=()):
        self = cls.__new__(cls)
        self._pending = _Pending()
        self._keep = keep  # what C borrows: the bytes, the ctypes callbacks
        return self

    @classmethod
    def from_bytes(cls, data):
        """A source over bytes (any bytes-like object; bytes are borrowed,
        anything else copied once)."""
        if not isinstance(data, bytes):
            data = bytes(memoryview(data))
        self = cls._new(keep=(data,))
        handle = _SOURCE()
        _check(_lib.ocipush_source_new_memory(ctypes.byref(handle), data, len(data), 0),
               "cannot make a source over bytes")
        self._handle = handle
        return self

    @classmethod
    def from_file(cls, path):
        """A source over the file at `path`, opened now. A regular file can
        rewind; a FIFO or device is read as a stream."""
        self = cls._new()
        handle = _SOURCE()
        ctypes.set_errno(0)
        rc = _lib.ocipush_source_new_file(ctypes.byref(handle), _path(path))
        _check(rc, f"cannot open {os.fspath(path)!r}" + _errno_text(rc))
        self._handle = handle
        return self

    @classmethod
    def from_fd(cls, fd, take_ownership=False):
        """A source over an open descriptor (an int, or an object with
        fileno()), read from its current offset. With take_ownership the
        descriptor is closed with the source (and also if this fails)."""
        if not isinstance(fd, int):
            fd = fd.fileno()
        self = cls._new()
        handle = _SOURCE()
        ctypes.set_errno(0)
        rc = _lib.ocipush_source_new_fd(ctypes.byref(handle), fd, bool(take_ownership))
        _check(rc, f"cannot read descriptor {fd}" + _errno_text(rc))
        self._handle = handle
        return self

    @classmethod
    def compressed(cls, inner, level=-1, algorithm=COMPRESS_GZIP):
        """A source whose bytes are `inner`'s compressed on the fly with
        `algorithm`: COMPRESS_GZIP (level 0-9, -1: 6) or COMPRESS_ZSTD (level
        0-19, -1: 3; E_UNSUPPORTED without libzstd), for a layer made from an
        uncompressed tar. It takes `inner` over: `inner` is closed (C frees
        it with the new source). Its size is unknown, so it is pushed
        streamed; uncompressed_digest tells the diff_id once it has been read
        to its end."""
        if not isinstance(inner, Source):
            raise TypeError(f"expected a Source, not {type(inner).__name__}")
        inner_handle = inner._ptr()
        self = cls._new(keep=(inner._keep,))
        self._pending = inner._pending  # inner's callbacks report through it
        # C owns the inner handle from here on, also when the call fails.
        inner._handle = None
        handle = _SOURCE()
        _check(_lib.ocipush_source_new_compressed(ctypes.byref(handle), inner_handle,
                                                  int(algorithm), int(level)),
               "cannot make a compressed source (gzip: a level -1 to 9, zstd: -1 to 19)")
        self._handle = handle
        return self

    @classmethod
    def tar_dir(cls, directory, preserve_owner=False, mtime=None):
        """A source whose bytes are `directory` packed as an uncompressed tar
        (pax), made as it is read: entries sorted bytewise at every level,
        paths relative to `directory`, owner 0:0 unless preserve_owner, every
        mtime `mtime` (seconds, e.g. SOURCE_DATE_EPOCH) or, when None, the
        files' own; symbolic links kept, hard links stored whole. The same
        tree gives the same bytes, so it rewinds. A socket, FIFO or device in
        the tree, or a file that changes size while it is read, fails the
        push (E_SOURCE, the message naming the path). Wrap it in
        Source.compressed() for a tar+gzip layer. E_UNSUPPORTED without
        libarchive (feature("directory-layers"))."""
        when = -1 if mtime is None else _count(mtime, "mtime")
        self = cls._new()
        handle = _SOURCE()
        ctypes.set_errno(0)
        rc = _lib.ocipush_source_new_tar_dir(ctypes.byref(handle), _path(directory, "directory"),
                                             TAR_PRESERVE_OWNER if preserve_owner else 0, when)
        _check(rc, f"cannot pack {os.fspath(directory)!r} as a tar" + _errno_text(rc))
        self._handle = handle
        return self

    @property
    def uncompressed_digest(self):
        """(digest, size) of the bytes before compression, once a compressed
        source was read to its end; None before, or for another source."""
        digest = ctypes.create_string_buffer(DIGEST_MAX)
        size = c_uint64(0)
        rc = _lib.ocipush_source_uncompressed_digest(self._ptr(), digest, ctypes.byref(size))
        return (digest.value.decode("ascii"), size.value) if rc == OK else None

    @classmethod
    def from_callback(cls, read, rewind=None, size=None):
        """A source whose bytes come from read(n) -> bytes (at most n bytes;
        b"" at the end). rewind(), if given, makes the next read start again
        at the first byte (returning False, or raising, says it cannot);
        without it the source is a stream, replayed from the session's spool
        when an upload must be sent again. size is the exact number of bytes
        the reads give, or None if not known."""
        if not callable(read) or (rewind is not None and not callable(rewind)):
            raise TypeError("read (and rewind, if given) must be callable")
        declared = -1 if size is None else _count(size, "size")
        pending = _Pending()

        def read_cb(buffer, capacity, out_len, _user_data):
            try:
                data = read(capacity)
                if not isinstance(data, bytes):
                    data = bytes(memoryview(data))
                n = len(data)
                if n > capacity:
                    raise ValueError(f"read({capacity}) returned {n} bytes")
                if n:
                    ctypes.memmove(buffer, data, n)
                out_len[0] = n
                return 0
            except BaseException as exc:  # noqa: BLE001 -- re-raised after the call
                pending.catch(exc)
                return -1

        def rewind_cb(_user_data):
            try:
                return 1 if rewind() is False else 0
            except BaseException as exc:  # noqa: BLE001 -- re-raised after the call
                pending.catch(exc)
                return -1

        read_fn = _READ_FN(read_cb)
        rewind_fn = _REWIND_FN(rewind_cb) if rewind is not None else _REWIND_FN()
        self = cls._new(keep=(read_fn, rewind_fn))
        self._pending = pending
        handle = _SOURCE()
        _check(_lib.ocipush_source_new_callback(ctypes.byref(handle), read_fn, rewind_fn,
                                                _CLOSE_FN(), declared, None),
               "cannot make a callback source")
        self._handle = handle
        return self

    @property
    def size(self):
        """The size in bytes, or None when not known in advance."""
        n = _lib.ocipush_source_size(self._ptr())
        return None if n < 0 else n

    def _release(self):
        self._keep = ()

    def __repr__(self):
        return f"<ocipush.Source{' closed' if self.closed else ''}>"


# ---------------------------------------------------------------------------
# Blobs
# ---------------------------------------------------------------------------


def blob_push(session, repository, source, expected_digest=None):
    """Push one blob from `source` to `repository`; returns (digest, size).

    With expected_digest the registry is asked first whether it has the
    blob (then the source is not read), and content that hashes otherwise
    fails with E_DIGEST_MISMATCH before anything is committed."""
    digest = ctypes.create_string_buffer(DIGEST_MAX)
    size = c_uint64(0)
    _call(session, "ocipush_blob_push", digest, ctypes.byref(size),
          _text(repository, "repository"), _src(source),
          _text(expected_digest, "expected_digest"), sources=(source,))
    return digest.value.decode("ascii"), size.value


def blob_push_mount(session, repository, digest, from_repository, source=None):
    """Put the blob `digest` into `repository` by mounting it from
    `from_repository` on the same registry (nothing is uploaded), or, when
    the registry cannot mount it, by uploading it from `source`. Returns
    (mounted, size):

    (True, size)   mounted from from_repository
    (False, size)  already in `repository`, or uploaded from `source`
    (False, None)  neither mounted nor already there, and no `source` given:
                   nothing was done

    The content uploaded must hash to `digest` (E_DIGEST_MISMATCH, nothing
    committed). A layout session has nothing to mount from: it uploads."""
    mounted = c_int(0)
    size = c_uint64(0)
    try:
        _call(session, "ocipush_blob_push_mount", ctypes.byref(size), ctypes.byref(mounted),
              _text(repository, "repository"),
              _src(source) if source is not None else None, _text(digest, "digest"),
              _text(from_repository, "from_repository"),
              sources=(source,) if source is not None else ())
    except OcipushError as err:
        if err.code != E_NOT_MOUNTED:
            raise
        return False, None
    return bool(mounted.value), size.value


def blob_exists(session, repository, digest):
    """Whether the registry has the blob `digest` in `repository`."""
    exists = c_int(0)
    _call(session, "ocipush_blob_exists", ctypes.byref(exists), _text(repository, "repository"),
          _text(digest, "digest"))
    return bool(exists.value)


# ---------------------------------------------------------------------------
# Descriptors, manifests and indexes
# ---------------------------------------------------------------------------


class Descriptor(_Handle):
    """A content descriptor: media type, digest, size, and optionally
    annotations (a mapping), an artifact type and, for an index entry, a
    platform (os, architecture) or (os, architecture, variant)."""

    _free = "ocipush_descriptor_free"

    def __init__(self, media_type, digest, size, *, annotations=None, artifact_type=None,
                 platform=None):
        handle = _DESCRIPTOR()
        _check(_lib.ocipush_descriptor_new(ctypes.byref(handle), _text(media_type, "media_type"),
                                           _text(digest, "digest"), _count(size, "size")),
               f"invalid descriptor: media type {media_type!r}, digest {digest!r}")
        self._handle = handle
        try:
            for key, value in (annotations or {}).items():
                self.add_annotation(key, value)
            if artifact_type is not None:
                self.set_artifact_type(artifact_type)
            if platform is not None:
                self.set_platform(*platform)
        except BaseException:
            self.close()
            raise

    def add_annotation(self, key, value):
        _check(_lib.ocipush_descriptor_add_annotation(self._ptr(), _text(key, "key"),
                                                      _text(value, "value")),
               f"invalid annotation {key!r}")

    def set_artifact_type(self, artifact_type):
        _check(_lib.ocipush_descriptor_set_artifact_type(
            self._ptr(), _text(artifact_type, "artifact_type")), "invalid artifact type")

    def set_platform(self, os, architecture, variant=None):  # noqa: A002 -- OCI's name
        _check(_lib.ocipush_descriptor_set_platform(self._ptr(), _text(os, "os"),
                                                    _text(architecture, "architecture"),
                                                    _text(variant, "variant")),
               "invalid platform: os and architecture are needed")


class Manifest(_Handle):
    """An OCI image manifest (kind "image") or image index ("index") being
    built. Descriptors given to it are copied: they may be closed after."""

    _free = "ocipush_manifest_free"

    def __init__(self, kind="image", *, config=None, layers=(), manifests=(), subject=None,
                 artifact_type=None, annotations=None):
        if kind not in _MANIFEST_KINDS:
            raise ValueError(f"kind must be 'image' or 'index', not {kind!r}")
        self.kind = kind
        handle = _MANIFEST()
        _check(_lib.ocipush_manifest_new(ctypes.byref(handle), _MANIFEST_KINDS[kind]),
               "cannot make a manifest")
        self._handle = handle
        try:
            if config is not None:
                self.set_config(config)
            for layer in layers:
                self.add_layer(layer)
            for entry in manifests:
                self.add_manifest(entry)
            if subject is not None:
                self.set_subject(subject)
            if artifact_type is not None:
                self.set_artifact_type(artifact_type)
            for key, value in (annotations or {}).items():
                self.add_annotation(key, value)
        except BaseException:
            self.close()
            raise

    @classmethod
    def index(cls, **kwargs):
        """An image index: Manifest("index", ...)."""
        return cls("index", **kwargs)

    @property
    def media_type(self):
        return MEDIA_TYPE_MANIFEST if self.kind == "image" else MEDIA_TYPE_INDEX

    def set_config(self, descriptor):
        _check(_lib.ocipush_manifest_set_config(self._ptr(), _desc(descriptor)),
               "only an image manifest has a config")

    def add_layer(self, descriptor):
        _check(_lib.ocipush_manifest_add_layer(self._ptr(), _desc(descriptor)),
               "only an image manifest has layers")

    def add_manifest(self, descriptor):
        _check(_lib.ocipush_manifest_add_manifest(self._ptr(), _desc(descriptor)),
               "only an index lists manifests")

    def set_subject(self, descriptor):
        d = _desc(descriptor) if descriptor is not None else None
        _check(_lib.ocipush_manifest_set_subject(self._ptr(), d), "invalid subject")

    def set_artifact_type(self, artifact_type):
        _check(_lib.ocipush_manifest_set_artifact_type(
            self._ptr(), _text(artifact_type, "artifact_type")), "invalid artifact type")

    def add_annotation(self, key, value):
        _check(_lib.ocipush_manifest_add_annotation(self._ptr(), _text(key, "key"),
                                                    _text(value, "value")),
               f"invalid annotation {key!r}")

    def serialize(self):
        """The exact bytes that would be pushed (compact JSON)."""
        out, length = c_void_p(), c_size_t(0)
        _check(_lib.ocipush_manifest_serialize(self._ptr(), ctypes.byref(out),
                                               ctypes.byref(length)),
               "cannot serialize: an image manifest needs a config")
        try:
            return ctypes.string_at(out.value, length.value)
        finally:
            _lib.ocipush_free(out)


def _desc(descriptor):
    if not isinstance(descriptor, Descriptor):
        raise TypeError(f"expected a Descriptor, not {type(descriptor).__name__}")
    return descriptor._ptr()


def manifest_push(session, repository, manifest, tag=None):
    """Serialize and push `manifest` under `tag` (None: by digest only; a
    digest or "TAG@DIGEST" is what it must hash to, checked before anything
    is sent); returns its digest. The registry must have every blob it names."""
    if not isinstance(manifest, Manifest):
        raise TypeError(f"expected a Manifest, not {type(manifest).__name__}")
    digest = ctypes.create_string_buffer(DIGEST_MAX)
    _call(session, "ocipush_manifest_push", digest, _text(repository, "repository"),
          _text(tag, "tag"), manifest._ptr())
    return digest.value.decode("ascii")


def manifest_media_type(data):
    """The media type manifest_push_raw() sends `data` with when given none:
    its own mediaType, else the type its shape implies (E_INVALID if none)."""
    if not isinstance(data, bytes):
        data = bytes(memoryview(data))
    out = c_void_p()
    _check(_lib.ocipush_manifest_media_type(ctypes.byref(out), data, len(data)),
           "not a manifest or index with a media type to send")
    try:
        return _decode(ctypes.string_at(out.value))
    finally:
        _lib.ocipush_free(out)


def manifest_push_raw(session, repository, data, media_type=None, tag=None):
    """Push manifest bytes exactly as they are; returns their digest.
    media_type None: the document's own mediaType, or what its shape says.
    `tag` as in manifest_push()."""
    if not isinstance(data, bytes):
        data = bytes(memoryview(data))
    digest = ctypes.create_string_buffer(DIGEST_MAX)
    _call(session, "ocipush_manifest_push_raw", digest, _text(repository, "repository"),
          _text(tag, "tag"), _text(media_type, "media_type"), data, len(data))
    return digest.value.decode("ascii")


# ---------------------------------------------------------------------------
# Whole artifacts
# ---------------------------------------------------------------------------


class Push(_Handle):
    """An artifact to push: a config blob (the empty "{}" unless set),
    layers, annotations, tags, an artifact type and a subject. It keeps the
    sources given to it alive (C borrows them); do not close them before
    run().

    Keywords: artifact_type, annotations (a mapping), tags, subject (see
    set_subject), concurrency (see set_concurrency), progress (see
    set_progress_callback), mount_source (see set_mount_source)."""

    _free = "ocipush_push_free"

    def __init__(self, *, artifact_type=None, annotations=None, tags=(), subject=None,
                 concurrency=None, progress=None, mount_source=None):
        self._sources = []
        self._pending = _Pending()
        self._progress_fn = None  # the ctypes callback C holds
        handle = _PUSH()
        _check(_lib.ocipush_push_new(ctypes.byref(handle)), "cannot make a push")
        self._handle = handle
        try:
            if artifact_type is not None:
                self.set_artifact_type(artifact_type)
            for key, value in (annotations or {}).items():
                self.add_annotation(key, value)
            for tag in tags:
                self.add_tag(tag)
            if subject is not None:
                self.set_subject(subject)
            if concurrency is not None:
                self.set_concurrency(concurrency)
            if progress is not None:
                self.set_progress_callback(progress)
            if mount_source is not None:
                self.set_mount_source(mount_source)
        except BaseException:
            self.close()
            raise

    def set_config(self, source, media_type):
        """Use `source` with `media_type` as the config blob."""
        _check(_lib.ocipush_push_set_config(self._ptr(), _src(source),
                                            _text(media_type, "media_type")),
               "invalid config: a source and a media type are needed")
        self._sources.append(source)

    def add_layer(self, source, media_type=None, title=None, digest=None):
        """Append a layer (media type MEDIA_TYPE_LAYER unless given; `title`
        becomes the org.opencontainers.image.title annotation). A source
        given for several layers is read once.

        With `digest` ("sha256:<hex>", what the content must hash to), the
        registry is asked first whether it has the blob, and then the
        source is not read; the blob may be mounted (set_mount_source); and
        content that hashes otherwise fails run() with E_DIGEST_MISMATCH
        before any tag is set."""
        if digest is None:
            rc = _lib.ocipush_push_add_layer(self._ptr(), _src(source),
                                             _text(media_type, "media_type"),
                                             _text(title, "title"))
        else:
            rc = _lib.ocipush_push_add_layer_digest(self._ptr(), _src(source),
                                                    _text(media_type, "media_type"),
                                                    _text(title, "title"), _text(digest, "digest"))
        _check(rc, "invalid layer" if digest is None else f"invalid layer digest {digest!r}")
        self._sources.append(source)

    def set_mount_source(self, repository):
        """Mount layers of known digest (add_layer(digest=...)) from
        `repository` on the same registry, uploading them when the registry
        cannot mount them; None: do not mount."""
        _check(_lib.ocipush_push_set_mount_source(self._ptr(),
                                                  _text(repository, "repository")),
               f"invalid repository name {repository!r} to mount from")

    def set_subject(self, reference):
        """Make the artifact refer to `reference`, a tag or digest of a
        manifest in the repository pushed to (which must have it when run()
        runs): e.g. a signature or an SBOM of an image. A registry without
        the referrers API gets the index tagged sha256-<hex of the subject>
        listing the artifact. None: no subject."""
        _check(_lib.ocipush_push_set_subject(self._ptr(), _text(reference, "reference")),
               f"invalid subject {reference!r}: a tag or a digest is needed")

    def set_concurrency(self, concurrency):
        """How many layers run() uploads at once, 1 to 64 (default 4).

        Above 1, with more than one distinct layer source, the layers are
        uploaded by the library's threads, each with its own copy of the
        session: the layers' source callbacks (each source on one thread,
        different sources at the same time), the session's log callback and
        this push's progress callback (these two one call at a time, never
        overlapping) are then called from those threads; the session's
        progress callback is not called for the layers, only for the config.
        With 1, or one source for every layer, everything runs in the
        calling thread, in order, and the session's progress callback sees
        every blob."""
        if isinstance(concurrency, bool) or not isinstance(concurrency, int):
            raise TypeError(f"concurrency must be an int, not {type(concurrency).__name__}")
        # ctypes would silently truncate an int beyond C's range; C judges the rest.
        rc = (_lib.ocipush_push_set_concurrency(self._ptr(), concurrency)
              if -(1 << 31) <= concurrency < 1 << 31 else E_INVALID)
        _check(rc, f"concurrency must be 1 to 64, not {concurrency}")

    def set_progress_callback(self, progress):
        """Call progress(index, done, total, all_done, all_total) as layer
        bytes are read: layer `index` (in the order added) has `done` of
        `total` bytes read, all layers together `all_done` of `all_total` (a
        total is None when not known). A layer that is not read (a known
        digest the registry already has, or that was mounted) is reported
        once, with done == total. A source given for several layers is read
        once, reported under the first of them; each later one is reported
        once, with done == total, when the blob has landed, and counts in
        all_done and all_total like any layer. So after a push that
        succeeded the last call has all_done == all_total (unless all_total
        is None: that call is about a stream of undeclared size). A true
        result stops the push (OcipushError E_ABORTED); an exception raised
        stops it too and is raised from run(). Calls come one at a time,
        from the calling thread, or from the library's upload threads when
        the push is parallel (set_concurrency). None: stop."""
        if progress is None:
            fn = _PUSH_PROGRESS_FN()  # NULL
        elif not callable(progress):
            raise TypeError("progress must be callable")
        else:
            pending = self._pending

            def fn(index, done, total, all_done, all_total, _user_data):
                # Possibly on a thread of the library (ctypes holds the GIL
                # for us): nothing here may escape into C.
                try:
                    return 1 if progress(index, done, None if total < 0 else total, all_done,
                                         None if all_total < 0 else all_total) else 0
                except BaseException as exc:  # noqa: BLE001 -- re-raised after the call
                    pending.catch(exc)
                    return 1

            fn = _PUSH_PROGRESS_FN(fn)
        _check(_lib.ocipush_push_set_progress_callback(self._ptr(), fn, None),
               "progress callback")
        self._progress_fn = fn if progress is not None else None

    def set_artifact_type(self, artifact_type):
        _check(_lib.ocipush_push_set_artifact_type(
            self._ptr(), _text(artifact_type, "artifact_type")), "invalid artifact type")

    def add_annotation(self, key, value):
        _check(_lib.ocipush_push_add_annotation(self._ptr(), _text(key, "key"),
                                                _text(value, "value")),
               f"invalid annotation {key!r}")

    def add_tag(self, tag):
        _check(_lib.ocipush_push_add_tag(self._ptr(), _text(tag, "tag")), f"invalid tag {tag!r}")

    def run(self, session, repository):
        """Push the blobs, then the manifest under each tag; returns the
        manifest digest. No tag is set unless every blob landed."""
        for source in self._sources:
            source._ptr()  # C borrows them: all must still be open
        digest = ctypes.create_string_buffer(DIGEST_MAX)
        _call(session, "ocipush_push_run", self._ptr(), digest, _text(repository, "repository"),
              sources=[*self._sources, self])
        return digest.value.decode("ascii")

    @property
    def landed(self):
        """The digest of the manifest the last run stored, "" if none: after a
        run that failed late (a later tag), the manifest is there by it."""
        return _decode(_lib.ocipush_push_landed(self._ptr()))

    @property
    def tagged(self):
        """How many of the tags, in order, the last run made name it."""
        return _lib.ocipush_push_tagged(self._ptr())

    @property
    def landed_size(self):
        """The size of the manifest the last run stored (0 if none)."""
        return _lib.ocipush_push_landed_size(self._ptr())

    @property
    def blobs(self):
        """The blobs of the last run that succeeded, as Blob tuples: the
        config, then each layer in order, each PUSHED, SKIPPED or MOUNTED."""
        return _blobs(_lib.ocipush_push_blob_count, _lib.ocipush_push_blob, self._ptr())

    def _release(self):
        self._sources = []
        self._progress_fn = None


def _src(source):
    if not isinstance(source, Source):
        raise TypeError(f"expected a Source, not {type(source).__name__}")
    return source._ptr()


# ---------------------------------------------------------------------------
# Helm charts
# ---------------------------------------------------------------------------


_COPY_NO_REFERRERS = 0x1  # OCIPUSH_COPY_NO_REFERRERS
_COPY_ALL_TAGS = 0x2  # OCIPUSH_COPY_ALL_TAGS


def copy(session, source, repository, tag=None, referrers=True, all_tags=False):
    """Copy the image `source` names ("oci:DIR[:TAG]": an OCI layout and the
    manifest or index its index.json tags TAG, without TAG the only one; or
    "oci-archive:FILE[:TAG]", the same in a tar, plain, gzip or zstd; or
    "docker-archive:FILE[:REPO:TAG]", docker save output, whose legacy
    layers are compressed as Session.set_layer_compression() says and
    checked against the config's diff_ids) into `repository`, byte for byte
    (but for those layers); returns its digest. Blobs first (skipped
    when there, checked against their names), manifests by digest, the top
    last under `tag` (None: the source's tag; "": by digest only); then the
    referrers the layout lists, unless referrers=False. all_tags=True: every
    image the source tags, each under its own tag (no tag given then)."""
    digest = ctypes.create_string_buffer(DIGEST_MAX)
    flags = (0 if referrers else _COPY_NO_REFERRERS) | (_COPY_ALL_TAGS if all_tags else 0)
    _call(session, "ocipush_copy", digest, _text(source, "source"), _text(repository, "repository"),
          _text(tag, "tag"), flags)
    return digest.value.decode("ascii")


def chart_push(session, chart_path, repository_prefix=None):
    """Push the Helm chart archive at `chart_path` (a .tgz as `helm package`
    makes; CHART.prov beside it goes too) as `helm push` does, to the
    repository `repository_prefix`/NAME (NAME alone for None or ""),
    tagged with the chart's version ('+' made '_'). Returns (reference,
    digest): "REPOSITORY:TAG" and the manifest digest.

    A chart that is not a gzipped tar with a Chart.yaml naming the chart
    and a semantic version is refused (E_INVALID) before anything is
    pushed; E_IO when the archive cannot be read; E_UNSUPPORTED when the
    library is built without Helm support. The "created" annotation is now,
    or $SOURCE_DATE_EPOCH when set."""
    reference = c_void_p()
    digest = ctypes.create_string_buffer(DIGEST_MAX)
    _call(session, "ocipush_chart_push", ctypes.byref(reference), digest,
          _path(chart_path, "chart_path"), _text(repository_prefix, "repository_prefix"))
    try:
        return _decode(ctypes.string_at(reference.value)), digest.value.decode("ascii")
    finally:
        _lib.ocipush_free(reference)


# ---------------------------------------------------------------------------
# Docker's credential store
# ---------------------------------------------------------------------------


def credentials_store(registry, username, password):
    """Save `username` and `password` for `registry` ("host[:port]") in
    docker's config file ($DOCKER_CONFIG/config.json, else
    ~/.docker/config.json) as auths[registry].auth, keeping the rest of the
    file; written through a temporary file, mode 0600. Not checked against
    the registry (see Session.ping). Session(..., load_credentials=True)
    finds them."""
    ctypes.set_errno(0)
    rc = _lib.ocipush_credentials_store(_text(registry, "registry"), _text(username, "username"),
                                        _text(password, "password"))
    why = (": a registry \"host[:port]\", a non-empty username without ':' and a password "
           "are needed, and a docker config that is JSON" if rc == E_INVALID else _errno_text(rc))
    _check(rc, f"cannot store credentials for {registry!r}" + why)


def credentials_erase(registry):
    """Remove the credentials for `registry` from docker's config file, as
    credentials_store() wrote them; returns whether there were any."""
    found = c_int(0)
    ctypes.set_errno(0)
    rc = _lib.ocipush_credentials_erase(ctypes.byref(found), _text(registry, "registry"))
    why = (": a registry \"host[:port]\" and a docker config that is JSON are needed"
           if rc == E_INVALID else _errno_text(rc))
    _check(rc, f"cannot erase credentials for {registry!r}" + why)
    return bool(found.value)


# ---------------------------------------------------------------------------
# References
# ---------------------------------------------------------------------------

Reference = collections.namedtuple("Reference", "registry repository tag digest")


def reference_parse(reference):
    """Split "host[:port]/repository[:tag][@digest]" into a Reference
    (tag and digest None when absent); E_INVALID says what is wrong."""
    parts = [c_void_p() for _ in range(4)]
    why = c_char_p()
    rc = _lib.ocipush_reference_parse(*(ctypes.byref(p) for p in parts), ctypes.byref(why),
                                      _text(reference, "reference"))
    try:
        _check(rc, f"{reference!r}: {_decode(why.value) or strerror(rc)}")
        return Reference(*(_decode(ctypes.string_at(p.value)) if p.value else None
                           for p in parts))
    finally:
        for p in parts:
            _lib.ocipush_free(p)


def is_valid_repository(name):
    return _lib.ocipush_repository_validate(_text(name, "name")) == OK


def is_valid_tag(tag):
    return _lib.ocipush_tag_validate(_text(tag, "tag")) == OK


def is_valid_digest(digest):
    return _lib.ocipush_digest_validate(_text(digest, "digest")) == OK


def is_valid_media_type(media_type):
    """RFC 6838 type/subtype[+suffix] with optional parameters, printable ASCII."""
    return _lib.ocipush_media_type_validate(_text(media_type, "media_type")) == OK
