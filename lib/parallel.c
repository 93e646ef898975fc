#include "parallel.h"

#include <pthread.h>
#include <string.h>

#include "alloc.h"

typedef struct shared {
    ocipush_session *parent;
    const char *repository;
    op_blob_job *jobs;
    size_t count;
    op_push_progress_fn progress;
    void *progress_user_data;
    pthread_mutex_t lock; /* everything below, and every callback call */
    size_t next;          /* the next job to take */
    int stop;             /* a blob failed or progress said stop */
    int first_rc;
    char first_msg[sizeof((ocipush_session *)0)->errmsg];
    uint64_t *done; /* per job */
    int stream_rejected;
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
    sh->parent->log_fn(level, message, sh->parent->log_user_data);
    pthread_mutex_unlock(&sh->lock);
}

static int64_t total_of(const shared *sh, size_t i)
{
    return sh->jobs[i].source ? ocipush_source_size(sh->jobs[i].source) : -1;
}

/* Bytes read by one blob, reported for it and for all; stops the blob when
 * another failed or the callback says so. */
static int worker_progress(uint64_t done, int64_t total, void *user_data)
{
    worker *w = user_data;
    shared *sh = w->sh;
    int stop;
    pthread_mutex_lock(&sh->lock);
    sh->done[w->job] = done;
    if (!sh->stop && sh->progress) {
        uint64_t all_done = 0;
        int64_t all_total = 0;
        for (size_t i = 0; i < sh->count; i++) {
            all_done += sh->done[i];
            int64_t t = total_of(sh, i);
            all_total = all_total < 0 || t < 0 ? -1 : all_total + t;
        }
        if (sh->progress(w->job, done, total, all_done, all_total, sh->progress_user_data))
            sh->stop = 1;
    }
    stop = sh->stop;
    pthread_mutex_unlock(&sh->lock);
    return stop;
}

static void *work(void *arg)
{
    worker *w = arg;
    shared *sh = w->sh;
    for (;;) {
        pthread_mutex_lock(&sh->lock);
        int take = !sh->stop && sh->next < sh->count;
        w->job = sh->next++;
        pthread_mutex_unlock(&sh->lock);
        if (!take)
            break;
        op_blob_job *job = &sh->jobs[w->job];
        int rc = op_push_job(w->session, sh->repository, job);
        pthread_mutex_lock(&sh->lock);
        sh->stream_rejected |= w->session->stream_rejected;
        if (rc && (!sh->first_rc || sh->first_rc == OCIPUSH_E_ABORTED)) {
            /* The cause, not the aborts it set off in the others. */
            sh->first_rc = rc;
            memcpy(sh->first_msg, w->session->errmsg, sizeof sh->first_msg);
        }
        if (rc)
            sh->stop = 1;
        pthread_mutex_unlock(&sh->lock);
    }
    return NULL;
}

int op_push_job(ocipush_session *s, const char *repository, op_blob_job *job)
{
    if (!job->expected || !job->mount_from)
        return ocipush_blob_push(s, repository, job->source, job->expected, job->digest,
                                 &job->size);
    int mounted = 0;
    int rc = ocipush_blob_push_mount(s, repository, job->source, job->expected, job->mount_from,
                                     &job->size, &mounted);
    if (rc == 0)
        memcpy(job->digest, job->expected, sizeof job->digest);
    return rc;
}

/* In order: the session's own progress callback, then the push's. */
typedef struct in_order {
    ocipush_session *s;
    ocipush_progress_fn session_fn;
    void *session_user_data;
    op_push_progress_fn push_fn;
    void *push_user_data;
    op_blob_job *jobs;
    size_t count, index;
    uint64_t all_before; /* bytes of the blobs done before this one */
} in_order;

static int in_order_progress(uint64_t done, int64_t total, void *user_data)
{
    in_order *o = user_data;
    if (o->session_fn && o->session_fn(done, total, o->session_user_data))
        return 1;
    int64_t all_total = 0;
    for (size_t i = 0; i < o->count && all_total >= 0; i++) {
        int64_t t = ocipush_source_size(o->jobs[i].source);
        all_total = t < 0 ? -1 : all_total + t;
    }
    return o->push_fn(o->index, done, total, o->all_before + done, all_total, o->push_user_data);
}

/* One at a time, in the calling thread. */
static int push_in_order(ocipush_session *s, const char *repository, op_blob_job *jobs,
                         size_t count, op_push_progress_fn progress, void *user_data)
{
    in_order o = {s, s->progress_fn, s->progress_user_data, progress, user_data, jobs, count, 0, 0};
    if (progress)
        ocipush_session_set_progress_callback(s, in_order_progress, &o);
    int rc = 0;
    for (o.index = 0; !rc && o.index < count; o.index++) {
        op_blob_job *j = &jobs[o.index];
        rc = op_push_job(s, repository, j);
        o.all_before += j->size;
    }
    if (progress)
        ocipush_session_set_progress_callback(s, o.session_fn, o.session_user_data);
    return rc;
}

static int start_workers(shared *sh, worker *ws, size_t n, size_t *started)
{
    for (*started = 0; *started < n; ++*started) {
        worker *w = &ws[*started];
        w->sh = sh;
        if (op_session_clone(&w->session, sh->parent))
            return OCIPUSH_E_NOMEM;
        if (sh->parent->log_fn)
            ocipush_session_set_log_callback(w->session, worker_log, sh->parent->log_level, w);
        ocipush_session_set_progress_callback(w->session, worker_progress, w);
        if (pthread_create(&w->thread, NULL, work, w)) {
            ocipush_session_free(w->session);
            return OCIPUSH_E_NOMEM;
        }
    }
    return 0;
}

int op_push_blobs(ocipush_session *s, const char *repository, op_blob_job *jobs, size_t count,
                  int concurrency, op_push_progress_fn progress, void *user_data)
{
    if (concurrency <= 1 || count <= 1)
        return push_in_order(s, repository, jobs, count, progress, user_data);
    size_t n = (size_t)concurrency < count ? (size_t)concurrency : count;
    shared sh = {.parent = s,
                 .repository = repository,
                 .jobs = jobs,
                 .count = count,
                 .progress = progress,
                 .progress_user_data = user_data};
    worker *ws = op_calloc(n, sizeof *ws);
    sh.done = op_calloc(count, sizeof *sh.done);
    if (!ws || !sh.done || pthread_mutex_init(&sh.lock, NULL)) {
        op_free(ws);
        op_free(sh.done);
        return op_fail(s, OCIPUSH_E_NOMEM, "out of memory");
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
        ocipush_session_free(ws[i].session);
    }
    pthread_mutex_destroy(&sh.lock);
    s->stream_rejected |= sh.stream_rejected;
    if (rc)
        rc = op_fail(s, rc, "cannot start the upload threads");
    else if (sh.first_rc)
        rc = op_fail(s, sh.first_rc, "%s", sh.first_msg);
    else if (sh.stop)
        rc = op_fail(s, OCIPUSH_E_ABORTED, "the progress callback stopped the push");
    op_free(ws);
    op_free(sh.done);
    return rc;
}
