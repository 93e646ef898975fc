/* The tar reader of OCI and docker archives (lib/images/tar_members.c) over
 * archives this test writes with libarchive: a name repeated many times
 * keeps one copy, a member the budget for kept members passed over is still
 * read whole (a few times over at most), links are followed, a member of an
 * archive that changed since it was listed fails with the archive and the
 * member named. Peak memory is
 * measured through ocipush_set_allocator(), not timed. Files under /tmp. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "buf.h"
#include "check.h"
#include "diag.h"
#include "ocipush.h"
#include "source.h"
#include "tar_members.h"

/* ---- an allocator that counts the bytes live at once ---- */

static size_t live, peak;

typedef union header {
    size_t size;
    max_align_t align;
} header;

static void *count_malloc(size_t size, void *ud)
{
    (void)ud;
    header *h = malloc(sizeof *h + size);
    if (!h)
        return NULL;
    h->size = size;
    live += size;
    peak = live > peak ? live : peak;
    return h + 1;
}

static void count_free(void *ptr, void *ud)
{
    (void)ud;
    if (!ptr)
        return;
    header *h = (header *)ptr - 1;
    live -= h->size;
    free(h);
}

static void *count_realloc(void *ptr, size_t size, void *ud)
{
    if (!ptr)
        return count_malloc(size, ud);
    header *h = (header *)ptr - 1;
    size_t old = h->size;
    header *grown = realloc(h, sizeof *grown + size);
    if (!grown)
        return NULL;
    live = live - old + size;
    peak = live > peak ? live : peak;
    grown->size = size;
    return grown + 1;
}

/* ---- archives ---- */

typedef struct member {
    const char *path;
    const char *data; /* NULL: `size` bytes of filler */
    size_t size;
    const char *symlink; /* a symbolic link to this, instead */
} member;

static char *filler(size_t size, char first, char last)
{
    char *p = malloc(size ? size : 1);
    if (!p)
        return NULL;
    memset(p, ' ', size);
    if (size >= 2) {
        p[0] = first;
        p[size - 1] = last;
    }
    return p;
}

static void write_archive(const char *path, const member *ms, size_t n, int gzip)
{
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    if (gzip)
        archive_write_add_filter_gzip(a);
    if (!CHECK_EQ_INT(archive_write_open_filename(a, path), ARCHIVE_OK)) {
        archive_write_free(a);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, ms[i].path);
        archive_entry_set_perm(e, 0644);
        if (ms[i].symlink) {
            archive_entry_set_filetype(e, AE_IFLNK);
            archive_entry_set_symlink(e, ms[i].symlink);
            CHECK_EQ_INT(archive_write_header(a, e), ARCHIVE_OK);
        } else {
            size_t size = ms[i].data ? strlen(ms[i].data) : ms[i].size;
            char *fill = ms[i].data ? NULL : filler(size, '{', '}');
            archive_entry_set_filetype(e, AE_IFREG);
            archive_entry_set_size(e, (la_int64_t)size);
            CHECK_EQ_INT(archive_write_header(a, e), ARCHIVE_OK);
            if (size)
                CHECK(archive_write_data(a, ms[i].data ? ms[i].data : fill, size) ==
                      (la_ssize_t)size);
            free(fill);
        }
        archive_entry_free(e);
    }
    CHECK_EQ_INT(archive_write_close(a), ARCHIVE_OK);
    archive_write_free(a);
}

static char dir[64];

