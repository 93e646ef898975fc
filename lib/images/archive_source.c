/* An OCI layout in a tar (oci-archive: buildkit's type=oci, skopeo's
 * oci-archive:, Docker 25's docker save), plain, gzip or zstd, found by its
 * content, read with libarchive as a stream: nothing is unpacked to disk.
 *
 * Opening reads the archive once through: its oci-layout and index.json, the
 * size of every blobs/sha256/<hex> member, and the small JSON members (the
 * manifests and configs, at most 4 MiB each and 64 MiB in all) into memory.
 * A truncated or corrupt archive fails there, before anything is pushed. A
 * large blob is read later by a source of its own that opens the archive
 * again and reads on to its member, so it can rewind (open again) for a
 * retry or a fallback, with no spool; in an uncompressed tar libarchive
 * seeks past the members before it, in a compressed one it decompresses
 * them. Member paths may start with "./". Only regular members count. */
#include "image_source.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>
#include <cjson/cJSON.h>

#include "alloc.h"
#include "digest.h"

#define SMALL_MAX (4u << 20) /* a manifest's cap */
#define KEPT_MAX (64u << 20) /* all the small members kept */
#define INDEX_MAX (16u << 20)

typedef struct member {
    char digest[OCIPUSH_DIGEST_MAX];
    int64_t size;
    char *data; /* the bytes, when kept; else read from the archive */
} member;

typedef struct archive_source {
    op_image_source base;
    char *path;
    char *name;
    cJSON *index;
    op_image_entry *entries;
    size_t entry_count;
    member *members;
    size_t member_count, member_alloc;
    uint64_t kept;
} archive_source;

static struct archive *open_archive(const char *path)
{
    struct archive *a = archive_read_new();
    if (!a)
        return NULL;
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    if (archive_read_open_filename(a, path, 64 * 1024) != ARCHIVE_OK) {
        errno = archive_errno(a) > 0 ? archive_errno(a) : EINVAL;
        archive_read_free(a);
        return NULL;
    }
    return a;
}

/* "./blobs/sha256/<hex>" or "blobs/sha256/<hex>" as a digest; 0 if it is one. */
static int member_digest(const char *path, char out[OCIPUSH_DIGEST_MAX])
{
    if (strncmp(path, "./", 2) == 0)
        path += 2;
    if (strncmp(path, "blobs/sha256/", 13) != 0)
        return -1;
    snprintf(out, OCIPUSH_DIGEST_MAX, "sha256:%s", path + 13);
    return ocipush_digest_validate(out) ? -1 : 0;
}

static const char *plain_name(const char *path)
{
    return strncmp(path, "./", 2) == 0 ? path + 2 : path;
}

static member *find_member(const archive_source *s, const char *digest)
{
    for (size_t i = 0; i < s->member_count; i++)
        if (strcmp(s->members[i].digest, digest) == 0)
            return &s->members[i];
    return NULL;
}

/* The current member's data, whole (at most cap bytes), into a new block. */
static int read_member(struct archive *a, int64_t size, size_t cap, char **out)
{
    if (size < 0 || (uint64_t)size > cap)
        return OCIPUSH_E_INVALID;
    char *data = op_malloc((size_t)size + 1);
    if (!data)
        return OCIPUSH_E_NOMEM;
    size_t got = 0;
    while (got < (size_t)size) {
        la_ssize_t n = archive_read_data(a, data + got, (size_t)size - got);
        if (n <= 0) {
            op_free(data);
            return OCIPUSH_E_IO;
        }
        got += (size_t)n;
    }
    data[got] = '\0';
    *out = data;
    return 0;
}

static int add_member(archive_source *s, const char *digest, int64_t size, char *data)
{
    if (s->member_count == s->member_alloc) {
        size_t n = s->member_alloc ? s->member_alloc * 2 : 16;
        member *grown = op_realloc(s->members, n * sizeof *grown);
        if (!grown)
            return OCIPUSH_E_NOMEM;
        s->members = grown;
        s->member_alloc = n;
    }
    member *m = &s->members[s->member_count++];
    snprintf(m->digest, sizeof m->digest, "%s", digest);
    m->size = size;
    m->data = data;
    return 0;
}

