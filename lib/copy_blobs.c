/* A copy's blobs at once (see copy_blobs.h): one plan of parallel.c whose
 * every job backs one "layer", so its tally is the copy's progress. */
#include "copy_blobs.h"

#include "alloc.h"

typedef struct in_all {
    ocipush_progress_fn fn;
    void *user_data;
} in_all;

/* The push's progress, told to the session's callback in all. */
static int progress_in_all(size_t index, uint64_t done, int64_t total, uint64_t all_done,
                           int64_t all_total, void *user_data)
{
    in_all *a = user_data;
    (void)index, (void)done, (void)total;
    return a->fn(all_done, all_total, a->user_data);
}

int op_copy_blobs(ocipush_session *s, const char *repository, op_blob_job *jobs, size_t count)
{
    if (count == 0)
        return 0;
    size_t *job_of = op_calloc(count, sizeof *job_of);
    if (!job_of)
        return op_sfail(s, OCIPUSH_E_NOMEM, "out of memory");
    for (size_t i = 0; i < count; i++) {
        job_of[i] = i;
        jobs[i].layer = i;
        jobs[i].rc = 0;
    }
    op_blob_plan plan = {.jobs = jobs, .count = count, .job_of = job_of, .layer_count = count};
    /* The session's callback hears the copy in all, never one blob's bytes
     * (parallel.c tells it those when it runs in order): set aside here. */
    op_settings *set = &s->ctx.set;
    in_all a = {set->progress_fn, set->progress_user_data};
    set->progress_fn = NULL;
    set->progress_user_data = NULL;
    int rc = op_push_blobs(s, repository, &plan, set->copy_concurrency,
                           a.fn ? progress_in_all : NULL, &a);
    set->progress_fn = a.fn;
    set->progress_user_data = a.user_data;
    op_free(job_of);
    return rc;
}
