#!/usr/bin/env bash
# ocipush push REF DIR: a directory packed as a tar layer as it is read, into
# the real registry and through the fault proxy's chunk-rejecting mode (the
# refused stream replayed by walking the tree again). Every push is read back:
# the manifest, the layer re-hashed against its digest, gunzipped and read
# with python's tarfile (order, owners, links, contents, mtimes). Trees are
# made with python. Run through tests/faults/fault-env.sh.
#
# usage: fault-env.sh bash tests/test_dirlayer.sh PATH/TO/ocipush
set -uo pipefail

OCIPUSH=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") # absolute: a case runs it elsewhere
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=readback.sh
source "$HERE/readback.sh"
REG=$OCIPUSH_TEST_REGISTRY
FAULTS=$OCIPUSH_TEST_FAULTS
LOG=$OCIPUSH_TEST_FAULT_LOG
WORK=$OCIPUSH_TEST_TMP/dirlayer
mkdir -p "$WORK"
PY=/usr/bin/python3

# shellcheck disable=SC2086 # the wrapper is a command line, split on purpose
ocipush() { ${OCIPUSH_TEST_WRAPPER:-} "$OCIPUSH" --plain-http --retry-delay 10 --retry-max-delay 50 "$@"; }
said() { grep -q -- "$1" "$WORK/stderr" || fail "stderr lacks '$1': $(cat "$WORK/stderr")"; }

if ! "$OCIPUSH" --version | grep -q "^features:.* directory-layers"; then
    echo "1..0 # SKIP built without libarchive: no directory layers"
    exit 77
fi

