/* An OCI layout in a tar (oci-archive: buildkit's type=oci, skopeo's
 * oci-archive:, Docker 25's docker save), plain, gzip or zstd, found by its
 * content, read with libarchive as a stream: nothing is unpacked to disk.
 *
 * Opening reads the archive once through (tar_members.c): every member's
 * size, and the small JSON members (manifests, configs, index.json) into
 * memory. A truncated or corrupt archive fails there, before anything is
 * pushed. A large blob is read later by a source of its own that opens the
 * archive again and reads on to its member, so it can rewind (open again)
 * for a retry or a fallback, with no spool. Member paths may start with
 * "./"; a blob may be a link to another member of the archive. */
#include "image_source.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "alloc.h"
#include "digest.h"
#include "tar_members.h"

typedef struct archive_source {
    op_image_source base;
    op_tar *tar;
    char *name;
    cJSON *index;
    op_image_entry *entries;
    size_t entry_count;
} archive_source;

/* The member blobs/<algorithm>/<hex> for a digest checked to be valid, or
 * NULL. */
static const op_tar_member *find_blob(const archive_source *s, const char *digest)
{
    char path[OCIPUSH_DIGEST_MAX + 8];
    const char *colon = strchr(digest, ':');
    if (ocipush_digest_validate(digest) || !colon)
        return NULL;
    snprintf(path, sizeof path, "blobs/%.*s/%s", (int)(colon - digest), digest, colon + 1);
    return op_tar_find(s->tar, path);
}

static const op_image_entry *archive_source_entries(const op_image_source *src, size_t *out_count)
{
    const archive_source *s = (const archive_source *)src;
    *out_count = s->entry_count;
    return s->entries;
}

static const char *archive_source_name(const op_image_source *src)
{
    return ((const archive_source *)src)->name;
}

static void archive_source_free(op_image_source *src)
{
    archive_source *s = (archive_source *)src;
    if (!s)
        return;
    cJSON_Delete(s->index);
    op_free(s->entries);
    op_tar_free(s->tar);
    op_free(s->name);
    op_free(s);
}

/* The member of `digest`, checked against the descriptor's `size`. */
static int sized_member(archive_source *s, op_diag *d, const char *what, const char *digest,
                        int64_t size, const op_tar_member **out)
{
    const op_tar_member *m = find_blob(s, digest);
    if (!m)
        return op_fail(d, OCIPUSH_E_IO, "%s lacks the %s %s (no member blobs/sha256/%s)", s->name,
                       what, digest, strchr(digest, ':') ? strchr(digest, ':') + 1 : digest);
    if (size >= 0 && size != m->size)
        return op_fail(d, OCIPUSH_E_INVALID,
                       "%s: the %s %s is %" PRId64 " bytes, but its descriptor says %" PRId64,
                       s->name, what, digest, m->size, size);
    *out = m;
    return 0;
}

static int archive_source_read_manifest(op_image_source *src, op_diag *d, const char *digest,
                                        int64_t size, op_buf *out)
{
    archive_source *s = (archive_source *)src;
    const op_tar_member *m = NULL;
    char got[OCIPUSH_DIGEST_MAX];
    int rc = sized_member(s, d, "manifest", digest, size, &m);
    if (rc || (rc = op_tar_read_small(s->tar, m, OP_TAR_SMALL_MAX, out, d)))
        return rc;
    if ((rc = op_sha256_digest(got, out->data, out->len)))
        return op_fail(d, rc, "hashing the manifest %s failed", digest);
    if (strcmp(got, digest) != 0)
        return op_fail(d, OCIPUSH_E_DIGEST_MISMATCH,
                       "%s: the bytes of blobs/sha256/%s hash to %s, not its name", s->name,
                       digest + 7, got);
    return 0;
}

static int archive_source_open_blob(op_image_source *src, op_diag *d, const char *digest,
                                    int64_t size, ocipush_source **out)
{
    archive_source *s = (archive_source *)src;
    const op_tar_member *m = NULL;
    int rc = sized_member(s, d, "blob", digest, size, &m);
    if (rc == 0 && (rc = op_tar_open_member(s->tar, m, out)))
        rc = op_fail(d, rc, "out of memory");
    return rc;
}

static const op_image_source_ops archive_ops = {
    .entries = archive_source_entries,
    .read_manifest = archive_source_read_manifest,
    .open_blob = archive_source_open_blob,
    .name = archive_source_name,
    .free = archive_source_free,
};

int op_image_source_from_tar(op_image_source **out, op_diag *d, op_tar *tar, const char *kind)
{
    archive_source *s = op_calloc(1, sizeof *s);
    op_buf name = {0};
    if (!s) {
        op_tar_free(tar);
        return op_fail(d, OCIPUSH_E_NOMEM, "out of memory");
    }
    s->base.ops = &archive_ops;
    s->tar = tar;
    const char *path = op_tar_path(tar);
    if (op_buf_printf(&name, "the %s %s", kind, path) || op_buf_take(&name, &s->name)) {
        op_buf_free(&name);
        archive_source_free(&s->base);
        return op_fail(d, OCIPUSH_E_NOMEM, "out of memory");
    }
    const op_tar_member *layout = op_tar_find(tar, "oci-layout");
    const op_tar_member *index = op_tar_find(tar, "index.json");
    op_buf text = {0};
    int rc = 0;
    if (!layout)
        rc = op_fail(d, OCIPUSH_E_INVALID, "%s is not an OCI archive: it has no oci-layout", path);
    else if (!index)
        rc = op_fail(d, OCIPUSH_E_INVALID, "%s is not an OCI archive: it has no index.json", path);
    else if ((rc = op_tar_read_small(tar, index, OP_TAR_TOP_MAX, &text, d)) == 0)
        rc = op_layout_entries_parse(&s->index, &s->entries, &s->entry_count, d, s->name, text.data,
                                     text.len);
    op_buf_free(&text);
    if (rc) {
        archive_source_free(&s->base);
        return rc;
    }
    *out = &s->base;
    return 0;
}

int op_image_source_open_archive(op_image_source **out, op_diag *d, const char *path)
{
    op_tar *tar = NULL;
    int rc = op_tar_open(&tar, d, path);
    return rc ? rc : op_image_source_from_tar(out, d, tar, "OCI archive");
}
