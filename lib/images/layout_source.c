/* An OCI image layout directory as an image source: oci-layout, index.json,
 * blobs/<algorithm>/<hex>. Every path is built from a digest that passed
 * ocipush_digest_validate(), so an index cannot point outside blobs/. */
#include "image_source.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "alloc.h"
#include "digest.h"
#include "file.h"
#include "source.h"

#define MANIFEST_MAX (4u << 20) /* as a registry's manifest cap */
#define INDEX_MAX (16u << 20)

typedef struct layout_source {
    op_image_source base;
    char *dir;
    char *name;
    cJSON *index;
    op_image_entry *entries;
    size_t entry_count;
} layout_source;

static const op_image_entry *layout_entries(const op_image_source *src, size_t *out_count)
{
    const layout_source *l = (const layout_source *)src;
    *out_count = l->entry_count;
    return l->entries;
}

static const char *layout_name(const op_image_source *src)
{
    return ((const layout_source *)src)->name;
}

static void layout_free(op_image_source *src)
{
    layout_source *l = (layout_source *)src;
    if (!l)
        return;
    cJSON_Delete(l->index);
    op_free(l->entries);
    op_free(l->dir);
    op_free(l->name);
    op_free(l);
}

/* DIR/blobs/sha256/<hex> for a digest checked to be sha256:<64 hex>. */
static int blob_path(const layout_source *l, op_diag *d, const char *digest, op_buf *path)
{
    if (ocipush_digest_validate(digest))
        return op_fail(d, OCIPUSH_E_INVALID, "%s names a blob by an invalid digest", l->name);
    return op_buf_printf(path, "%s/blobs/sha256/%s", l->dir, digest + 7)
               ? op_fail(d, OCIPUSH_E_NOMEM, "out of memory")
               : 0;
}

static int layout_read_manifest(op_image_source *src, op_diag *d, const char *digest, int64_t size,
                                op_buf *out)
{
    layout_source *l = (layout_source *)src;
    op_buf path = {0};
    char *data = NULL, why[OP_FILE_WHY_SIZE], got[OCIPUSH_DIGEST_MAX];
    size_t len = 0;
    int absent = 0;
    int rc = blob_path(l, d, digest, &path);
    if (rc == 0 && (rc = op_file_read_whole(path.data, MANIFEST_MAX, 0, &data, &len, &absent, why)))
        rc = op_fail(d, rc, "%s: %s", l->name, why);
    else if (rc == 0 && absent)
        rc = op_fail(d, OCIPUSH_E_IO, "%s lacks the manifest %s: no file %s", l->name, digest,
                     path.data);
    else if (rc == 0 && size >= 0 && (uint64_t)size != len)
        rc = op_fail(d, OCIPUSH_E_INVALID,
                     "%s: the manifest %s is %zu bytes, but its descriptor says %" PRId64, l->name,
                     path.data, len, size);
    else if (rc == 0 && (rc = op_sha256_digest(got, data, len)))
        rc = op_fail(d, rc, "hashing %s failed", path.data);
    else if (rc == 0 && strcmp(got, digest) != 0)
        rc = op_fail(d, OCIPUSH_E_DIGEST_MISMATCH, "%s: the bytes of %s hash to %s, not its name",
                     l->name, path.data, got);
    if (rc == 0) {
        op_buf_reset(out);
        if (op_buf_append(out, data, len))
            rc = op_fail(d, OCIPUSH_E_NOMEM, "out of memory");
    }
    op_free(data);
    op_buf_free(&path);
    return rc;
}

/* The blob's file, a regular file and not a link: a layout from outside
 * could hold a FIFO there (a read that never ends) or a link to a file of
 * the host's (its bytes uploaded before the digest check refuses them). Not
 * waited on while it is opened (O_NONBLOCK until fstat says it is regular). */
