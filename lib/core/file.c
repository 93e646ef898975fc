/* Opening a file by name to read it, reading a small one whole, and
 * replacing one whole. */
/* mkostemp (POSIX.1-2024; glibc declares it for _GNU_SOURCE). */
#define _GNU_SOURCE
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "ocipush.h"

int op_file_open_regular(const char *path, struct stat *st)
{
    int fd;
    do
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return errno == ENOENT ? OP_FILE_ABSENT : OP_FILE_ERROR;
    int rc = 0, flags;
    if (fstat(fd, st) != 0) {
        rc = OP_FILE_ERROR;
    } else if (!S_ISREG(st->st_mode)) {
        errno = S_ISDIR(st->st_mode) ? EISDIR : EINVAL;
        rc = OP_FILE_NOT_REGULAR;
    } else if ((flags = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
        rc = OP_FILE_ERROR;
    }
    if (!rc)
        return fd;
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

/* The block resized to `size` bytes, its first `len` kept: a realloc, or
 * for a secret a move, the old block wiped. */
static int resize(char **data, size_t *size, size_t len, size_t want, int secret)
{
    char *p = secret ? op_malloc(want) : op_realloc(*data, want);
    if (!p)
        return -1;
    if (secret) {
        if (len)
            memcpy(p, *data, len);
        op_free_secret(*data, *size);
    }
    *data = p;
    *size = want;
    return 0;
}

int op_file_read_whole(const char *path, size_t cap, int secret, char **out_data, size_t *out_len,
                       int *out_absent, char why[OP_FILE_WHY_SIZE])
{
    *out_data = NULL;
    *out_len = 0;
    *out_absent = 0;
    why[0] = '\0';
    struct stat st;
    int fd = op_file_open_regular(path, &st);
    if (fd == OP_FILE_ABSENT) {
        *out_absent = 1;
        return 0;
    }
    if (fd == OP_FILE_NOT_REGULAR) {
        snprintf(why, OP_FILE_WHY_SIZE, "not a regular file");
        return OCIPUSH_E_IO;
    }
    if (fd < 0) {
        snprintf(why, OP_FILE_WHY_SIZE, "%s", strerror(errno));
        return OCIPUSH_E_IO;
    }
    if (cap > SIZE_MAX / 2 - 2)
        cap = SIZE_MAX / 2 - 2;
    char *data = NULL;
    size_t size = 0, len = 0;
    int rc = 0;
    if (st.st_size < 0 || (uintmax_t)st.st_size > cap) {
        snprintf(why, OP_FILE_WHY_SIZE, "it has %jd bytes, more than the %zu ocipush reads",
                 (intmax_t)st.st_size, cap);
        errno = EFBIG;
        rc = OCIPUSH_E_IO;
    } else if (resize(&data, &size, 0, (size_t)st.st_size + 2, secret)) {
        /* Sized from fstat, with a byte for the NUL and one more for the
         * read that finds the end, so that it is read in one piece. */
        rc = OCIPUSH_E_NOMEM;
    }
    while (!rc) {
        if (len > cap) { /* it grew while read */
            snprintf(why, OP_FILE_WHY_SIZE, "it grew past %zu bytes", cap);
            errno = EFBIG;
            rc = OCIPUSH_E_IO;
            break;
        }
        if (len + 1 == size &&
            resize(&data, &size, len, size <= (cap + 2) / 2 ? size * 2 : cap + 2, secret)) {
            rc = OCIPUSH_E_NOMEM;
            break;
        }
        size_t room = size - 1 - len; /* at most cap + 1 - len: size <= cap + 2 */
        ssize_t n = read(fd, data + len, room);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(why, OP_FILE_WHY_SIZE, "%s", strerror(errno));
            rc = OCIPUSH_E_IO;
        } else if (n == 0) {
            break;
        } else {
            len += (size_t)n;
        }
    }
    if (rc == OCIPUSH_E_NOMEM) {
        snprintf(why, OP_FILE_WHY_SIZE, "out of memory");
        errno = ENOMEM;
    }
    int saved = errno;
    close(fd);
    errno = saved;
    if (rc) {
        if (secret)
            op_free_secret(data, size);
        else
            op_free(data);
        return rc;
    }
    data[len] = '\0';
    *out_data = data;
    *out_len = len;
    return 0;
}

int op_file_write_all(int fd, const void *data, size_t len)
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

int op_file_temp_open(op_buf *path, const char *template, int *fd)
{
    *fd = -1;
    if (op_buf_puts(path, template))
        return OCIPUSH_E_NOMEM;
    *fd = mkostemp(path->data, O_CLOEXEC);
    return *fd < 0 ? OCIPUSH_E_IO : 0;
}

int op_file_publish(int fd, const char *temp, const char *final, mode_t mode)
{
    int bad = fchmod(fd, mode) != 0 || fsync(fd) != 0;
    bad |= close(fd) != 0;
    if (!bad && rename(temp, final) == 0)
        return 0;
    int saved = errno;
    unlink(temp);
    errno = saved;
    return -1;
}

int op_file_replace(const char *final, const char *template, mode_t mode, const void *data,
                    size_t len)
{
    op_buf temp = {0};
    int fd;
    int rc = op_file_temp_open(&temp, template, &fd);
    if (!rc && op_file_write_all(fd, data, len)) {
        int saved = errno;
        close(fd);
        unlink(temp.data);
        errno = saved;
        rc = OCIPUSH_E_IO;
    } else if (!rc && op_file_publish(fd, temp.data, final, mode)) {
        rc = OCIPUSH_E_IO;
    }
    int saved = errno;
    op_buf_free(&temp);
    errno = saved;
    return rc;
}
