/* Two threads, each with its own session, pushing at once (run under TSan by
 * tests/run-tests.sh). Sessions share nothing but the one-time
 * initialisation of libcurl and mbedTLS, which ocipush guards. Run through
 * tests/registry-env.sh. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocipush.h"

typedef struct job {
    const char *host;
    const char *repo;
    int seed;
    int failures;
    char message[512];
} job;

/* A 5 MiB file pushed as a blob: large enough for a hashing thread that
 * reads the file itself beside the sending one (through the proxy, the
 * rejected stream is then sent again from the file while it hashes). */
static int push_file(job *j)
{
    char path[4096];
    const char *tmp = getenv("OCIPUSH_TEST_TMP");
    snprintf(path, sizeof path, "%s/threads-%d.bin", tmp ? tmp : "/tmp", j->seed);
    FILE *f = fopen(path, "wb");
    for (size_t k = 0; f && k < (5u << 20); k++)
        fputc((int)((k * 131 + (size_t)j->seed) & 0xff), f);
    if (!f || fclose(f) != 0)
        return OCIPUSH_E_IO;
    ocipush_session *s = NULL;
    ocipush_source *src = NULL;
    char digest[OCIPUSH_DIGEST_MAX];
    int rc = ocipush_session_new(&s, j->host);
    rc = rc ? rc : ocipush_session_set_plain_http(s, 1);
    rc = rc ? rc : ocipush_source_new_file(&src, path);
    rc = rc ? rc : ocipush_blob_push(s, digest, NULL, j->repo, src, NULL);
    if (rc)
        snprintf(j->message, sizeof j->message, "file: %s: %s", ocipush_strerror(rc),
                 s ? ocipush_session_errmsg(s) : "");
    ocipush_source_free(src);
    ocipush_session_free(s);
    remove(path);
    return rc;
}

static void *run(void *arg)
{
    job *j = arg;
    if (push_file(j))
        j->failures++;
    for (int i = 0; i < 8 && !j->failures; i++) {
        ocipush_session *s = NULL;
        ocipush_source *src = NULL, *src2 = NULL, *src3 = NULL;
        ocipush_push *p = NULL;
        size_t len = 100000 + (size_t)(i * 7919 + j->seed);
        unsigned char *data = malloc(len);
        for (size_t k = 0; data && k < len; k++)
            data[k] = (unsigned char)(k * 31 + (size_t)j->seed + (size_t)i);
        char tag[16], digest[OCIPUSH_DIGEST_MAX];
        snprintf(tag, sizeof tag, "t%d", i);
        int rc = data ? ocipush_session_new(&s, j->host) : OCIPUSH_E_NOMEM;
        rc = rc ? rc : ocipush_session_set_plain_http(s, 1);
        rc = rc ? rc : ocipush_source_new_memory(&src, data, len, 0);
        rc = rc ? rc : ocipush_push_new(&p);
        rc = rc ? rc : ocipush_push_add_layer(p, src, NULL, "data.bin");
        /* Two more layers over parts of the bytes, pushed by worker threads. */
        rc = rc ? rc : ocipush_source_new_memory(&src2, data, len / 2, 0);
        rc = rc ? rc : ocipush_source_new_memory(&src3, data + 7, len - 7, 0);
        rc = rc ? rc : ocipush_push_add_layer(p, src2, NULL, "half.bin");
        rc = rc ? rc : ocipush_push_add_layer(p, src3, NULL, "tail.bin");
        rc = rc ? rc : ocipush_push_set_concurrency(p, 3);
        rc = rc ? rc : ocipush_push_add_tag(p, tag);
        rc = rc ? rc : ocipush_push_run(s, p, digest, j->repo);
        if (rc) {
            j->failures++;
            snprintf(j->message, sizeof j->message, "%s: %s", ocipush_strerror(rc),
                     s ? ocipush_session_errmsg(s) : "");
        }
        ocipush_push_free(p);
        ocipush_source_free(src);
        ocipush_source_free(src2);
        ocipush_source_free(src3);
        ocipush_session_free(s);
        free(data);
    }
    return NULL;
}

