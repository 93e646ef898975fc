/* ocipush_source_new_tar_dir alone (tests/test_dirlayer.sh checks the tar
 * with python's tarfile, through a registry): the bytes replay identically
 * after a rewind and from another source over the same tree; a tree that
 * cannot be a layer fails the read with the path named, and through a push
 * the session's message says it; the refusals. Trees under /tmp. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "check.h"
#include "ocipush.h"
#include "source.h"

static char root[64];

static void put(const char *rel, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    FILE *f = fopen(path, "wb");
    for (size_t i = 0; f && i < len; i++)
        fputc((int)((i * 2654435761u) >> 13) & 0xff, f);
    if (!CHECK(f != NULL && fclose(f) == 0))
        fprintf(stderr, "cannot write %s\n", path);
}

static void dir(const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    CHECK_EQ_INT(mkdir(path, 0755), 0);
}

/* Read to the end, `cap` bytes at a time at most. 0, or the read's code. */
static int read_all(ocipush_source *src, op_buf *out, size_t cap)
{
    uint8_t buf[70000];
    size_t n = 0;
    op_buf_reset(out);
    do {
        int rc = src->read(buf, cap, &n, src->user_data);
        if (rc)
            return rc;
        if (op_buf_append(out, buf, n))
            return -1;
    } while (n > 0);
    return 0;
}

static void tree(void)
{
    dir("b");
    put("b/x", 200000);
    put("a.txt", 10);
    dir("a");
    put("a/c", 0);
    dir("empty");
    put("with space", 3);
    char path[512];
    snprintf(path, sizeof path, "%s/link", root);
    CHECK_EQ_INT(symlink("a.txt", path), 0);
    dir("a-directory-with-a-rather-long-name-that-goes-on-and-on");
    put("a-directory-with-a-rather-long-name-that-goes-on-and-on/"
        "and-a-file-whose-name-makes-the-path-longer-than-one-hundred-bytes",
        5);
}

static void test_replays(void)
{
    ocipush_source *src = NULL, *again = NULL;
    op_buf one = {0}, two = {0}, three = {0};
    if (!CHECK_EQ_INT(ocipush_source_new_tar_dir(&src, root, 0, 1700000000), OCIPUSH_OK))
        return;
    CHECK(ocipush_source_size(src) == -1);
    CHECK(src->rewind != NULL);
    if (CHECK_EQ_INT(read_all(src, &one, 70000), 0)) {
        /* Whole blocks, ending with two zero blocks. */
        CHECK_EQ_INT((long long)(one.len % 512), 0);
        CHECK(one.len > 200000 + 1024);
        static const uint8_t zeros[1024];
        CHECK(memcmp(one.data + one.len - 1024, zeros, sizeof zeros) == 0);
        CHECK(memcmp(one.data, "a/", 3) == 0); /* the first entry, sorted */
        CHECK(memcmp(one.data + 257, "ustar", 5) == 0);
    }
    /* Rewound part-way, read in odd sizes: the same bytes. */
    uint8_t head[1000];
    size_t n = 0;
    CHECK_EQ_INT(src->rewind(src->user_data), 0);
    CHECK_EQ_INT(src->read(head, sizeof head, &n, src->user_data), 0);
    CHECK_EQ_INT(src->rewind(src->user_data), 0);
    if (CHECK_EQ_INT(read_all(src, &two, 7777), 0))
        CHECK(two.len == one.len && memcmp(one.data, two.data, one.len) == 0);
    /* Another source over the same tree, the same mtime: the same bytes. */
    if (CHECK_EQ_INT(ocipush_source_new_tar_dir(&again, root, 0, 1700000000), OCIPUSH_OK) &&
        CHECK_EQ_INT(read_all(again, &three, 512), 0))
        CHECK(three.len == one.len && memcmp(one.data, three.data, one.len) == 0);
    ocipush_source_free(again);
    /* The directory given with a trailing '/': the same paths. */
    char slashed[80];
    snprintf(slashed, sizeof slashed, "%s//", root);
    if (CHECK_EQ_INT(ocipush_source_new_tar_dir(&again, slashed, 0, 1700000000), OCIPUSH_OK) &&
        CHECK_EQ_INT(read_all(again, &three, 65536), 0))
        CHECK(three.len == one.len && memcmp(one.data, three.data, one.len) == 0);
    ocipush_source_free(again);
    ocipush_source_free(src);
    op_buf_free(&one);
    op_buf_free(&two);
    op_buf_free(&three);
}

static void test_refusals(void)
{
    ocipush_source *src = (ocipush_source *)&src;
    char file[128];
    snprintf(file, sizeof file, "%s/a.txt", root);
    CHECK_EQ_INT(ocipush_source_new_tar_dir(NULL, root, 0, -1), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_source_new_tar_dir(&src, NULL, 0, -1), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_source_new_tar_dir(&src, "", 0, -1), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_source_new_tar_dir(&src, root, 2, -1), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_source_new_tar_dir(&src, file, 0, -1), OCIPUSH_E_INVALID);
    errno = 0;
    CHECK_EQ_INT(ocipush_source_new_tar_dir(&src, "/nonexistent/ocipush", 0, -1), OCIPUSH_E_IO);
    CHECK_EQ_INT(errno, ENOENT);
}

