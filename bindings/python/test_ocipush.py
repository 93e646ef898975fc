"""Tests of the ocipush Python binding against a real registry.

Run through tests/registry-env.sh, which starts a distribution registry and a
chunk-rejecting nginx in front of it:

    OCIPUSH_LIBRARY=$PWD/build/lib/libocipush.so.0 \\
        tests/registry-env.sh /usr/bin/python3 bindings/python/test_ocipush.py

What a push left in the registry is read back over HTTP with urllib, straight
from the registry (not through the proxy), and re-hashed with hashlib.
Arguments, if any, name the tests to run (BlobTests.test_push_bytes).
Prints "N passed, N failed" last; exits 1 on a failure, 77 (skipped) when the
library is built with a sanitizer python cannot load.
"""

import base64
import gc
import hashlib
import io
import json
import os
import random
import re
import stat
import subprocess
import sys
import tarfile
import tempfile
import threading
import unittest
import urllib.error
import urllib.request
import weakref

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree

REG = os.environ.get("OCIPUSH_TEST_REGISTRY")
PROXY = os.environ.get("OCIPUSH_TEST_PROXY")
DEAD = os.environ.get("OCIPUSH_TEST_DEAD")
TMP = os.environ.get("OCIPUSH_TEST_TMP")
if not (REG and PROXY and DEAD and TMP):
    sys.exit("run me through tests/registry-env.sh")

try:
    import ocipush
    from ocipush import OcipushError
except OSError as exc:
    if "sanitizer" in str(exc):
        print(f"SKIP: {exc}")
        sys.exit(77)
    raise

MANIFEST_ACCEPT = ", ".join([ocipush.MEDIA_TYPE_MANIFEST, ocipush.MEDIA_TYPE_INDEX])
STRATEGIES = ("auto", "stream", "chunked", "monolithic")
TITLE = "org.opencontainers.image.title"
HERE = os.path.dirname(os.path.abspath(__file__))
HELM_CONFIG = "application/vnd.cncf.helm.config.v1+json"
HELM_CHART = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"


# ---- helpers ----


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def random_bytes(n, seed=0):
    return random.Random(seed).randbytes(n)


def http(method, repo, kind, ref):
    """(status, body) of METHOD http://REG/v2/repo/kind/ref."""
    req = urllib.request.Request(f"http://{REG}/v2/{repo}/{kind}/{ref}", method=method,
                                 headers={"Accept": MANIFEST_ACCEPT})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, b""


def served(repo, kind, ref):
    """The bytes the registry serves, asserting a 200."""
    status, body = http("GET", repo, kind, ref)
    if status != 200:
        raise AssertionError(f"GET {repo}/{kind}/{ref}: HTTP {status}")
    return body


def head(repo, kind, ref):
    return http("HEAD", repo, kind, ref)[0]


def scratch_dir():
    """A new empty directory under the test servers' scratch directory."""
    return tempfile.mkdtemp(prefix="python-", dir=TMP)


def make_chart(directory, name, chart_yaml, files=None):
    """DIRECTORY/NAME.tgz holding NAME/Chart.yaml (and NAME/<path> for each
    of `files`), as `helm package` lays it out; returns its path."""
    path = os.path.join(directory, f"{name}.tgz")
    members = {"Chart.yaml": chart_yaml.encode()} if chart_yaml is not None else {}
    members.update(files or {})
    with tarfile.open(path, "w:gz") as tar:
        for member, data in members.items():
            info = tarfile.TarInfo(f"{name}/{member}")
            info.size, info.mode, info.mtime = len(data), 0o644, 1700000000
            tar.addfile(info, io.BytesIO(data))
    return path


class Stream:
    """A read(n) callable over `data`: at most `step` bytes a call, and once
    `fail_at` bytes were given, `error` raised. Counts what it gives."""

    def __init__(self, data, step=100000, fail_at=None, error=None):
        self.data, self.step, self.fail_at, self.error = data, step, fail_at, error
        self.pos = self.given = self.raised = self.rewinds = 0

    def __call__(self, n):
        if self.fail_at is not None and self.pos >= self.fail_at:
            self.raised += 1
            raise self.error
        end = min(len(self.data), self.pos + n, self.pos + self.step)
        if self.fail_at is not None:
            end = min(end, self.fail_at)
        chunk = self.data[self.pos:end]
        self.pos = end
        self.given += len(chunk)
        return chunk

    def rewind(self):
        self.rewinds += 1
        self.pos = 0


class Boom(Exception):
    pass


class RegistryTest(unittest.TestCase):
    def setenv(self, name, value):
        """Set an environment variable (C's getenv sees it) for this test."""
        old = os.environ.get(name)
        os.environ[name] = value
        self.addCleanup(lambda: os.environ.__setitem__(name, old) if old is not None
                        else os.environ.pop(name, None))

    def session(self, host, **settings):
        """A plain-http session whose log lands in self.log."""
        self.log = []
        settings.setdefault("log", lambda level, message: self.log.append((level, message)))
        s = ocipush.Session(host, plain_http=True, **settings)
        self.addCleanup(s.close)
        return s

    def source(self, source):
        self.addCleanup(source.close)
        return source

    def warnings(self):
        return [m for level, m in self.log if level == ocipush.LogLevel.WARN]


# ---- blobs ----


