/* The allocation-failure loop: the public API, against the real registry and
 * the chunk-rejecting proxy, with the Nth allocation made to fail, for every
 * N until a run makes fewer allocations than N. Every run must end in
 * success or OCIPUSH_E_NOMEM, with nothing of ocipush's left allocated.
 * Run through tests/registry-env.sh. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocipush.h"

/* Atomic: a parallel push allocates from several threads. */
static atomic_long allocations; /* made since the counter was reset */
static long fail_at;            /* the allocation that fails (1-based); 0: none */
static atomic_long outstanding; /* live allocations of ocipush */
static atomic_int failed;       /* the failure was injected in this run */

/* Each block carries its size in front, so realloc and free keep count. */
static void *test_malloc(size_t size, void *ud)
{
    (void)ud;
    if (++allocations == fail_at) {
        failed = 1;
        return NULL;
    }
    size_t *p = malloc(sizeof(size_t) + size);
    if (!p)
        return NULL;
    *p = size;
    outstanding++;
    return p + 1;
}

static void *test_realloc(void *ptr, size_t size, void *ud)
{
    if (!ptr)
        return test_malloc(size, ud);
    if (++allocations == fail_at) {
        failed = 1;
        return NULL;
    }
    size_t *p = realloc((size_t *)ptr - 1, sizeof(size_t) + size);
    if (!p)
        return NULL;
    *p = size;
    return p + 1;
}

static void test_free(void *ptr, void *ud)
{
    (void)ud;
    outstanding--;
    free((size_t *)ptr - 1);
}

typedef struct stream {
    size_t pos, len;
} stream;

static int stream_read(uint8_t *buf, size_t cap, size_t *out, void *ud)
{
    stream *st = ud;
    size_t n = st->len - st->pos < cap ? st->len - st->pos : cap;
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)(st->pos + i);
    st->pos += n;
    *out = n;
    return 0;
}

static int new_session(ocipush_session **s, const char *host)
{
    int rc = ocipush_session_new(s, host);
    rc = rc ? rc : ocipush_session_set_plain_http(*s, 1);
    rc = rc ? rc : ocipush_session_set_retry(*s, 1, 0, 0, 0);
    /* A small spool, so a replay goes through the temporary file too. */
    return rc ? rc : ocipush_session_set_spool(*s, 1, 1024, UINT64_MAX);
}

/* Everything a user does: blobs (memory; a stream through the proxy that
 * rejects it, replayed from the spool), a manifest built and pushed, an
 * artifact pushed. The first failure ends it. */
/* A file for a file source (opened when read, closed after). */
static char file_path[512];

