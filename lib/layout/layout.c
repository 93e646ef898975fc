/* mkostemp (POSIX.1-2024; glibc declares it for _GNU_SOURCE). */
#define _GNU_SOURCE
#include "layout.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "layout_index.h"
#include "manifest_type.h"
#include "target.h"
#include "digest.h"
#include "file.h"
#include "reader.h"
#include "retry.h"

/* Caps on what is read whole, against a file that would take all memory:
 * far above a real index (60,000 tags make 13 MB) or manifest. */
#define MAX_INDEX_BYTES ((size_t)256 << 20)
#define MAX_MANIFEST_BYTES ((size_t)8 << 20)

/* read_whole(): the file is not there. */
#define FILE_ABSENT 1

/* mkdir that is fine when the directory is there (a file there is found
 * out by the next step, with ENOTDIR). */
static int make_dir(const char *path, mode_t mode)
{
    return mkdir(path, mode) == 0 || errno == EEXIST ? 0 : -1;
}

/* The missing directories above `path`, as mkdir -p makes them. */
static int make_parents(const char *path)
{
    char *copy = op_strdup(path);
    if (!copy)
        return OCIPUSH_E_NOMEM;
    int rc = 0;
    /* Each '/' that ends a component and has another after it: not the
     * root's, not the second of "//", not a trailing one. */
    for (char *p = copy + 1; !rc && *p; p++) {
        if (*p != '/' || p[-1] == '/' || p[strspn(p, "/")] == '\0')
            continue;
        *p = '\0';
        rc = make_dir(copy, 0777) ? OCIPUSH_E_IO : 0;
        *p = '/';
    }
    int saved = errno;
    op_free(copy);
    errno = saved;
    return rc;
}

/* The oci-layout file, unless there is one (O_EXCL: one that is there is
 * never truncated). */