class BlobTests(RegistryTest):
    def test_push_bytes(self):
        data = random_bytes(123457, seed=1)
        s = self.session(REG)
        src = self.source(ocipush.Source.from_bytes(data))
        self.assertEqual(src.size, len(data))
        digest, size = ocipush.blob_push(s, "python/bytes", src)
        self.assertEqual((digest, size), (sha(data), len(data)))
        self.assertEqual(sha(served("python/bytes", "blobs", digest)), sha(data))
        # Bytes rewind: the same source pushes again, elsewhere.
        self.assertEqual(ocipush.blob_push(s, "python/bytes2", src), (digest, size))
        self.assertTrue(ocipush.blob_exists(s, "python/bytes2", digest))
        self.assertFalse(ocipush.blob_exists(s, "python/bytes2", sha(b"absent")))

    def test_what_each_push_did(self):
        # Session.blobs after a blob push, Push.blobs after a run: pushed the
        # first time, skipped the second (the registry has them).
        data = random_bytes(5001, seed=40)
        s = self.session(REG)
        with ocipush.Source.from_bytes(data) as src:
            digest, _ = ocipush.blob_push(s, "python/status", src)
            self.assertEqual(s.blobs, [ocipush.Blob(digest, 5001, "", ocipush.BlobStatus.PUSHED)])
            ocipush.blob_push(s, "python/status", src)
            self.assertEqual(s.blobs[0].status, ocipush.BlobStatus.SKIPPED)
            for expect in (ocipush.BlobStatus.PUSHED, ocipush.BlobStatus.SKIPPED):
                with ocipush.Push(tags=["v1"]) as push:
                    push.add_layer(src, ocipush.MEDIA_TYPE_LAYER)
                    manifest = push.run(s, "python/status2")
                    blobs = push.blobs
                    self.assertEqual([b.status for b in blobs], [expect, expect])
                    self.assertEqual(blobs[1].digest, digest)
                    self.assertEqual(blobs[0].media_type, ocipush.MEDIA_TYPE_EMPTY)
                    served_manifest = served("python/status2", "manifests", manifest)
                    self.assertEqual(push.landed_size, len(served_manifest))
                    self.assertEqual(ocipush.manifest_media_type(served_manifest),
                                     ocipush.MEDIA_TYPE_MANIFEST)
        self.assertEqual(s.blobs, [])  # after run(): told by the push
        with self.assertRaises(OcipushError) as err:
            ocipush.manifest_media_type(b"[]")
        self.assertEqual(err.exception.code, ocipush.E_INVALID)

    def test_push_file(self):
        data = random_bytes(300007, seed=2)
        path = os.path.join(TMP, "python-file.bin")
        with open(path, "wb") as f:
            f.write(data)
        s = self.session(PROXY)
        with ocipush.Source.from_file(path) as src:
            self.assertEqual(src.size, len(data))
            digest, size = ocipush.blob_push(s, "python/file", src)
        self.assertTrue(src.closed)
        self.assertEqual((digest, size), (sha(data), len(data)))
        self.assertEqual(self.warnings(), [])  # a known size goes length-delimited
        self.assertEqual(sha(served("python/file", "blobs", digest)), sha(data))

    def test_missing_file(self):
        missing = os.path.join(TMP, "no-such-file")
        with self.assertRaises(OcipushError) as cm:
            ocipush.Source.from_file(missing)
        self.assertEqual(cm.exception.code, ocipush.E_IO)
        self.assertIn("No such file", cm.exception.message)

    def test_pipe_through_proxy(self):
        data = random_bytes(200003, seed=3)
        r, w = os.pipe()

        def write():
            with os.fdopen(w, "wb") as f:
                f.write(data)

        writer = threading.Thread(target=write)
        writer.start()
        s = self.session(PROXY)
        with ocipush.Source.from_fd(r, take_ownership=True) as src:
            self.assertIsNone(src.size)
            digest, size = ocipush.blob_push(s, "python/pipe", src)
        writer.join()
        self.assertEqual((digest, size), (sha(data), len(data)))
        self.assertEqual(sha(served("python/pipe", "blobs", digest)), sha(data))

    def test_callback_stream_through_chunk_rejecting_proxy(self):
        data = random_bytes((1 << 20) + 7, seed=4)
        progress = []
        s = self.session(PROXY, spool=64 * 1024,
                         progress=lambda done, total: progress.append((done, total)))
        stream = Stream(data, step=30000)
        src = self.source(ocipush.Source.from_callback(stream))
        self.assertIsNone(src.size)
        digest, size = ocipush.blob_push(s, "python/stream", src)
        self.assertEqual((digest, size), (sha(data), len(data)))
        # The proxy refused the chunked PATCH; the bytes were replayed from
        # the spool, not read twice.
        self.assertTrue(any("rejected" in m for m in self.warnings()), self.log)
        self.assertEqual(stream.given, len(data))
        self.assertEqual(progress[-1][0], len(data))
        self.assertEqual(hashlib.sha256(served("python/stream", "blobs", digest)).hexdigest(),
                         hashlib.sha256(data).hexdigest())
        # The stream is consumed: a second push is refused.
        with self.assertRaises(OcipushError) as cm:
            ocipush.blob_push(s, "python/stream", src)
        self.assertEqual(cm.exception.code, ocipush.E_INVALID)
        self.assertIn("consumed", cm.exception.message)

    def test_rewindable_callback_through_proxy(self):
        data = random_bytes(250000, seed=5)
        s = self.session(PROXY, strategy="stream")
        stream = Stream(data)
        src = self.source(ocipush.Source.from_callback(stream, rewind=stream.rewind,
                                                       size=len(data)))
        digest, _ = ocipush.blob_push(s, "python/rewind", src)
        self.assertEqual(digest, sha(data))
        self.assertEqual(stream.rewinds, 1)  # rejected once, sent again from the start
        self.assertEqual(sha(served("python/rewind", "blobs", digest)), sha(data))

    def test_callback_raises_mid_stream(self):
        data = random_bytes(300000, seed=6)
        for strategy in STRATEGIES:
            with self.subTest(strategy=strategy):
                s = self.session(REG, strategy=strategy)
                error = Boom(f"read failed ({strategy})")
                stream = Stream(data, step=10000, fail_at=150000, error=error)
                src = self.source(ocipush.Source.from_callback(stream))
                with self.assertRaises(Boom) as cm:
                    ocipush.blob_push(s, "python/raises", src)
                self.assertIs(cm.exception, error)
                self.assertIn("source failed", "".join(cm.exception.__notes__))
                self.assertEqual(stream.raised, 1)  # not read again after failing
                self.assertEqual(head("python/raises", "blobs", sha(data)), 404)
                self.assertEqual(head("python/raises", "blobs", sha(data[:150000])), 404)

    def test_rewind_raises(self):
        data = random_bytes(100000, seed=7)
        s = self.session(PROXY, strategy="stream")
        stream = Stream(data)

        def rewind():
            raise Boom("cannot rewind")

        src = self.source(ocipush.Source.from_callback(stream, rewind=rewind, size=len(data)))
        with self.assertRaisesRegex(Boom, "cannot rewind"):
            ocipush.blob_push(s, "python/norewind", src)
        self.assertEqual(head("python/norewind", "blobs", sha(data)), 404)

    def test_digest_mismatch(self):
        expected = sha(b"world")
        for i, strategy in enumerate(STRATEGIES):
            with self.subTest(strategy=strategy):
                content = f"hello {i}".encode()
                s = self.session(REG, strategy=strategy)
                src = self.source(ocipush.Source.from_bytes(content))
                with self.assertRaises(OcipushError) as cm:
                    ocipush.blob_push(s, "python/mismatch", src, expected_digest=expected)
                err = cm.exception
                self.assertEqual(err.code, ocipush.E_DIGEST_MISMATCH)
                self.assertEqual(err.name, ocipush.strerror(ocipush.E_DIGEST_MISMATCH))
                self.assertEqual(err.name, "digest mismatch")
                self.assertIn(sha(content), err.message)
                self.assertEqual(head("python/mismatch", "blobs", sha(content)), 404)
                self.assertEqual(head("python/mismatch", "blobs", expected), 404)

    def test_registry_not_running(self):
        s = self.session(DEAD, retries=0)
        src = self.source(ocipush.Source.from_bytes(b"x"))
        with self.assertRaises(OcipushError) as cm:
            ocipush.blob_push(s, "python/dead", src)
        err = cm.exception
        self.assertEqual(err.code, ocipush.E_NETWORK)
        self.assertEqual(err.name, "network error")
        self.assertIn(DEAD, err.message)
        self.assertIn("network error", str(err))

    def test_progress_aborts(self):
        data = random_bytes(1000000, seed=8)
        calls = []

        def progress(done, total):
            calls.append(done)
            return done >= 100000

        s = self.session(REG, progress=progress)
        src = self.source(ocipush.Source.from_callback(Stream(data, step=10000)))
        with self.assertRaises(OcipushError) as cm:
            ocipush.blob_push(s, "python/abort", src)
        self.assertEqual(cm.exception.code, ocipush.E_ABORTED)
        self.assertGreaterEqual(calls[-1], 100000)
        self.assertLess(calls[-1], len(data))
        self.assertEqual(head("python/abort", "blobs", sha(data)), 404)

    def test_cancel_from_another_thread(self):
        data = random_bytes(1000000, seed=21)
        started, cancelled = threading.Event(), threading.Event()
        stream = Stream(data, step=10000)

        def read(n):
            if stream.pos >= 100000 and not started.is_set():
                started.set()
                self.assertTrue(cancelled.wait(30))
            return stream(n)

        s = self.session(REG)

        def canceller():
            started.wait(30)
            s.cancel()
            cancelled.set()

        t = threading.Thread(target=canceller)
        t.start()
        self.addCleanup(t.join)
        src = self.source(ocipush.Source.from_callback(read))
        with self.assertRaises(OcipushError) as cm:
            ocipush.blob_push(s, "python/cancel", src)
        self.assertEqual(cm.exception.code, ocipush.E_ABORTED)
        self.assertLess(stream.given, len(data))
        self.assertEqual(head("python/cancel", "blobs", sha(data)), 404)
        # The session stays cancelled.
        with self.assertRaises(OcipushError) as cm:
            ocipush.blob_exists(s, "python/cancel", sha(data))
        self.assertEqual(cm.exception.code, ocipush.E_ABORTED)

    def test_chunk_size_below_minimum(self):
        for size in (1, 65535):
            with self.assertRaises(OcipushError) as cm:
                self.session(REG, chunk_size=size)
            self.assertEqual(cm.exception.code, ocipush.E_INVALID)
        self.session(REG, chunk_size=65536)

    def test_progress_raises(self):
        data = random_bytes(500000, seed=9)

        def progress(done, total):
            if done >= 200000:
                raise Boom("stop here")

        s = self.session(REG, progress=progress)
        src = self.source(ocipush.Source.from_bytes(data))
        with self.assertRaisesRegex(Boom, "stop here") as cm:
            ocipush.blob_push(s, "python/abort2", src)
        self.assertIn("aborted by callback", "".join(cm.exception.__notes__))
        self.assertEqual(head("python/abort2", "blobs", sha(data)), 404)

    def test_log_callback_raises(self):
        # A log callback cannot fail the call: its exception comes out after.
        def log(level, message):
            raise Boom(message)

        s = self.session(DEAD, retries=0, log=log, log_level=ocipush.LogLevel.DEBUG)
        src = self.source(ocipush.Source.from_bytes(b"x"))
        with self.assertRaises(Boom) as cm:
            ocipush.blob_push(s, "python/dead", src)
        self.assertIn("network error", "".join(cm.exception.__notes__))

    def test_push_mount(self):
        base, repo = "python/mount-from", "python/mount-to"
        data = random_bytes(80001, seed=20)
        digest = sha(data)
        s = self.session(REG)
        ocipush.blob_push(s, base, self.source(ocipush.Source.from_bytes(data)))
        self.assertEqual(head(repo, "blobs", digest), 404)
        # Mounted: the source is not read at all.
        stream = Stream(data)
        src = self.source(ocipush.Source.from_callback(stream, size=len(data)))
        self.assertEqual(ocipush.blob_push_mount(s, repo, digest, base, src), (True, len(data)))
        self.assertEqual(stream.given, 0)
        self.assertTrue(any(m.startswith("mounted ") for _, m in self.log), self.log)
        self.assertEqual(sha(served(repo, "blobs", digest)), digest)
        # Already there: nothing to mount.
        self.assertEqual(ocipush.blob_push_mount(s, repo, digest, base), (False, len(data)))
        # Not in the repository mounted from, no source: nothing done.
        other = random_bytes(5003, seed=21)
        self.assertEqual(ocipush.blob_push_mount(s, repo, sha(other), base), (False, None))
        self.assertEqual(head(repo, "blobs", sha(other)), 404)
        # ... with a source: uploaded from it.
        stream = Stream(other, step=1000)
        src = self.source(ocipush.Source.from_callback(stream))
        self.assertEqual(ocipush.blob_push_mount(s, repo, sha(other), base, src),
                         (False, len(other)))
        self.assertEqual(stream.given, len(other))
        self.assertEqual(sha(served(repo, "blobs", sha(other))), sha(other))
        # Content that is not what the digest says: nothing committed.
        wrong = self.source(ocipush.Source.from_bytes(b"not the claimed bytes"))
        with self.assertRaises(OcipushError) as cm:
            ocipush.blob_push_mount(s, repo, sha(b"claimed"), base, wrong)
        self.assertEqual(cm.exception.code, ocipush.E_DIGEST_MISMATCH)
        self.assertEqual(head(repo, "blobs", sha(b"claimed")), 404)
        self.assertEqual(head(repo, "blobs", sha(b"not the claimed bytes")), 404)
        for bad_digest, bad_from in ((None, base), ("sha256:00", base), (digest, "Bad/Repo")):
            with self.subTest(digest=bad_digest, from_repository=bad_from):
                with self.assertRaises(OcipushError) as cm:
                    ocipush.blob_push_mount(s, repo, bad_digest, bad_from)
                self.assertEqual(cm.exception.code, ocipush.E_INVALID)


