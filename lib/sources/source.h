/* A body source is a read callback, an optional rewind, a close and a size:
 * the built-in memory, file and descriptor sources are built on the same
 * public callback interface a caller uses. */
#ifndef OP_SOURCE_H
#define OP_SOURCE_H

#include <sys/stat.h>

#include "ocipush.h"

struct ocipush_source {
    ocipush_source_read_fn read;
    ocipush_source_rewind_fn rewind; /* NULL: a non-rewindable stream */
    ocipush_source_close_fn close;
    int64_t size; /* -1: unknown */
    void *user_data;
    int started; /* a stream cannot be read twice: set once reading begins */
    /* A regular file (the built-in file and descriptor sources): its
     * descriptor and the offset its bytes start at, so a hashing thread can
     * read it on its own with pread. -1 for every other source. */
    int file_fd;
    int64_t file_start;
    /* A file held open only while it is read (source_file.c): `open` makes
     * file_fd valid (0, or an OCIPUSH_E_* code with a reason for the
     * message), `release` closes it until the next read opens it again, at
     * its start. NULL for every other source. */
    int (*open)(void *user_data, const char **why);
    void (*release)(void *user_data);
    /* Why the last read failed, for the message, when a return code cannot
     * say it (source_tar_dir.c: the path and what is wrong with it; the
     * compressed source passes its inner source's on). NULL, or a function
     * that returns NULL or "", when there is nothing to add. */
    const char *(*why)(void *user_data);
};

/* A source over the regular file at `path` that the caller has examined
 * (`st`, from an fstat of it opened as the caller sees fit, O_NOFOLLOW for
 * an OCI layout's blob): held open only while it is read, as
 * ocipush_source_new_file's, and refusing to read unless the path then
 * names that same file (device, inode) of that size. The open at read time
 * follows a symbolic link: the device and inode are what hold it to the
 * file examined. 0, OCIPUSH_E_NOMEM. */
int op_source_new_examined_file(ocipush_source **out, const char *path, const struct stat *st);

/* What src->why says (never NULL: "" when nothing). */
const char *op_source_why(const ocipush_source *src);

/* Open a file source now (see `open` above), so that a failure says why
 * and the descriptor is there for a hashing thread; 0 for other sources.
 * OCIPUSH_E_IO (errno set) or OCIPUSH_E_SOURCE, *why set. */
int op_source_open(ocipush_source *src, const char **why);

/* Done with the source for now: a file source closes its descriptor. */
void op_source_release(ocipush_source *src);

/* read(2) on fd until it answers other than EINTR, as a read callback
 * answers: 0 with *out_len (0 at the end), or an errno value. */
int op_source_fd_read(int fd, uint8_t *buf, size_t cap, size_t *out_len);

#endif