# make_tree DIR: nested directories, names that sort otherwise in a locale
# (upper case before lower, '_' and '-', UTF-8), a file with spaces, an
# empty directory, a symbolic link, a path over 100 bytes with a component
# over 100 bytes (a pax header), a file larger than a piece.
make_tree() {
    "$PY" - "$1" <<'EOF'
import os, random, sys
top = sys.argv[1]
os.makedirs(top)
def put(rel, data):
    path = os.path.join(top, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
put("a", b"lower a\n")
put("B", b"upper B\n")
put("_under", b"_\n")
put("a-b/x", b"dash\n")
put("a.b", b"dot\n")
put("caf\u00e9", "\u00e9\n".encode())
put("with spaces in it.txt", b"spaces\n")
put("deep/er/and/deeper/leaf", b"leaf\n")
put("big/blob.bin", random.Random(13).randbytes(300001))
put("l" * 120 + "/" + "n" * 110, b"long\n")
os.makedirs(os.path.join(top, "empty", "dir"))
os.symlink("deep/er/and/deeper/leaf", os.path.join(top, "zlink"))
os.symlink("/nonexistent/target", os.path.join(top, "dangling"))
EOF
}

# check_layer BLOB TREE MODE [MTIME [UID]]: the tar (MODE r:gz or r:) holds
# TREE as ocipush packs it: the walk's order (names sorted bytewise at every
# level, a directory before what it holds), owner UID (0 by default) with no
# names unless UID is given, every mtime MTIME when given, links and
# contents as in TREE.
check_layer() {
    "$PY" - "$@" <<'EOF'
import os, stat, sys, tarfile
blob, top, mode = sys.argv[1:4]
mtime = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[4] else None
uid = int(sys.argv[5]) if len(sys.argv) > 5 else None
want = []
def walk(rel):
    names = sorted(os.listdir(os.path.join(top, rel) if rel else top), key=os.fsencode)
    for n in names:
        r = f"{rel}/{n}" if rel else n
        want.append(r)
        full = os.path.join(top, r)
        if stat.S_ISDIR(os.lstat(full).st_mode):
            walk(r)
walk("")
bad = []
with tarfile.open(blob, mode) as t:
    members = t.getmembers()
    got = [m.name for m in members]
    if got != want:
        sys.exit(f"order: got {got}, want {want}")
    for m in members:
        full = os.path.join(top, m.name)
        st = os.lstat(full)
        if uid is None:
            if (m.uid, m.gid, m.uname, m.gname) != (0, 0, "", ""):
                bad.append(f"{m.name}: owner {m.uid}:{m.gid} {m.uname!r}:{m.gname!r}")
        elif m.uid != st.st_uid:
            bad.append(f"{m.name}: uid {m.uid}, the file's is {st.st_uid}")
        if mtime is not None and m.mtime != mtime:
            bad.append(f"{m.name}: mtime {m.mtime}, want {mtime}")
        if mtime is None and m.mtime != int(st.st_mtime):
            bad.append(f"{m.name}: mtime {m.mtime}, the file's is {int(st.st_mtime)}")
        if m.mode != stat.S_IMODE(st.st_mode):
            bad.append(f"{m.name}: mode {m.mode:o}")
        if stat.S_ISLNK(st.st_mode):
            if not m.issym() or m.linkname != os.readlink(full):
                bad.append(f"{m.name}: link {m.linkname!r}")
        elif stat.S_ISDIR(st.st_mode):
            if not m.isdir():
                bad.append(f"{m.name}: not a directory")
        else:
            with open(full, "rb") as f:
                if not m.isfile() or t.extractfile(m).read() != f.read():
                    bad.append(f"{m.name}: other contents")
if bad:
    sys.exit("; ".join(bad))
EOF
}

# pushed HOSTPORT REPO TAG: the manifest into $WORK/m.json, its one layer's
# blob (re-hashed against its digest) into $WORK/layer; prints the digest.
pushed() {
    local digest
    registry_manifest_get "$1" "$2" "$3" "$WORK/m.json" || fail "GET manifest $2:$3"
    check_eq "layers" 1 "$(jq '.layers | length' "$WORK/m.json")"
    digest=$(jq -r '.layers[0].digest' "$WORK/m.json")
    curl -fsS -o "$WORK/layer" "http://$1/v2/$2/blobs/$digest" || fail "GET blob $digest"
    check_eq "layer re-hashed" "$digest" "sha256:$(sha256sum "$WORK/layer" | cut -d' ' -f1)"
    check_eq "layer size" "$(jq -r '.layers[0].size' "$WORK/m.json")" "$(stat -c %s "$WORK/layer")"
    echo "$digest"
}

title() { jq -r '.layers[0].annotations["org.opencontainers.image.title"]' "$WORK/m.json"; }
media_type() { jq -r '.layers[0].mediaType' "$WORK/m.json"; }

case_tree() {
    local tree=$WORK/tree d1 d2
    make_tree "$tree"
    SOURCE_DATE_EPOCH=1700000000 ocipush push "$REG/dir/tree:v1" "$tree" >"$WORK/out" 2>"$WORK/stderr" ||
        fail "push: $(cat "$WORK/stderr")"
    d1=$(pushed "$REG" dir/tree v1)
    check_eq "media type" application/vnd.oci.image.layer.v1.tar+gzip "$(media_type)"
    check_eq "title" tree "$(title)"
    check_layer "$WORK/layer" "$tree" r:gz 1700000000 || fail "the tar"
    # The same tree again: the same bytes.
    SOURCE_DATE_EPOCH=1700000000 ocipush push "$REG/dir/tree:v2" "$tree/" >"$WORK/out" 2>"$WORK/stderr" ||
        fail "push again: $(cat "$WORK/stderr")"
    d2=$(pushed "$REG" dir/tree v2)
    check_eq "the same layer twice" "$d1" "$d2"
    check_eq "title of DIR/" tree "$(title)"
    # Without SOURCE_DATE_EPOCH: the files' own mtimes.
    ocipush push "$REG/dir/tree:v3" "$tree" >"$WORK/out" 2>"$WORK/stderr" || fail "push: $(cat "$WORK/stderr")"
    pushed "$REG" dir/tree v3 >/dev/null
    check_layer "$WORK/layer" "$tree" r:gz || fail "the tar with the files' mtimes"
    # "." is titled with the directory's own name; a media type given wins.
    (cd "$tree/deep" && ocipush push "$REG/dir/tree:v4" .:application/vnd.example.dir+gzip) \
        >"$WORK/out" 2>"$WORK/stderr" || fail "push .: $(cat "$WORK/stderr")"
    pushed "$REG" dir/tree v4 >/dev/null
    check_eq "title of ." deep "$(title)"
    check_eq "media type given" application/vnd.example.dir+gzip "$(media_type)"
    check_layer "$WORK/layer" "$tree/deep" r:gz || fail "the tar of ."
}

case_compress_none() {
    local tree=$WORK/plain
    make_tree "$tree"
    ocipush --compress none push "$REG/dir/plain:v1" "$tree" >"$WORK/out" 2>"$WORK/stderr" ||
        fail "push: $(cat "$WORK/stderr")"
    pushed "$REG" dir/plain v1 >/dev/null
    check_eq "media type" application/vnd.oci.image.layer.v1.tar "$(media_type)"
    check_layer "$WORK/layer" "$tree" r: || fail "the uncompressed tar"
    # A level for gzip: another digest, the same tar.
    ocipush --compress gzip --compress-level 1 push "$REG/dir/plain:v2" "$tree" >"$WORK/out" 2>"$WORK/stderr" ||
        fail "push: $(cat "$WORK/stderr")"
    pushed "$REG" dir/plain v2 >/dev/null
    check_layer "$WORK/layer" "$tree" r:gz || fail "the tar at level 1"
    local rc=0
    ocipush --compress lzma push "$REG/dir/plain:v3" "$tree" >/dev/null 2>"$WORK/stderr" || rc=$?
    check_eq "--compress lzma" 2 "$rc"
    rc=0
    ocipush --compress-level 12 push "$REG/dir/plain:v3" "$tree" >/dev/null 2>"$WORK/stderr" || rc=$?
    check_eq "--compress-level 12 for gzip" 2 "$rc"
}

case_zstd() {
    if ! "$OCIPUSH" --version | grep -q "^features:.* zstd"; then
        echo "# built without libzstd: --compress zstd skipped"
        return 0
    fi
    local tree=$WORK/zstd d1 d2 rc=0
    make_tree "$tree"
    SOURCE_DATE_EPOCH=1700000000 ocipush --compress zstd push "$REG/dir/zstd:v1" "$tree" \
        >"$WORK/out" 2>"$WORK/stderr" || fail "push: $(cat "$WORK/stderr")"
    d1=$(pushed "$REG" dir/zstd v1)
    check_eq "media type" application/vnd.oci.image.layer.v1.tar+zstd "$(media_type)"
    zstd -q -d -c "$WORK/layer" >"$WORK/layer.tar" || fail "zstd -d of the pushed layer"
    check_layer "$WORK/layer.tar" "$tree" r: 1700000000 || fail "the zstd'd tar"
    # Through the chunk-rejecting proxy with no spool: the compressor
    # replays from the start and makes the same bytes.
    SOURCE_DATE_EPOCH=1700000000 ocipush -v --no-spool --compress zstd \
        push "$FAULTS/faults/chunked400-65536/dir/zstd:v1" "$tree" >"$WORK/out" 2>"$WORK/stderr" ||
        fail "push through the proxy: $(cat "$WORK/stderr")"
    said "sending it again with Content-Length"
    d2=$(pushed "$REG" faults/chunked400-65536/dir/zstd v1)
    check_eq "the same zstd layer replayed" "$d1" "$d2"
    # The top level: another digest, the same tar; past it, a usage error.
    ocipush --compress zstd --compress-level 19 push "$REG/dir/zstd:v2" "$tree" >"$WORK/out" 2>"$WORK/stderr" ||
        fail "push at level 19: $(cat "$WORK/stderr")"
    pushed "$REG" dir/zstd v2 >/dev/null
    zstd -q -d -c "$WORK/layer" >"$WORK/layer.tar" || fail "zstd -d at level 19"
    check_layer "$WORK/layer.tar" "$tree" r: || fail "the tar at level 19"
    ocipush --compress zstd --compress-level 20 push "$REG/dir/zstd:v3" "$tree" >/dev/null 2>"$WORK/stderr" || rc=$?
    check_eq "--compress-level 20" 2 "$rc"
    said "zstd: 0 to 19"
}

case_preserve_owner() {
    if [[ $(id -u) != 0 ]]; then
        echo "# not root: chown skipped, --preserve-owner keeps the runner's uid"
    fi
    local tree=$WORK/owned uid
    make_tree "$tree"
    if [[ $(id -u) == 0 ]]; then
        chown 1234:1234 "$tree/a" "$tree/deep"
        chown -h 1234:1234 "$tree/zlink"
    fi
    uid=$(stat -c %u "$tree/a")
    ocipush --preserve-owner push "$REG/dir/owned:v1" "$tree" >"$WORK/out" 2>"$WORK/stderr" ||
        fail "push: $(cat "$WORK/stderr")"
    pushed "$REG" dir/owned v1 >/dev/null
    check_layer "$WORK/layer" "$tree" r:gz "" "$uid" || fail "the tar with owners"
    # Without the option: 0:0 all the same.
    ocipush push "$REG/dir/owned:v2" "$tree" >"$WORK/out" 2>"$WORK/stderr" || fail "push: $(cat "$WORK/stderr")"
    pushed "$REG" dir/owned v2 >/dev/null
    check_layer "$WORK/layer" "$tree" r:gz || fail "the tar without owners"
}

# refused REPO WANT ARGS...: exit status 1, WANT on stderr, no tag.
refused() {
    local repo=$1 want=$2 rc=0
    shift 2
    ocipush push "$REG/$repo:t" "$@" >"$WORK/out" 2>"$WORK/stderr" || rc=$?
    check_eq "exit status" 1 "$rc"
    said "$want"
    registry_tag_exists "$REG" "$repo" t && fail "a tag after a refused push" || [[ $? == 1 ]]
}

case_special_files() {
    local tree=$WORK/special rc=0
    make_tree "$tree"
    "$PY" -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$tree/deep/sock"
    refused dir/special "$tree/deep/sock is a socket: a tar layer holds only regular files" "$tree"
    rm "$tree/deep/sock"
    mkfifo "$tree/big/fifo"
    refused dir/special "$tree/big/fifo is a FIFO" "$tree"
    rm "$tree/big/fifo"
    # SOURCE_DATE_EPOCH that is not a number: a usage error naming it.
    SOURCE_DATE_EPOCH=yesterday ocipush push "$REG/dir/special:t" "$tree" >/dev/null 2>"$WORK/stderr" || rc=$?
    check_eq "bad SOURCE_DATE_EPOCH" 2 "$rc"
    said "SOURCE_DATE_EPOCH must be a decimal number of seconds"
    registry_tag_exists "$REG" dir/special t && fail "a tag after a refused push" || [[ $? == 1 ]]
    # ... which a push of files alone does not read.
    echo x >"$WORK/file.txt"
    SOURCE_DATE_EPOCH=yesterday ocipush push "$REG/dir/special:files" "$WORK/file.txt" >/dev/null 2>"$WORK/stderr" ||
        fail "a push of a file with a bad SOURCE_DATE_EPOCH: $(cat "$WORK/stderr")"
}

case_through_the_chunk_rejecting_proxy() {
    # The proxy reads 64 KiB of the chunked stream, then refuses it: the
    # push walks the tree again (rewind; no spool) and sends it with a
    # Content-Length. What lands is the same tar.
    local tree=$WORK/proxied repo=faults/chunked400-65536/dir d
    make_tree "$tree"
    "$PY" -c 'import random, sys; open(sys.argv[1], "wb").write(random.Random(5).randbytes(2000000))' \
        "$tree/big/more.bin"
    SOURCE_DATE_EPOCH=1700000000 ocipush -v --no-spool push "$FAULTS/$repo:v1" "$tree" \
        >"$WORK/out" 2>"$WORK/stderr" || fail "push: $(cat "$WORK/stderr")"
    said "rejected (HTTP 400); sending it again with Content-Length"
    grep -q "^PATCH /v2/$repo/.* status=400 fault=chunked400-65536" "$LOG" ||
        fail "the proxy refused no stream: $(grep "/v2/$repo/" "$LOG")"
    d=$(pushed "$REG" "$repo" v1)
    check_layer "$WORK/layer" "$tree" r:gz 1700000000 || fail "the replayed tar"
    check_eq "printed digest" "Digest: sha256:$(sha256sum "$WORK/m.json" | cut -d' ' -f1)" "$(tail -n 1 "$WORK/out")"
    # Straight to the registry: the same layer.
    SOURCE_DATE_EPOCH=1700000000 ocipush push "$REG/dir/proxied:v1" "$tree" >/dev/null 2>"$WORK/stderr" ||
        fail "push: $(cat "$WORK/stderr")"
    check_eq "the same layer as replayed" "$d" "$(pushed "$REG" dir/proxied v1)"
}

run_case "a tree: sorted, 0:0, links, contents, SOURCE_DATE_EPOCH, the same bytes twice, titles" case_tree
run_case "--compress none: an uncompressed tar layer; --compress-level" case_compress_none
run_case "--compress zstd: a tar+zstd layer, replayed through the proxy, --compress-level 19" case_zstd
run_case "--preserve-owner keeps the owners" case_preserve_owner
run_case "a socket or FIFO in the tree: refused, named, nothing tagged" case_special_files
run_case "through the chunk-rejecting proxy: the walk replayed" case_through_the_chunk_rejecting_proxy
finish