# ---- manifests, indexes, whole artifacts ----


class ManifestTests(RegistryTest):
    def check_served(self, repo, manifest_bytes, digest, *tags):
        for ref in (digest,) + tags:
            self.assertEqual(served(repo, "manifests", ref), manifest_bytes, ref)

    def test_refusal_detail(self):
        # A manifest naming a blob the registry lacks: the exception carries
        # the registry's answer as data, and the session keeps it.
        s = self.session(REG, retries=0)
        manifest = (b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'
                    b'"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":'
                    b'"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",'
                    b'"size":2},"layers":[]}')
        with self.assertRaises(ocipush.OcipushError) as cm:
            ocipush.manifest_push_raw(s, "python/detail", manifest, tag="v1")
        self.assertEqual(cm.exception.code, ocipush.E_HTTP)
        self.assertEqual(cm.exception.http_status, 400)
        self.assertEqual(cm.exception.error_code, "MANIFEST_BLOB_UNKNOWN")
        self.assertEqual((s.http_status, s.error_code), (400, "MANIFEST_BLOB_UNKNOWN"))

    def test_manifest_and_index(self):
        repo = "python/manifest"
        s = self.session(PROXY)
        config = b'{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}'
        layer = b"layer bytes"
        with ocipush.Source.from_bytes(config) as c, ocipush.Source.from_bytes(layer) as l:
            cfg_digest, _ = ocipush.blob_push(s, repo, c)
            layer_digest, _ = ocipush.blob_push(s, repo, l)
        with ocipush.Descriptor("application/vnd.oci.image.config.v1+json", cfg_digest,
                                len(config)) as dc, \
             ocipush.Descriptor(ocipush.MEDIA_TYPE_LAYER, layer_digest, len(layer),
                                annotations={TITLE: "l.bin"}) as dl, \
             ocipush.Manifest(config=dc, layers=[dl], annotations={
                 "org.opencontainers.image.created": "2026-11-27T00:00:00Z"}) as m:
            image = m.serialize()
            digest = ocipush.manifest_push(s, repo, m, tag="img")
        self.assertEqual(digest, sha(image))
        doc = json.loads(image)
        self.assertEqual(doc["config"]["digest"], cfg_digest)
        self.assertEqual(doc["layers"][0]["annotations"][TITLE], "l.bin")
        self.check_served(repo, image, digest, "img")

        with ocipush.Descriptor(ocipush.MEDIA_TYPE_MANIFEST, digest, len(image),
                                platform=("linux", "amd64")) as entry, \
             ocipush.Manifest.index(manifests=[entry]) as idx:
            index = idx.serialize()
            index_digest = ocipush.manifest_push(s, repo, idx, tag="multi")
        self.assertEqual(index_digest, sha(index))
        self.assertEqual(json.loads(index)["manifests"][0]["platform"],
                         {"architecture": "amd64", "os": "linux"})
        self.check_served(repo, index, index_digest, "multi")

        # The same bytes, pushed raw, land byte-identical under another tag.
        self.assertEqual(ocipush.manifest_push_raw(s, repo, image, tag="raw"), digest)
        self.check_served(repo, image, digest, "raw")

        # A digest in the reference is what the bytes must hash to, checked
        # before anything is sent: a mismatch moves no tag.
        with self.assertRaises(OcipushError) as cm:
            ocipush.manifest_push_raw(s, repo, index, tag="raw@" + digest)
        self.assertEqual(cm.exception.code, ocipush.E_DIGEST_MISMATCH)
        self.check_served(repo, image, digest, "raw")
        self.assertEqual(ocipush.manifest_push_raw(s, repo, index, tag="raw@" + index_digest),
                         index_digest)
        self.check_served(repo, index, index_digest, "raw")
        # A digest alone pushes by digest, checked the same way.
        self.assertEqual(ocipush.manifest_push_raw(s, repo, image, tag=digest), digest)
        with self.assertRaises(OcipushError) as cm:
            ocipush.manifest_push_raw(s, repo, image, tag=index_digest)
        self.assertEqual(cm.exception.code, ocipush.E_DIGEST_MISMATCH)

    def test_push_artifact(self):
        repo = "python/artifact"
        a = b"first layer\n"
        b = random_bytes(70001, seed=10)
        c = random_bytes(400000, seed=11)
        path = os.path.join(TMP, "python-layer.bin")
        with open(path, "wb") as f:
            f.write(b)
        s = self.session(PROXY)
        la = self.source(ocipush.Source.from_bytes(a))
        lb = self.source(ocipush.Source.from_file(path))
        lc = self.source(ocipush.Source.from_callback(Stream(c, step=50000)))
        with ocipush.Push(artifact_type="application/vnd.example.thing",
                          annotations={"org.example.note": "hello"},
                          tags=["v1", "latest"]) as push:
            push.add_layer(la, title="a.txt")
            push.add_layer(lb, media_type="application/x-example", title="b.bin")
            push.add_layer(lc, title="c.bin")
            digest = push.run(s, repo)
        body = served(repo, "manifests", "v1")
        self.assertEqual(sha(body), digest)
        self.check_served(repo, body, digest, "latest")
        doc = json.loads(body)
        self.assertEqual(doc["mediaType"], ocipush.MEDIA_TYPE_MANIFEST)
        self.assertEqual(doc["artifactType"], "application/vnd.example.thing")
        self.assertEqual(doc["annotations"]["org.example.note"], "hello")
        self.assertEqual(doc["config"]["mediaType"], ocipush.MEDIA_TYPE_EMPTY)
        self.assertEqual(doc["config"]["digest"], sha(b"{}"))
        self.assertEqual(
            [(d["mediaType"], d["digest"], d["size"], d["annotations"][TITLE])
             for d in doc["layers"]],
            [(ocipush.MEDIA_TYPE_LAYER, sha(a), len(a), "a.txt"),
             ("application/x-example", sha(b), len(b), "b.bin"),
             (ocipush.MEDIA_TYPE_LAYER, sha(c), len(c), "c.bin")])
        for data in (a, b, c):
            self.assertEqual(sha(served(repo, "blobs", sha(data))), sha(data))

    def test_failing_layer_leaves_no_tag(self):
        repo = "python/half"
        s = self.session(PROXY)
        good = self.source(ocipush.Source.from_bytes(b"fine"))
        bad = self.source(ocipush.Source.from_callback(
            Stream(random_bytes(100000), step=1000, fail_at=50000, error=Boom("layer broke"))))
        with ocipush.Push(tags=["v1"]) as push:
            push.add_layer(good, title="good.txt")
            push.add_layer(bad, title="bad.bin")
            with self.assertRaisesRegex(Boom, "layer broke"):
                push.run(s, repo)
        self.assertEqual(head(repo, "manifests", "v1"), 404)

    def referrers(self, repo, subject_digest):
        """The referrers tag index of `subject_digest`, as served (checked
        against its own digest), parsed."""
        body = served(repo, "manifests", "sha256-" + subject_digest.removeprefix("sha256:"))
        self.assertEqual(served(repo, "manifests", sha(body)), body)
        doc = json.loads(body)
        self.assertEqual(doc["mediaType"], ocipush.MEDIA_TYPE_INDEX)
        return doc

    def test_push_subject(self):
        repo = "python/subject"
        s = self.session(REG)
        with ocipush.Push(tags=["v1"]) as push:
            push.add_layer(self.source(ocipush.Source.from_bytes(b"the image")))
            subject_digest = push.run(s, repo)
        subject_body = served(repo, "manifests", "v1")
        self.assertEqual(sha(subject_body), subject_digest)
        # No referrers yet: no referrers tag.
        tag = "sha256-" + subject_digest.removeprefix("sha256:")
        self.assertEqual(head(repo, "manifests", tag), 404)

        def push_referrer(subject, content, artifact_type, note):
            with ocipush.Push(artifact_type=artifact_type, subject=subject,
                              annotations={"org.example.note": note}) as push:
                push.add_layer(self.source(ocipush.Source.from_bytes(content)),
                               media_type=artifact_type + ".layer", title="sig")
                return push.run(s, repo)

        sig = push_referrer("v1", b"a signature", "application/vnd.example.sig", "by tag")
        body = served(repo, "manifests", sig)
        self.assertEqual(sha(body), sig)
        self.assertEqual(json.loads(body)["subject"], {
            "mediaType": ocipush.MEDIA_TYPE_MANIFEST, "digest": subject_digest,
            "size": len(subject_body)})
        self.assertEqual(sha(served(repo, "blobs", sha(b"a signature"))), sha(b"a signature"))
        self.assertEqual(self.referrers(repo, subject_digest)["manifests"], [{
            "mediaType": ocipush.MEDIA_TYPE_MANIFEST, "digest": sig, "size": len(body),
            "artifactType": "application/vnd.example.sig",
            "annotations": {"org.example.note": "by tag"}}])
        # A second referrer, its subject given by digest, joins the first;
        # the first pushed again is not listed twice.
        sbom = push_referrer(subject_digest, b"an sbom", "application/spdx+json", "by digest")
        self.assertEqual(push_referrer("v1", b"a signature", "application/vnd.example.sig",
                                       "by tag"), sig)
        entries = self.referrers(repo, subject_digest)["manifests"]
        self.assertEqual([(e["digest"], e["artifactType"]) for e in entries],
                         [(sig, "application/vnd.example.sig"),
                          (sbom, "application/spdx+json")])
        self.assertEqual(json.loads(served(repo, "manifests", sbom))["subject"]["digest"],
                         subject_digest)
        # A subject the repository does not have: refused, nothing tagged.
        with ocipush.Push(tags=["orphan"], subject="no-such-tag") as push:
            push.add_layer(self.source(ocipush.Source.from_bytes(b"orphan")))
            with self.assertRaises(OcipushError) as cm:
                push.run(s, repo)
        self.assertEqual(cm.exception.code, ocipush.E_INVALID)
        self.assertIn("no-such-tag", cm.exception.message)
        self.assertEqual(head(repo, "manifests", "orphan"), 404)

    def test_layer_digest_and_mount_source(self):
        base, repo = "python/mount-base", "python/mount-app"
        s = self.session(REG)
        data = random_bytes(90001, seed=22)
        fresh = random_bytes(1001, seed=23)
        ocipush.blob_push(s, base, self.source(ocipush.Source.from_bytes(data)))
        for concurrency in (1, 4):
            with self.subTest(concurrency=concurrency):
                tag = f"c{concurrency}"
                self.log.clear()
                stream, fresh_stream = Stream(data), Stream(fresh)
                src = self.source(ocipush.Source.from_callback(stream, rewind=stream.rewind,
                                                               size=len(data)))
                src2 = self.source(ocipush.Source.from_callback(
                    fresh_stream, rewind=fresh_stream.rewind, size=len(fresh)))
                with ocipush.Push(tags=[tag], mount_source=base,
                                  concurrency=concurrency) as push:
                    push.add_layer(src, title="base.bin", digest=sha(data))
                    push.add_layer(src2, title="fresh.bin", digest=sha(fresh))
                    digest = push.run(s, f"{repo}{concurrency}")
                # The base layer was mounted (never read); the fresh one not
                # mountable, so uploaded.
                self.assertEqual(stream.given, 0)
                self.assertEqual(fresh_stream.given, len(fresh))
                mounted = [m for _, m in self.log if m.startswith("mounted ")]
                self.assertEqual(len(mounted), 1, self.log)
                self.assertIn(sha(data), mounted[0])
                body = served(f"{repo}{concurrency}", "manifests", tag)
                self.assertEqual(sha(body), digest)
                self.assertEqual([(d["digest"], d["size"], d["annotations"][TITLE])
                                  for d in json.loads(body)["layers"]],
                                 [(sha(data), len(data), "base.bin"),
                                  (sha(fresh), len(fresh), "fresh.bin")])
                for content in (data, fresh):
                    self.assertEqual(sha(served(f"{repo}{concurrency}", "blobs", sha(content))),
                                     sha(content))
        # A layer that does not hash to its digest: nothing tagged.
        with ocipush.Push(tags=["bad"]) as push:
            push.add_layer(self.source(ocipush.Source.from_bytes(b"other content")),
                           digest=sha(b"claimed content"))
            with self.assertRaises(OcipushError) as cm:
                push.run(s, repo)
        self.assertEqual(cm.exception.code, ocipush.E_DIGEST_MISMATCH)
        self.assertEqual(head(repo, "manifests", "bad"), 404)
        self.assertEqual(head(repo, "blobs", sha(b"other content")), 404)


