#!/usr/bin/python3
"""make-layout.py DIR KIND: an OCI image layout ocipush did not make, written
here with the standard library, for tests/test_copy.sh.

KIND image:  one image manifest (config + 2 layers, one of them 700 KiB),
             tagged v1.
KIND multi:  an index of two platform manifests (amd64, arm64; a layer they
             share), tagged multi, and a referrer (an artifact manifest whose
             subject is the index), listed in index.json untagged.
KIND twin:   an index of two manifests, tagged twin, where a layer of the
             first is the second manifest's bytes: one digest that must go
             to the registry both as a blob and as a manifest.
Prints the digest of the tagged manifest or index."""
import hashlib
import json
import os
import sys

DIR, KIND = sys.argv[1], sys.argv[2]
os.makedirs(f"{DIR}/blobs/sha256", exist_ok=True)


def blob(data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    with open(f"{DIR}/blobs/sha256/{digest[7:]}", "wb") as f:
        f.write(data)
    return digest


def desc(media_type, data, **extra):
    return dict(mediaType=media_type, digest=blob(data), size=len(data), **extra)


def doc(obj):
    return json.dumps(obj, separators=(",", ":")).encode()


def image(arch, shared):
    config = doc({"architecture": arch, "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}})
    return doc({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": desc("application/vnd.oci.image.config.v1+json", config),
        "layers": [desc("application/vnd.oci.image.layer.v1.tar", shared),
                   desc("application/vnd.oci.image.layer.v1.tar", os.urandom(700 * 1024 + 3))],
    })


MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"
shared = os.urandom(5000)
entries = []
if KIND == "image":
    top = desc(MANIFEST, image("amd64", shared),
               annotations={"org.opencontainers.image.ref.name": "v1"})
    entries.append(top)
elif KIND == "twin":
    second = image("arm64", shared)
    first = doc({
        "schemaVersion": 2, "mediaType": MANIFEST,
        "config": desc("application/vnd.oci.image.config.v1+json", b'{"os":"linux"}'),
        "layers": [desc("application/vnd.oci.image.layer.v1.tar", second)],
    })
    index = doc({"schemaVersion": 2, "mediaType": INDEX,
                 "manifests": [desc(MANIFEST, first), desc(MANIFEST, second)]})
    top = desc(INDEX, index, annotations={"org.opencontainers.image.ref.name": "twin"})
    entries.append(top)
else:
    children = [desc(MANIFEST, image(a, shared), platform={"architecture": a, "os": "linux"})
                for a in ("amd64", "arm64")]
    index = doc({"schemaVersion": 2, "mediaType": INDEX, "manifests": children})
    top = desc(INDEX, index, annotations={"org.opencontainers.image.ref.name": "multi"})
    referrer = doc({
        "schemaVersion": 2, "mediaType": MANIFEST,
        "artifactType": "application/vnd.example.sbom",
        "config": desc("application/vnd.oci.empty.v1+json", b"{}"),
        "layers": [desc("application/vnd.example.sbom.v1+json", b'{"sbom":true}')],
        "subject": {"mediaType": INDEX, "digest": top["digest"], "size": top["size"]},
        "annotations": {"org.example.kind": "sbom"},
    })
    entries += [top, desc(MANIFEST, referrer)]
with open(f"{DIR}/oci-layout", "w") as f:
    f.write('{"imageLayoutVersion":"1.0.0"}')
with open(f"{DIR}/index.json", "w") as f:
    json.dump({"schemaVersion": 2, "manifests": entries}, f)
print(top["digest"])
