/* The blobs of a copy (copy.c, copy_docker.c) pushed at once: the
 * session's copy concurrency of them at a time (parallel.c), the session's
 * progress callback told the bytes of all of them together. */
#ifndef OP_COPY_BLOBS_H
#define OP_COPY_BLOBS_H

#include <stddef.h>

#include "parallel.h"

/* Push the `count` jobs (their sources the caller's, read here; `expected`
 * set when the digest is known) into `repository`. The first failure stops
 * the others and is what the session reports; each job's `rc` says how it
 * ended. The session's progress callback, if any, is called with the bytes
 * of all the jobs read so far and their total (-1 while a size is unknown),
 * one call at a time, on the worker threads when there are several. */
int op_copy_blobs(ocipush_session *s, const char *repository, op_blob_job *jobs, size_t count);

#endif