class PushProgressTests(RegistryTest):
    SIZES = (150001, 70003, 230005)  # distinct: a total names its layer

    def layers(self, seed):
        """Layer contents and their sources: bytes, a file, a callback."""
        datas = [random_bytes(n, seed=seed + i) for i, n in enumerate(self.SIZES)]
        path = os.path.join(scratch_dir(), "layer.bin")
        with open(path, "wb") as f:
            f.write(datas[1])
        stream = Stream(datas[2], step=40000)
        sources = [self.source(ocipush.Source.from_bytes(datas[0])),
                   self.source(ocipush.Source.from_file(path)),
                   self.source(ocipush.Source.from_callback(stream, rewind=stream.rewind,
                                                            size=len(datas[2])))]
        return datas, sources

    def test_progress_totals(self):
        caller = threading.get_ident()
        for concurrency in (1, 4):
            with self.subTest(concurrency=concurrency):
                repo, calls, session_calls = f"python/progress{concurrency}", [], []

                def progress(*args):
                    calls.append((threading.get_ident(),) + args)

                s = self.session(REG, progress=lambda done, total:
                                 session_calls.append((done, total)))
                datas, sources = self.layers(seed=40 + concurrency)
                with ocipush.Push(tags=["v1"], concurrency=concurrency,
                                  progress=progress) as push:
                    for i, src in enumerate(sources):
                        push.add_layer(src, title=f"l{i}")
                    digest = push.run(s, repo)
                body = served(repo, "manifests", "v1")
                self.assertEqual(sha(body), digest)
                for data in datas:
                    self.assertEqual(sha(served(repo, "blobs", sha(data))), sha(data))
                everything = sum(self.SIZES)
                self.assertTrue(calls)
                # The last call has every byte of every layer.
                self.assertEqual(calls[-1][4:], (everything, everything))
                for i, size in enumerate(self.SIZES):
                    mine = [c for c in calls if c[1] == i]
                    self.assertGreater(len(mine), 0, i)
                    self.assertEqual({c[3] for c in mine}, {size})  # its total
                    self.assertEqual(mine[-1][2], size)  # all its bytes
                    self.assertEqual([c[2] for c in mine], sorted(c[2] for c in mine))
                self.assertGreaterEqual(len([c for c in calls if c[1] == 2]), 6)  # 40000 a read
                self.assertEqual([c[4] for c in calls], sorted(c[4] for c in calls))
                self.assertEqual({c[5] for c in calls}, {everything})
                threads = {c[0] for c in calls}
                layer_totals = {t for _, t in session_calls if t in self.SIZES}
                if concurrency == 1:
                    # In the calling thread, and the session's callback too.
                    self.assertEqual(threads, {caller})
                    self.assertEqual(layer_totals, set(self.SIZES))
                else:
                    # On the library's threads; the session's callback is not
                    # called for the layers.
                    self.assertNotIn(caller, threads)
                    self.assertEqual(layer_totals, set())

    def test_progress_unknown_size(self):
        data = random_bytes(120007, seed=50)
        calls = []
        s = self.session(REG)
        src = self.source(ocipush.Source.from_callback(Stream(data, step=30000)))
        with ocipush.Push(tags=["v1"], progress=lambda *a: calls.append(a)) as push:
            push.add_layer(src)
            digest = push.run(s, "python/progress-stream")
        self.assertEqual(sha(served("python/progress-stream", "manifests", "v1")), digest)
        self.assertEqual(sha(served("python/progress-stream", "blobs", sha(data))), sha(data))
        self.assertEqual({(c[0], c[2], c[4]) for c in calls}, {(0, None, None)})
        self.assertEqual(calls[-1][1], len(data))
        self.assertEqual(calls[-1][3], len(data))

    def test_progress_raises(self):
        caller = threading.get_ident()
        for concurrency in (1, 4):
            with self.subTest(concurrency=concurrency):
                repo = f"python/progress-raises{concurrency}"
                error = Boom(f"stop the push ({concurrency})")
                raised_in, after = [], []

                def progress(index, done, total, all_done, all_total):
                    if raised_in:
                        after.append(index)  # must not happen: the push stopped
                    elif done >= 40000:
                        raised_in.append((threading.get_ident(), index))
                        raise error

                s = self.session(REG)
                datas, sources = self.layers(seed=60 + concurrency)
                with ocipush.Push(tags=["v1"], concurrency=concurrency,
                                  progress=progress) as push:
                    for src in sources:
                        push.add_layer(src)
                    with self.assertRaises(Boom) as cm:
                        push.run(s, repo)
                self.assertIs(cm.exception, error)
                self.assertIn("aborted by callback", "".join(cm.exception.__notes__))
                self.assertEqual(len(raised_in), 1)
                self.assertEqual(after, [])
                self.assertEqual(head(repo, "manifests", "v1"), 404)
                thread, index = raised_in[0]
                self.assertEqual(head(repo, "blobs", sha(datas[index])), 404)
                if concurrency == 1:
                    self.assertEqual((thread, index), (caller, 0))
                    for data in datas:  # nothing after the first
                        self.assertEqual(head(repo, "blobs", sha(data)), 404)
                else:
                    self.assertNotEqual(thread, caller)

    def test_progress_true_aborts(self):
        s = self.session(REG)
        datas, sources = self.layers(seed=70)
        with ocipush.Push(tags=["v1"], concurrency=2,
                          progress=lambda i, done, *rest: done >= 40000) as push:
            for src in sources:
                push.add_layer(src)
            with self.assertRaises(OcipushError) as cm:
                push.run(s, "python/progress-abort")
        self.assertEqual(cm.exception.code, ocipush.E_ABORTED)
        self.assertEqual(head("python/progress-abort", "manifests", "v1"), 404)