/* Go through the archive once: what it holds, and the small members. */
static int scan(archive_source *s, op_diag *d, char **layout, char **index, size_t *index_len)
{
    struct archive *a = open_archive(s->path);
    struct archive_entry *e;
    int rc = 0, r;
    if (!a)
        return op_fail(d, OCIPUSH_E_IO, "cannot read %s: %s", s->path, strerror(errno));
    while (rc == 0 && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        const char *path = archive_entry_pathname(e);
        int64_t size = archive_entry_size(e);
        char digest[OCIPUSH_DIGEST_MAX], *data = NULL;
        if (!path || archive_entry_filetype(e) != AE_IFREG)
            continue;
        if (strcmp(plain_name(path), "oci-layout") == 0 && !*layout)
            rc = read_member(a, size, 4096, layout);
        else if (strcmp(plain_name(path), "index.json") == 0 && !*index) {
            rc = read_member(a, size, INDEX_MAX, index);
            *index_len = rc ? 0 : (size_t)size;
        } else if (member_digest(path, digest) == 0 && !find_member(s, digest)) {
            /* Small and JSON-looking (a manifest, a config): kept. */
            if (size <= (int64_t)SMALL_MAX && s->kept + (uint64_t)size <= KEPT_MAX &&
                (rc = read_member(a, size, SMALL_MAX, &data)) == 0 && size > 0 && data[0] != '{') {
                op_free(data);
                data = NULL;
            }
            s->kept += data ? (uint64_t)size : 0;
            if (rc == 0 && (rc = add_member(s, digest, size, data)))
                op_free(data);
        }
        if (rc == OCIPUSH_E_INVALID)
            rc = op_fail(d, rc, "%s: the member %s is too large for what it is", s->path, path);
        else if (rc == OCIPUSH_E_IO)
            rc = op_fail(d, rc, "%s: reading the member %s failed: %s", s->path, path,
                         archive_error_string(a) ? archive_error_string(a) : "truncated");
        else if (rc)
            rc = op_fail(d, rc, "out of memory");
    }
    if (rc == 0 && r != ARCHIVE_EOF)
        rc = op_fail(d, OCIPUSH_E_IO, "%s is not a whole tar archive: %s", s->path,
                     archive_error_string(a) ? archive_error_string(a) : "truncated");
    archive_read_free(a);
    return rc;
}

/* Open the archive again and read on to the member `digest`: the archive,
 * positioned at its data, or NULL. */
static struct archive *seek_member(const char *path, const char *digest)
{
    struct archive *a = open_archive(path);
    struct archive_entry *e;
    char name[OCIPUSH_DIGEST_MAX];
    while (a && archive_read_next_header(a, &e) == ARCHIVE_OK) {
        const char *p = archive_entry_pathname(e);
        if (p && archive_entry_filetype(e) == AE_IFREG && member_digest(p, name) == 0 &&
            strcmp(name, digest) == 0)
            return a;
    }
    if (a)
        archive_read_free(a);
    return NULL;
}

/* A large blob's source: the archive opened at its member on first read. */
typedef struct blob_reader {
    char *path;
    char digest[OCIPUSH_DIGEST_MAX];
    struct archive *a;
} blob_reader;

static int blob_read(uint8_t *buffer, size_t capacity, size_t *out_len, void *user_data)
{
    blob_reader *b = user_data;
    if (!b->a && !(b->a = seek_member(b->path, b->digest)))
        return 1;
    la_ssize_t n = archive_read_data(b->a, buffer, capacity);
    if (n < 0)
        return 2;
    *out_len = (size_t)n;
    return 0;
}

static int blob_rewind(void *user_data)
{
    blob_reader *b = user_data;
    if (b->a)
        archive_read_free(b->a);
    b->a = NULL; /* opened again at the next read */
    return 0;
}

static void blob_close(void *user_data)
{
    blob_reader *b = user_data;
    blob_rewind(b);
    op_free(b->path);
    op_free(b);
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
    for (size_t i = 0; i < s->member_count; i++)
        op_free(s->members[i].data);
    op_free(s->members);
    cJSON_Delete(s->index);
    op_free(s->entries);
    op_free(s->path);
    op_free(s->name);
    op_free(s);
}