static int open_blob_file(const char *path, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) ||
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0) {
        int err = S_ISREG(st->st_mode) ? errno : EINVAL;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

static int layout_open_blob(op_image_source *src, op_diag *d, const char *digest, int64_t size,
                            ocipush_source **out)
{
    layout_source *l = (layout_source *)src;
    op_buf path = {0};
    struct stat st = {0};
    int rc = blob_path(l, d, digest, &path);
    int fd = rc ? -1 : open_blob_file(path.data, &st);
    if (rc == 0 && fd < 0 && errno == ENOENT)
        rc = op_fail(d, OCIPUSH_E_IO, "%s lacks the blob %s: there is no %s", l->name, digest,
                     path.data);
    else if (rc == 0 && fd < 0)
        rc = op_fail(d, OCIPUSH_E_IO, "%s: cannot open the blob %s at %s: %s", l->name, digest,
                     path.data,
                     errno == ELOOP    ? "a symbolic link"
                     : errno == EINVAL ? "not a regular file"
                                       : strerror(errno));
    /* Checked now, read later: a copy of a large index would otherwise hold
     * a descriptor per blob until its last blob is sent. */
    if (fd >= 0)
        close(fd);
    if (rc == 0 && (rc = op_source_new_examined_file(out, path.data, &st)))
        rc = op_fail(d, rc, "out of memory");
    if (rc == 0 && size >= 0 && ocipush_source_size(*out) != size) {
        rc = op_fail(d, OCIPUSH_E_INVALID,
                     "%s: the blob %s is %" PRId64 " bytes, but its descriptor says %" PRId64,
                     l->name, path.data, ocipush_source_size(*out), size);
        ocipush_source_free(*out);
        *out = NULL;
    }
    op_buf_free(&path);
    return rc;
}

static const op_image_source_ops layout_ops = {
    .entries = layout_entries,
    .read_manifest = layout_read_manifest,
    .open_blob = layout_open_blob,
    .name = layout_name,
    .free = layout_free,
};

/* Read DIR/FILE whole, or say what is wrong with it. */
static int read_layout_file(layout_source *l, op_diag *d, const char *file, size_t cap, char **out,
                            size_t *out_len)
{
    op_buf path = {0};
    char why[OP_FILE_WHY_SIZE];
    int absent = 0;
    int rc = op_buf_printf(&path, "%s/%s", l->dir, file) ? OCIPUSH_E_NOMEM : 0;
    if (rc)
        return op_fail(d, rc, "out of memory");
    rc = op_file_read_whole(path.data, cap, 0, out, out_len, &absent, why);
    if (rc)
        rc = op_fail(d, rc, "%s is not an OCI layout: %s", l->dir, why);
    else if (absent)
        rc = op_fail(d, OCIPUSH_E_INVALID, "%s is not an OCI layout: it has no %s", l->dir, file);
    op_buf_free(&path);
    return rc;
}

int op_layout_entries_parse(cJSON **out_index, op_image_entry **out_entries, size_t *out_count,
                            op_diag *d, const char *name, const char *text, size_t len)
{
    cJSON *index = cJSON_ParseWithLength(text, len);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(index, "manifests");
    op_image_entry *entries = NULL;
    size_t count = 0;
    int rc = 0;
    if (!index)
        rc = op_fail(d, OCIPUSH_E_INVALID, "%s: index.json is not JSON", name);
    else if (!cJSON_IsArray(list))
        rc = op_fail(d, OCIPUSH_E_INVALID, "%s: index.json has no \"manifests\" list", name);
    size_t n = rc ? 0 : (size_t)cJSON_GetArraySize(list);
    if (n && !(entries = op_calloc(n, sizeof *entries)))
        rc = op_fail(d, OCIPUSH_E_NOMEM, "out of memory");
    const cJSON *m;
    for (m = rc ? NULL : list->child; m && !rc; m = m->next) {
        const cJSON *digest = cJSON_GetObjectItemCaseSensitive(m, "digest");
        const cJSON *type = cJSON_GetObjectItemCaseSensitive(m, "mediaType");
        const cJSON *size = cJSON_GetObjectItemCaseSensitive(m, "size");
        const cJSON *notes = cJSON_GetObjectItemCaseSensitive(m, "annotations");
        const cJSON *tag =
            cJSON_GetObjectItemCaseSensitive(notes, "org.opencontainers.image.ref.name");
        const cJSON *image = cJSON_GetObjectItemCaseSensitive(notes, "io.containerd.image.name");
        if (!cJSON_IsString(digest) || ocipush_digest_validate(digest->valuestring))
            rc = op_fail(d, OCIPUSH_E_INVALID,
                         "%s: entry %zu of index.json has no valid sha256 digest", name, count);
        else if (size && (!cJSON_IsNumber(size) || size->valuedouble < 0 ||
                          size->valuedouble > 9007199254740992.0))
            rc = op_fail(d, OCIPUSH_E_INVALID, "%s: entry %zu of index.json has a bad size", name,
                         count);
        else
            entries[count++] = (op_image_entry){
                .digest = digest->valuestring,
                .media_type = cJSON_IsString(type) ? type->valuestring : "",
                .size = size ? (int64_t)size->valuedouble : -1,
                .tag = cJSON_IsString(tag) ? tag->valuestring : NULL,
                .image_name = cJSON_IsString(image) ? image->valuestring : NULL,
            };
    }
    if (rc) {
        op_free(entries);
        cJSON_Delete(index);
        return rc;
    }
    *out_index = index;
    *out_entries = entries;
    *out_count = count;
    return 0;
}

int op_image_source_open_layout(op_image_source **out, op_diag *d, const char *dir)
{
    layout_source *l = op_calloc(1, sizeof *l);
    char *text = NULL;
    size_t len = 0;
    op_buf name = {0};
    if (!l)
        return op_fail(d, OCIPUSH_E_NOMEM, "out of memory");
    if (!(l->dir = op_strdup(dir)) || op_buf_printf(&name, "the OCI layout %s", dir) ||
        op_buf_take(&name, &l->name)) {
        op_buf_free(&name);
        layout_free(&l->base);
        return op_fail(d, OCIPUSH_E_NOMEM, "out of memory");
    }
    l->base.ops = &layout_ops;
    int rc = read_layout_file(l, d, "oci-layout", 4096, &text, &len);
    if (rc == 0) {
        cJSON *marker = cJSON_ParseWithLength(text, len);
        const cJSON *version = cJSON_GetObjectItemCaseSensitive(marker, "imageLayoutVersion");
        if (!cJSON_IsString(version))
            rc = op_fail(d, OCIPUSH_E_INVALID,
                         "%s is not an OCI layout: its oci-layout file has no imageLayoutVersion",
                         dir);
        cJSON_Delete(marker);
        op_free(text);
        text = NULL;
    }
    rc = rc ? rc : read_layout_file(l, d, "index.json", INDEX_MAX, &text, &len);
    if (rc == 0)
        rc =
            op_layout_entries_parse(&l->index, &l->entries, &l->entry_count, d, l->name, text, len);
    op_free(text);
    if (rc) {
        layout_free(&l->base);
        return rc;
    }
    *out = &l->base;
    return 0;
}