# ---- OCI layouts, Helm charts, credentials ----


class LayoutTests(RegistryTest):
    def push(self, session, a, b, config, tag="v1"):
        with ocipush.Source.from_bytes(a) as la, ocipush.Source.from_bytes(b) as lb, \
             ocipush.Source.from_bytes(config) as c, \
             ocipush.Push(artifact_type="application/vnd.example", annotations={"k": "v"},
                          tags=[tag]) as push:
            push.set_config(c, "application/vnd.example.config+json")
            push.add_layer(la, title="a.bin")
            push.add_layer(lb, media_type="text/plain", title="b.txt")
            return push.run(session, "python/layout")

    def index_entries(self, lay, tag):
        with open(os.path.join(lay, "index.json"), "rb") as f:
            index = json.load(f)
        self.assertEqual(index["schemaVersion"], 2)
        return [m for m in index["manifests"]
                if m.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag]

    def blobs(self, lay):
        """{hex: bytes} of blobs/sha256, each checked to hash to its name."""
        found = {}
        directory = os.path.join(lay, "blobs", "sha256")
        for name in os.listdir(directory):
            self.assertFalse(name.startswith("."), f"temporary file {name} left")
            with open(os.path.join(directory, name), "rb") as f:
                data = f.read()
            self.assertEqual(hashlib.sha256(data).hexdigest(), name)
            found[name] = data
        return found

    def test_same_digests_as_registry(self):
        lay = os.path.join(scratch_dir(), "layout")
        a, b, config = random_bytes(300001, seed=30), b"notes\n", b'{"k":"v"}'
        progress = []
        with ocipush.Session.layout(lay, progress=lambda d, t: progress.append((d, t))) as ls:
            self.assertIn("layout", repr(ls))
            d_layout = self.push(ls, a, b, config)
        d_reg = self.push(self.session(REG), a, b, config)
        self.assertEqual(d_layout, d_reg)
        self.assertIn((len(config), len(config)), progress)  # the config, read here
        manifest = served("python/layout", "manifests", "v1")
        self.assertEqual(sha(manifest), d_reg)
        with open(os.path.join(lay, "oci-layout"), "rb") as f:
            self.assertEqual(json.load(f), {"imageLayoutVersion": "1.0.0"})
        entries = self.index_entries(lay, "v1")
        self.assertEqual(len(entries), 1)
        self.assertEqual((entries[0]["mediaType"], entries[0]["digest"], entries[0]["size"]),
                         (ocipush.MEDIA_TYPE_MANIFEST, d_layout, len(manifest)))
        blobs = self.blobs(lay)
        self.assertEqual(set(blobs), {hashlib.sha256(x).hexdigest()
                                      for x in (a, b, config, manifest)})
        self.assertEqual(blobs[d_layout.removeprefix("sha256:")], manifest)
        for x in (a, b, config):
            self.assertEqual(served("python/layout", "blobs", sha(x)), x)

        # A tag pushed again moves; the first manifest stays as a blob.
        with ocipush.Session.layout(lay) as ls:
            d2 = self.push(ls, a, b"other notes\n", config)
        self.assertNotEqual(d2, d_layout)
        self.assertEqual([e["digest"] for e in self.index_entries(lay, "v1")], [d2])
        blobs = self.blobs(lay)
        self.assertIn(d_layout.removeprefix("sha256:"), blobs)
        self.assertEqual(sha(blobs[d2.removeprefix("sha256:")]), d2)
        self.assertEqual(json.loads(blobs[d2.removeprefix("sha256:")])["layers"][1]["digest"],
                         sha(b"other notes\n"))

    def test_missing_parents_made(self):
        lay = os.path.join(scratch_dir(), "missing", "parents", "layout")
        a, b, config = random_bytes(5001, seed=31), b"more notes\n", b'{"k":"w"}'
        with ocipush.Session.layout(lay) as ls:
            digest = self.push(ls, a, b, config)
        self.assertEqual([e["digest"] for e in self.index_entries(lay, "v1")], [digest])
        self.assertIn(hashlib.sha256(a).hexdigest(), self.blobs(lay))
        # Mount-only into a layout: nothing to mount from, nothing done.
        with ocipush.Session.layout(lay) as ls:
            self.assertEqual(ocipush.blob_push_mount(ls, "python/layout", sha(b"absent"),
                                                     "python/base"), (False, None))
            self.assertEqual(ocipush.blob_push_mount(ls, "python/layout", sha(a),
                                                     "python/base"), (False, len(a)))

    def test_not_a_directory(self):
        path = os.path.join(scratch_dir(), "afile")
        with open(path, "wb") as f:
            f.write(b"x")
        with self.assertRaises(OcipushError) as cm:
            ocipush.Session.layout(path)
        self.assertEqual(cm.exception.code, ocipush.E_IO)
        self.assertIn("Not a directory", cm.exception.message)
        self.assertIn(path, cm.exception.message)


class CompressedTests(RegistryTest):
    def test_gzip_on_the_fly(self):
        # A stream gzip'd on the fly, through the chunk-rejecting proxy (so
        # it is replayed from the spool): what the registry serves gunzips to
        # the original, hashes to the digest pushed, and the diff_id is the
        # original's.
        import gzip
        data = random_bytes(3000017, seed=42) + bytes(2000000)  # some of it compressible
        s = self.session(PROXY)
        inner = ocipush.Source.from_callback(io.BytesIO(data).read)
        src = self.source(ocipush.Source.compressed(inner))
        self.assertTrue(inner.closed)
        self.assertIsNone(src.uncompressed_digest)  # not read yet
        digest, size = ocipush.blob_push(s, "python/gz", src)
        served_bytes = served("python/gz", "blobs", digest)
        self.assertEqual(sha(served_bytes), digest)
        self.assertEqual(len(served_bytes), size)
        self.assertLess(size, len(data))
        self.assertEqual(gzip.decompress(served_bytes), data)
        self.assertEqual(src.uncompressed_digest, (sha(data), len(data)))
        # A rewindable inner source: the same bytes twice (deterministic).
        again = self.source(ocipush.Source.compressed(ocipush.Source.from_bytes(data), level=1))
        d1, _ = ocipush.blob_push(self.session(REG), "python/gz1", again)
        d2, _ = ocipush.blob_push(self.session(REG), "python/gz2", again)
        self.assertEqual(d1, d2)
        self.assertEqual(gzip.decompress(served("python/gz2", "blobs", d2)), data)
        with self.assertRaises(OcipushError):
            ocipush.Source.compressed(ocipush.Source.from_bytes(b"x"), level=10)

    def test_zstd_source(self):
        # zstd on the fly: the served bytes are a zstd frame (magic) that the
        # zstd tool turns back into the original; the diff_id is the original's.
        if not ocipush.feature("zstd"):
            self.skipTest("built without libzstd")
        data = random_bytes(1500007, seed=7) + bytes(1000000)
        src = self.source(ocipush.Source.compressed(ocipush.Source.from_bytes(data),
                                                    algorithm=ocipush.COMPRESS_ZSTD))
        digest, size = ocipush.blob_push(self.session(REG), "python/zst", src)
        served_bytes = served("python/zst", "blobs", digest)
        self.assertEqual(sha(served_bytes), digest)
        self.assertEqual(len(served_bytes), size)
        self.assertEqual(served_bytes[:4], b"\x28\xb5\x2f\xfd")
        out = subprocess.run(["zstd", "-q", "-d", "-c"], input=served_bytes,
                             stdout=subprocess.PIPE, check=True).stdout
        self.assertEqual(out, data)
        self.assertEqual(src.uncompressed_digest, (sha(data), len(data)))
        with self.assertRaises(OcipushError):
            ocipush.Source.compressed(ocipush.Source.from_bytes(b"x"), level=20,
                                      algorithm=ocipush.COMPRESS_ZSTD)


