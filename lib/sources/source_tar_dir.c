/* A source whose bytes are a directory packed as a tar (libarchive's pax
 * writer), made as it is read: libarchive writes into a buffer through the
 * callbacks of archive_write_open, and each read that finds the buffer
 * empty writes the next piece (a header, up to 64 KiB of a file, the end of
 * the archive). No temporary tar, and no more memory than a piece, the path
 * and the sorted names of the directories being walked.
 *
 * The same tree gives the same bytes, so a rewind (a new walk) replays them:
 * names sorted bytewise at every level, no atime or ctime, mtime in whole
 * seconds, owner 0:0 without names unless asked, no blocking (the archive
 * ends with its two zero blocks, as Go's archive/tar writes them), and the
 * headers' names written as UTF-8 whatever the host program's locale is
 * (libarchive converts names from the locale's charset: the walk runs in
 * C.UTF-8 through uselocale, which touches this thread only). Built on the
 * public callback interface, as the other built-in sources are. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <locale.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>

#include <archive.h>
#include <archive_entry.h>

#include "alloc.h"
#include "buf.h"
#include "source.h"

#define PIECE (64 * 1024)

enum { WALK_NEW, WALK_ENTRIES, WALK_DATA, WALK_DONE, WALK_FAILED };

/* A directory being walked: its sorted names, where its entries' names
 * start in the path, and the directory itself, open: its entries are
 * examined and opened relative to it (fstatat, openat), never through the
 * path, so a directory above swapped for a symbolic link while the tree is
 * read cannot lead the walk out of it. */
typedef struct level {
    char **names;
    size_t count, next;
    size_t prefix; /* length of the path up to and with the '/' after this directory */
    int dfd;       /* -1 once freed */
} level;

typedef struct tar_dir {
    char *root; /* as given, trailing '/'s removed */
    int flags;
    int64_t mtime;
    locale_t utf8; /* (locale_t)0 when the system has no C.UTF-8: names as bytes */
    int state;
    struct archive *a;
    struct archive_entry *entry;
    op_buf path; /* root "/" the entry's path relative to it */
    size_t rel;  /* where the relative path starts in it */
    level *levels;
    size_t depth, levels_cap;
    /* What libarchive wrote and a read has not taken yet. */
    uint8_t *out;
    size_t out_len, out_pos, out_cap;
    int out_nomem;
    /* The regular file whose data is going out. */
    int fd;
    int64_t size, remaining;
    /* The last owner names looked up (OCIPUSH_TAR_PRESERVE_OWNER). */
    uid_t uid;
    gid_t gid;
    int uid_known, gid_known;
    char uname[64], gname[64];
    char why[1024];
    uint8_t piece[PIECE];
} tar_dir;

static la_ssize_t on_write(struct archive *a, void *user_data, const void *data, size_t len)
{
    (void)a;
    tar_dir *t = user_data;
    if (t->out_len + len > t->out_cap) {
        size_t cap = t->out_cap ? t->out_cap : 16 * 1024;
        while (cap < t->out_len + len)
            cap *= 2;
        uint8_t *grown = op_realloc(t->out, cap);
        if (!grown) {
            t->out_nomem = 1;
            return -1;
        }
        t->out = grown;
        t->out_cap = cap;
    }
    memcpy(t->out + t->out_len, data, len);
    t->out_len += len;
    return (la_ssize_t)len;
}

/* The walk fails: the message names the path, then what is wrong. */
static int walk_failed(tar_dir *t, const char *what)
{
    const char *path = t->path.data ? t->path.data : t->root;
    snprintf(t->why, sizeof t->why, "%.800s: %s", path, what);
    t->state = WALK_FAILED;
    return -1;
}

static int archive_failed(tar_dir *t, const char *doing)
{
    char what[200];
    const char *err = t->out_nomem ? "out of memory" : archive_error_string(t->a);
    snprintf(what, sizeof what, "%s: %.150s", doing, err ? err : "libarchive failed");
    return walk_failed(t, what);
}

static void free_level(level *l)
{
    for (size_t i = 0; i < l->count; i++)
        op_free(l->names[i]);
    op_free(l->names);
    if (l->dfd >= 0)
        close(l->dfd);
    memset(l, 0, sizeof *l);
    l->dfd = -1;
}