/* ocipush_session_cancel() from another thread while worker threads of a
 * parallel push read their layers: the push ends with OCIPUSH_E_ABORTED.
 * Each layer's read, once past its first 64 KiB, waits until the cancel was
 * made, so the cancel lands in the middle of the uploads. */
typedef struct gate {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int reading;   /* reads waiting for the cancel */
    int cancelled; /* the cancel was made */
} gate;

typedef struct gated {
    gate *g;
    size_t pos, len;
} gated;

static int gated_read(uint8_t *buf, size_t cap, size_t *out_len, void *ud)
{
    gated *r = ud;
    if (r->pos >= 65536) {
        pthread_mutex_lock(&r->g->lock);
        r->g->reading++;
        pthread_cond_broadcast(&r->g->changed);
        while (!r->g->cancelled)
            pthread_cond_wait(&r->g->changed, &r->g->lock);
        pthread_mutex_unlock(&r->g->lock);
    }
    size_t n = r->len - r->pos < cap ? r->len - r->pos : cap;
    n = n < 16384 ? n : 16384;
    memset(buf, (int)(r->pos & 0xff), n);
    r->pos += n;
    *out_len = n;
    return 0;
}

typedef struct canceller {
    gate *g;
    ocipush_session *s;
} canceller;

static void *cancel_when_reading(void *arg)
{
    canceller *c = arg;
    pthread_mutex_lock(&c->g->lock);
    while (!c->g->reading)
        pthread_cond_wait(&c->g->changed, &c->g->lock);
    pthread_mutex_unlock(&c->g->lock);
    ocipush_session_cancel(c->s);
    pthread_mutex_lock(&c->g->lock);
    c->g->cancelled = 1;
    pthread_cond_broadcast(&c->g->changed);
    pthread_mutex_unlock(&c->g->lock);
    return NULL;
}

static int cancel_parallel_push(const char *host, char *message, size_t cap)
{
    gate g = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};
    gated layers[3];
    ocipush_source *src[3] = {0};
    ocipush_session *s = NULL;
    ocipush_push *p = NULL;
    int rc = ocipush_session_new(&s, host);
    rc = rc ? rc : ocipush_session_set_plain_http(s, 1);
    rc = rc ? rc : ocipush_push_new(&p);
    for (int i = 0; i < 3 && !rc; i++) {
        layers[i] = (gated){.g = &g, .len = 1000000 + (size_t)i};
        rc = ocipush_source_new_callback(&src[i], gated_read, NULL, NULL, -1, &layers[i]);
        rc = rc ? rc : ocipush_push_add_layer(p, src[i], NULL, NULL);
    }
    rc = rc ? rc : ocipush_push_set_concurrency(p, 3);
    rc = rc ? rc : ocipush_push_add_tag(p, "cancelled");
    canceller c = {&g, s};
    pthread_t t;
    int started = !rc && pthread_create(&t, NULL, cancel_when_reading, &c) == 0;
    if (started) {
        rc = ocipush_push_run(s, p, NULL, "threads/cancel");
        pthread_join(t, NULL);
        snprintf(message, cap, "push_run returned %s: %s", ocipush_strerror(rc),
                 ocipush_session_errmsg(s));
    }
    ocipush_push_free(p);
    for (int i = 0; i < 3; i++)
        ocipush_source_free(src[i]);
    ocipush_session_free(s);
    return started && rc == OCIPUSH_E_ABORTED ? 0 : 1;
}

/* What the copy's progress callback heard last; it is called one call at a
 * time, from the copy's worker threads. */
typedef struct heard {
    uint64_t done;
    int64_t total;
    int calls;
} heard;

static int copy_progress(uint64_t done, int64_t total, void *user_data)
{
    heard *h = user_data;
    h->done = done;
    h->total = total;
    h->calls++;
    return 0;
}

/* An image of four layers pushed into an OCI layout, then copied from it to
 * the registry four blobs at once: the same manifest digest, and the
 * progress told in all (the last call: every byte of the five blobs). */
