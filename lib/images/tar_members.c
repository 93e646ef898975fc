/* The members of a tar archive, read with libarchive as a stream (see
 * tar_members.h). Kept in memory: the JSON-looking members of at most 4 MiB
 * (64 MiB of them in all), and index.json and manifest.json at the top, up
 * to 16 MiB each: what an image source parses. Every other member is only
 * listed, and read again from the archive when it is wanted; in a plain tar
 * libarchive seeks past the members before it, in a compressed one it
 * decompresses them. */
#include "tar_members.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "alloc.h"
#include "buf.h"

#define SMALL_MAX (4u << 20) /* a manifest's or a config's cap */
#define KEPT_MAX (64u << 20) /* all the small members kept */
#define TOP_MAX (16u << 20)  /* index.json, manifest.json */
#define LINKS_MAX 8

typedef struct tar_link {
    char *path;   /* the link's own name */
    char *target; /* the name it points to, from the top of the archive */
} tar_link;

struct op_tar {
    char *path;
    op_tar_member *members;
    size_t member_count, member_alloc;
    tar_link *links;
    size_t link_count, link_alloc;
    uint64_t kept;
};

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

/* `path` made plain: no "./" or empty parts, ".." taken back; NULL when it
 * climbs out of the archive or memory runs out. `base` (may be NULL) is the
 * directory a relative symlink target starts from. */
static char *plain_path(const char *base, const char *path)
{
    op_buf joined = {0}, out = {0};
    if (base && *path != '/' && op_buf_printf(&joined, "%s/", base))
        return NULL;
    if (op_buf_printf(&joined, "%s", path)) {
        op_buf_free(&joined);
        return NULL;
    }
    int bad = 0;
    char *rest = joined.data, *part;
    while (!bad && (part = strsep(&rest, "/")) != NULL) {
        if (!*part || strcmp(part, ".") == 0)
            continue;
        if (strcmp(part, "..") == 0) {
            char *slash = out.len ? strrchr(out.data, '/') : NULL;
            bad = out.len == 0;
            out.len = slash ? (size_t)(slash - out.data) : 0;
            if (out.data)
                out.data[out.len] = '\0';
            continue;
        }
        bad = op_buf_printf(&out, "%s%s", out.len ? "/" : "", part) != 0;
    }
    op_buf_free(&joined);
    char *plain = NULL;
    if (bad || !out.len || op_buf_take(&out, &plain))
        plain = NULL;
    op_buf_free(&out);
    return plain;
}

/* The current member's data, whole (at most cap bytes), into a new block. */
static int read_data(struct archive *a, int64_t size, size_t cap, char **out)
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

static int add_member(op_tar *t, char *path, int64_t size, char *data, size_t ordinal)
{
    if (op_grow((void **)&t->members, t->member_count, &t->member_alloc, sizeof *t->members, 16))
        return OCIPUSH_E_NOMEM;
    t->members[t->member_count++] = (op_tar_member){path, size, data, ordinal};
    return 0;
}

static int add_link(op_tar *t, char *path, char *target)
{
    if (op_grow((void **)&t->links, t->link_count, &t->link_alloc, sizeof *t->links, 8))
        return OCIPUSH_E_NOMEM;
    t->links[t->link_count++] = (tar_link){path, target};
    return 0;
}

/* A link member: its name and where it points, from the top. A symbolic
 * link's target is relative to its own directory, a hard link's to the top;
 * one that climbs out is left out (it finds nothing). */
static int take_link(op_tar *t, char *path, struct archive_entry *e)
{
    const char *hard = archive_entry_hardlink(e);
    const char *soft = archive_entry_symlink(e);
    char *dir = NULL, *target = NULL;
    if (!hard && soft) {
        const char *slash = strrchr(path, '/');
        if (slash && !(dir = op_strndup(path, (size_t)(slash - path))))
            return OCIPUSH_E_NOMEM;
    }
    if ((hard || soft) && *(hard ? hard : soft) != '/')
        target = plain_path(dir, hard ? hard : soft);
    op_free(dir);
    if (!target || add_link(t, path, target)) {
        op_free(path);
        op_free(target);
        return target ? OCIPUSH_E_NOMEM : 0;
    }
    return 0;
}

/* Whether a member's bytes are kept: a small JSON-looking one within the
 * budget, or index.json or manifest.json at the top. Its cap, or 0. */
static size_t keep_cap(const op_tar *t, const char *path, int64_t size)
{
    if (strcmp(path, "index.json") == 0 || strcmp(path, "manifest.json") == 0)
        return TOP_MAX;
    if (size <= (int64_t)SMALL_MAX && t->kept + (uint64_t)size <= KEPT_MAX)
        return SMALL_MAX;
    return 0;
}

/* One regular member: listed, and its bytes kept when they are JSON. */
static int take_member(op_tar *t, struct archive *a, char *path, int64_t size, size_t ordinal)
{
    size_t cap = keep_cap(t, path, size);
    char *data = NULL;
    int rc = cap ? read_data(a, size, cap, &data) : 0;
    if (rc == 0 && data && size > 0 && data[0] != '{' && data[0] != '[') {
        op_free(data);
        data = NULL;
    }
    if (data && cap == SMALL_MAX)
        t->kept += (uint64_t)size;
    if (rc == 0 && (rc = add_member(t, path, size, data, ordinal)) == 0)
        return 0;
    op_free(data);
    op_free(path);
    return rc;
}

