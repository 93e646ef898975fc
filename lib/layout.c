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
#include "json.h"
#include "digest.h"
#include "file.h"
#include "manifest.h"

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

static int write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            errno = EIO; /* write() set none: do not report a stale one */
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The oci-layout file, unless there is one (O_EXCL: one that is there is
 * never truncated). */
static int write_marker(const char *path)
{
    static const char text[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno == EEXIST ? 0 : OCIPUSH_E_IO;
    int bad = write_all(fd, text, sizeof text - 1);
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

static int blob_path(op_buf *out, const ocipush_session *s, const char *digest)
{
    return op_buf_printf(out, "%s/blobs/sha256/%s", s->layout_dir, digest + 7);
}

int op_layout_blob_exists(ocipush_session *s, const char *digest, int *out_exists,
                          int64_t *out_size)
{
    op_buf path = {0};
    struct stat st;
    if (blob_path(&path, s, digest))
        return op_fail(s, OCIPUSH_E_NOMEM, "out of memory");
    *out_exists = stat(path.data, &st) == 0 && S_ISREG(st.st_mode);
    *out_size = *out_exists ? (int64_t)st.st_size : -1;
    op_buf_free(&path);
    return 0;
}

/* A temporary file beside its final place, so the rename is atomic: 0 with
 * *fd, OCIPUSH_E_NOMEM (no path), OCIPUSH_E_IO with errno from mkostemp. */
static int open_temp(op_buf *path, const ocipush_session *s, const char *dir, int *fd)
{
    *fd = -1;
    if (op_buf_printf(path, "%s/%s/.ocipush-XXXXXX", s->layout_dir, dir))
        return OCIPUSH_E_NOMEM;
    *fd = mkostemp(path->data, O_CLOEXEC);
    return *fd < 0 ? OCIPUSH_E_IO : 0;
}

/* fsync, close and rename into place; the temporary file goes on failure. */
static int publish(int fd, const char *temp, const char *final)
{
    int bad = fchmod(fd, 0644) != 0 || fsync(fd) != 0;
    bad |= close(fd) != 0;
    if (!bad && rename(temp, final) == 0)
        return 0;
    int saved = errno;
    unlink(temp);
    errno = saved;
    return -1;
}

int op_layout_put_blob(ocipush_session *s, op_reader *r, const char *expected)
{
    op_buf temp = {0}, final = {0};
    unsigned char buf[64 * 1024];
    int fd;
    int rc = open_temp(&temp, s, "blobs/sha256", &fd);
    if (rc == OCIPUSH_E_NOMEM)
        rc = op_fail(s, rc, "out of memory");
    else if (rc)
        rc = op_fail(s, rc, "cannot write in %s/blobs/sha256: %s", s->layout_dir, strerror(errno));
    size_t n = 1;
    while (!rc && n > 0) {
        rc = op_reader_read(r, buf, sizeof buf, &n);
        if (!rc && n && write_all(fd, buf, n))
            rc = op_fail(s, OCIPUSH_E_IO, "cannot write %s: %s", temp.data, strerror(errno));
    }
    rc = rc ? rc : op_reader_finish(r);
    if (!rc && expected && strcmp(expected, r->digest) != 0)
        rc = op_fail(s, OCIPUSH_E_DIGEST_MISMATCH,
                     "the content hashes to %s, not the expected %s; nothing was written",
                     r->digest, expected);
    if (!rc && blob_path(&final, s, r->digest))
        rc = op_fail(s, OCIPUSH_E_NOMEM, "out of memory");
    if (!rc && publish(fd, temp.data, final.data))
        rc = op_fail(s, OCIPUSH_E_IO, "cannot write %s: %s", final.data, strerror(errno));
    else if (rc && fd >= 0) {
        close(fd);
        unlink(temp.data);
    }
    op_buf_free(&temp);
    op_buf_free(&final);
    return rc;
}

/* `data` into `final` through a temporary file beside it: fsync'd, then
 * renamed over it, so a reader sees the old file or the new one, whole. */
static int put_bytes(ocipush_session *s, const char *dir, const char *final, const void *data,
                     size_t len)
{
    op_buf temp = {0};
    int fd;
    int rc = open_temp(&temp, s, dir, &fd);
    if (rc == OCIPUSH_E_NOMEM) {
        op_buf_free(&temp);
        return op_fail(s, rc, "out of memory");
    }
    int bad = rc != 0;
    if (!bad && write_all(fd, data, len)) {
        int saved = errno;
        close(fd);
        unlink(temp.data);
        errno = saved;
        bad = 1;
    } else if (!bad) {
        bad = publish(fd, temp.data, final) != 0;
    }
    rc = bad ? op_fail(s, OCIPUSH_E_IO, "cannot write %s: %s", final, strerror(errno)) : 0;
    op_buf_free(&temp);
    return rc;
}

/* The whole of a layout file into `out`: 0, FILE_ABSENT when there is none
 * (open() said ENOENT: file.h), or the failure recorded on the session. */
static int read_whole(ocipush_session *s, const char *path, size_t cap, op_buf *out)
{
    char *data = NULL, why[OP_FILE_WHY_SIZE];
    size_t len = 0;
    int absent = 0;
    int rc = op_file_read_whole(path, cap, 0, &data, &len, &absent, why);
    if (rc)
        return op_fail(s, rc, "cannot read %s: %s", path, why);
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
    return rc ? op_fail(s, rc, "out of memory reading %s", path) : 0;
}

int op_layout_put_manifest(ocipush_session *s, const char *tag, const char *media_type,
                           const void *data, size_t len, const char *digest)
{
    op_buf blob = {0}, index_path = {0}, index = {0};
    char *updated = NULL;
    int rc =
        blob_path(&blob, s, digest) || op_buf_printf(&index_path, "%s/index.json", s->layout_dir)
            ? op_fail(s, OCIPUSH_E_NOMEM, "out of memory")
            : 0;
    rc = rc ? rc : put_bytes(s, "blobs/sha256", blob.data, data, len);
    /* index.json lists what the layout holds: tagged, or by digest. One that
     * cannot be read fails the push, so it is never replaced by an index
     * that lost its entries. */
    int absent = 0;
    if (!rc && (rc = read_whole(s, index_path.data, MAX_INDEX_BYTES, &index)) == FILE_ABSENT) {
        absent = 1;
        rc = 0;
    }
    if (!rc &&
        (rc = op_json_layout_index_put(&updated, absent ? NULL : (index.data ? index.data : ""),
                                       index.len, media_type, digest, len, tag)))
        rc = op_fail(s, rc, rc == OCIPUSH_E_NOMEM ? "out of memory" : "%s is not an index",
                     index_path.data);
    rc = rc ? rc : put_bytes(s, ".", index_path.data, updated, strlen(updated));
    op_free(updated);
    op_buf_free(&blob);
    op_buf_free(&index_path);
    op_buf_free(&index);
    return rc;
}

/* The digest `tag` names in index.json: 0 with *out_found. */
static int find_tag(ocipush_session *s, const char *tag, char *out_digest, int *out_found)
{
    op_buf path = {0}, index = {0};
    int rc = op_buf_printf(&path, "%s/index.json", s->layout_dir)
                 ? op_fail(s, OCIPUSH_E_NOMEM, "out of memory")
                 : read_whole(s, path.data, MAX_INDEX_BYTES, &index);
    if (rc == FILE_ABSENT)
        rc = 0;
    else if (!rc)
        *out_found = op_json_layout_index_find(out_digest, index.data ? index.data : "", index.len,
                                               tag) == 0;
    op_buf_free(&path);
    op_buf_free(&index);
    return rc;
}

int op_layout_get_manifest(ocipush_session *s, const char *reference, op_buf *body,
                           char **out_media_type, char *out_digest, int *out_found)
{
    op_buf path = {0};
    int listed = 1, rc = 0;
    *out_found = 0;
    if (strncmp(reference, "sha256:", 7) == 0)
        snprintf(out_digest, OCIPUSH_DIGEST_BUFSIZE, "%s", reference);
    else if ((rc = find_tag(s, reference, out_digest, &listed)) || !listed)
        return rc;
    if (blob_path(&path, s, out_digest))
        rc = op_fail(s, OCIPUSH_E_NOMEM, "out of memory");
    else if ((rc = read_whole(s, path.data, MAX_MANIFEST_BYTES, body)) == FILE_ABSENT)
        rc = 0;
    else if (!rc) {
        char check[OCIPUSH_DIGEST_BUFSIZE];
        if (op_sha256_digest(check, body->data ? body->data : "", body->len) ||
            strcmp(check, out_digest) != 0)
            rc = op_fail(s, OCIPUSH_E_PROTOCOL, "%s in %s does not hash to its name", path.data,
                         s->layout_dir);
        else if (op_json_manifest_media_type(out_media_type, body->data, body->len))
            rc = op_fail(s, OCIPUSH_E_PROTOCOL, "%s in %s is not a manifest", out_digest,
                         s->layout_dir);
        else
            *out_found = 1;
    }
    op_buf_free(&path);
    return rc;
}
