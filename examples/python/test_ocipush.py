"""Tests of the ocipush Python binding against a real registry.

Run through tests/registry-env.sh, which starts a distribution registry and a
chunk-rejecting nginx in front of it:

    OCIPUSH_LIBRARY=$PWD/build/lib/libocipush.so.0 \\
        tests/registry-env.sh /usr/bin/python3 examples/python/test_ocipush.py

What a push left in the registry is read back over HTTP with urllib, straight
from the registry (not through the proxy), and re-hashed with hashlib.
Arguments, if any, name the tests to run (BlobTests.test_push_bytes).
Prints "N passed, N failed" last; exits 1 on a failure, 77 (skipped) when the
library is built with a sanitizer python cannot load.
"""

import gc
import hashlib
import json
import os
import random
import sys
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


# ---- manifests, indexes, whole artifacts ----


class ManifestTests(RegistryTest):
    def check_served(self, repo, manifest_bytes, digest, *tags):
        for ref in (digest,) + tags:
            self.assertEqual(served(repo, "manifests", ref), manifest_bytes, ref)

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