class TarDirTests(RegistryTest):
    def test_directory_as_a_tar(self):
        # A directory packed as it is read, gzip'd, through the
        # chunk-rejecting proxy (the stream refused, the walk replayed by a
        # rewind): it gunzips to a tar of the tree, sorted, 0:0, the mtime
        # given; pushed again, the same digest.
        import gzip
        import tarfile
        if not ocipush.feature("directory-layers"):
            self.skipTest("built without libarchive")
        top = os.path.join(scratch_dir(), "tree")
        os.makedirs(os.path.join(top, "b", "c"))
        with open(os.path.join(top, "b", "c", "f"), "wb") as f:
            f.write(random_bytes(300001, seed=7))
        with open(os.path.join(top, "a.txt"), "wb") as f:
            f.write(b"a")
        os.symlink("a.txt", os.path.join(top, "l"))
        s = self.session(PROXY)
        src = self.source(ocipush.Source.compressed(ocipush.Source.tar_dir(top, mtime=1700000000)))
        digest, _ = ocipush.blob_push(s, "python/tardir", src)
        served_bytes = served("python/tardir", "blobs", digest)
        self.assertEqual(sha(served_bytes), digest)
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(served_bytes))) as t:
            members = t.getmembers()
            self.assertEqual([m.name for m in members], ["a.txt", "b", "b/c", "b/c/f", "l"])
            self.assertEqual({(m.uid, m.gid, m.uname, m.mtime) for m in members},
                             {(0, 0, "", 1700000000)})
            self.assertEqual(members[4].linkname, "a.txt")
            self.assertEqual(t.extractfile("b/c/f").read(), random_bytes(300001, seed=7))
        again, _ = ocipush.blob_push(self.session(REG), "python/tardir2", src)
        self.assertEqual(again, digest)
        with self.assertRaises(OcipushError) as cm:
            ocipush.Source.tar_dir(os.path.join(top, "a.txt"))
        self.assertEqual(cm.exception.code, ocipush.E_INVALID)


class CopyTests(RegistryTest):
    def test_copy_layout(self):
        # A layout made here by hand: copied byte for byte, under its tag.
        lay = os.path.join(TMP, "python-copy-layout")
        os.makedirs(os.path.join(lay, "blobs", "sha256"), exist_ok=True)

        def put(data):
            digest = sha(data)
            with open(os.path.join(lay, "blobs", "sha256", digest[7:]), "wb") as f:
                f.write(data)
            return {"digest": digest, "size": len(data)}

        layer = random_bytes(4001, seed=41)
        manifest = json.dumps({
            "schemaVersion": 2, "mediaType": ocipush.MEDIA_TYPE_MANIFEST,
            "config": dict(put(b"{}"), mediaType=ocipush.MEDIA_TYPE_EMPTY),
            "layers": [dict(put(layer), mediaType=ocipush.MEDIA_TYPE_LAYER)],
        }).encode()
        entry = dict(put(manifest), mediaType=ocipush.MEDIA_TYPE_MANIFEST,
                     annotations={"org.opencontainers.image.ref.name": "v1"})
        with open(os.path.join(lay, "oci-layout"), "w") as f:
            f.write('{"imageLayoutVersion":"1.0.0"}')
        with open(os.path.join(lay, "index.json"), "w") as f:
            json.dump({"schemaVersion": 2, "manifests": [entry]}, f)
        s = self.session(REG)
        self.assertEqual(ocipush.copy(s, f"oci:{lay}", "python/copy"), sha(manifest))
        self.assertEqual(served("python/copy", "manifests", "v1"), manifest)
        self.assertEqual(sha(served("python/copy", "blobs", sha(layer))), sha(layer))
        with self.assertRaises(OcipushError) as err:
            ocipush.copy(s, f"oci:{lay}:nope", "python/copy")
        self.assertEqual(err.exception.code, ocipush.E_INVALID)
        self.assertIn("has no tag nope (its tags: v1)", err.exception.message)

    def test_copy_docker_archive(self):
        # A legacy docker archive (tests/make-docker-archive.py), its layers
        # as they are: their digests are the config's diff_ids.
        maker = os.path.join(HERE, "..", "..", "tests", "make-docker-archive.py")
        if not os.path.exists(maker):
            self.skipTest("no tests/make-docker-archive.py beside this copy of the binding")
        path = os.path.join(scratch_dir(), "legacy.tar")
        info = json.loads(subprocess.run([sys.executable, maker, path, "legacy"], check=True,
                                         stdout=subprocess.PIPE).stdout)["example/app:v1"]
        s = self.session(REG)
        with self.assertRaises(OcipushError):
            s.set_layer_compression(ocipush.COMPRESS_GZIP, 10)
        with self.assertRaises(OcipushError):
            s.set_copy_concurrency(65)
        s.set_copy_concurrency(2)
        s.set_layer_compression(ocipush.COMPRESS_NONE)
        digest = ocipush.copy(s, f"docker-archive:{path}:example/app:v1", "python/docker")
        body = served("python/docker", "manifests", "v1")
        self.assertEqual(sha(body), digest)
        manifest = json.loads(body)
        self.assertEqual(manifest["config"]["digest"], info["config"])
        self.assertEqual([l["digest"] for l in manifest["layers"]], info["diff_ids"])
        for layer in manifest["layers"]:
            self.assertEqual(sha(served("python/docker", "blobs", layer["digest"])), layer["digest"])
        # Again into another repository, its blobs mounted from the first.
        s.set_copy_mount_from("python/docker")
        self.assertEqual(ocipush.copy(s, f"docker-archive:{path}:example/app:v1", "python/docker2"),
                         digest)
        self.assertEqual(served("python/docker2", "manifests", "v1"), body)
        with self.assertRaises(OcipushError):
            s.set_copy_mount_from("Bad/Repo")
        s.set_copy_mount_from(None)


