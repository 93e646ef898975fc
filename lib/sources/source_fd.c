/* The source over an open descriptor. A regular file is rewindable with a
 * known size; anything else is read as a stream. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "ocipush.h"
#include "source.h"

typedef struct fd_source {
    int fd;
    int owned;
    off_t start; /* where reading began, for rewind */
} fd_source;

int op_source_fd_read(int fd, uint8_t *buf, size_t cap, size_t *out_len)
{
    for (;;) {
        ssize_t n = read(fd, buf, cap);
        if (n >= 0) {
            *out_len = (size_t)n;
            return 0;
        }
        if (errno != EINTR)
            return errno ? errno : EIO;
    }
}

static int fd_read(uint8_t *buf, size_t cap, size_t *out_len, void *ud)
{
    fd_source *f = ud;
    return op_source_fd_read(f->fd, buf, cap, out_len);
}

static int fd_rewind(void *ud)
{
    fd_source *f = ud;
    return lseek(f->fd, f->start, SEEK_SET) == f->start ? 0 : (errno ? errno : EIO);
}

static void fd_close(void *ud)
{
    fd_source *f = ud;
    if (f->owned)
        close(f->fd);
    op_free(f);
}

int ocipush_source_new_fd(ocipush_source **out, int fd, int take_ownership)
{
    struct stat st;
    int rc = OCIPUSH_OK;
    if (!out || fd < 0)
        rc = OCIPUSH_E_INVALID;
    else if (fstat(fd, &st) != 0)
        rc = OCIPUSH_E_IO;
    fd_source *f = rc ? NULL : op_calloc(1, sizeof *f);
    if (!rc && !f)
        rc = OCIPUSH_E_NOMEM;
    if (rc) {
        int saved = errno;
        if (take_ownership && fd >= 0)
            close(fd);
        errno = saved;
        return rc;
    }
    f->fd = fd;
    f->owned = take_ownership != 0;
    int64_t size = -1;
    ocipush_source_rewind_fn rewind = NULL;
    if (S_ISREG(st.st_mode)) {
        f->start = lseek(fd, 0, SEEK_CUR);
        if (f->start >= 0 && f->start <= st.st_size) {
            size = (int64_t)(st.st_size - f->start);
            rewind = fd_rewind;
        }
    }
    int rc2 = ocipush_source_new_callback(out, fd_read, rewind, fd_close, size, f);
    if (rc2 == 0 && rewind) {
        (*out)->file_fd = fd;
        (*out)->file_start = (int64_t)f->start;
    }
    return rc2;
}