static int archive_source_read_manifest(op_image_source *src, op_diag *d, const char *digest,
                                        int64_t size, op_buf *out)
{
    archive_source *s = (archive_source *)src;
    member *m = find_member(s, digest);
    char got[OCIPUSH_DIGEST_MAX];
    if (!m)
        return op_fail(d, OCIPUSH_E_IO, "%s lacks the manifest %s (no member blobs/sha256/%s)",
                       s->name, digest, digest + 7);
    if (size >= 0 && size != m->size)
        return op_fail(d, OCIPUSH_E_INVALID,
                       "%s: the manifest %s is %" PRId64 " bytes, but its descriptor says %" PRId64,
                       s->name, digest, m->size, size);
    if (!m->data)
        return op_fail(d, OCIPUSH_E_INVALID, "%s: the manifest %s is not a JSON document", s->name,
                       digest);
    int rc = op_sha256_digest(got, m->data, (size_t)m->size);
    if (rc)
        return op_fail(d, rc, "hashing the manifest %s failed", digest);
    if (strcmp(got, digest) != 0)
        return op_fail(d, OCIPUSH_E_DIGEST_MISMATCH,
                       "%s: the bytes of blobs/sha256/%s hash to %s, not its name", s->name,
                       digest + 7, got);
    op_buf_reset(out);
    return op_buf_append(out, m->data, (size_t)m->size)
               ? op_fail(d, OCIPUSH_E_NOMEM, "out of memory")
               : 0;
}

static int archive_source_open_blob(op_image_source *src, op_diag *d, const char *digest,
                                    int64_t size, ocipush_source **out)
{
    archive_source *s = (archive_source *)src;
    member *m = find_member(s, digest);
    if (!m)
        return op_fail(d, OCIPUSH_E_IO, "%s lacks the blob %s (no member blobs/sha256/%s)", s->name,
                       digest, digest + 7);
    if (size >= 0 && size != m->size)
        return op_fail(d, OCIPUSH_E_INVALID,
                       "%s: the blob %s is %" PRId64 " bytes, but its descriptor says %" PRId64,
                       s->name, digest, m->size, size);
    int rc;
    if (m->data) /* borrowed: the source outlives the copy's pushes */
        rc = ocipush_source_new_memory(out, m->data, (size_t)m->size, 0);
    else {
        blob_reader *b = op_calloc(1, sizeof *b);
        if (!b || !(b->path = op_strdup(s->path))) {
            op_free(b);
            return op_fail(d, OCIPUSH_E_NOMEM, "out of memory");
        }
        snprintf(b->digest, sizeof b->digest, "%s", digest);
        rc = ocipush_source_new_callback(out, blob_read, blob_rewind, blob_close, m->size, b);
    }
    return rc ? op_fail(d, rc, "out of memory") : 0;
}

static const op_image_source_ops archive_ops = {
    .entries = archive_source_entries,
    .read_manifest = archive_source_read_manifest,
    .open_blob = archive_source_open_blob,
    .name = archive_source_name,
    .free = archive_source_free,
};

int op_image_source_open_archive(op_image_source **out, op_diag *d, const char *path)
{
    archive_source *s = op_calloc(1, sizeof *s);
    op_buf name = {0};
    char *layout = NULL, *index = NULL;
    size_t index_len = 0;
    if (!s)
        return op_fail(d, OCIPUSH_E_NOMEM, "out of memory");
    s->base.ops = &archive_ops;
    if (!(s->path = op_strdup(path)) || op_buf_printf(&name, "the OCI archive %s", path) ||
        op_buf_take(&name, &s->name)) {
        op_buf_free(&name);
        archive_source_free(&s->base);
        return op_fail(d, OCIPUSH_E_NOMEM, "out of memory");
    }
    int rc = scan(s, d, &layout, &index, &index_len);
    if (rc == 0 && !layout)
        rc = op_fail(d, OCIPUSH_E_INVALID, "%s is not an OCI archive: it has no oci-layout", path);
    if (rc == 0 && !index)
        rc = op_fail(d, OCIPUSH_E_INVALID, "%s is not an OCI archive: it has no index.json", path);
    if (rc == 0)
        rc = op_layout_entries_parse(&s->index, &s->entries, &s->entry_count, d, s->name, index,
                                     index_len);
    op_free(layout);
    op_free(index);
    if (rc) {
        archive_source_free(&s->base);
        return rc;
    }
    *out = &s->base;
    return 0;
}