class ChartTests(RegistryTest):
    def chart_push(self, session, path, prefix):
        try:
            return ocipush.chart_push(session, path, prefix)
        except OcipushError as err:
            if err.code == ocipush.E_UNSUPPORTED:
                self.skipTest("the library is built without Helm support")
            raise

    def test_chart_push(self):
        self.setenv("SOURCE_DATE_EPOCH", "1700000000")
        work = scratch_dir()
        path = make_chart(work, "pychart", "apiVersion: v2\nname: pychart\nversion: 1.2.3\n"
                          "description: A chart from Python\n",
                          {"values.yaml": b"replicas: 1\n"})
        with open(path, "rb") as f:
            archive = f.read()
        s = self.session(REG)
        reference, digest = self.chart_push(s, path, "python/charts")
        self.assertEqual(reference, "python/charts/pychart:1.2.3")
        repo, tag = reference.rsplit(":", 1)
        self.assertEqual(tag, "1.2.3")  # the tag is the version
        body = served(repo, "manifests", tag)
        self.assertEqual(sha(body), digest)
        manifest = json.loads(body)
        self.assertEqual(manifest["config"]["mediaType"], HELM_CONFIG)
        config = served(repo, "blobs", manifest["config"]["digest"])
        self.assertEqual(sha(config), manifest["config"]["digest"])
        self.assertEqual(len(config), manifest["config"]["size"])
        meta = json.loads(config)
        self.assertEqual((meta["name"], meta["version"], meta["apiVersion"]),
                         ("pychart", "1.2.3", "v2"))
        self.assertEqual(meta["description"], "A chart from Python")
        self.assertEqual([(d["mediaType"], d["digest"], d["size"]) for d in manifest["layers"]],
                         [(HELM_CHART, sha(archive), len(archive))])
        self.assertEqual(served(repo, "blobs", sha(archive)), archive)
        self.assertEqual({k: manifest["annotations"][k] for k in (
            TITLE, "org.opencontainers.image.version", "org.opencontainers.image.created")},
            {TITLE: "pychart", "org.opencontainers.image.version": "1.2.3",
             "org.opencontainers.image.created": "2023-11-14T22:13:20Z"})
        # The same chart at the same SOURCE_DATE_EPOCH: the same manifest.
        self.assertEqual(self.chart_push(s, path, "python/charts"), (reference, digest))

        # '+' is not allowed in a tag: '_' instead. No prefix: NAME alone.
        path = make_chart(work, "pychart2", "apiVersion: v2\nname: pychart2\n"
                          "version: 0.1.0+build.7\n")
        reference, digest = self.chart_push(s, path, None)
        self.assertEqual(reference, "pychart2:0.1.0_build.7")
        body = served("pychart2", "manifests", "0.1.0_build.7")
        self.assertEqual(sha(body), digest)
        self.assertEqual(json.loads(served("pychart2", "blobs",
                                           json.loads(body)["config"]["digest"]))["version"],
                         "0.1.0+build.7")

    def test_bad_charts(self):
        work = scratch_dir()
        s = self.session(REG)
        cases = [
            (make_chart(work, "nochart", None, {"values.yaml": b"a: 1\n"}),
             "has no Chart.yaml"),
            (make_chart(work, "noversion", "apiVersion: v2\nname: noversion\n"),
             "has no version"),
            (make_chart(work, "badversion", "apiVersion: v2\nname: badversion\n"
                        "version: one\n"), "not a semantic version"),
        ]
        notgz = os.path.join(work, "plain.tgz")
        with open(notgz, "wb") as f:
            f.write(b"not a gzip file at all")
        cases.append((notgz, "is not a chart"))
        for path, why in cases:
            with self.subTest(chart=os.path.basename(path)):
                with self.assertRaises(OcipushError) as cm:
                    self.chart_push(s, path, "python/badcharts")
                self.assertEqual(cm.exception.code, ocipush.E_INVALID)
                self.assertIn(why, cm.exception.message)
                self.assertIn(path, cm.exception.message)
                # Checked before anything is pushed: not even the archive.
                with open(path, "rb") as f:
                    archive = f.read()
                name = os.path.basename(path).removesuffix(".tgz")
                self.assertEqual(head(f"python/badcharts/{name}", "blobs", sha(archive)), 404)
        with self.assertRaises(OcipushError) as cm:
            self.chart_push(s, os.path.join(work, "missing.tgz"), "python/badcharts")
        self.assertEqual(cm.exception.code, ocipush.E_IO)


class CredentialTests(RegistryTest):
    def test_store_load_erase(self):
        home = scratch_dir()
        config_path = os.path.join(home, "config.json")
        self.setenv("DOCKER_CONFIG", home)
        self.setenv("HELM_REGISTRY_CONFIG", os.path.join(home, "no-helm.json"))
        other = {"auth": base64.b64encode(b"x:y").decode()}
        with open(config_path, "w") as f:
            json.dump({"auths": {"other.example:5000": other}, "psFormat": "table"}, f)
        with ocipush.Session(REG, plain_http=True, load_credentials=True) as s:
            self.assertFalse(s.credentials_found)

        ocipush.credentials_store(REG, "me", "pass:word")
        with open(config_path, "rb") as f:
            doc = json.load(f)
        self.assertEqual(doc["auths"][REG], {"auth": base64.b64encode(b"me:pass:word").decode()})
        self.assertEqual(doc["auths"]["other.example:5000"], other)
        self.assertEqual(doc["psFormat"], "table")
        self.assertEqual(stat.S_IMODE(os.stat(config_path).st_mode), 0o600)
        with ocipush.Session(REG, plain_http=True, load_credentials=True) as s:
            self.assertTrue(s.credentials_found)
            s.ping("python/creds")  # an open registry takes them (or none)

        self.assertTrue(ocipush.credentials_erase(REG))
        with open(config_path, "rb") as f:
            doc = json.load(f)
        self.assertNotIn(REG, doc["auths"])
        self.assertEqual(doc["auths"]["other.example:5000"], other)
        self.assertFalse(ocipush.credentials_erase(REG))
        with ocipush.Session(REG, plain_http=True, load_credentials=True) as s:
            self.assertFalse(s.credentials_found)

        for args in (("bad host", "me", "p"), (REG, "me:you", "p"), (REG, "", "p"),
                     (REG, "me", None)):
            with self.subTest(args=args):
                with self.assertRaises(OcipushError) as cm:
                    ocipush.credentials_store(*args)
                self.assertEqual(cm.exception.code, ocipush.E_INVALID)
        with open(config_path, "rb") as f:
            self.assertNotIn(REG, json.load(f)["auths"])
        # A config directory that cannot be made: the system's reason.
        self.setenv("DOCKER_CONFIG", os.path.join(config_path, "sub"))
        with self.assertRaises(OcipushError) as cm:
            ocipush.credentials_store(REG, "me", "p")
        self.assertEqual(cm.exception.code, ocipush.E_IO)
        self.assertIn("Not a directory", cm.exception.message)


# ---- handles, arguments, references ----