/* A tree with `special` in it fails the read, the path named. */
static void refused(const char *name, const char *kind)
{
    ocipush_source *src = NULL;
    op_buf out = {0};
    char want[256];
    snprintf(want, sizeof want, "%s/%s is %s: a tar layer holds only", root, name, kind);
    if (!CHECK_EQ_INT(ocipush_source_new_tar_dir(&src, root, 0, -1), OCIPUSH_OK))
        return;
    CHECK(read_all(src, &out, 65536) != 0);
    if (!CHECK(strstr(op_source_why(src), want) != NULL))
        fprintf(stderr, "why: %s\n", op_source_why(src));
    /* Through the compressed source, and a push into a layout: the
     * session's message says it, and nothing is tagged. */
    ocipush_source *gz = NULL;
    ocipush_session *s = NULL;
    ocipush_push *p = NULL;
    char layout[128], digest[OCIPUSH_DIGEST_MAX];
    snprintf(layout, sizeof layout, "%s-layout", root);
    CHECK_EQ_INT(src->rewind(src->user_data), 0);
    int made = CHECK_EQ_INT(ocipush_source_new_compressed(&gz, src, OCIPUSH_COMPRESS_GZIP, -1), 0);
    src = NULL; /* gz's now, or freed */
    if (made && CHECK_EQ_INT(ocipush_session_new_layout(&s, layout), 0) &&
        CHECK_EQ_INT(ocipush_push_new(&p), 0) &&
        CHECK_EQ_INT(ocipush_push_add_layer(p, gz, NULL, "tree"), 0) &&
        CHECK_EQ_INT(ocipush_push_add_tag(p, "t"), 0)) {
        CHECK_EQ_INT(ocipush_push_run(s, p, digest, "dir"), OCIPUSH_E_SOURCE);
        if (!CHECK(strstr(ocipush_session_errmsg(s), want) != NULL))
            fprintf(stderr, "errmsg: %s\n", ocipush_session_errmsg(s));
        char index[200];
        snprintf(index, sizeof index, "%s/index.json", layout);
        op_buf text = {0};
        FILE *f = fopen(index, "rb");
        char chunk[4096];
        size_t got;
        while (f && (got = fread(chunk, 1, sizeof chunk, f)) > 0)
            op_buf_append(&text, chunk, got);
        if (f)
            fclose(f);
        CHECK(!text.data || !strstr(text.data, "\"t\""));
        op_buf_free(&text);
    }
    ocipush_push_free(p);
    ocipush_session_free(s);
    ocipush_source_free(gz);
    op_buf_free(&out);
}

static void test_specials(void)
{
    char path[256];
    snprintf(path, sizeof path, "%s/b/fifo", root);
    if (CHECK_EQ_INT(mkfifo(path, 0644), 0)) {
        refused("b/fifo", "a FIFO");
        unlink(path);
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s/sock", root);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (CHECK(fd >= 0) && CHECK_EQ_INT(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0)) {
        refused("sock", "a socket");
        unlink(sa.sun_path);
    }
    if (fd >= 0)
        close(fd);
}

/* A file whose size changes after its header went out: the read fails
 * (libarchive would pad or cut it silently: a tar that lies). The tree is
 * one file of 100000 bytes: its header is the first 512 bytes, and the next
 * read takes its first 64 KiB piece from the file. */
static void changed(int grow)
{
    char one[80], path[128];
    snprintf(one, sizeof one, "%s-one", root);
    snprintf(path, sizeof path, "%s/f", one);
    mkdir(one, 0755);
    FILE *f = fopen(path, "wb");
    for (int i = 0; f && i < 100000; i++)
        fputc('x', f);
    if (!CHECK(f && fclose(f) == 0))
        return;
    ocipush_source *src = NULL;
    uint8_t buf[512];
    size_t n = 0;
    if (!CHECK_EQ_INT(ocipush_source_new_tar_dir(&src, one, 0, -1), OCIPUSH_OK))
        return;
    CHECK_EQ_INT(src->read(buf, sizeof buf, &n, src->user_data), 0);
    CHECK_EQ_INT(src->read(buf, sizeof buf, &n, src->user_data), 0);
    if (grow) {
        f = fopen(path, "ab");
        CHECK(f && fputs("more", f) >= 0 && fclose(f) == 0);
    } else {
        CHECK_EQ_INT(truncate(path, 10), 0);
    }
    int rc = 0;
    for (int i = 0; i < 1000 && rc == 0; i++)
        rc = src->read(buf, sizeof buf, &n, src->user_data);
    CHECK(rc != 0);
    char want[200];
    snprintf(want, sizeof want, "%s: the file %s while it was read", path,
             grow ? "grew" : "shrank");
    if (!CHECK(strstr(op_source_why(src), want) != NULL))
        fprintf(stderr, "why: %s\n", op_source_why(src));
    /* It keeps failing; a rewind starts again, and the file as it is now
     * reads whole. */
    CHECK(src->read(buf, sizeof buf, &n, src->user_data) != 0);
    CHECK_EQ_INT(src->rewind(src->user_data), 0);
    op_buf all = {0};
    CHECK_EQ_INT(read_all(src, &all, 4096), 0);
    op_buf_free(&all);
    ocipush_source_free(src);
    unlink(path);
    rmdir(one);
}

int main(void)
{
    snprintf(root, sizeof root, "/tmp/ocipush-tar-dir-XXXXXX");
    if (!CHECK(mkdtemp(root) != NULL))
        return check_done();
    tree();
    test_replays();
    test_refusals();
    test_specials();
    changed(0);
    changed(1);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s-layout'", root, root);
    CHECK_EQ_INT(system(cmd), 0);
    return check_done();
}