static int scan(op_tar *t, op_diag *d)
{
    struct archive *a = open_archive(t->path);
    struct archive_entry *e;
    int rc = 0, r;
    size_t ordinal = 0;
    if (!a)
        return op_fail(d, OCIPUSH_E_IO, "cannot read %s: %s", t->path, strerror(errno));
    while (rc == 0 && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        const char *name = archive_entry_pathname(e);
        char *path = name ? plain_path(NULL, name) : NULL;
        size_t here = ordinal++;
        if (!path)
            continue; /* "./" itself, or a name out of the archive */
        if (archive_entry_hardlink(e) || archive_entry_filetype(e) == AE_IFLNK)
            rc = take_link(t, path, e);
        else if (archive_entry_filetype(e) == AE_IFREG)
            rc = take_member(t, a, path, archive_entry_size(e), here);
        else
            op_free(path);
        if (rc == OCIPUSH_E_INVALID)
            rc = op_fail(d, rc, "%s: the member %s is too large for what it is", t->path, name);
        else if (rc == OCIPUSH_E_IO)
            rc = op_fail(d, rc, "%s: reading the member %s failed: %s", t->path, name,
                         archive_error_string(a) ? archive_error_string(a) : "truncated");
        else if (rc)
            rc = op_fail(d, rc, "out of memory");
    }
    if (rc == 0 && r != ARCHIVE_EOF)
        rc = op_fail(d, OCIPUSH_E_IO, "%s is not a whole tar archive: %s", t->path,
                     archive_error_string(a) ? archive_error_string(a) : "truncated");
    archive_read_free(a);
    return rc;
}

static const op_tar_member *find_regular(const op_tar *t, const char *path)
{
    for (size_t i = 0; i < t->member_count; i++)
        if (strcmp(t->members[i].path, path) == 0)
            return &t->members[i];
    return NULL;
}

static const char *find_link(const op_tar *t, const char *path)
{
    for (size_t i = 0; i < t->link_count; i++)
        if (strcmp(t->links[i].path, path) == 0)
            return t->links[i].target;
    return NULL;
}

const op_tar_member *op_tar_find(const op_tar *t, const char *path)
{
    char *plain = t && path ? plain_path(NULL, path) : NULL;
    const char *at = plain;
    const op_tar_member *m = NULL;
    for (int hops = 0; at && !(m = find_regular(t, at)) && hops < LINKS_MAX; hops++)
        at = find_link(t, at);
    op_free(plain);
    return m;
}

/* A large member's source: the archive opened at it on the first read. */
typedef struct member_reader {
    char *path;
    size_t ordinal;
    struct archive *a;
} member_reader;

static int member_read(uint8_t *buffer, size_t capacity, size_t *out_len, void *user_data)
{
    member_reader *r = user_data;
    if (!r->a) {
        struct archive_entry *e;
        int found = 0;
        if (!(r->a = open_archive(r->path)))
            return 1;
        for (size_t ordinal = 0; !found && archive_read_next_header(r->a, &e) == ARCHIVE_OK;
             ordinal++)
            found = ordinal == r->ordinal;
        if (!found)
            return 1; /* the archive changed under us */
    }
    la_ssize_t n = archive_read_data(r->a, buffer, capacity);
    if (n < 0)
        return 2;
    *out_len = (size_t)n;
    return 0;
}

static int member_rewind(void *user_data)
{
    member_reader *r = user_data;
    if (r->a)
        archive_read_free(r->a);
    r->a = NULL; /* opened again at the next read */
    return 0;
}

static void member_close(void *user_data)
{
    member_reader *r = user_data;
    member_rewind(r);
    op_free(r->path);
    op_free(r);
}

int op_tar_open_member(const op_tar *t, const op_tar_member *m, ocipush_source **out)
{
    if (m->data) /* borrowed: the archive outlives the pushes */
        return ocipush_source_new_memory(out, m->data, (size_t)m->size, 0);
    member_reader *r = op_calloc(1, sizeof *r);
    if (!r || !(r->path = op_strdup(t->path))) {
        op_free(r);
        return OCIPUSH_E_NOMEM;
    }
    r->ordinal = m->ordinal;
    return ocipush_source_new_callback(out, member_read, member_rewind, member_close, m->size, r);
}

const char *op_tar_path(const op_tar *t)
{
    return t->path;
}

void op_tar_free(op_tar *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->member_count; i++) {
        op_free(t->members[i].path);
        op_free(t->members[i].data);
    }
    for (size_t i = 0; i < t->link_count; i++) {
        op_free(t->links[i].path);
        op_free(t->links[i].target);
    }
    op_free(t->members);
    op_free(t->links);
    op_free(t->path);
    op_free(t);
}

int op_tar_open(op_tar **out, op_diag *d, const char *path)
{
    op_tar *t = op_calloc(1, sizeof *t);
    if (!t || !(t->path = op_strdup(path))) {
        op_free(t);
        return op_fail(d, OCIPUSH_E_NOMEM, "out of memory");
    }
    int rc = scan(t, d);
    if (rc) {
        op_tar_free(t);
        return rc;
    }
    *out = t;
    return 0;
}