static int parallel_copy(const char *host, char *message, size_t cap)
{
    char dir[4096], source[4200], pushed[OCIPUSH_DIGEST_MAX], copied[OCIPUSH_DIGEST_MAX];
    const char *tmp = getenv("OCIPUSH_TEST_TMP");
    snprintf(dir, sizeof dir, "%s/threads-layout", tmp ? tmp : "/tmp");
    snprintf(source, sizeof source, "oci:%s:v1", dir);
    static unsigned char data[4][300000];
    uint64_t all = 2; /* the empty config, {} */
    ocipush_session *lay = NULL, *s = NULL;
    ocipush_source *src[4] = {0};
    ocipush_push *p = NULL;
    heard h = {0};
    int rc = ocipush_session_new_layout(&lay, dir);
    rc = rc ? rc : ocipush_push_new(&p);
    for (int i = 0; i < 4 && !rc; i++) {
        size_t len = sizeof data[i] - (size_t)i * 1000;
        for (size_t k = 0; k < len; k++)
            data[i][k] = (unsigned char)((k * 7 + (size_t)i * 13) >> 3);
        all += len;
        rc = ocipush_source_new_memory(&src[i], data[i], len, 0);
        rc = rc ? rc : ocipush_push_add_layer(p, src[i], NULL, NULL);
    }
    rc = rc ? rc : ocipush_push_add_tag(p, "v1");
    rc = rc ? rc : ocipush_push_run(lay, p, pushed, "threads/copy");
    rc = rc ? rc : ocipush_session_new(&s, host);
    rc = rc ? rc : ocipush_session_set_plain_http(s, 1);
    rc = rc ? rc : ocipush_session_set_copy_concurrency(s, 4);
    rc = rc ? rc : ocipush_session_set_progress_callback(s, copy_progress, &h);
    rc = rc ? rc : ocipush_copy(s, copied, source, "threads/copy", NULL, 0);
    snprintf(message, cap, "%s: %s; pushed %s, copied %s; last progress %llu of %lld",
             ocipush_strerror(rc),
             s     ? ocipush_session_errmsg(s)
             : lay ? ocipush_session_errmsg(lay)
                   : "",
             rc ? "-" : pushed, rc ? "-" : copied, (unsigned long long)h.done, (long long)h.total);
    int ok = rc == 0 && strcmp(pushed, copied) == 0 && h.calls > 0 && h.done == all &&
             h.total == (int64_t)all;
    ocipush_push_free(p);
    for (int i = 0; i < 4; i++)
        ocipush_source_free(src[i]);
    ocipush_session_free(s);
    ocipush_session_free(lay);
    return ok ? 0 : 1;
}

int main(void)
{
    const char *reg = getenv("OCIPUSH_TEST_REGISTRY");
    const char *proxy = getenv("OCIPUSH_TEST_PROXY");
    if (!reg || !proxy) {
        fprintf(stderr, "run me through tests/registry-env.sh\n");
        return 1;
    }
    job jobs[2] = {{.host = reg, .repo = "threads/one", .seed = 1},
                   {.host = proxy, .repo = "threads/two", .seed = 2}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        if (pthread_create(&t[i], NULL, run, &jobs[i]) != 0)
            return 1;
    int failed = 0;
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        if (jobs[i].failures) {
            printf("not ok - thread %d: %s\n", i + 1, jobs[i].message);
            failed++;
        } else {
            printf("ok - thread %d pushed a 5 MiB file and 8 artifacts\n", i + 1);
        }
    }
    char message[1024] = "";
    if (cancel_parallel_push(reg, message, sizeof message)) {
        printf("not ok - cancel from another thread during a parallel push: %s\n", message);
        failed++;
    } else {
        printf("ok - cancel from another thread during a parallel push\n");
    }
    if (parallel_copy(reg, message, sizeof message)) {
        printf("not ok - a copy four blobs at once: %s\n", message);
        failed++;
    } else {
        printf("ok - a copy four blobs at once, its progress told in all\n");
    }
    printf("%d passed, %d failed\n", 4 - failed, failed);
    return failed ? 1 : 0;
}