static int write_marker(const char *path)
{
    static const char text[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno == EEXIST ? 0 : OCIPUSH_E_IO;
    int bad = op_file_write_all(fd, text, sizeof text - 1);
    int saved = errno;
    if (close(fd) != 0 && !bad) {
        bad = 1;
        saved = errno;
    }
    if (bad)
        unlink(path);
    errno = saved;
    return bad ? OCIPUSH_E_IO : 0;
}

int op_layout_create(const char *directory)
{
    op_buf blobs = {0}, marker = {0};
    int rc = op_buf_printf(&blobs, "%s/blobs", directory) ||
                     op_buf_printf(&marker, "%s/oci-layout", directory)
                 ? OCIPUSH_E_NOMEM
                 : 0;
    rc = rc ? rc : make_parents(directory);
    if (!rc && (make_dir(directory, 0755) || make_dir(blobs.data, 0755)))
        rc = OCIPUSH_E_IO;
    if (!rc && op_buf_puts(&blobs, "/sha256"))
        rc = OCIPUSH_E_NOMEM;
    if (!rc && make_dir(blobs.data, 0755))
        rc = OCIPUSH_E_IO;
    rc = rc ? rc : write_marker(marker.data);
    int saved = errno; /* the caller reports it */
    op_buf_free(&blobs);
    op_buf_free(&marker);
    errno = saved;
    return rc;
}

typedef struct op_layout {
    op_target base;
    char *dir; /* the layout's directory */
} op_layout;

static int blob_path(op_buf *out, const op_layout *l, const char *digest)
{
    return op_buf_printf(out, "%s/blobs/sha256/%s", l->dir, digest + 7);
}

static int layout_blob_exists(op_target *t, op_retry_budget *budget, const char *repository,
                              const char *digest, int *out_exists, int64_t *out_size)
{
    (void)budget;     /* nothing to retry */
    (void)repository; /* a layout holds no repositories */
    op_layout *l = (op_layout *)t;
    op_buf path = {0};
    struct stat st;
    if (blob_path(&path, l, digest))
        return op_fail(&l->base.c->diag, OCIPUSH_E_NOMEM, "out of memory");
    *out_exists = stat(path.data, &st) == 0 && S_ISREG(st.st_mode);
    *out_size = *out_exists ? (int64_t)st.st_size : -1;
    op_buf_free(&path);
    return 0;
}

/* A temporary file in `dir` of the layout, beside its final place, so the
 * rename is atomic (file.h). */
static int open_temp(op_buf *path, const op_layout *l, const char *dir, int *fd)
{
    op_buf template = {0};
    *fd = -1;
    int rc = op_buf_printf(&template, "%s/%s/.ocipush-XXXXXX", l->dir, dir) ? OCIPUSH_E_NOMEM : 0;
    rc = rc ? rc : op_file_temp_open(path, template.data, fd);
    op_buf_free(&template);
    return rc;
}

static int write_blob(op_layout *l, op_reader *r, const char *expected)
{
    op_buf temp = {0}, final = {0};
    unsigned char buf[64 * 1024];
    int fd;
    int rc = open_temp(&temp, l, "blobs/sha256", &fd);
    if (rc == OCIPUSH_E_NOMEM)
        rc = op_fail(&l->base.c->diag, rc, "out of memory");
    else if (rc)
        rc = op_fail(&l->base.c->diag, rc, "cannot write in %s/blobs/sha256: %s", l->dir,
                     strerror(errno));
    size_t n = 1;
    while (!rc && n > 0) {
        rc = op_reader_read(r, buf, sizeof buf, &n);
        if (!rc && n && op_file_write_all(fd, buf, n))
            rc = op_fail(&l->base.c->diag, OCIPUSH_E_IO, "cannot write %s: %s", temp.data,
                         strerror(errno));
    }
    rc = rc ? rc : op_reader_finish(r);
    if (!rc && expected && strcmp(expected, r->digest) != 0)
        rc = op_fail(&l->base.c->diag, OCIPUSH_E_DIGEST_MISMATCH,
                     "the content hashes to %s, not the expected %s; nothing was written",
                     r->digest, expected);
    if (!rc && blob_path(&final, l, r->digest))
        rc = op_fail(&l->base.c->diag, OCIPUSH_E_NOMEM, "out of memory");
    if (!rc && op_file_publish(fd, temp.data, final.data, 0644))
        rc = op_fail(&l->base.c->diag, OCIPUSH_E_IO, "cannot write %s: %s", final.data,
                     strerror(errno));
    else if (rc && fd >= 0) {
        close(fd);
        unlink(temp.data);
    }
    op_buf_free(&temp);
    op_buf_free(&final);
    return rc;
}

/* `data` into `final` through a temporary file in `dir` beside it:
 * fsync'd, then renamed over it, so a reader sees the old file or the new
 * one, whole. */
static int put_bytes(op_layout *l, const char *dir, const char *final, const void *data, size_t len)
{
    op_buf template = {0};
    int rc = op_buf_printf(&template, "%s/%s/.ocipush-XXXXXX", l->dir, dir) ? OCIPUSH_E_NOMEM : 0;
    rc = rc ? rc : op_file_replace(final, template.data, 0644, data, len);
    op_buf_free(&template);
    if (rc == OCIPUSH_E_NOMEM)
        return op_fail(&l->base.c->diag, rc, "out of memory");
    return rc ? op_fail(&l->base.c->diag, OCIPUSH_E_IO, "cannot write %s: %s", final,
                        strerror(errno))
              : 0;
}

/* The whole of a layout file into `out`: 0, FILE_ABSENT when there is none
 * (open() said ENOENT: file.h), or the failure recorded on the session. */
static int read_whole(op_layout *l, const char *path, size_t cap, op_buf *out)
{
    char *data = NULL, why[OP_FILE_WHY_SIZE];
    size_t len = 0;
    int absent = 0;
    int rc = op_file_read_whole(path, cap, 0, &data, &len, &absent, why);
    if (rc)
        return op_fail(&l->base.c->diag, rc, "cannot read %s: %s", path, why);
    if (absent)
        return FILE_ABSENT;
    if (!out->data) { /* taken over as it is */
        out->data = data;
        out->len = len;
        out->cap = len + 1;
        return 0;
    }
    rc = op_buf_append(out, data, len);
    op_free(data);
    return rc ? op_fail(&l->base.c->diag, rc, "out of memory reading %s", path) : 0;
}

static int write_manifest(op_layout *l, const char *tag, const char *media_type, const void *data,
                          size_t len, const char *digest)
{
    op_buf blob = {0}, index_path = {0}, index = {0};
    char *updated = NULL;
    int rc = blob_path(&blob, l, digest) || op_buf_printf(&index_path, "%s/index.json", l->dir)
                 ? op_fail(&l->base.c->diag, OCIPUSH_E_NOMEM, "out of memory")
                 : 0;
    rc = rc ? rc : put_bytes(l, "blobs/sha256", blob.data, data, len);
    /* index.json lists what the layout holds: tagged, or by digest. One that
     * cannot be read fails the push, so it is never replaced by an index
     * that lost its entries. */
    int absent = 0;
    if (!rc && (rc = read_whole(l, index_path.data, MAX_INDEX_BYTES, &index)) == FILE_ABSENT) {
        absent = 1;
        rc = 0;
    }
    if (!rc &&
        (rc = op_json_layout_index_put(&updated, absent ? NULL : (index.data ? index.data : ""),
                                       index.len, media_type, digest, len, tag)))
        rc = op_fail(&l->base.c->diag, rc,
                     rc == OCIPUSH_E_NOMEM ? "out of memory" : "%s is not an index",
                     index_path.data);
    rc = rc ? rc : put_bytes(l, ".", index_path.data, updated, strlen(updated));
    op_free(updated);
    op_buf_free(&blob);
    op_buf_free(&index_path);
    op_buf_free(&index);
    return rc;
}

/* The digest `tag` names in index.json: 0 with *out_found. */
static int find_tag(op_layout *l, const char *tag, char *out_digest, int *out_found)
{
    op_buf path = {0}, index = {0};
    int rc = op_buf_printf(&path, "%s/index.json", l->dir)
                 ? op_fail(&l->base.c->diag, OCIPUSH_E_NOMEM, "out of memory")
                 : read_whole(l, path.data, MAX_INDEX_BYTES, &index);
    if (rc == FILE_ABSENT)
        rc = 0;
    else if (!rc)
        *out_found = op_json_layout_index_find(out_digest, index.data ? index.data : "", index.len,
                                               tag) == 0;
    op_buf_free(&path);
    op_buf_free(&index);
    return rc;
}

static int layout_get_manifest(op_target *t, const char *repository, const char *reference,
                               op_buf *body, char **out_media_type, char *out_digest,
                               int *out_found)
{
    (void)repository;
    op_layout *l = (op_layout *)t;
    op_buf path = {0};
    int listed = 1, rc = 0;
    *out_found = 0;
    if (strncmp(reference, "sha256:", 7) == 0)
        snprintf(out_digest, OCIPUSH_DIGEST_MAX, "%s", reference);
    else if ((rc = find_tag(l, reference, out_digest, &listed)) || !listed)
        return rc;
    if (blob_path(&path, l, out_digest))
        rc = op_fail(&l->base.c->diag, OCIPUSH_E_NOMEM, "out of memory");
    else if ((rc = read_whole(l, path.data, MAX_MANIFEST_BYTES, body)) == FILE_ABSENT)
        rc = 0;
    else if (!rc) {
        char check[OCIPUSH_DIGEST_MAX];
        if (op_sha256_digest(check, body->data ? body->data : "", body->len) ||
            strcmp(check, out_digest) != 0)
            rc = op_fail(&l->base.c->diag, OCIPUSH_E_PROTOCOL, "%s in %s does not hash to its name",
                         path.data, l->dir);
        else if (op_json_manifest_media_type(out_media_type, body->data, body->len))
            rc = op_fail(&l->base.c->diag, OCIPUSH_E_PROTOCOL, "%s in %s is not a manifest",
                         out_digest, l->dir);
        else
            *out_found = 1;
    }
    op_buf_free(&path);
    return rc;
}

static const op_target_ops layout_ops;

static int layout_new(op_target **out, op_ctx *c, const char *directory)
{
    op_layout *l = op_calloc(1, sizeof *l);
    if (!l || !(l->dir = op_strdup(directory))) {
        op_free(l);
        return OCIPUSH_E_NOMEM;
    }
    l->base.ops = &layout_ops;
    l->base.c = c;
    *out = &l->base;
    return OCIPUSH_OK;
}

int op_layout_target_new(op_target **out, op_ctx *c, const char *directory)
{
    int rc = op_layout_create(directory);
    return rc ? rc : layout_new(out, c, directory);
}

static int layout_clone(op_target **out, const op_target *t, op_ctx *c)
{
    return layout_new(out, c, ((const op_layout *)t)->dir);
}

static void layout_absorb(op_target *t, const op_target *worker)
{
    (void)t;
    (void)worker; /* a layout learns nothing while it is written */
}

static void layout_free(op_target *t)
{
    op_layout *l = (op_layout *)t;
    op_free(l->dir);
    op_free(l);
}

static int layout_ping(op_target *t, const char *repository)
{
    (void)repository;
    op_layout *l = (op_layout *)t;
    if (access(l->dir, W_OK) == 0)
        return OCIPUSH_OK;
    return op_fail(&t->c->diag, OCIPUSH_E_IO, "cannot write in %s: %s", l->dir, strerror(errno));
}

static int layout_set_scope(op_target *t, const char *repository, const char *mount_from)
{
    (void)t;
    (void)repository;
    (void)mount_from; /* one layout is one repository, open to all */
    return OCIPUSH_OK;
}

/* What write_read() writes into, and the digest the bytes must have. */
typedef struct blob_write {
    op_layout *l;
    const char *expected;
} blob_write;

static int write_read(void *ctx, op_reader *r)
{
    blob_write *w = ctx;
    return write_blob(w->l, r, w->expected);
}

static int layout_put_blob(op_target *t, op_blob_put *put)
{
    put->mounted = 0;
    if (!put->source)
        return op_fail(&t->c->diag, OCIPUSH_E_NOT_MOUNTED,
                       "an OCI layout has nothing to mount %s from, and no source was given: "
                       "nothing was done",
                       put->expected);
    /* A layout holds no repositories: there is nothing to mount from. The
     * bytes written must be the bytes hashed: no second read of a file. */
    blob_write w = {(op_layout *)t, put->expected};
    return op_reader_run(t->c, put->source, 0, write_read, &w, put->digest, &put->size);
}

static int layout_put_manifest(op_target *t, op_retry_budget *budget, const char *repository,
                               const char *reference, const char *media_type, const void *data,
                               size_t len, const char *digest, op_manifest_answer *out)
{
    (void)budget;
    (void)repository;
    if (out)
        *out = (op_manifest_answer){0};
    const char *tag = strcmp(reference, digest) == 0 ? NULL : reference;
    return write_manifest((op_layout *)t, tag, media_type, data, len, digest);
}

static const op_target_ops layout_ops = {
    .clone = layout_clone,
    .absorb = layout_absorb,
    .free = layout_free,
    .ping = layout_ping,
    .set_scope = layout_set_scope,
    .blob_exists = layout_blob_exists,
    .put_blob = layout_put_blob,
    .put_manifest = layout_put_manifest,
    .get_manifest = layout_get_manifest,
};
