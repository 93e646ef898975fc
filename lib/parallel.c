#include "parallel.h"

#include <pthread.h>
#include <string.h>

#include "alloc.h"
#include "blob.h"
#include "digest.h"

/* What the push's progress callback has been told of one layer. */
typedef struct layer_tally {
    uint64_t done; /* the bytes last reported */
    uint64_t size; /* with `landed`: the blob's size */
    int reported;
    int landed;
} layer_tally;

/* Progress of the push, per layer in the order added. Not locked: the
 * parallel push calls it under its lock. */
typedef struct tally {
    const op_blob_plan *plan;
    layer_tally *layers;
    op_push_progress_fn fn; /* NULL: nothing to tell */
    void *user_data;
} tally;

/* A layer's size: the blob's once it landed (a stream's is known only
 * then), else what its source declares. */
static int64_t layer_total(const tally *t, size_t layer)
{
    const layer_tally *l = &t->layers[layer];
    if (l->landed)
        return (int64_t)l->size;
    return ocipush_source_size(t->plan->jobs[t->plan->job_of[layer]].source);
}

/* Tell the callback that `layer` has `done` of `total` bytes. Nonzero: stop. */
static int tally_report(tally *t, size_t layer, uint64_t done, int64_t total)
{
    if (!t->fn)
        return 0;
    t->layers[layer].done = done;
    t->layers[layer].reported = 1;
    uint64_t all_done = 0;
    int64_t all_total = 0;
    for (size_t i = 0; i < t->plan->layer_count; i++) {
        all_done += t->layers[i].done;
        int64_t size = layer_total(t, i);
        all_total = all_total < 0 || size < 0 ? -1 : all_total + size;
    }
    return t->fn(layer, done, total, all_done, all_total, t->user_data);
}

/* Bytes of job `job` read: told under the first layer it backs. */
static int tally_read(tally *t, size_t job, uint64_t done, int64_t total)
{
    return tally_report(t, t->plan->jobs[job].layer, done, total);
}

/* Job `job` landed with `size` bytes. Every layer it backs that was not told
 * whole (the registry had the blob, it was mounted, it is a later layer of
 * the same source, it is empty) is told once, whole, so that all_done ends
 * at all_total. Nonzero: stop. */
static int tally_landed(tally *t, size_t job, uint64_t size)
{
    const op_blob_plan *plan = t->plan;
    for (size_t i = 0; i < plan->layer_count; i++)
        if (plan->job_of[i] == job) {
            t->layers[i].landed = 1;
            t->layers[i].size = size;
        }
    int stop = 0;
    for (size_t i = 0; !stop && i < plan->layer_count; i++) {
        const layer_tally *l = &t->layers[i];
        if (plan->job_of[i] == job && (!l->reported || l->done != size))
            stop = tally_report(t, i, size, (int64_t)size);
    }
    return stop;
}

typedef struct shared {
    ocipush_session *parent;
    const char *repository;
    op_blob_plan *plan;
    pthread_mutex_t lock; /* everything below, and every callback call */
    tally *tally;
    size_t next; /* the next job to take */
    int stop;    /* a blob failed or progress said stop */
    int first_rc;
    char first_msg[OP_ERRMSG_SIZE];
    int first_status;    /* the answer its message is about (diag.h) */
    char first_code[64]; /* and its registry error code */
} shared;

typedef struct worker {
    shared *sh;
    ocipush_session *session;
    size_t job; /* the job in hand */
    pthread_t thread;
} worker;

/* Log messages of all workers reach the caller's callback one at a time. */
static void worker_log(int level, const char *message, void *user_data)
{
    worker *w = user_data;
    shared *sh = w->sh;
    pthread_mutex_lock(&sh->lock);
    sh->parent->ctx.diag.log_fn(level, message, sh->parent->ctx.diag.log_user_data);
    pthread_mutex_unlock(&sh->lock);
}

/* Bytes read by one blob, reported for its layer and for all; stops the
 * blob when another failed or the callback says so. */
static int worker_progress(uint64_t done, int64_t total, void *user_data)
{
    worker *w = user_data;
    shared *sh = w->sh;
    int stop;
    pthread_mutex_lock(&sh->lock);
    if (!sh->stop && tally_read(sh->tally, w->job, done, total))
        sh->stop = 1;
    stop = sh->stop;
    pthread_mutex_unlock(&sh->lock);
    return stop;
}

/* After a job, under the lock: keep its outcome, or its failure when it is
 * the first (the cause, not the aborts it set off in the others). */
static void job_ended(shared *sh, worker *w, int rc)
{
    op_blob_job *job = &sh->plan->jobs[w->job];
    job->rc = rc;
    if (rc && (!sh->first_rc || sh->first_rc == OCIPUSH_E_ABORTED)) {
        sh->first_rc = rc;
        memcpy(sh->first_msg, w->session->ctx.diag.errmsg, sizeof sh->first_msg);
        sh->first_status = w->session->ctx.diag.http_status;
        memcpy(sh->first_code, w->session->ctx.diag.error_code, sizeof sh->first_code);
    }
    if (rc || (!sh->stop && tally_landed(sh->tally, w->job, job->size)))
        sh->stop = 1;
}

