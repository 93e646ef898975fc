#!/usr/bin/python3
"""make-docker-archive.py OUT KIND [MODE]: a docker archive ocipush did not
make, written here with the standard library, for tests/test_docker_archive.sh.
MODE is tarfile's (w, w:gz; default w).

KIND legacy:   `docker save` before Docker 25: manifest.json with two images.
               example/app (RepoTags example/app:v1 and example/app:latest):
               three layer tars, the third a symbolic link to the first's
               member (as docker writes a repeated layer), a 3 MB random file
               in the first; config <hex>.json with rootfs.diff_ids.
               example/other:v2: one small layer. Also the legacy
               `repositories` file and per-layer json/VERSION members.
KIND badid:    legacy, but example/app's second diff_id is another digest.
KIND norootfs: legacy, but example/app's config has no rootfs.
KIND count:    legacy, but example/app's config lists two diff_ids.
KIND missing:  legacy, but example/app's second layer member is absent.
KIND oci:      Docker 25's form: oci-layout, index.json (entries named by
               io.containerd.image.name and org.opencontainers.image.ref.name)
               and manifest.json, blobs under blobs/sha256/.
Prints a JSON object: for each image (by its first RepoTag) its config's
digest and diff_ids, and for KIND oci the index entries' digests."""
import hashlib
import io
import json
import random
import sys
import tarfile

OUT, KIND = sys.argv[1], sys.argv[2]
MODE = sys.argv[3] if len(sys.argv) > 3 else "w"
rng = random.Random(2024)


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer_tar(files):
    """An uncompressed tar of {name: bytes}, fixed owners and times."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 1700000000, 0o644
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def doc(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


members = []  # (name, bytes) or (name, ("symlink", target))


def add(name, data):
    members.append((name, data))


def config_of(diff_ids, arch="amd64"):
    return doc({"architecture": arch, "os": "linux", "config": {"Cmd": ["/bin/sh"]},
                "rootfs": {"type": "layers", "diff_ids": diff_ids},
                "history": [{"created_by": "make-docker-archive.py"}]})


big = layer_tar({"big/random.bin": rng.randbytes(3000000), "etc/hello": b"hello\n"})
small = layer_tar({"etc/small": b"small layer\n" * 100})
other = layer_tar({"other/file": b"another image\n"})
app_ids = [sha(big), sha(small), sha(big)]
if KIND == "badid":
    app_ids[1] = sha(b"not the layer")
if KIND == "count":
    app_ids = app_ids[:2]
app_config = config_of(app_ids)
if KIND == "norootfs":
    app_config = doc({"architecture": "amd64", "os": "linux"})
other_config = config_of([sha(other)], "arm64")
info = {"example/app:v1": {"config": sha(app_config), "diff_ids": [sha(big), sha(small), sha(big)]},
        "example/other:v2": {"config": sha(other_config), "diff_ids": [sha(other)]}}

if KIND != "oci":
    ids = [hashlib.sha256(b"id%d" % i).hexdigest() for i in range(4)]
    for i, data in ((0, big), (1, small), (3, other)):
        if KIND == "missing" and i == 1:
            continue
        add(f"{ids[i]}/VERSION", b"1.0")
        add(f"{ids[i]}/json", doc({"id": ids[i]}))
        add(f"{ids[i]}/layer.tar", data)
    add(f"{ids[2]}/VERSION", b"1.0")
    add(f"{ids[2]}/layer.tar", ("symlink", f"../{ids[0]}/layer.tar"))
    add(sha(app_config)[7:] + ".json", app_config)
    add(sha(other_config)[7:] + ".json", other_config)
    manifest = [
        {"Config": sha(app_config)[7:] + ".json", "RepoTags": ["example/app:v1", "example/app:latest"],
         "Layers": [f"{ids[0]}/layer.tar", f"{ids[1]}/layer.tar", f"{ids[2]}/layer.tar"]},
        {"Config": sha(other_config)[7:] + ".json", "RepoTags": ["example/other:v2"],
         "Layers": [f"{ids[3]}/layer.tar"]},
    ]
    add("manifest.json", doc(manifest))
    add("repositories", doc({"example/app": {"v1": ids[2]}}))
else:
    def blob(data):
        add(f"blobs/sha256/{sha(data)[7:]}", data)
        return sha(data)

    def manifest_of(config, layers):
        return doc({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                               "digest": blob(config), "size": len(config)},
                    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                                "digest": blob(l), "size": len(l)} for l in layers]})
    app_manifest = manifest_of(app_config, [big, small])
    other_manifest = manifest_of(other_config, [other])
    entries = []
    for name, m in (("docker.io/example/app:v1", app_manifest),
                    ("docker.io/example/other:v2", other_manifest)):
        entries.append({"mediaType": "application/vnd.oci.image.manifest.v1+json",
                        "digest": blob(m), "size": len(m),
                        "annotations": {"io.containerd.image.name": name,
                                        "org.opencontainers.image.ref.name": name.split(":")[-1]}})
    add("oci-layout", doc({"imageLayoutVersion": "1.0.0"}))
    add("index.json", doc({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                           "manifests": entries}))
    add("manifest.json", doc([{"Config": f"blobs/sha256/{sha(app_config)[7:]}",
                               "RepoTags": ["example/app:v1"],
                               "Layers": [f"blobs/sha256/{sha(big)[7:]}", f"blobs/sha256/{sha(small)[7:]}"]}]))
    info = {"example/app:v1": {"manifest": sha(app_manifest)},
            "example/other:v2": {"manifest": sha(other_manifest)}}

with tarfile.open(OUT, MODE) as t:
    dirs = set()
    for name, data in members:
        top = name.split("/")[0]
        if "/" in name and top not in dirs:
            dirs.add(top)
            d = tarfile.TarInfo(top)
            d.type, d.mode, d.mtime = tarfile.DIRTYPE, 0o755, 1700000000
            t.addfile(d)
        info_ = tarfile.TarInfo(name)
        info_.mtime = 1700000000
        if isinstance(data, tuple):
            info_.type, info_.linkname = tarfile.SYMTYPE, data[1]
            t.addfile(info_)
        else:
            info_.size = len(data)
            t.addfile(info_, io.BytesIO(data))
print(json.dumps(info))