static int scenario(const char *reg, const char *proxy, int tag_no)
{
    ocipush_session *s = NULL, *p = NULL;
    ocipush_source *mem = NULL, *str = NULL, *layer = NULL, *layer2 = NULL, *file = NULL;
    ocipush_descriptor *cfg = NULL;
    ocipush_manifest *m = NULL;
    ocipush_push *push = NULL;
    char digest[OCIPUSH_DIGEST_MAX], tag[32];
    static const char text[] = "{\"architecture\":\"amd64\",\"os\":\"linux\"}";
    stream st = {0, 5000};
    snprintf(tag, sizeof tag, "v%d", tag_no);

    int rc = new_session(&s, reg);
    rc = rc ? rc : new_session(&p, proxy);
    rc = rc ? rc : ocipush_source_new_memory(&mem, text, sizeof text - 1, 1);
    rc = rc ? rc : ocipush_blob_push(s, digest, NULL, "alloc/app", mem, NULL);
    rc = rc ? rc : ocipush_source_new_callback(&str, stream_read, NULL, NULL, -1, &st);
    rc = rc ? rc : ocipush_blob_push(p, NULL, NULL, "alloc/app", str, NULL);
    rc = rc ? rc
            : ocipush_descriptor_new(&cfg, "application/vnd.oci.image.config.v1+json", digest,
                                     sizeof text - 1);
    rc = rc ? rc : ocipush_descriptor_add_annotation(cfg, "k", "v");
    rc = rc ? rc : ocipush_manifest_new(&m, OCIPUSH_MANIFEST_IMAGE);
    rc = rc ? rc : ocipush_manifest_set_config(m, cfg);
    rc = rc ? rc : ocipush_manifest_add_layer(m, cfg);
    rc = rc ? rc : ocipush_manifest_add_annotation(m, "org.example", "x");
    rc = rc ? rc : ocipush_manifest_push(s, digest, "alloc/app", tag, m);
    rc = rc ? rc : ocipush_source_new_memory(&layer, "layer", 5, 0);
    rc = rc ? rc : ocipush_push_new(&push);
    rc = rc ? rc : ocipush_push_add_layer(push, layer, NULL, "layer.txt");
    rc = rc ? rc : ocipush_source_new_memory(&layer2, "layer two", 9, 0);
    /* Two layers, two at once: the worker threads' allocations fail too. */
    rc = rc ? rc : ocipush_push_add_layer(push, layer2, NULL, "two.txt");
    rc = rc ? rc : ocipush_source_new_file(&file, file_path);
    rc = rc ? rc : ocipush_push_add_layer(push, file, NULL, "file.txt");
    rc = rc ? rc : ocipush_push_set_concurrency(push, 2);
    rc = rc ? rc : ocipush_push_add_annotation(push, "a", "b");
    rc = rc ? rc : ocipush_push_add_tag(push, tag);
    rc = rc ? rc : ocipush_push_run(p, push, digest, "alloc/art");
    if (rc && rc != OCIPUSH_E_NOMEM)
        fprintf(stderr, "  code %d (%s): %s\n", rc, ocipush_strerror(rc),
                ocipush_session_errmsg(p && *ocipush_session_errmsg(p) ? p : s));
    ocipush_push_free(push);
    ocipush_source_free(layer);
    ocipush_source_free(layer2);
    ocipush_source_free(file);
    ocipush_manifest_free(m);
    ocipush_descriptor_free(cfg);
    ocipush_source_free(str);
    ocipush_source_free(mem);
    ocipush_session_free(p);
    ocipush_session_free(s);
    return rc;
}

int main(void)
{
    const char *reg = getenv("OCIPUSH_TEST_REGISTRY");
    const char *proxy = getenv("OCIPUSH_TEST_PROXY");
    /* Under valgrind every 7th failure point is enough (and 7x faster). */
    long stride = getenv("OCIPUSH_TEST_QUICK") ? 7 : 1;
    if (!reg || !proxy) {
        fprintf(stderr, "run me through tests/registry-env.sh\n");
        return 1;
    }
    const char *tmp = getenv("OCIPUSH_TEST_TMP");
    snprintf(file_path, sizeof file_path, "%s/alloc-layer.txt", tmp ? tmp : "/tmp");
    FILE *f = fopen(file_path, "wb");
    if (!f || fputs("a layer from a file\n", f) == EOF || fclose(f) != 0)
        return 1;
    if (ocipush_set_allocator(test_malloc, test_realloc, test_free, NULL) != OCIPUSH_OK)
        return 1;
    int bad = 0;
    long n;
    for (n = 1;; n += stride) {
        allocations = 0;
        fail_at = n;
        failed = 0;
        int rc = scenario(reg, proxy, (int)n);
        if (rc != OCIPUSH_OK && rc != OCIPUSH_E_NOMEM) {
            printf("not ok - allocation %ld failing gave code %d, not OCIPUSH_E_NOMEM\n", n, rc);
            bad++;
        } else if (rc == OCIPUSH_E_NOMEM && !failed) {
            printf("not ok - OCIPUSH_E_NOMEM without a failed allocation (run %ld)\n", n);
            bad++;
        }
        if (outstanding != 0) {
            printf("not ok - allocation %ld failing leaked %ld blocks\n", n, outstanding);
            bad++;
            outstanding = 0;
        }
        if (!failed) {
            if (rc != OCIPUSH_OK) {
                printf("not ok - a run with no failed allocation gave code %d\n", rc);
                bad++;
            }
            break; /* the scenario needs fewer than n allocations: all points done */
        }
    }
    printf("%ld allocation failure points (stride %ld)\n", n - 1, stride);
    printf("%d passed, %d failed\n", bad ? 0 : 1, bad ? 1 : 0);
    return bad ? 1 : 0;
}
