/* The files ocipush opens by name to read (an OCI layout's index.json and
 * manifests, a docker or helm config, a file source): regular files only,
 * and never waited on, whatever was put at the path (a FIFO, a device).
 * And the files it writes (a layout's blobs and index, a docker config):
 * through a temporary file beside them, renamed over them once whole, so a
 * reader (or a crash) sees the old file or the new one, never half of one. */
#ifndef OP_FILE_H
#define OP_FILE_H

#include <stddef.h>
#include <sys/stat.h>

#include "buf.h"

/* How op_file_open_regular() failed. */
#define OP_FILE_ERROR (-1)       /* errno set by the call that failed */
#define OP_FILE_ABSENT (-2)      /* open() said ENOENT */
#define OP_FILE_NOT_REGULAR (-3) /* *st says what it is; errno EISDIR or EINVAL */

/* `path` opened to read a regular file: O_RDONLY | O_CLOEXEC | O_NOCTTY,
 * and O_NONBLOCK until fstat says it is one (then cleared), so that opening
 * a FIFO waits for no writer. The descriptor with *st filled, or one of the
 * OP_FILE_* failures (open's EINTR is retried). */
int op_file_open_regular(const char *path, struct stat *st);

#define OP_FILE_WHY_SIZE 128

/* The whole of the regular file at `path`, at most `cap` bytes, into a new
 * block: 0 with *out_data (NUL-terminated) and *out_len. Only open() saying
 * ENOENT means absent: 0 with *out_absent set and *out_data NULL. Anything
 * else that is there and cannot be read (not a regular file, larger than
 * `cap` or grown past it while read, an I/O error) is OCIPUSH_E_IO, no
 * memory OCIPUSH_E_NOMEM; either way `why` says why ("cannot read PATH:
 * WHY") and errno is set for it, never left from an earlier call.
 * With `secret`, the block grows by a move (never realloc, which would
 * leave a copy behind) and the old one is wiped, as is what was read on a
 * failure; free the text with op_free_secret(data, len), else op_free. */
int op_file_read_whole(const char *path, size_t cap, int secret, char **out_data, size_t *out_len,
                       int *out_absent, char why[OP_FILE_WHY_SIZE]);

/* write() until all of `data` is written (EINTR retried): 0, or -1 with
 * errno set (EIO when write() wrote nothing and set none). */
int op_file_write_all(int fd, const void *data, size_t len);

/* A temporary file made from `template` (ending "XXXXXX"; *path gets the
 * name), opened O_CLOEXEC: 0 with *fd, OCIPUSH_E_NOMEM, or OCIPUSH_E_IO
 * with errno from mkostemp (*fd -1). */
int op_file_temp_open(op_buf *path, const char *template, int *fd);

/* The temporary file `temp` (open as fd, which this closes) becomes
 * `final`: chmod `mode`, fsync, close, rename over it. 0, or -1 with errno
 * set and the temporary file gone. */
int op_file_publish(int fd, const char *temp, const char *final, mode_t mode);

/* `data` into `final` through a temporary file from `template` (see
 * op_file_temp_open), published with `mode`. 0, OCIPUSH_E_NOMEM, or
 * OCIPUSH_E_IO with errno set and nothing left behind. */
int op_file_replace(const char *final, const char *template, mode_t mode, const void *data,
                    size_t len);

#endif
