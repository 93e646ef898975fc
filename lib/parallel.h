/* Blobs pushed at once: worker threads, each with its own copy of the
 * session (its own connections), taking blobs from a shared list. */
#ifndef OP_PARALLEL_H
#define OP_PARALLEL_H

#include <stddef.h>
#include <stdint.h>

#include "session.h"

typedef struct op_blob_job {
    ocipush_source *source;
    const char *expected;            /* the digest when known up front, or NULL */
    const char *mount_from;          /* with `expected`: a repository to mount from */
    size_t layer;                    /* the first layer it backs: progress is told under it */
    char digest[OCIPUSH_DIGEST_MAX]; /* out */
    uint64_t size;                   /* out */
    int status;                      /* out: an ocipush_blob_status */
    int rc;                          /* out: how it ended (0 until it failed) */
} op_blob_job;

/* The blobs of a push's layers: one job per distinct source (a source given
 * for several layers is read once, never by two threads at once), and for
 * each layer, in the order added, the index of its job. */
typedef struct op_blob_plan {
    op_blob_job *jobs;
    size_t count;
    const size_t *job_of;
    size_t layer_count;
} op_blob_plan;

/* Progress of a push: layer `index` has `done` of `total` (-1: unknown)
 * bytes read, all layers together `all_done` of `all_total` (-1: unknown).
 * Nonzero stops the push. */
typedef ocipush_push_progress_fn op_push_progress_fn;

/* Push one job with `s`: mounted or skipped when its digest allows. */
int op_push_job(ocipush_session *s, const char *repository, op_blob_job *job);

/* Push every job's source to `repository`, `concurrency` at a time (1: in
 * the calling thread, in order). The first failure stops the others and is
 * what `s` reports. Log messages reach s's log callback one at a time, and
 * never while `progress` runs. A layer whose blob lands without its bytes
 * being reported whole (one the registry had, a mount, a later layer of the
 * same source, an empty blob) is reported once with done == total, so that
 * the last call of a push that succeeds has all_done == all_total when the
 * sizes are known. */
int op_push_blobs(ocipush_session *s, const char *repository, op_blob_plan *plan, int concurrency,
                  op_push_progress_fn progress, void *user_data);

#endif
