/* The source over a path. A regular file is examined when the source is
 * made, so that a missing or unreadable file fails there, but it is held
 * open only while a push reads it (from the first read until the push is
 * done with the blob), so that an artifact of a hundred files does not keep
 * a hundred descriptors open. When it is opened again it must still be the
 * file that was examined, of the same size, else the push fails rather than
 * send another file's bytes under the size already declared. Anything else
 * (a FIFO, a device) is opened now and read as a stream (source_fd.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "buf.h"
#include "file.h"
#include "ocipush.h"
#include "source.h"

typedef struct file_source {
    char *path;
    int fd; /* -1 while closed */
    dev_t dev;
    ino_t ino;
    off_t size;
    ocipush_source *src; /* its file_fd follows fd, for the hashing thread */
    char why[512];       /* the last failure to open, for the message */
} file_source;

static int open_failed(file_source *f, int code, const char *reason, const char **why)
{
    snprintf(f->why, sizeof f->why, "%.400s: %s", f->path, reason);
    *why = f->why;
    return code;
}

static int file_open(void *ud, const char **why)
{
    file_source *f = ud;
    struct stat st;
    if (f->fd >= 0)
        return 0;
    /* Never waited on: what is at the path now may be a FIFO. */
    int fd = op_file_open_regular(f->path, &st);
    if (fd == OP_FILE_NOT_REGULAR)
        return open_failed(f, OCIPUSH_E_SOURCE, "the path no longer names a regular file", why);
    if (fd < 0)
        return open_failed(f, OCIPUSH_E_IO, strerror(errno), why);
    int rc = 0;
    if (st.st_dev != f->dev || st.st_ino != f->ino)
        rc = open_failed(f, OCIPUSH_E_SOURCE, "the path names another file than when it was given",
                         why);
    else if (st.st_size != f->size)
        rc = open_failed(f, OCIPUSH_E_SOURCE, "the file's size changed since it was given", why);
    if (rc) {
        close(fd);
        return rc;
    }
    f->fd = fd;
    f->src->file_fd = fd;
    return 0;
}

static int file_read(uint8_t *buf, size_t cap, size_t *out_len, void *ud)
{
    file_source *f = ud;
    const char *why = NULL;
    if (f->fd < 0 && file_open(f, &why))
        return EIO;
    return op_source_fd_read(f->fd, buf, cap, out_len);
}

/* Closed, the next read opens it at its start: nothing to do. */
static int file_rewind(void *ud)
{
    file_source *f = ud;
    if (f->fd < 0)
        return 0;
    return lseek(f->fd, 0, SEEK_SET) == 0 ? 0 : (errno ? errno : EIO);
}

static void file_release(void *ud)
{
    file_source *f = ud;
    if (f->fd < 0)
        return;
    close(f->fd);
    f->fd = -1;
    f->src->file_fd = -1;
}

static void file_close(void *ud)
{
    file_source *f = ud;
    if (f->src)
        file_release(f);
    else if (f->fd >= 0)
        close(f->fd);
    op_free(f->path);
    op_free(f);
}

/* Not a regular file: opened now, for good, and read as a stream. */
static int new_stream(ocipush_source **out, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return OCIPUSH_E_IO;
    return ocipush_source_new_fd(out, fd, 1);
}

int ocipush_source_new_file(ocipush_source **out, const char *path)
{
    struct stat st;
    if (!out || !path || !*path)
        return OCIPUSH_E_INVALID;
    if (stat(path, &st) != 0)
        return OCIPUSH_E_IO;
    if (S_ISDIR(st.st_mode)) {
        errno = EISDIR;
        return OCIPUSH_E_IO;
    }
    if (!S_ISREG(st.st_mode))
        return new_stream(out, path);
    /* Opened and closed at once: a file that cannot be read fails here.
     * O_NONBLOCK in case the path became a FIFO since the stat. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return OCIPUSH_E_IO;
    int examined = fstat(fd, &st) == 0;
    int saved = errno;
    close(fd);
    errno = saved;
    if (!examined)
        return OCIPUSH_E_IO;
    if (!S_ISREG(st.st_mode))
        return new_stream(out, path);
    return op_source_new_examined_file(out, path, &st);
}

int op_source_new_examined_file(ocipush_source **out, const char *path, const struct stat *st)
{
    file_source *f = op_calloc(1, sizeof *f);
    if (!f || !(f->path = op_strdup(path))) {
        op_free(f);
        return OCIPUSH_E_NOMEM;
    }
    f->fd = -1;
    f->dev = st->st_dev;
    f->ino = st->st_ino;
    f->size = st->st_size;
    int rc = ocipush_source_new_callback(out, file_read, file_rewind, file_close,
                                         (int64_t)st->st_size, f);
    if (rc)
        return rc;
    f->src = *out;
    (*out)->file_start = 0;
    (*out)->open = file_open;
    (*out)->release = file_release;
    return 0;
}
