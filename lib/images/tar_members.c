/* The members of a tar archive, read with libarchive as a stream (see
 * tar_members.h). Kept in memory: the JSON-looking members of at most 4 MiB
 * (64 MiB of them in all), and index.json and manifest.json at the top, up
 * to 16 MiB each (the first of each name): what an image source parses.
 * Every other member is only listed, and read again from the archive when it
 * is wanted; in a plain tar libarchive seeks past the members before it, in
 * a compressed one it decompresses them. Names are found through a hash
 * table, so a hostile archive of many members costs linear time, and at
 * most MEMBERS_MAX of them are listed. */
#include "tar_members.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "alloc.h"
#include "buf.h"
#include "source.h"

#define SMALL_MAX OP_TAR_SMALL_MAX
#define KEPT_MAX (64u << 20) /* all the small members kept */
#define TOP_MAX OP_TAR_TOP_MAX
#define LINKS_MAX 8
/* Far more than any image has (a blob, a manifest, a config per member),
 * few enough that the list stays in tens of MiB. */
#define MEMBERS_MAX (256u * 1024)
/* What op_tar_read_small may read again in all: the archive 4 times over,
 * and 256 MiB more for a small one. */
#define REREAD_MAX(t) (4 * (t)->listed + (256u << 20))

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
    uint64_t listed; /* the archive's bytes as listed: headers and data */
    /* Bytes op_tar_read_small read again, at most REREAD_MAX; a counter
     * apart, as it counts on a const op_tar. */
    uint64_t *reread;
    int top_kept[2]; /* index.json, manifest.json: the first one was kept */
    /* Open addressing over the names: index + 1 into members or links, 0
     * for a free slot; slot_count a power of two, at least twice the count. */
    size_t *member_slots, *link_slots;
    size_t member_slot_count, link_slot_count;
};