/* Back to before the first read: nothing open, nothing held but buffers. */
static void walk_reset(tar_dir *t)
{
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
    while (t->depth)
        free_level(&t->levels[--t->depth]);
    if (t->a)
        archive_write_free(t->a); /* the archive is unfinished: nothing more is written */
    t->a = NULL;
    t->out_len = t->out_pos = 0;
    t->out_nomem = 0;
    t->why[0] = '\0';
    t->state = WALK_NEW;
}

static int by_bytes(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The path is a directory's (t->path): list it, sorted, as a new level.
 * The root may be a symbolic link to a directory (it was given as one);
 * below it, the directory `name` of the open directory `parent`, and one
 * that became a link since its fstatat is refused. */
static int push_level(tar_dir *t, int parent, const char *name)
{
    if (t->depth == t->levels_cap) {
        size_t cap = t->levels_cap ? t->levels_cap * 2 : 16;
        level *grown = op_realloc(t->levels, cap * sizeof *grown);
        if (!grown)
            return walk_failed(t, "out of memory listing the directory");
        t->levels = grown;
        t->levels_cap = cap;
    }
    int dfd = name ? openat(parent, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)
                   : open(t->path.data, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int fd = dfd >= 0 ? fcntl(dfd, F_DUPFD_CLOEXEC, 0) : -1; /* closedir closes it */
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        if (dfd >= 0)
            close(dfd);
        return walk_failed(t, strerror(err));
    }
    level l = {.dfd = dfd};
    size_t cap = 0;
    struct dirent *de;
    int rc = 0;
    errno = 0;
    while (rc == 0 && (de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (l.count == cap) {
            cap = cap ? cap * 2 : 16;
            char **grown = op_realloc(l.names, cap * sizeof *grown);
            if (!grown) {
                rc = walk_failed(t, "out of memory listing the directory");
                break;
            }
            l.names = grown;
        }
        if (!(l.names[l.count] = op_strdup(de->d_name))) {
            rc = walk_failed(t, "out of memory listing the directory");
            break;
        }
        l.count++;
        errno = 0;
    }
    if (rc == 0 && errno)
        rc = walk_failed(t, strerror(errno));
    closedir(d);
    if (rc) {
        free_level(&l);
        return rc;
    }
    if (l.count > 1)
        qsort(l.names, l.count, sizeof *l.names, by_bytes);
    if (op_buf_puts(&t->path, "/")) {
        free_level(&l);
        return walk_failed(t, "out of memory");
    }
    l.prefix = t->path.len;
    t->levels[t->depth++] = l;
    return 0;
}

static int walk_start(tar_dir *t)
{
    op_buf_reset(&t->path);
    if (op_buf_puts(&t->path, t->root))
        return walk_failed(t, "out of memory");
    t->rel = t->path.len + 1;
    if (!(t->a = archive_write_new()) || !(t->entry || (t->entry = archive_entry_new())))
        return walk_failed(t, "out of memory starting the tar");
    /* Restricted pax: plain ustar headers, and a pax header only for what
     * ustar cannot hold (a long name or link, a large number, a name that
     * is not ASCII). No blocking: each write goes out as it is. Without a
     * UTF-8 locale the names are written as they are, marked BINARY. */
    if (archive_write_set_format_pax_restricted(t->a) != ARCHIVE_OK ||
        archive_write_set_bytes_per_block(t->a, 0) != ARCHIVE_OK ||
        (!t->utf8 &&
         archive_write_set_format_option(t->a, "pax", "hdrcharset", "BINARY") != ARCHIVE_OK) ||
        archive_write_open(t->a, t, NULL, on_write, NULL) != ARCHIVE_OK)
        return archive_failed(t, "starting the tar");
    t->state = WALK_ENTRIES;
    return push_level(t, -1, NULL);
}

static const char *special_kind(mode_t mode)
{
    if (S_ISSOCK(mode))
        return "a socket";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    return "of an unknown type";
}

/* The owner's names, looked up once for a run of entries of the same owner;
 * none when the system does not know them. */
static void set_owner_names(tar_dir *t, const struct stat *st)
{
    char buf[4096];
    if (!t->uid_known || t->uid != st->st_uid) {
        struct passwd pw, *found = NULL;
        t->uname[0] = '\0';
        if (getpwuid_r(st->st_uid, &pw, buf, sizeof buf, &found) == 0 && found &&
            strlen(pw.pw_name) < sizeof t->uname)
            strcpy(t->uname, pw.pw_name);
        t->uid = st->st_uid;
        t->uid_known = 1;
    }
    if (!t->gid_known || t->gid != st->st_gid) {
        struct group gr, *found = NULL;
        t->gname[0] = '\0';
        if (getgrgid_r(st->st_gid, &gr, buf, sizeof buf, &found) == 0 && found &&
            strlen(gr.gr_name) < sizeof t->gname)
            strcpy(t->gname, gr.gr_name);
        t->gid = st->st_gid;
        t->gid_known = 1;
    }
    if (t->uname[0])
        archive_entry_copy_uname(t->entry, t->uname);
    if (t->gname[0])
        archive_entry_copy_gname(t->entry, t->gname);
}

/* The symbolic link's target, into t->piece (NUL-terminated). */
static int read_link(tar_dir *t, int dfd, const char *name)
{
    ssize_t n = readlinkat(dfd, name, (char *)t->piece, sizeof t->piece);
    if (n < 0)
        return walk_failed(t, strerror(errno));
    if ((size_t)n >= sizeof t->piece)
        return walk_failed(t, "the symbolic link's target is too long");
    t->piece[n] = '\0';
    return 0;
}

/* A regular file: opened without following a link (what was a file at the
 * lstat may be a link or a FIFO by now), its size taken from the open file. */
static int open_file(tar_dir *t, int dfd, const char *name, struct stat *st)
{
    struct stat was = *st;
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return walk_failed(t, strerror(errno));
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) || st->st_dev != was.st_dev ||
        st->st_ino != was.st_ino) {
        close(fd);
        return walk_failed(t, "it changed while the directory was read");
    }
    t->fd = fd;
    t->size = t->remaining = st->st_size;
    return 0;
}