class HandleTests(unittest.TestCase):
    def test_reference_parse(self):
        r = ocipush.reference_parse("localhost:5000/charts/app:1.0")
        self.assertEqual(r, ("localhost:5000", "charts/app", "1.0", None))
        d = "sha256:" + "a" * 64
        r = ocipush.reference_parse(f"[::1]:5000/x@{d}")
        self.assertEqual((r.registry, r.repository, r.tag, r.digest), ("[::1]:5000", "x", None, d))
        with self.assertRaises(OcipushError) as cm:
            ocipush.reference_parse("localhost:5000/Upper/Case")
        self.assertEqual(cm.exception.code, ocipush.E_INVALID)
        self.assertIn("Upper/Case", cm.exception.message)

    def test_invalid_arguments(self):
        with self.assertRaises(OcipushError) as cm:
            ocipush.Descriptor(ocipush.MEDIA_TYPE_LAYER, "sha256:00", 1)
        self.assertEqual(cm.exception.code, ocipush.E_INVALID)
        with self.assertRaises(OcipushError) as cm:
            ocipush.Session(REG, username="a:b", password="p")
        self.assertEqual(cm.exception.code, ocipush.E_INVALID)
        with self.assertRaises(ValueError):
            ocipush.Session(REG, strategy="sideways")
        with self.assertRaises(ValueError):
            ocipush.Session("bad\0host")
        with self.assertRaises(TypeError):
            ocipush.Source.from_callback(b"not callable")
        with self.assertRaises(TypeError):
            ocipush.Source(b"data")
        with ocipush.Session(REG, plain_http=True) as s, \
             ocipush.Source.from_bytes(b"x") as src:
            with self.assertRaises(OcipushError) as cm:
                ocipush.blob_push(s, "Bad/Repo", src)
            self.assertEqual(cm.exception.code, ocipush.E_INVALID)
            self.assertIn("Bad/Repo", cm.exception.message)

    def test_timeout_setting(self):
        with ocipush.Session(REG, timeout=0) as s:
            s.set_timeout(2.5)
            with self.assertRaises(OcipushError) as cm:
                s.set_timeout(-1)
            self.assertEqual(cm.exception.code, ocipush.E_INVALID)
            with self.assertRaises(TypeError):
                s.set_timeout("5")
        with self.assertRaises(OcipushError) as cm:
            ocipush.Session(REG, timeout=-0.5)
    def test_header_bound_text_checked(self):
        # Media types and the user agent go into headers: CR LF is refused.
        self.assertTrue(ocipush.is_valid_media_type("application/vnd.oci.image.manifest.v1+json"))
        self.assertTrue(ocipush.is_valid_media_type('text/plain; charset="utf-8"'))
        for bad in ("text/plain\r\nX-Injected: 1", "text", "text/plain ", ""):
            self.assertFalse(ocipush.is_valid_media_type(bad), bad)
        with self.assertRaises(OcipushError) as cm:
            ocipush.Session(REG, user_agent="tool/1\r\nX-Injected: 1")
        self.assertEqual(cm.exception.code, ocipush.E_INVALID)
        with self.assertRaises(OcipushError) as cm:
            ocipush.Descriptor("application/x\r\nX-Injected: 1", "sha256:" + "a" * 64, 1)
        self.assertEqual(cm.exception.code, ocipush.E_INVALID)

    def test_push_arguments(self):
        with ocipush.Push() as push, ocipush.Source.from_bytes(b"x") as src:
            for bad in (0, 65, -1, 1 << 40):
                with self.subTest(concurrency=bad):
                    with self.assertRaises(OcipushError) as cm:
                        push.set_concurrency(bad)
                    self.assertEqual(cm.exception.code, ocipush.E_INVALID)
            for bad in (True, 2.0, "4"):
                with self.assertRaises(TypeError):
                    push.set_concurrency(bad)
            push.set_concurrency(1)
            push.set_concurrency(64)
            for call, arg in ((push.set_subject, "not a tag!"), (push.set_subject, ""),
                              (push.set_mount_source, "Bad/Repo"),
                              (lambda d: push.add_layer(src, digest=d), "sha256:00"),
                              (lambda d: push.add_layer(src, digest=d), "SHA256:" + "a" * 64)):
                with self.subTest(arg=arg):
                    with self.assertRaises(OcipushError) as cm:
                        call(arg)
                    self.assertEqual(cm.exception.code, ocipush.E_INVALID)
            push.set_subject("sha256:" + "a" * 64)
            push.set_subject(None)
            push.set_mount_source(None)
            with self.assertRaises(TypeError):
                push.set_progress_callback("not callable")
            with ocipush.Session(REG) as s, self.assertRaises(TypeError):
                ocipush.blob_push_mount(s, "a", sha(b""), "b", source=b"x")
            with self.assertRaises(ValueError):
                ocipush.Session.layout("bad\0dir")

    def test_push_progress_released_with_its_handle(self):
        class Progress:
            def __call__(self, *args):
                pass

        progress = Progress()
        ref = weakref.ref(progress)
        push = ocipush.Push(progress=progress)
        del progress
        self.assertIsNotNone(ref())  # C may still call it
        push.set_progress_callback(None)
        self.assertIsNone(ref())
        progress = Progress()
        ref = weakref.ref(progress)
        push.set_progress_callback(progress)
        del progress
        push.close()
        self.assertIsNone(ref())

    def test_versions_and_features(self):
        major, minor, patch = (int(n) for n in ocipush.version().split("."))
        self.assertEqual(ocipush.version_num(), major << 16 | minor << 8 | patch)
        self.assertIn(ocipush.feature("mbedtls") + ocipush.feature("openssl"), (1,))
        self.assertFalse(ocipush.feature("nonsense"))
        self.assertRegex(ocipush.libcurl_version(), r"^\d+\.\d+")

    def test_every_constant_as_in_the_header(self):
        # Every status code, the digest buffer size and the media types of
        # include/ocipush.h are module constants with the header's values,
        # exported in __all__; the binding's version is the header's.
        header_path = os.path.join(HERE, "..", "..", "include", "ocipush.h")
        if not os.path.exists(header_path):
            self.skipTest("no include/ocipush.h beside this copy of the binding")
        with open(header_path) as f:
            header = f.read()
        defines = dict(re.findall(r"^#define OCIPUSH_(\w+) +(.+?)\s*$", header, re.M))
        codes = {k: int(v.strip("()")) for k, v in defines.items()
                 if k == "OK" or k.startswith("E_")}
        self.assertGreater(len(codes), 13)  # the pattern found them
        wanted = dict(codes, DIGEST_MAX=int(defines["DIGEST_MAX"]))
        wanted.update({k: json.loads(v) for k, v in defines.items()
                       if k.startswith("MEDIA_TYPE_")})
        wanted.update({k: int(v) for k, v in defines.items() if k.startswith(("TAR_", "COMPRESS_"))})
        self.assertIn("TAR_PRESERVE_OWNER", wanted)
        self.assertIn("COMPRESS_ZSTD", wanted)
        for name, value in wanted.items():
            self.assertEqual(getattr(ocipush, name, None), value, name)
            self.assertIn(name, ocipush.__all__)
        # Each code has a name of its own in the library.
        names = {ocipush.strerror(c) for c in codes.values()}
        self.assertEqual(len(names), len(codes))
        self.assertNotIn("unknown error", names)
        version = ".".join(defines[f"VERSION_{p}"] for p in ("MAJOR", "MINOR", "PATCH"))
        self.assertEqual(ocipush.__version__, version)

    def test_every_c_function_bound_or_listed(self):
        # Every OCIPUSH_API function of include/ocipush.h is called by
        # ocipush.py, or named in README.md's "Not bound" section with why.
        header_path = os.path.join(HERE, "..", "..", "include", "ocipush.h")
        if not os.path.exists(header_path):
            self.skipTest("no include/ocipush.h beside this copy of the binding")
        with open(header_path) as f:
            header = f.read()
        declared = set(re.findall(r"OCIPUSH_API\s[^;(]*?\b(ocipush_\w+)\s*\(", header))
        self.assertGreater(len(declared), 60)  # the pattern found them
        with open(ocipush.__file__) as f:
            source = f.read()
        prototypes = {name for name, _, _ in ocipush._PROTOTYPES}
        # Called: named somewhere besides its prototype.
        called = {n for n in prototypes if len(re.findall(rf"\b{n}\b", source)) >= 2}
        with open(os.path.join(HERE, "README.md")) as f:
            readme = f.read()
        section = readme.split("\n## Not bound\n", 1)
        self.assertEqual(len(section), 2, "README.md has no '## Not bound' section")
        section = section[1].split("\n## ", 1)[0]
        # Each entry: "- `name`: why", the why not empty.
        listed = dict(re.findall(r"^- `(ocipush_\w+)`:\s*(\S.*)$", section, re.M))
        self.assertEqual(prototypes - declared, set(), "prototypes of no C function")
        self.assertEqual(prototypes - called, set(), "declared to ctypes but never called")
        self.assertEqual(set(listed) & prototypes, set(), "bound yet listed as not bound")
        self.assertEqual(set(listed) - declared, set(), "listed but not in the header")
        self.assertEqual(declared - prototypes - set(listed), set(),
                         "neither bound nor listed in README.md as not bound")
        self.assertIn("ocipush_set_allocator", listed)

    def test_close(self):
        s = ocipush.Session(REG, plain_http=True)
        src = ocipush.Source.from_bytes(b"x")
        with s, src:
            self.assertFalse(s.closed or src.closed)
        self.assertTrue(s.closed and src.closed)
        s.close()  # again: nothing
        src.close()
        with self.assertRaisesRegex(ValueError, "closed"):
            ocipush.blob_push(s, "python/closed", ocipush.Source.from_bytes(b"x"))
        with ocipush.Session(REG, plain_http=True) as s2:
            with self.assertRaisesRegex(ValueError, "closed"):
                ocipush.blob_push(s2, "python/closed", src)
            # A push borrows its sources: one closed before run() is refused.
            with ocipush.Push() as push:
                layer = ocipush.Source.from_bytes(b"y")
                push.add_layer(layer)
                layer.close()
                with self.assertRaisesRegex(ValueError, "closed"):
                    push.run(s2, "python/closed")

    def test_callbacks_released_with_their_handle(self):
        class Reader:
            def __call__(self, n):
                return b""

        class Log:
            def __call__(self, level, message):
                pass

        reader, log = Reader(), Log()
        reader_ref, log_ref = weakref.ref(reader), weakref.ref(log)
        src = ocipush.Source.from_callback(reader)
        s = ocipush.Session(REG, log=log)
        del reader, log
        self.assertIsNotNone(reader_ref())  # C may still call them
        self.assertIsNotNone(log_ref())
        src.close()
        s.close()
        self.assertIsNone(reader_ref())
        self.assertIsNone(log_ref())

    def test_del_frees_without_close(self):
        # Dropping the last reference frees the C handle at once (no cycle
        # to wait for): the descriptor a source owns is closed, and a
        # callback source's callable released.
        r, w = os.pipe()
        os.close(w)
        src = ocipush.Source.from_fd(r, take_ownership=True)
        reader = Stream(b"abc")
        reader_ref = weakref.ref(reader)
        src2 = ocipush.Source.from_callback(reader)
        del reader
        os.fstat(r)
        gc.disable()
        try:
            del src, src2
            with self.assertRaises(OSError):
                os.fstat(r)
            self.assertIsNone(reader_ref())
        finally:
            gc.enable()

    def test_kept_alive_while_c_holds_them(self):
        # No Python reference left but the Push's: the sources and their
        # callbacks live until the push has run.
        data = random_bytes(50000, seed=12)
        with ocipush.Session(REG, plain_http=True) as s, ocipush.Push(tags=["kept"]) as push:
            push.add_layer(ocipush.Source.from_callback(Stream(data)), title="kept.bin")
            push.add_layer(ocipush.Source.from_bytes(bytes(data[:100])), title="small.bin")
            gc.collect()
            push.run(s, "python/kept")
        doc = json.loads(served("python/kept", "manifests", "kept"))
        self.assertEqual([d["digest"] for d in doc["layers"]], [sha(data), sha(data[:100])])


# ---- runner ----


def main():
    loader, module = unittest.defaultTestLoader, sys.modules[__name__]
    # Arguments, if any, name tests to run: BlobTests, BlobTests.test_push_bytes
    suite = (loader.loadTestsFromNames(sys.argv[1:], module) if sys.argv[1:]
             else loader.loadTestsFromModule(module))
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
    # A test with failing subtests counts once.
    bad = {getattr(t, "test_case", t).id()
           for t, _ in result.failures + result.errors}
    bad |= {t.id() for t in result.unexpectedSuccesses}
    passed = result.testsRun - len(bad) - len(result.skipped)
    print(f"{passed} passed, {len(bad)} failed")
    return 1 if bad or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