static struct archive *open_archive(const char *path)
{
    struct archive *a = archive_read_new();
    if (!a)
        return NULL;
    /* The compressions images come in, each only when libarchive has its
     * library (Debian's links zlib, libzstd, liblzma and libbz2): without
     * it the call registers the external program instead (ARCHIVE_WARN),
     * and _all would add lrzip, lzop, grzip: no program of the host's runs
     * on a hostile archive. */
    if (archive_zlib_version())
        archive_read_support_filter_gzip(a);
    if (archive_libzstd_version())
        archive_read_support_filter_zstd(a);
    if (archive_liblzma_version())
        archive_read_support_filter_xz(a);
    if (archive_bzlib_version())
        archive_read_support_filter_bzip2(a);
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

static int add_member(op_tar *t, char *path, int64_t size, char *data, size_t ordinal,
                      uint64_t offset)
{
    if (t->member_count + t->link_count >= MEMBERS_MAX)
        return OCIPUSH_E_UNSUPPORTED;
    if (op_grow((void **)&t->members, t->member_count, &t->member_alloc, sizeof *t->members, 16))
        return OCIPUSH_E_NOMEM;
    t->members[t->member_count++] = (op_tar_member){path, size, data, ordinal, offset};
    return 0;
}

static int add_link(op_tar *t, char *path, char *target)
{
    if (t->member_count + t->link_count >= MEMBERS_MAX)
        return OCIPUSH_E_UNSUPPORTED;
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
    int rc = target ? add_link(t, path, target) : 0;
    if (!target || rc) {
        op_free(path);
        op_free(target);
    }
    return rc;
}

/* Which of index.json and manifest.json at the top `path` is, or -1. */
static int top_name(const char *path)
{
    return strcmp(path, "index.json") == 0 ? 0 : strcmp(path, "manifest.json") == 0 ? 1 : -1;
}

/* Whether a member's bytes are kept: a small JSON-looking one within the
 * budget, or the first index.json or manifest.json at the top. Its cap, or
 * 0. One not kept is read from the archive when it is wanted
 * (op_tar_read_small). */
static size_t keep_cap(const op_tar *t, const char *path, int64_t size)
{
    int top = top_name(path);
    if (size <= 0)
        return 0;
    if (top >= 0)
        return t->top_kept[top] ? 0 : TOP_MAX;
    if (size <= (int64_t)SMALL_MAX && t->kept + (uint64_t)size <= KEPT_MAX)
        return SMALL_MAX;
    return 0;
}

/* One regular member: listed, and its bytes kept when they are JSON. */
static int take_member(op_tar *t, struct archive *a, char *path, int64_t size, size_t ordinal,
                       uint64_t offset)
{
    size_t cap = keep_cap(t, path, size);
    char *data = NULL;
    int rc = cap ? read_data(a, size, cap, &data) : 0;
    if (rc == 0 && data && data[0] != '{' && data[0] != '[') {
        op_free(data);
        data = NULL;
    }
    if (data && cap == SMALL_MAX)
        t->kept += (uint64_t)size;
    if (data && cap == TOP_MAX)
        t->top_kept[top_name(path)] = 1;
    if (rc == 0 && (rc = add_member(t, path, size, data, ordinal, offset)) == 0)
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
        int64_t size = archive_entry_size(e);
        uint64_t at = t->listed + 512; /* where its data starts, headers counted as one block */
        t->listed = at + (size > 0 ? (uint64_t)size : 0);
        if (!path)
            continue; /* "./" itself, or a name out of the archive */
        if (archive_entry_hardlink(e) || archive_entry_filetype(e) == AE_IFLNK)
            rc = take_link(t, path, e);
        else if (archive_entry_filetype(e) == AE_IFREG)
            rc = take_member(t, a, path, size, here, at);
        else
            op_free(path);
        if (rc == OCIPUSH_E_INVALID)
            rc = op_fail(d, rc, "%s: the member %s is too large for what it is", t->path, name);
        else if (rc == OCIPUSH_E_UNSUPPORTED)
            rc = op_fail(d, OCIPUSH_E_INVALID,
                         "%s has more than %u members and links: too many for an image archive",
                         t->path, MEMBERS_MAX);
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

/* FNV-1a: the names are the archive's, so the table may be crowded by a
 * hostile one, but never beyond its count. */
static size_t name_hash(const char *path)
{
    uint64_t h = 1469598103934665603u;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++)
        h = (h ^ *p) * 1099511628211u;
    return (size_t)h;
}

/* The slot of `path` in a table whose entries name[i] gives: the one that
 * holds it, or the free one where it goes. */
static size_t *slot_of(size_t *slots, size_t slot_count, const char *path,
                       const char *(*name)(const op_tar *, size_t), const op_tar *t)
{
    size_t mask = slot_count - 1;
    for (size_t i = name_hash(path) & mask;; i = (i + 1) & mask)
        if (slots[i] == 0 || strcmp(name(t, slots[i] - 1), path) == 0)
            return &slots[i];
}

static const char *member_name(const op_tar *t, size_t i)
{
    return t->members[i].path;
}

static const char *link_name(const op_tar *t, size_t i)
{
    return t->links[i].path;
}

/* A table over `count` names; the first entry of a name is the one found. */
static int build_table(op_tar *t, size_t count, const char *(*name)(const op_tar *, size_t),
                       size_t **out, size_t *out_count)
{
    size_t n = 16;
    while (n < 2 * count)
        n *= 2;
    size_t *slots = op_calloc(n, sizeof *slots);
    if (!slots)
        return OCIPUSH_E_NOMEM;
    for (size_t i = 0; i < count; i++) {
        size_t *slot = slot_of(slots, n, name(t, i), name, t);
        if (*slot == 0)
            *slot = i + 1;
    }
    *out = slots;
    *out_count = n;
    return 0;
}

static const op_tar_member *find_regular(const op_tar *t, const char *path)
{
    size_t i = *slot_of(t->member_slots, t->member_slot_count, path, member_name, t);
    return i ? &t->members[i - 1] : NULL;
}

static const char *find_link(const op_tar *t, const char *path)
{
    size_t i = *slot_of(t->link_slots, t->link_slot_count, path, link_name, t);
    return i ? t->links[i - 1].target : NULL;
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
    char *path;   /* the archive's */
    char *member; /* the member's, for messages */
    size_t ordinal;
    struct archive *a;
    char why[512];
} member_reader;

static int member_failed(member_reader *r, int rc, const char *what, const char *detail)
{
    snprintf(r->why, sizeof r->why, "%s: %s %s: %s", r->path, what, r->member, detail);
    return rc;
}

static int member_read(uint8_t *buffer, size_t capacity, size_t *out_len, void *user_data)
{
    member_reader *r = user_data;
    if (!r->a) {
        struct archive_entry *e;
        int found = 0;
        if (!(r->a = open_archive(r->path)))
            return member_failed(r, 1, "cannot open it again to read", strerror(errno));
        for (size_t ordinal = 0; !found && archive_read_next_header(r->a, &e) == ARCHIVE_OK;
             ordinal++)
            found = ordinal == r->ordinal;
        if (!found)
            return member_failed(r, 1, "it changed since it was listed: it no longer holds",
                                 archive_error_string(r->a) ? archive_error_string(r->a)
                                                            : "too few members");
    }
    la_ssize_t n = archive_read_data(r->a, buffer, capacity);
    if (n < 0)
        return member_failed(r, 2, "reading the member",
                             archive_error_string(r->a) ? archive_error_string(r->a) : "failed");
    *out_len = (size_t)n;
    return 0;
}

static const char *member_why(void *user_data)
{
    return ((member_reader *)user_data)->why;
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
    op_free(r->member);
    op_free(r);
}

int op_tar_open_member(const op_tar *t, const op_tar_member *m, ocipush_source **out)
{
    if (m->data) /* borrowed: the archive outlives the pushes */
        return ocipush_source_new_memory(out, m->data, (size_t)m->size, 0);
    member_reader *r = op_calloc(1, sizeof *r);
    if (!r || !(r->path = op_strdup(t->path)) || !(r->member = op_strdup(m->path))) {
        if (r)
            op_free(r->path);
        op_free(r);
        return OCIPUSH_E_NOMEM;
    }
    r->ordinal = m->ordinal;
    int rc = ocipush_source_new_callback(out, member_read, member_rewind, member_close, m->size, r);
    if (rc == 0)
        (*out)->why = member_why;
    return rc;
}

int op_tar_read_small(const op_tar *t, const op_tar_member *m, size_t cap, op_buf *out, op_diag *d)
{
    op_buf_reset(out);
    if (m->size < 0 || (uint64_t)m->size > cap)
        return op_fail(d, OCIPUSH_E_INVALID,
                       "%s: the member %s is %lld bytes, over the %zu of a %s", t->path, m->path,
                       (long long)m->size, cap,
                       cap == TOP_MAX ? "top-level JSON file" : "manifest or config");
    if (m->data)
        return op_buf_append(out, m->data, (size_t)m->size)
                   ? op_fail(d, OCIPUSH_E_NOMEM, "out of memory")
                   : 0;
    /* Each such read decompresses the archive up to the member again: a
     * hostile archive of many small members behind a large one would make
     * that hours of work, so all of them together may read the archive
     * again only a few times over. */
    uint64_t cost = m->offset + (uint64_t)m->size; /* at most t->listed */
    if (cost > REREAD_MAX(t) - *t->reread)
        return op_fail(d, OCIPUSH_E_INVALID,
                       "%s: too many manifests or configs must be read again from the archive "
                       "(past %llu bytes of it read again, for %s): not an image archive",
                       t->path, (unsigned long long)REREAD_MAX(t), m->path);
    *t->reread += cost;
    ocipush_source *src = NULL;
    if (op_buf_append(out, "", 0) || op_tar_open_member(t, m, &src))
        return op_fail(d, OCIPUSH_E_NOMEM, "out of memory");
    uint8_t piece[64 * 1024];
    int rc = 0;
    while (rc == 0 && out->len <= (size_t)m->size) {
        size_t n = 0;
        if (member_read(piece, sizeof piece, &n, src->user_data)) {
            rc = op_fail(d, OCIPUSH_E_IO, "%s", member_why(src->user_data));
            break;
        }
        if (n == 0)
            break;
        if (out->len + n > (size_t)m->size)
            rc = op_fail(d, OCIPUSH_E_IO, "%s: the member %s is longer than its header says",
                         t->path, m->path);
        else if (op_buf_append(out, piece, n))
            rc = op_fail(d, OCIPUSH_E_NOMEM, "out of memory");
    }
    if (rc == 0 && out->len != (size_t)m->size)
        rc = op_fail(d, OCIPUSH_E_IO, "%s: the member %s ended after %zu of its %lld bytes",
                     t->path, m->path, out->len, (long long)m->size);
    ocipush_source_free(src);
    return rc;
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
    op_free(t->member_slots);
    op_free(t->link_slots);
    op_free(t->reread);
    op_free(t->path);
    op_free(t);
}

int op_tar_open(op_tar **out, op_diag *d, const char *path)
{
    op_tar *t = op_calloc(1, sizeof *t);
    if (!t || !(t->path = op_strdup(path)) || !(t->reread = op_calloc(1, sizeof *t->reread))) {
        if (t)
            op_free(t->path);
        op_free(t);
        return op_fail(d, OCIPUSH_E_NOMEM, "out of memory");
    }
    int rc = scan(t, d);
    if (rc == 0 &&
        (build_table(t, t->member_count, member_name, &t->member_slots, &t->member_slot_count) ||
         build_table(t, t->link_count, link_name, &t->link_slots, &t->link_slot_count)))
        rc = op_fail(d, OCIPUSH_E_NOMEM, "out of memory");
    if (rc) {
        op_tar_free(t);
        return rc;
    }
    *out = t;
    return 0;
}