/* The next name of the current directory: its header, and for a directory
 * its level. */
static int next_entry(tar_dir *t, level *l)
{
    const char *name = l->names[l->next++];
    struct stat st;
    t->path.len = l->prefix;
    t->path.data[t->path.len] = '\0';
    if (op_buf_puts(&t->path, name))
        return walk_failed(t, "out of memory");
    if (fstatat(l->dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return walk_failed(t, strerror(errno));
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode)) {
        snprintf(t->why, sizeof t->why,
                 "%.900s is %s: a tar layer holds only regular files, directories and symbolic "
                 "links",
                 t->path.data, special_kind(st.st_mode));
        t->state = WALK_FAILED;
        return -1;
    }
    if (S_ISREG(st.st_mode) && open_file(t, l->dfd, name, &st))
        return -1;
    if (S_ISLNK(st.st_mode) && read_link(t, l->dfd, name))
        return -1;
    struct archive_entry *e = t->entry;
    archive_entry_clear(e);
    archive_entry_copy_pathname(e, t->path.data + t->rel);
    archive_entry_set_filetype(e, st.st_mode & S_IFMT);
    archive_entry_set_perm(e, st.st_mode & 07777);
    archive_entry_set_mtime(e, t->mtime >= 0 ? t->mtime : st.st_mtime, 0);
    if (t->flags & OCIPUSH_TAR_PRESERVE_OWNER) {
        archive_entry_set_uid(e, st.st_uid);
        archive_entry_set_gid(e, st.st_gid);
        set_owner_names(t, &st);
    }
    archive_entry_set_size(e, S_ISREG(st.st_mode) ? t->size : 0);
    if (S_ISLNK(st.st_mode))
        archive_entry_copy_symlink(e, (const char *)t->piece);
    if (archive_write_header(t->a, e) < ARCHIVE_WARN) /* WARN: a name kept as bytes */
        return archive_failed(t, "writing a tar header");
    if (S_ISREG(st.st_mode))
        t->state = WALK_DATA;
    else if (S_ISDIR(st.st_mode))
        return push_level(t, l->dfd, name); /* may move t->levels: l is not used after */
    return 0;
}