static void *work(void *arg)
{
    worker *w = arg;
    shared *sh = w->sh;
    for (;;) {
        pthread_mutex_lock(&sh->lock);
        int take = !sh->stop && sh->next < sh->plan->count;
        w->job = sh->next++;
        pthread_mutex_unlock(&sh->lock);
        if (!take)
            break;
        int rc = op_push_job(w->session, sh->repository, &sh->plan->jobs[w->job]);
        pthread_mutex_lock(&sh->lock);
        job_ended(sh, w, rc);
        pthread_mutex_unlock(&sh->lock);
    }
    return NULL;
}

int op_push_job(ocipush_session *s, const char *repository, op_blob_job *job)
{
    if (!job->expected || !job->mount_from)
        return op_blob_push(s, repository, job->source, job->expected, job->digest, &job->size,
                            &job->status);
    int rc = op_blob_push_mount(s, repository, job->source, job->expected, job->mount_from,
                                &job->size, &job->status);
    if (rc == 0)
        op_digest_copy(job->digest, job->expected);
    return rc;
}

/* In order: the session's own progress callback, then the push's. */
typedef struct in_order {
    ocipush_progress_fn session_fn;
    void *session_user_data;
    tally *tally;
    size_t job; /* the job in hand */
} in_order;

static int in_order_progress(uint64_t done, int64_t total, void *user_data)
{
    in_order *o = user_data;
    if (o->session_fn && o->session_fn(done, total, o->session_user_data))
        return 1;
    return tally_read(o->tally, o->job, done, total);
}

/* One at a time, in the calling thread. */
static int push_in_order(ocipush_session *s, const char *repository, op_blob_plan *plan, tally *t)
{
    op_settings *set = &s->ctx.set;
    in_order o = {set->progress_fn, set->progress_user_data, t, 0};
    if (t->fn) {
        set->progress_fn = in_order_progress;
        set->progress_user_data = &o;
    }
    int rc = 0;
    for (o.job = 0; !rc && o.job < plan->count; o.job++) {
        op_blob_job *j = &plan->jobs[o.job];
        rc = j->rc = op_push_job(s, repository, j);
        if (!rc && tally_landed(t, o.job, j->size))
            rc = op_sfail(s, OCIPUSH_E_ABORTED, "the progress callback stopped the push");
    }
    if (t->fn) {
        set->progress_fn = o.session_fn;
        set->progress_user_data = o.session_user_data;
    }
    return rc;
}

static int start_workers(shared *sh, worker *ws, size_t n, size_t *started)
{
    for (*started = 0; *started < n; ++*started) {
        worker *w = &ws[*started];
        w->sh = sh;
        if (op_session_clone(&w->session, sh->parent))
            return OCIPUSH_E_NOMEM;
        op_ctx *c = &w->session->ctx;
        if (c->diag.log_fn) {
            c->diag.log_fn = worker_log;
            c->diag.log_user_data = w;
        }
        /* Never the session's own callback: the blobs' bytes interleave. */
        c->set.progress_fn = worker_progress;
        c->set.progress_user_data = w;
        if (pthread_create(&w->thread, NULL, work, w)) {
            ocipush_session_free(w->session);
            return OCIPUSH_E_NOMEM;
        }
    }
    return 0;
}

/* Worker threads, each with its own copy of the session, taking jobs from
 * a shared list. */
static int push_in_parallel(ocipush_session *s, const char *repository, op_blob_plan *plan,
                            size_t n, tally *t)
{
    shared sh = {.parent = s, .repository = repository, .plan = plan, .tally = t};
    worker *ws = op_calloc(n, sizeof *ws);
    if (!ws || pthread_mutex_init(&sh.lock, NULL)) {
        op_free(ws);
        return op_sfail(s, OCIPUSH_E_NOMEM, "out of memory");
    }
    size_t started = 0;
    int rc = start_workers(&sh, ws, n, &started);
    if (rc) {
        pthread_mutex_lock(&sh.lock);
        sh.stop = 1;
        pthread_mutex_unlock(&sh.lock);
    }
    for (size_t i = 0; i < started; i++) {
        pthread_join(ws[i].thread, NULL);
        /* What the worker's target learned (a registry that refuses
         * streamed bodies) the next push starts from. */
        s->target->ops->absorb(s->target, ws[i].session->target);
        ocipush_session_free(ws[i].session);
    }
    pthread_mutex_destroy(&sh.lock);
    if (rc)
        rc = op_sfail(s, rc, "cannot start the upload threads");
    else if (sh.first_rc) {
        rc = op_sfail(s, sh.first_rc, "%s", sh.first_msg);
        op_diag_answer(&s->ctx.diag, sh.first_status, sh.first_code);
    } else if (sh.stop)
        rc = op_sfail(s, OCIPUSH_E_ABORTED, "the progress callback stopped the push");
    op_free(ws);
    return rc;
}

int op_push_blobs(ocipush_session *s, const char *repository, op_blob_plan *plan, int concurrency,
                  op_push_progress_fn progress, void *user_data)
{
    tally t = {.plan = plan, .fn = progress, .user_data = user_data};
    t.layers = op_calloc(plan->layer_count, sizeof *t.layers);
    if (!t.layers)
        return op_sfail(s, OCIPUSH_E_NOMEM, "out of memory");
    int rc;
    if (concurrency <= 1 || plan->count <= 1)
        rc = push_in_order(s, repository, plan, &t);
    else
        rc = push_in_parallel(s, repository, plan,
                              (size_t)concurrency < plan->count ? (size_t)concurrency : plan->count,
                              &t);
    op_free(t.layers);
    return rc;
}
