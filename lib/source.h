/* A body source is a read callback, an optional rewind, a close and a size:
 * the built-in memory, file and descriptor sources are built on the same
 * public callback interface a caller uses. */
#ifndef OP_SOURCE_H
#define OP_SOURCE_H

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
};

#endif