static const char *at(const char *name)
{
    static char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

/* ---- cases ---- */

/* index.json forty times over, 1 MiB each: one copy is kept (the first,
 * the one found), not forty. The old reader kept every one. */
static void test_repeated_top_name(void)
{
    enum { COPIES = 40, SIZE = 1 << 20 };
    static member ms[COPIES + 1];
    ms[0] = (member){.path = "index.json", .data = "{\"first\": true}"};
    for (size_t i = 1; i <= COPIES; i++)
        ms[i] = (member){.path = i % 2 ? "./index.json" : "x/../index.json", .size = SIZE};
    const char *path = at("repeated.tar.gz");
    write_archive(path, ms, COPIES + 1, 1);
    op_diag d = {0};
    op_tar *t = NULL;
    live = peak = 0;
    if (!CHECK_EQ_INT(op_tar_open(&t, &d, path), OCIPUSH_OK)) {
        fprintf(stderr, "%s\n", d.errmsg);
        return;
    }
    fprintf(stderr, "repeated index.json: peak %zu bytes allocated while listed\n", peak);
    CHECK(peak < 3 * SIZE); /* one member's copy at most, and the lists */
    const op_tar_member *m = op_tar_find(t, "index.json");
    if (CHECK(m != NULL) && CHECK(m->data != NULL))
        CHECK_EQ_STR(m->data, "{\"first\": true}");
    op_tar_free(t);
}

/* Sixteen 4 MiB JSON members spend the budget for kept ones; the small
 * manifest after them is not kept, but read whole when it is wanted. */
static void test_budget_spent(void)
{
    enum { BIG = 4 << 20 };
    static member ms[18];
    static char names[16][16];
    for (int i = 0; i < 16; i++) {
        snprintf(names[i], sizeof names[i], "sbom%d.json", i);
        ms[i] = (member){.path = names[i], .size = BIG};
    }
    ms[16] = (member){.path = "blobs/sha256/m", .data = "{\"schemaVersion\": 2}"};
    ms[17] = (member){.path = "padded", .data = "  \n{\"leading\": \"spaces\"}"};
    const char *path = at("budget.tar");
    write_archive(path, ms, 18, 0);
    op_diag d = {0};
    op_tar *t = NULL;
    op_buf out = {0};
    if (!CHECK_EQ_INT(op_tar_open(&t, &d, path), OCIPUSH_OK))
        return;
    const op_tar_member *m = op_tar_find(t, "./blobs/sha256/m");
    if (CHECK(m != NULL)) {
        CHECK(m->data == NULL); /* passed over by the budget */
        if (CHECK_EQ_INT(op_tar_read_small(t, m, OP_TAR_SMALL_MAX, &out, &d), OCIPUSH_OK))
            CHECK_EQ_STR(out.data, "{\"schemaVersion\": 2}");
    }
    m = op_tar_find(t, "padded");
    if (CHECK(m != NULL) &&
        CHECK_EQ_INT(op_tar_read_small(t, m, OP_TAR_SMALL_MAX, &out, &d), OCIPUSH_OK))
        CHECK_EQ_STR(out.data, "  \n{\"leading\": \"spaces\"}");
    /* Such reads read the archive again from its start: a few times over
     * in all, then refused (a hostile archive would make it hours). */
    m = op_tar_find(t, "blobs/sha256/m");
    int reads = 0, rc = 0;
    while (m && reads < 20 &&
           (rc = op_tar_read_small(t, m, OP_TAR_SMALL_MAX, &out, &d)) == OCIPUSH_OK)
        reads++;
    CHECK_EQ_INT(rc, OCIPUSH_E_INVALID);
    CHECK(reads >= 4 && reads < 20);
    CHECK(strstr(d.errmsg, "read again") != NULL);
    /* Over the cap asked for: refused, the member named. */
    m = op_tar_find(t, "sbom3.json");
    if (CHECK(m != NULL)) {
        CHECK_EQ_INT(op_tar_read_small(t, m, 1024, &out, &d), OCIPUSH_E_INVALID);
        CHECK(strstr(d.errmsg, "sbom3.json") != NULL);
    }
    op_buf_free(&out);
    op_tar_free(t);
}

/* Names through links, many members: each found, the first of a name. */
static void test_find(void)
{
    enum { N = 3000 };
    static member ms[N + 4];
    static char names[N][24];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "blobs/sha256/%05d", i);
        ms[i] = (member){.path = names[i], .data = names[i]};
    }
    ms[N] = (member){.path = "blobs/sha256/00007", .data = "second"};
    ms[N + 1] = (member){.path = "layer.tar", .symlink = "blobs/sha256/00042"};
    ms[N + 2] = (member){.path = "a/b", .symlink = "../layer.tar"};
    ms[N + 3] = (member){.path = "loop", .symlink = "loop"};
    const char *path = at("many.tar");
    write_archive(path, ms, N + 4, 0);
    op_diag d = {0};
    op_tar *t = NULL;
    if (!CHECK_EQ_INT(op_tar_open(&t, &d, path), OCIPUSH_OK))
        return;
    int found = 0;
    for (int i = 0; i < N; i++) {
        const op_tar_member *m = op_tar_find(t, names[i]);
        found += m && m->size == (int64_t)strlen(names[i]);
    }
    CHECK_EQ_INT(found, N);
    const op_tar_member *m = op_tar_find(t, "blobs/sha256/00007");
    CHECK(m && m->ordinal == 7);
    m = op_tar_find(t, "a/b");
    CHECK(m && m->ordinal == 42);
    CHECK(op_tar_find(t, "loop") == NULL);
    CHECK(op_tar_find(t, "blobs/sha256/99999") == NULL);
    op_tar_free(t);
}

/* A large member read from an archive that lost it since it was listed:
 * the read fails, and says which archive and which member. */
static void test_changed_archive(void)
{
    member big[2] = {{.path = "blobs/sha256/x", .data = "small"},
                     {.path = "blobs/sha256/big", .size = 5 << 20}};
    const char *path = at("changed.tar");
    write_archive(path, big, 2, 0);
    op_diag d = {0};
    op_tar *t = NULL;
    if (!CHECK_EQ_INT(op_tar_open(&t, &d, path), OCIPUSH_OK))
        return;
    const op_tar_member *m = op_tar_find(t, "blobs/sha256/big");
    write_archive(path, big, 1, 0); /* rewritten with one member */
    ocipush_source *src = NULL;
    if (CHECK(m != NULL) && CHECK_EQ_INT(op_tar_open_member(t, m, &src), OCIPUSH_OK)) {
        uint8_t buf[4096];
        size_t n = 0;
        CHECK(src->read(buf, sizeof buf, &n, src->user_data) != 0);
        const char *why = op_source_why(src);
        fprintf(stderr, "changed archive: %s\n", why);
        CHECK(strstr(why, path) != NULL);
        CHECK(strstr(why, "blobs/sha256/big") != NULL);
        CHECK(strstr(why, "changed") != NULL);
        ocipush_source_free(src);
    }
    op_tar_free(t);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/ocipush-tar-XXXXXX");
    if (!CHECK(mkdtemp(dir) != NULL))
        return check_done();
    if (!CHECK_EQ_INT(ocipush_set_allocator(count_malloc, count_realloc, count_free, NULL),
                      OCIPUSH_OK))
        return check_done();
    test_repeated_top_name();
    test_budget_spent();
    test_find();
    test_changed_archive();
    ocipush_set_allocator(NULL, NULL, NULL, NULL);
    const char *names[] = {"repeated.tar.gz", "budget.tar", "many.tar", "changed.tar"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        unlink(at(names[i]));
    rmdir(dir);
    return check_done();
}