/* The next piece of the regular file, and after its last one the check
 * that it did not grow: a tar whose header says another size than its
 * data is corrupt, so a file that changed fails the read. */
static int next_data(tar_dir *t)
{
    size_t want = t->remaining < PIECE ? (size_t)t->remaining : PIECE;
    ssize_t n;
    do
        n = read(t->fd, t->piece, want ? want : 1);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return walk_failed(t, strerror(errno));
    if (want == 0) {
        if (n > 0)
            return walk_failed(t, "the file grew while it was read");
        close(t->fd);
        t->fd = -1;
        if (archive_write_finish_entry(t->a) != ARCHIVE_OK)
            return archive_failed(t, "padding a file's data");
        t->state = WALK_ENTRIES;
        return 0;
    }
    if (n == 0)
        return walk_failed(t, "the file shrank while it was read");
    if (archive_write_data(t->a, t->piece, (size_t)n) != n)
        return archive_failed(t, "writing a file's data");
    t->remaining -= n;
    return 0;
}

/* One step of the walk: what it writes lands in t->out. */
static int walk_step(tar_dir *t)
{
    if (t->state == WALK_NEW)
        return walk_start(t);
    if (t->state == WALK_DATA)
        return next_data(t);
    level *l = &t->levels[t->depth - 1];
    if (l->next < l->count)
        return next_entry(t, l);
    free_level(l);
    if (--t->depth)
        return 0;
    if (archive_write_close(t->a) != ARCHIVE_OK)
        return archive_failed(t, "ending the tar");
    t->state = WALK_DONE;
    return 0;
}

static int tar_dir_read(uint8_t *buffer, size_t capacity, size_t *out_len, void *user_data)
{
    tar_dir *t = user_data;
    *out_len = 0;
    locale_t was = t->utf8 ? uselocale(t->utf8) : (locale_t)0;
    while (t->out_pos == t->out_len && t->state != WALK_DONE && t->state != WALK_FAILED) {
        t->out_len = t->out_pos = 0;
        walk_step(t);
    }
    if (was)
        uselocale(was);
    if (t->state == WALK_FAILED)
        return EIO;
    size_t n = t->out_len - t->out_pos;
    if (n > capacity)
        n = capacity;
    if (n)
        memcpy(buffer, t->out + t->out_pos, n);
    t->out_pos += n;
    *out_len = n;
    return 0;
}

static int tar_dir_rewind(void *user_data)
{
    walk_reset(user_data);
    return 0;
}

static const char *tar_dir_why(void *user_data)
{
    tar_dir *t = user_data;
    return t->state == WALK_FAILED ? t->why : "";
}

static void tar_dir_close(void *user_data)
{
    tar_dir *t = user_data;
    walk_reset(t);
    if (t->entry)
        archive_entry_free(t->entry);
    if (t->utf8)
        freelocale(t->utf8);
    op_buf_free(&t->path);
    op_free(t->levels);
    op_free(t->out);
    op_free(t->root);
    op_free(t);
}

int ocipush_source_new_tar_dir(ocipush_source **out, const char *dir, int flags, int64_t mtime)
{
    struct stat st;
    if (!out || !dir || !*dir || (flags & ~OCIPUSH_TAR_PRESERVE_OWNER))
        return OCIPUSH_E_INVALID;
    if (stat(dir, &st) != 0)
        return OCIPUSH_E_IO;
    if (!S_ISDIR(st.st_mode))
        return OCIPUSH_E_INVALID;
    /* Opened and closed at once: a directory that cannot be listed fails
     * here; it is walked only when the source is read. */
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return OCIPUSH_E_IO;
    close(fd);
    tar_dir *t = op_calloc(1, sizeof *t);
    if (!t)
        return OCIPUSH_E_NOMEM;
    t->fd = -1;
    t->flags = flags;
    t->mtime = mtime;
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/')
        len--;
    t->root = op_strndup(dir, len);
    if (!t->root) {
        op_free(t);
        return OCIPUSH_E_NOMEM;
    }
    t->utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    int rc = ocipush_source_new_callback(out, tar_dir_read, tar_dir_rewind, tar_dir_close, -1, t);
    if (rc == OCIPUSH_OK)
        (*out)->why = tar_dir_why;
    return rc;
}
