/* End-to-end tests of the public API against a real registry and the
 * chunk-rejecting proxy started by tests/registry-env.sh. What the registry
 * serves is read back with libcurl and re-hashed. */
#include <curl/curl.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "digest.h"
#include "ocipush.h"

static int failures, passes;
static const char *REG, *PROXY, *DEAD;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);               \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

#define CHECK_RC(expr, want)                                                                       \
    do {                                                                                           \
        int rc_ = (expr);                                                                          \
        if (rc_ != (want)) {                                                                       \
            fprintf(stderr, "%s:%d: %s returned %d (%s), want %d; errmsg: %s\n", __FILE__,         \
                    __LINE__, #expr, rc_, ocipush_strerror(rc_), want, ocipush_session_errmsg(s)); \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

/* ---- reading back ---- */

static size_t collect(char *data, size_t size, size_t n, void *ud)
{
    return op_buf_append(ud, data, size * n) ? 0 : size * n;
}

/* GET (or HEAD) http://host/v2/repo/kind/ref; returns the status. */
static long fetch(const char *host, const char *repo, const char *kind, const char *ref, int head,
                  op_buf *body)
{
    char url[1024];
    snprintf(url, sizeof url, "http://%s/v2/%s/%s/%s", host, repo, kind, ref);
    CURL *c = curl_easy_init();
    struct curl_slist *h =
        curl_slist_append(NULL, "Accept: application/vnd.oci.image.manifest.v1+json, "
                                "application/vnd.oci.image.index.v1+json");
    long status = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_NOBODY, head ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

/* The digest of what the registry serves for a blob, or "" if it does not. */
static void served_digest(char *out, const char *repo, const char *digest)
{
    op_buf body = {0};
    out[0] = '\0';
    if (fetch(REG, repo, "blobs", digest, 0, &body) == 200)
        op_sha256_digest(out, body.data ? body.data : "", body.len);
    op_buf_free(&body);
}

static long head_status(const char *repo, const char *kind, const char *ref)
{
    op_buf body = {0};
    long st = fetch(REG, repo, kind, ref, 1, &body);
    op_buf_free(&body);
    return st;
}

/* ---- sources that behave badly on purpose ---- */

typedef struct pattern_source {
    uint64_t len; /* bytes produced */
    uint64_t pos;
    uint64_t fail_at; /* read fails once pos reaches this; UINT64_MAX: never */
    size_t max_read;  /* cap per read: 1 for byte-at-a-time */
    int reads_after_fail;
    int closed;
} pattern_source;

static uint8_t pattern_byte(uint64_t i)
{
    return (uint8_t)((i * 2654435761u) >> 13);
}

static int pattern_read(uint8_t *buf, size_t cap, size_t *out_len, void *ud)
{
    pattern_source *p = ud;
    if (p->pos >= p->fail_at) {
        p->reads_after_fail++;
        return -5;
    }
    size_t n = cap < p->max_read ? cap : p->max_read;
    if (p->len - p->pos < n)
        n = (size_t)(p->len - p->pos);
    if (p->fail_at - p->pos < n)
        n = (size_t)(p->fail_at - p->pos);
    for (size_t i = 0; i < n; i++)
        buf[i] = pattern_byte(p->pos + i);
    p->pos += n;
    *out_len = n;
    return 0;
}

static void pattern_close(void *ud)
{
    ((pattern_source *)ud)->closed++;
}

static void pattern_digest(char *out, uint64_t len)
{
    uint8_t *data = malloc(len ? len : 1);
    for (uint64_t i = 0; i < len; i++)
        data[i] = pattern_byte(i);
    op_sha256_digest(out, data, len);
    free(data);
}

/* A non-rewindable stream of `len` pattern bytes. */
static ocipush_source *pattern_stream(pattern_source *p, uint64_t len, int64_t declared)
{
    ocipush_source *src = NULL;
    *p = (pattern_source){.len = len, .fail_at = UINT64_MAX, .max_read = 1 << 20};
    if (ocipush_source_new_callback(&src, pattern_read, NULL, pattern_close, declared, p))
        return NULL;
    return src;
}

/* ---- a session with its log captured ---- */

static op_buf log_text;

static void capture_log(int level, const char *msg, void *ud)
{
    (void)ud;
    op_buf_printf(&log_text, "[%d] %s\n", level, msg);
}

static ocipush_session *session_for(const char *host)
{
    ocipush_session *s = NULL;
    if (ocipush_session_new(&s, host))
        return NULL;
    ocipush_session_set_plain_http(s, 1);
    ocipush_session_set_log_callback(s, capture_log, OCIPUSH_LOG_INFO, NULL);
    op_buf_reset(&log_text);
    return s;
}

/* ---- the cases ---- */

static int test_source_fails_mid_stream(void)
{
    int strategies[] = {OCIPUSH_STRATEGY_AUTO, OCIPUSH_STRATEGY_STREAM, OCIPUSH_STRATEGY_CHUNKED,
                        OCIPUSH_STRATEGY_MONOLITHIC};
    for (size_t i = 0; i < 4; i++) {
        ocipush_session *s = session_for(REG);
        pattern_source p;
        ocipush_source *src = pattern_stream(&p, 3000000, -1);
        p.fail_at = 1500000;
        CHECK(s && src);
        ocipush_session_set_strategy(s, strategies[i]);
        char digest[OCIPUSH_DIGEST_MAX] = "";
        CHECK_RC(ocipush_blob_push(s, digest, NULL, "api/failing", src, NULL), OCIPUSH_E_SOURCE);
        CHECK(strstr(ocipush_session_errmsg(s), "byte 1500000") != NULL);
        CHECK(digest[0] == '\0');
        ocipush_source_free(src);
        CHECK(p.closed == 1);
        ocipush_session_free(s);
    }
    return 0;
}

static int test_failing_layer_leaves_no_tag(void)
{
    ocipush_session *s = session_for(PROXY);
    ocipush_push *push = NULL;
    ocipush_source *good = NULL;
    pattern_source p;
    ocipush_source *bad = pattern_stream(&p, 100000, -1);
    p.fail_at = 50000;
    CHECK(s && bad);
    CHECK_RC(ocipush_source_new_memory(&good, "fine", 4, 0), OCIPUSH_OK);
    CHECK_RC(ocipush_push_new(&push), OCIPUSH_OK);
    CHECK_RC(ocipush_push_add_layer(push, good, NULL, "good.txt"), OCIPUSH_OK);
    CHECK_RC(ocipush_push_add_layer(push, bad, NULL, "bad.bin"), OCIPUSH_OK);
    CHECK_RC(ocipush_push_add_tag(push, "v1"), OCIPUSH_OK);
    CHECK_RC(ocipush_push_run(s, push, NULL, "api/half"), OCIPUSH_E_SOURCE);
    CHECK(head_status("api/half", "manifests", "v1") == 404);
    ocipush_push_free(push);
    ocipush_source_free(good);
    ocipush_source_free(bad);
    ocipush_session_free(s);
    return 0;
}

static int test_digest_mismatch_commits_nothing(void)
{
    int strategies[] = {OCIPUSH_STRATEGY_AUTO, OCIPUSH_STRATEGY_STREAM, OCIPUSH_STRATEGY_CHUNKED,
                        OCIPUSH_STRATEGY_MONOLITHIC};
    char actual[OCIPUSH_DIGEST_MAX], expected[OCIPUSH_DIGEST_MAX];
    op_sha256_digest(expected, "world", 5);
    for (size_t i = 0; i < 4; i++) {
        ocipush_session *s = session_for(REG);
        ocipush_source *src = NULL;
        char content[32];
        int n = snprintf(content, sizeof content, "hello %zu", i);
        op_sha256_digest(actual, content, (size_t)n);
        CHECK_RC(ocipush_source_new_memory(&src, content, (size_t)n, 1), OCIPUSH_OK);
        ocipush_session_set_strategy(s, strategies[i]);
        CHECK_RC(ocipush_blob_push(s, NULL, NULL, "api/mismatch", src, expected),
                 OCIPUSH_E_DIGEST_MISMATCH);
        CHECK(strstr(ocipush_session_errmsg(s), actual) != NULL);
        CHECK(head_status("api/mismatch", "blobs", actual) == 404);
        CHECK(head_status("api/mismatch", "blobs", expected) == 404);
        ocipush_source_free(src);
        ocipush_session_free(s);
    }
    return 0;
}

static int test_stream_replayed_from_small_spool(void)
{
    ocipush_session *s = session_for(PROXY);
    CHECK(s);
    ocipush_session_set_spool(s, 1, 64 * 1024, UINT64_MAX);
    char want[OCIPUSH_DIGEST_MAX], got[OCIPUSH_DIGEST_MAX], served[OCIPUSH_DIGEST_MAX];
    pattern_source p;
    ocipush_source *src = pattern_stream(&p, 1 << 20, -1);
    pattern_digest(want, 1 << 20);
    uint64_t size = 0;
    CHECK_RC(ocipush_blob_push(s, got, &size, "api/spool", src, NULL), OCIPUSH_OK);
    CHECK(strcmp(want, got) == 0);
    CHECK(size == 1 << 20);
    CHECK(strstr(log_text.data, "rejected (HTTP 400)") != NULL);
    CHECK(strstr(log_text.data,
                 "sent the 1048576-byte stream with Content-Length in chunks through the spool "
                 "(spilled to a temporary file)") != NULL);
    served_digest(served, "api/spool", want);
    CHECK(strcmp(want, served) == 0);
    ocipush_source_free(src);

    /* The session remembers: the next stream goes length-delimited at once. */
    op_buf_reset(&log_text);
    src = pattern_stream(&p, 200001, -1);
    pattern_digest(want, 200001);
    CHECK_RC(ocipush_blob_push(s, got, NULL, "api/spool2", src, NULL), OCIPUSH_OK);
    CHECK(strcmp(want, got) == 0);
    CHECK(strstr(log_text.data, "rejected a streamed upload before") != NULL);
    CHECK(strstr(log_text.data, "rejected (HTTP") == NULL);
    served_digest(served, "api/spool2", want);
    CHECK(strcmp(want, served) == 0);
    ocipush_source_free(src);
    ocipush_session_free(s);
    return 0;
}

static int test_one_byte_reads_through_proxy(void)
{
    ocipush_session *s = session_for(PROXY);
    pattern_source p;
    ocipush_source *src = pattern_stream(&p, 10007, -1);
    p.max_read = 1;
    char want[OCIPUSH_DIGEST_MAX], got[OCIPUSH_DIGEST_MAX], served[OCIPUSH_DIGEST_MAX];
    pattern_digest(want, 10007);
    CHECK(s && src);
    CHECK_RC(ocipush_blob_push(s, got, NULL, "api/onebyte", src, NULL), OCIPUSH_OK);
    CHECK(strcmp(want, got) == 0);
    served_digest(served, "api/onebyte", want);
    CHECK(strcmp(want, served) == 0);
    ocipush_source_free(src);
    ocipush_session_free(s);
    return 0;
}

static int test_size_that_lies(void)
{
    struct {
        uint64_t real;
        int64_t declared;
    } cases[] = {{900, 1000}, {1000, 900}};
    for (size_t i = 0; i < 2; i++) {
        ocipush_session *s = session_for(REG);
        pattern_source p;
        ocipush_source *src = pattern_stream(&p, cases[i].real, cases[i].declared);
        char real_digest[OCIPUSH_DIGEST_MAX];
        pattern_digest(real_digest, cases[i].real);
        CHECK(s && src);
        CHECK_RC(ocipush_blob_push(s, NULL, NULL, "api/liar", src, NULL), OCIPUSH_E_SOURCE);
        CHECK(strstr(ocipush_session_errmsg(s), "declared") != NULL);
        CHECK(head_status("api/liar", "blobs", real_digest) == 404);
        ocipush_source_free(src);
        ocipush_session_free(s);
    }
    return 0;
}

static int stop_after(uint64_t done, int64_t total, void *ud)
{
    (void)total;
    return done >= *(uint64_t *)ud;
}

static int test_progress_abort(void)
{
    ocipush_session *s = session_for(REG);
    uint64_t limit = 100000;
    pattern_source p;
    ocipush_source *src = pattern_stream(&p, 1000000, -1);
    char digest[OCIPUSH_DIGEST_MAX];
    pattern_digest(digest, 1000000);
    CHECK(s && src);
    ocipush_session_set_progress_callback(s, stop_after, &limit);
    CHECK_RC(ocipush_blob_push(s, NULL, NULL, "api/abort", src, NULL), OCIPUSH_E_ABORTED);
    CHECK(head_status("api/abort", "blobs", digest) == 404);
    ocipush_source_free(src);
    ocipush_session_free(s);
    return 0;
}

/* A file that changes while it is pushed: the push fails, nothing lands
 * (neither its old digest nor its new one), whatever the strategy. The file
 * is changed from the progress callback, past its first MiB, in a part not
 * sent yet. Large enough (6 MiB) to be hashed by a thread that reads the file
 * itself. */
typedef struct changer {
    const char *path;
    int done;
} changer;

static int change_file_once(uint64_t done, int64_t total, void *ud)
{
    changer *c = ud;
    (void)total;
    if (c->done || done < (1u << 20))
        return 0;
    FILE *f = fopen(c->path, "r+b");
    if (!f || fseek(f, 5L << 20, SEEK_SET) != 0 || fputc('X', f) == EOF) {
        if (f)
            fclose(f);
        return 1; /* abort: the test then fails on the status */
    }
    fclose(f);
    c->done = 1;
    return 0;
}

static int test_file_changed_while_pushed(void)
{
    int strategies[] = {OCIPUSH_STRATEGY_AUTO, OCIPUSH_STRATEGY_STREAM, OCIPUSH_STRATEGY_CHUNKED,
                        OCIPUSH_STRATEGY_MONOLITHIC};
    const char *tmp = getenv("OCIPUSH_TEST_TMP");
    char path[4096], before[OCIPUSH_DIGEST_MAX], after[OCIPUSH_DIGEST_MAX];
    const size_t len = 6u << 20;
    uint8_t *data = malloc(len);
    CHECK(data);
    snprintf(path, sizeof path, "%s/changing.bin", tmp ? tmp : "/tmp");
    for (size_t i = 0; i < 4; i++) {
        for (size_t j = 0; j < len; j++)
            data[j] = pattern_byte(j + i);
        op_sha256_digest(before, data, len);
        data[5u << 20] = 'X';
        op_sha256_digest(after, data, len);
        data[5u << 20] = pattern_byte((5u << 20) + i);
        FILE *f = fopen(path, "wb");
        CHECK(f && fwrite(data, 1, len, f) == len && fclose(f) == 0);
        /* Its times an hour back, so the change made during the push moves
         * them even where timestamps are coarse (a kernel tick): the test is
         * of ocipush, not of the clock. */
        struct timespec old[2];
        clock_gettime(CLOCK_REALTIME, &old[0]);
        old[0].tv_sec -= 3600;
        old[1] = old[0];
        CHECK(utimensat(AT_FDCWD, path, old, 0) == 0);
        ocipush_session *s = session_for(REG);
        ocipush_source *src = NULL;
        changer c = {path, 0};
        CHECK(s);
        CHECK_RC(ocipush_source_new_file(&src, path), OCIPUSH_OK);
        ocipush_session_set_strategy(s, strategies[i]);
        ocipush_session_set_chunk_size(s, 2u << 20);
        ocipush_session_set_progress_callback(s, change_file_once, &c);
        CHECK_RC(ocipush_blob_push(s, NULL, NULL, "api/changing", src, NULL), OCIPUSH_E_SOURCE);
        CHECK(c.done == 1);
        CHECK(strstr(ocipush_session_errmsg(s), "changed while it was pushed") != NULL);
        CHECK(head_status("api/changing", "blobs", before) == 404);
        CHECK(head_status("api/changing", "blobs", after) == 404);
        ocipush_source_free(src);
        ocipush_session_free(s);
    }
    free(data);
    remove(path);
    return 0;
}

static int test_registry_not_running(void)
{
    ocipush_session *s = session_for(DEAD);
    ocipush_source *src = NULL;
    CHECK(s);
    CHECK_RC(ocipush_session_set_retry(s, 1, 0, 0, 0), OCIPUSH_OK);
    CHECK_RC(ocipush_source_new_memory(&src, "x", 1, 0), OCIPUSH_OK);
    CHECK_RC(ocipush_blob_push(s, NULL, NULL, "api/dead", src, NULL), OCIPUSH_E_NETWORK);
    CHECK(strstr(ocipush_session_errmsg(s), DEAD) != NULL);
    ocipush_source_free(src);
    ocipush_session_free(s);
    return 0;
}

static int push_memory(ocipush_session *s, const char *repo, const char *data, char *digest)
{
    ocipush_source *src = NULL;
    int rc = ocipush_source_new_memory(&src, data, strlen(data), 0);
    rc = rc ? rc : ocipush_blob_push(s, digest, NULL, repo, src, NULL);
    ocipush_source_free(src);
    return rc;
}

/* Serialize, push, and compare with what the registry serves. */
static int push_and_compare(ocipush_session *s, const ocipush_manifest *m, const char *tag,
                            char *digest)
{
    char *json = NULL;
    size_t len = 0;
    char want[OCIPUSH_DIGEST_MAX];
    op_buf back = {0};
    CHECK_RC(ocipush_manifest_serialize(m, &json, &len), OCIPUSH_OK);
    op_sha256_digest(want, json, len);
    CHECK_RC(ocipush_manifest_push(s, digest, "api/manifest", tag, m), OCIPUSH_OK);
    CHECK(strcmp(want, digest) == 0);
    CHECK(fetch(REG, "api/manifest", "manifests", tag, 0, &back) == 200);
    CHECK(back.len == len && memcmp(back.data, json, len) == 0);
    op_buf_reset(&back);
    CHECK(fetch(REG, "api/manifest", "manifests", digest, 0, &back) == 200);
    CHECK(back.len == len && memcmp(back.data, json, len) == 0);
    op_buf_free(&back);
    ocipush_free(json);
    return 0;
}

static int test_manifest_and_index(void)
{
    ocipush_session *s = session_for(PROXY);
    char cfg[OCIPUSH_DIGEST_MAX], layer[OCIPUSH_DIGEST_MAX], md[OCIPUSH_DIGEST_MAX],
        id[OCIPUSH_DIGEST_MAX];
    const char *cfg_json = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":"
                           "\"layers\",\"diff_ids\":[]}}";
    CHECK(s);
    CHECK_RC(push_memory(s, "api/manifest", cfg_json, cfg), OCIPUSH_OK);
    CHECK_RC(push_memory(s, "api/manifest", "layer bytes", layer), OCIPUSH_OK);
    ocipush_manifest *m = NULL, *idx = NULL;
    ocipush_descriptor *dc = NULL, *dl = NULL, *dm = NULL;
    CHECK_RC(ocipush_descriptor_new(&dc, "application/vnd.oci.image.config.v1+json", cfg,
                                    strlen(cfg_json)),
             OCIPUSH_OK);
    CHECK_RC(ocipush_descriptor_new(&dl, OCIPUSH_MEDIA_TYPE_LAYER, layer, 11), OCIPUSH_OK);
    CHECK_RC(ocipush_descriptor_add_annotation(dl, "org.opencontainers.image.title", "l.bin"),
             OCIPUSH_OK);
    CHECK_RC(ocipush_manifest_new(&m, OCIPUSH_MANIFEST_IMAGE), OCIPUSH_OK);
    CHECK_RC(ocipush_manifest_set_config(m, dc), OCIPUSH_OK);
    CHECK_RC(ocipush_manifest_add_layer(m, dl), OCIPUSH_OK);
    CHECK_RC(ocipush_manifest_add_annotation(m, "org.opencontainers.image.created",
                                             "2026-11-27T00:00:00Z"),
             OCIPUSH_OK);
    if (push_and_compare(s, m, "img", md))
        return 1;

    CHECK_RC(ocipush_descriptor_new(&dm, OCIPUSH_MEDIA_TYPE_MANIFEST, md, 0), OCIPUSH_OK);
    char *json = NULL;
    size_t len = 0;
    CHECK_RC(ocipush_manifest_serialize(m, &json, &len), OCIPUSH_OK);
    ocipush_free(json);
    ocipush_descriptor_free(dm);
    CHECK_RC(ocipush_descriptor_new(&dm, OCIPUSH_MEDIA_TYPE_MANIFEST, md, len), OCIPUSH_OK);
    CHECK_RC(ocipush_descriptor_set_platform(dm, "linux", "amd64", NULL), OCIPUSH_OK);
    CHECK_RC(ocipush_manifest_new(&idx, OCIPUSH_MANIFEST_INDEX), OCIPUSH_OK);
    CHECK_RC(ocipush_manifest_add_manifest(idx, dm), OCIPUSH_OK);
    if (push_and_compare(s, idx, "multi", id))
        return 1;

    ocipush_descriptor_free(dc);
    ocipush_descriptor_free(dl);
    ocipush_descriptor_free(dm);
    ocipush_manifest_free(m);
    ocipush_manifest_free(idx);
    ocipush_session_free(s);
    return 0;
}

static int test_exists_and_skip(void)
{
    ocipush_session *s = session_for(REG);
    char digest[OCIPUSH_DIGEST_MAX], other[OCIPUSH_DIGEST_MAX];
    int exists = -1;
    CHECK(s);
    CHECK_RC(push_memory(s, "api/exists", "present", digest), OCIPUSH_OK);
    CHECK_RC(ocipush_blob_exists(s, &exists, "api/exists", digest), OCIPUSH_OK);
    CHECK(exists == 1);
    op_sha256_digest(other, "absent", 6);
    CHECK_RC(ocipush_blob_exists(s, &exists, "api/exists", other), OCIPUSH_OK);
    CHECK(exists == 0);
    /* A known blob is not read again: this source would fail at once. */
    pattern_source p;
    ocipush_source *src = pattern_stream(&p, 7, 7);
    p.fail_at = 0;
    char got[OCIPUSH_DIGEST_MAX];
    uint64_t size = 0;
    /* The expected digest in a heap string of its own length: a digest input
     * is read only as far as its NUL, never as an OCIPUSH_DIGEST_MAX buffer
     * (ASan sees an over-read). */
    char *expected = strdup(digest);
    CHECK(expected);
    CHECK_RC(ocipush_blob_push(s, got, &size, "api/exists", src, expected), OCIPUSH_OK);
    free(expected);
    CHECK(p.reads_after_fail == 0);
    CHECK(strcmp(got, digest) == 0 && size == 7);
    ocipush_source_free(src);
    CHECK_RC(ocipush_blob_exists(s, &exists, "Bad/Repo", digest), OCIPUSH_E_INVALID);
    CHECK_RC(ocipush_blob_exists(s, &exists, "api/exists", "sha256:00"), OCIPUSH_E_INVALID);
    ocipush_session_free(s);
    return 0;
}

/* A rewindable source whose bytes differ at each reading (its generation
 * moves at each rewind). */
typedef struct fickle {
    uint64_t pos, len;
    int generation;
} fickle;

static int fickle_read(uint8_t *buf, size_t cap, size_t *out_len, void *ud)
{
    fickle *f = ud;
    size_t n = f->len - f->pos < cap ? (size_t)(f->len - f->pos) : cap;
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)('a' + f->generation % 26);
    f->pos += n;
    *out_len = n;
    return 0;
}

static int fickle_rewind(void *ud)
{
    fickle *f = ud;
    f->pos = 0;
    f->generation++;
    return 0;
}

/* Without a digest from the caller, a small rewindable blob is hashed first:
 * pushed again, it is found (HEAD) and not sent; and a source that reads
 * back other bytes the second time fails the push before anything lands. */
static int test_small_blob_hashed_first(void)
{
    ocipush_session *s = session_for(REG);
    char first[OCIPUSH_DIGEST_MAX], again[OCIPUSH_DIGEST_MAX];
    CHECK(s);
    CHECK_RC(push_memory(s, "api/prehash", "hashed before it is sent", first), OCIPUSH_OK);
    CHECK(!log_text.data || strstr(log_text.data, "already has") == NULL);
    CHECK_RC(push_memory(s, "api/prehash", "hashed before it is sent", again), OCIPUSH_OK);
    CHECK(strcmp(first, again) == 0);
    CHECK(log_text.data && strstr(log_text.data, "api/prehash already has") != NULL);

    fickle f = {.len = 5000};
    ocipush_source *src = NULL;
    char a[OCIPUSH_DIGEST_MAX], b[OCIPUSH_DIGEST_MAX];
    uint8_t bytes[5000];
    memset(bytes, 'a', sizeof bytes);
    op_sha256_digest(a, bytes, sizeof bytes);
    memset(bytes, 'b', sizeof bytes);
    op_sha256_digest(b, bytes, sizeof bytes);
    CHECK_RC(ocipush_source_new_callback(&src, fickle_read, fickle_rewind, NULL, 5000, &f),
             OCIPUSH_OK);
    CHECK_RC(ocipush_blob_push(s, NULL, NULL, "api/prehash", src, NULL), OCIPUSH_E_SOURCE);
    CHECK(strstr(ocipush_session_errmsg(s), "other bytes when read again") != NULL);
    CHECK(head_status("api/prehash", "blobs", a) == 404);
    CHECK(head_status("api/prehash", "blobs", b) == 404);
    ocipush_source_free(src);
    ocipush_session_free(s);
    return 0;
}

static int test_source_reuse(void)
{
    ocipush_session *s = session_for(REG);
    ocipush_source *mem = NULL;
    char a[OCIPUSH_DIGEST_MAX], b[OCIPUSH_DIGEST_MAX];
    CHECK(s);
    CHECK_RC(ocipush_source_new_memory(&mem, "twice", 5, 0), OCIPUSH_OK);
    CHECK_RC(ocipush_blob_push(s, a, NULL, "api/reuse", mem, NULL), OCIPUSH_OK);
    CHECK_RC(ocipush_blob_push(s, b, NULL, "api/reuse2", mem, NULL), OCIPUSH_OK);
    CHECK(strcmp(a, b) == 0);
    ocipush_source_free(mem);
    pattern_source p;
    ocipush_source *stream = pattern_stream(&p, 100, -1);
    CHECK_RC(ocipush_blob_push(s, a, NULL, "api/reuse", stream, NULL), OCIPUSH_OK);
    CHECK_RC(ocipush_blob_push(s, a, NULL, "api/reuse", stream, NULL), OCIPUSH_E_INVALID);
    CHECK(strstr(ocipush_session_errmsg(s), "consumed") != NULL);
    ocipush_source_free(stream);
    ocipush_session_free(s);
    return 0;
}

static int test_mount(void)
{
    ocipush_session *s = session_for(REG);
    ocipush_source *src = NULL, *never = NULL;
    char digest[OCIPUSH_DIGEST_MAX], served[OCIPUSH_DIGEST_MAX];
    uint64_t size = 0;
    int mounted = -1;
    CHECK(s);
    CHECK_RC(push_memory(s, "api/mount-src", "mount me, please", digest), OCIPUSH_OK);
    /* Mounted: the source is not read (it would fail at once). */
    pattern_source p;
    never = pattern_stream(&p, 16, 16);
    p.fail_at = 0;
    CHECK_RC(ocipush_blob_push_mount(s, &size, &mounted, "api/mount-dst", never, digest,
                                     "api/mount-src"),
             OCIPUSH_OK);
    CHECK(mounted == 1 && size == 16 && p.reads_after_fail == 0);
    served_digest(served, "api/mount-dst", digest);
    CHECK(strcmp(served, digest) == 0);
    /* Nothing to mount from: the registry opens a session (202) and the
     * blob is uploaded in it. */
    op_buf_reset(&log_text);
    CHECK_RC(ocipush_source_new_memory(&src, "mount me, please", 16, 0), OCIPUSH_OK);
    CHECK_RC(
        ocipush_blob_push_mount(s, &size, &mounted, "api/mount-dst2", src, digest, "api/empty"),
        OCIPUSH_OK);
    CHECK(mounted == 0 && size == 16);
    CHECK(strstr(log_text.data, "could not mount") != NULL);
    served_digest(served, "api/mount-dst2", digest);
    CHECK(strcmp(served, digest) == 0);
    /* Mount only (no source), the blob nowhere: a status of its own, nothing
     * uploaded, the outputs not written. */
    char other[OCIPUSH_DIGEST_MAX];
    op_sha256_digest(other, "not anywhere", 12);
    mounted = -1;
    size = 12345;
    CHECK_RC(
        ocipush_blob_push_mount(s, &size, &mounted, "api/mount-dst3", NULL, other, "api/mount-src"),
        OCIPUSH_E_NOT_MOUNTED);
    CHECK(mounted == -1 && size == 12345);
    CHECK(strstr(ocipush_session_errmsg(s), "no source was given") != NULL);
    CHECK(head_status("api/mount-dst3", "blobs", other) == 404);
    /* Mount only, the blob there already: OK, not mounted, its size. */
    CHECK_RC(
        ocipush_blob_push_mount(s, &size, &mounted, "api/mount-dst", NULL, digest, "api/mount-src"),
        OCIPUSH_OK);
    CHECK(mounted == 0 && size == 16);
    /* Failures leave the outputs alone. */
    mounted = -1;
    size = 12345;
    CHECK_RC(ocipush_blob_push_mount(s, &size, &mounted, "api/mount-dst3", NULL, "sha256:00",
                                     "api/mount-src"),
             OCIPUSH_E_INVALID);
    CHECK_RC(ocipush_blob_push_mount(s, &size, &mounted, "api/mount-dst3", NULL, other, "Bad/Repo"),
             OCIPUSH_E_INVALID);
    CHECK(mounted == -1 && size == 12345);
    ocipush_source_free(src);
    ocipush_source_free(never);
    ocipush_session_free(s);
    return 0;
}

/* What each blob's push did: ocipush_session_blob() for a lone blob (and a
 * mount), ocipush_push_blob() for a push, config first, then the layers;
 * nothing after a failure or another call, the outputs then untouched. */
static int test_blob_outcomes(void)
{
    ocipush_session *s = session_for(REG);
    ocipush_source *a = NULL, *b = NULL;
    ocipush_push *p = NULL;
    const char *digest = "unset", *type = "unset";
    char want[OCIPUSH_DIGEST_MAX], mounted_digest[OCIPUSH_DIGEST_MAX], served[OCIPUSH_DIGEST_MAX];
    uint64_t size = 0;
    int status = -1, mounted = -1;
    CHECK(s);
    CHECK(ocipush_session_blob_count(s) == 0);
    CHECK(ocipush_session_blob_count(NULL) == 0);
    CHECK_RC(ocipush_session_blob(s, &digest, &size, &type, &status, 0), OCIPUSH_E_INVALID);
    CHECK(strcmp(digest, "unset") == 0 && status == -1);
    /* A lone blob: pushed, then (hashed first, found by HEAD) skipped. */
    static const char one[] = "outcome of a lone blob";
    op_sha256_digest(want, one, sizeof one - 1);
    CHECK_RC(ocipush_source_new_memory(&a, one, sizeof one - 1, 0), OCIPUSH_OK);
    CHECK_RC(ocipush_blob_push(s, NULL, NULL, "api/outcomes", a, NULL), OCIPUSH_OK);
    CHECK(ocipush_session_blob_count(s) == 1);
    CHECK_RC(ocipush_session_blob(s, &digest, &size, &type, &status, 0), OCIPUSH_OK);
    CHECK(strcmp(digest, want) == 0 && size == sizeof one - 1 && strcmp(type, "") == 0);
    CHECK(status == OCIPUSH_BLOB_PUSHED);
    served_digest(served, "api/outcomes", want);
    CHECK(strcmp(served, want) == 0);
    CHECK_RC(ocipush_blob_push(s, NULL, NULL, "api/outcomes", a, NULL), OCIPUSH_OK);
    CHECK_RC(ocipush_session_blob(s, &digest, NULL, NULL, &status, 0), OCIPUSH_OK);
    CHECK(strcmp(digest, want) == 0 && status == OCIPUSH_BLOB_SKIPPED);
    CHECK_RC(ocipush_session_blob(s, NULL, NULL, NULL, NULL, 1), OCIPUSH_E_INVALID);
    /* Any other call, a failure: nothing to tell. */
    CHECK_RC(ocipush_session_ping(s, NULL), OCIPUSH_OK);
    CHECK(ocipush_session_blob_count(s) == 0);
    CHECK_RC(ocipush_blob_push(s, NULL, NULL, "api/outcomes", a, "sha256:00"), OCIPUSH_E_INVALID);
    CHECK(ocipush_session_blob_count(s) == 0);
    /* A mount, then the blob there already. */
    CHECK_RC(
        ocipush_blob_push_mount(s, &size, &mounted, "api/outcomes-mnt", NULL, want, "api/outcomes"),
        OCIPUSH_OK);
    CHECK(mounted == 1);
    CHECK_RC(ocipush_session_blob(s, &digest, &size, NULL, &status, 0), OCIPUSH_OK);
    CHECK(status == OCIPUSH_BLOB_MOUNTED && strcmp(digest, want) == 0 && size == sizeof one - 1);
    CHECK_RC(
        ocipush_blob_push_mount(s, &size, &mounted, "api/outcomes-mnt", NULL, want, "api/outcomes"),
        OCIPUSH_OK);
    CHECK_RC(ocipush_session_blob(s, NULL, NULL, NULL, &status, 0), OCIPUSH_OK);
    CHECK(mounted == 0 && status == OCIPUSH_BLOB_SKIPPED);
    memcpy(mounted_digest, want, sizeof want);

    /* A push: the empty config, a new layer, the same source again, and a
     * layer of known digest mounted from api/outcomes; in parallel. */
    static const char two[] = "outcome of a push's layer";
    CHECK_RC(ocipush_source_new_memory(&b, two, sizeof two - 1, 0), OCIPUSH_OK);
    CHECK_RC(ocipush_push_new(&p), OCIPUSH_OK);
    CHECK(ocipush_push_blob_count(p) == 0 && ocipush_push_blob_count(NULL) == 0);
    CHECK_RC(ocipush_push_add_layer(p, b, NULL, "two"), OCIPUSH_OK);
    CHECK_RC(ocipush_push_add_layer(p, b, "application/vnd.example.again", NULL), OCIPUSH_OK);
    CHECK_RC(ocipush_push_add_layer_digest(p, a, "application/vnd.example.mounted", NULL,
                                           mounted_digest),
             OCIPUSH_OK);
    CHECK_RC(ocipush_push_set_mount_source(p, "api/outcomes"), OCIPUSH_OK);
    CHECK_RC(ocipush_push_add_tag(p, "v1"), OCIPUSH_OK);
    CHECK_RC(ocipush_push_run(s, p, NULL, "api/outcomes-push"), OCIPUSH_OK);
    CHECK(ocipush_session_blob_count(s) == 0); /* a push tells its own */
    CHECK(ocipush_push_blob_count(p) == 4);
    static const struct {
        const char *type;
        int status;
    } first[] = {{OCIPUSH_MEDIA_TYPE_EMPTY, OCIPUSH_BLOB_PUSHED},
                 {OCIPUSH_MEDIA_TYPE_LAYER, OCIPUSH_BLOB_PUSHED},
                 {"application/vnd.example.again", OCIPUSH_BLOB_PUSHED},
                 {"application/vnd.example.mounted", OCIPUSH_BLOB_MOUNTED}};
    for (size_t i = 0; i < 4; i++) {
        CHECK_RC(ocipush_push_blob(p, &digest, &size, &type, &status, i), OCIPUSH_OK);
        CHECK(strcmp(type, first[i].type) == 0 && status == first[i].status);
        served_digest(served, "api/outcomes-push", digest);
        CHECK(strcmp(served, digest) == 0);
        CHECK(size == (i == 0 ? 2 : i == 3 ? sizeof one - 1 : sizeof two - 1));
    }
    op_sha256_digest(want, two, sizeof two - 1);
    CHECK_RC(ocipush_push_blob(p, &digest, NULL, NULL, NULL, 1), OCIPUSH_OK);
    CHECK(strcmp(digest, want) == 0);
    CHECK_RC(ocipush_push_blob(p, NULL, NULL, NULL, NULL, 4), OCIPUSH_E_INVALID);
    CHECK_RC(ocipush_push_blob(NULL, NULL, NULL, NULL, NULL, 0), OCIPUSH_E_INVALID);
    /* The manifest's size, as the registry serves it. */
    op_buf back = {0};
    CHECK(fetch(REG, "api/outcomes-push", "manifests", "v1", 0, &back) == 200);
    CHECK(ocipush_push_landed_size(p) == back.len && back.len > 0);
    op_sha256_digest(served, back.data, back.len);
    op_buf_free(&back);
    CHECK(strcmp(served, ocipush_push_landed(p)) == 0);
    CHECK(ocipush_push_landed_size(NULL) == 0);
    /* Again: every blob is there. */
    CHECK_RC(ocipush_push_run(s, p, NULL, "api/outcomes-push"), OCIPUSH_OK);
    for (size_t i = 0; i < 4; i++) {
        CHECK_RC(ocipush_push_blob(p, NULL, NULL, NULL, &status, i), OCIPUSH_OK);
        CHECK(status == OCIPUSH_BLOB_SKIPPED);
    }
    /* A run that fails tells nothing, and writes nothing. */
    CHECK_RC(ocipush_push_run(s, p, NULL, "Bad/Repo"), OCIPUSH_E_INVALID);
    CHECK(ocipush_push_blob_count(p) == 0);
    status = -1;
    CHECK_RC(ocipush_push_blob(p, NULL, NULL, NULL, &status, 0), OCIPUSH_E_INVALID);
    CHECK(status == -1 && ocipush_push_landed_size(p) == 0);
    ocipush_push_free(p);
    ocipush_source_free(a);
    ocipush_source_free(b);
    ocipush_session_free(s);
    return 0;
}

/* The media type ocipush_manifest_push_raw() would use when given none. */
static int test_manifest_media_type(void)
{
    static const struct {
        const char *json;
        const char *want; /* NULL: OCIPUSH_E_INVALID */
    } cases[] = {
        {"{\"mediaType\":\"application/vnd.example+json\",\"layers\":[]}",
         "application/vnd.example+json"},
        {"{\"manifests\":[]}", OCIPUSH_MEDIA_TYPE_INDEX},
        {"{\"config\":{}}", OCIPUSH_MEDIA_TYPE_MANIFEST},
        {"{\"schemaVersion\":2}", NULL},
        {"[1]", NULL},
        {"{\"mediaType\":\"text/plain\\r\\nX-Injected: 1\"}", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *type = (char *)"unset";
        int rc = ocipush_manifest_media_type(&type, cases[i].json, strlen(cases[i].json));
        if (!cases[i].want) {
            CHECK(rc == OCIPUSH_E_INVALID && strcmp(type, "unset") == 0);
            continue;
        }
        CHECK(rc == OCIPUSH_OK && strcmp(type, cases[i].want) == 0);
        ocipush_free(type);
    }
    char *type = NULL;
    CHECK(ocipush_manifest_media_type(NULL, "{}", 2) == OCIPUSH_E_INVALID);
    CHECK(ocipush_manifest_media_type(&type, NULL, 2) == OCIPUSH_E_INVALID);
    CHECK(ocipush_manifest_media_type(&type, "{}", 0) == OCIPUSH_E_INVALID && !type);
    return 0;
}

typedef struct push_progress {
    uint64_t last_all_done;
    int64_t all_total;
    int calls;
    uint64_t stop_at; /* 0: never */
} push_progress;

static int on_push_progress(size_t index, uint64_t done, int64_t total, uint64_t all_done,
                            int64_t all_total, void *ud)
{
    push_progress *pp = ud;
    (void)index;
    (void)done;
    (void)total;
    pp->calls++;
    pp->last_all_done = all_done;
    pp->all_total = all_total;
    return pp->stop_at && all_done >= pp->stop_at;
}

static int test_parallel_push(void)
{
    enum { N = 12 };
    ocipush_session *s = session_for(PROXY);
    ocipush_source *srcs[N] = {0};
    pattern_source ps[N];
    CHECK(s);
    /* Streams, so each layer goes through the fallback on its worker. */
    for (int i = 0; i < N; i++)
        CHECK((srcs[i] = pattern_stream(&ps[i], 50000 + (uint64_t)i * 1001, 50000 + i * 1001)));
    ocipush_push *p = NULL;
    push_progress pp = {0};
    CHECK_RC(ocipush_push_new(&p), OCIPUSH_OK);
    for (int i = 0; i < N; i++)
        CHECK_RC(ocipush_push_add_layer(p, srcs[i], NULL, NULL), OCIPUSH_OK);
    CHECK_RC(ocipush_push_set_concurrency(p, 4), OCIPUSH_OK);
    CHECK_RC(ocipush_push_set_progress_callback(p, on_push_progress, &pp), OCIPUSH_OK);
    CHECK_RC(ocipush_push_add_tag(p, "par"), OCIPUSH_OK);
    char digest[OCIPUSH_DIGEST_MAX];
    CHECK_RC(ocipush_push_run(s, p, digest, "api/parallel"), OCIPUSH_OK);
    uint64_t total = 0;
    for (int i = 0; i < N; i++)
        total += 50000 + (uint64_t)i * 1001;
    CHECK(pp.calls > 0 && pp.all_total == (int64_t)total && pp.last_all_done == total);
    op_buf m = {0};
    CHECK(fetch(REG, "api/parallel", "manifests", "par", 0, &m) == 200);
    for (int i = 0; i < N; i++) { /* every layer in order, served whole */
        char want[OCIPUSH_DIGEST_MAX], served[OCIPUSH_DIGEST_MAX];
        pattern_digest(want, 50000 + (uint64_t)i * 1001);
        CHECK(strstr(m.data, want) != NULL);
        served_digest(served, "api/parallel", want);
        CHECK(strcmp(want, served) == 0);
        if (i > 0) {
            char prev[OCIPUSH_DIGEST_MAX];
            pattern_digest(prev, 50000 + (uint64_t)(i - 1) * 1001);
            CHECK(strstr(m.data, prev) < strstr(m.data, want));
        }
    }
    op_buf_free(&m);
    ocipush_push_free(p);
    for (int i = 0; i < N; i++)
        ocipush_source_free(srcs[i]);
    ocipush_session_free(s);
    return 0;
}

static int test_parallel_failure_and_abort(void)
{
    enum { N = 6 };
    for (int mode = 0; mode < 2; mode++) { /* 0: a source fails, 1: progress stops */
        ocipush_session *s = session_for(REG);
        ocipush_source *srcs[N] = {0};
        pattern_source ps[N];
        ocipush_push *p = NULL;
        push_progress pp = {.stop_at = mode ? 200000 : 0};
        CHECK(s);
        for (int i = 0; i < N; i++)
            CHECK((srcs[i] = pattern_stream(&ps[i], 100000, 100000)));
        if (mode == 0)
            ps[3].fail_at = 5000;
        CHECK_RC(ocipush_push_new(&p), OCIPUSH_OK);
        for (int i = 0; i < N; i++)
            CHECK_RC(ocipush_push_add_layer(p, srcs[i], NULL, NULL), OCIPUSH_OK);
        CHECK_RC(ocipush_push_set_concurrency(p, 3), OCIPUSH_OK);
        CHECK_RC(ocipush_push_set_progress_callback(p, on_push_progress, &pp), OCIPUSH_OK);
        CHECK_RC(ocipush_push_add_tag(p, mode ? "stopped" : "failed"), OCIPUSH_OK);
        CHECK_RC(ocipush_push_run(s, p, NULL, "api/parfail"),
                 mode ? OCIPUSH_E_ABORTED : OCIPUSH_E_SOURCE);
        if (mode == 0)
            CHECK(strstr(ocipush_session_errmsg(s), "byte 5000") != NULL);
        CHECK(head_status("api/parfail", "manifests", mode ? "stopped" : "failed") == 404);
        ocipush_push_free(p);
        for (int i = 0; i < N; i++)
            ocipush_source_free(srcs[i]);
        ocipush_session_free(s);
    }
    return 0;
}

/* What a push's progress callback was told, per layer index. */
typedef struct layer_calls {
    int calls[8];
    uint64_t last_done[8];
    int64_t last_total[8];
    uint64_t all_done;
    int64_t all_total;
    int bad; /* an index out of range, or all_done went back or past all_total */
} layer_calls;

static int on_layer_progress(size_t index, uint64_t done, int64_t total, uint64_t all_done,
                             int64_t all_total, void *ud)
{
    layer_calls *lc = ud;
    if (index >= 8 || all_done < lc->all_done || (all_total >= 0 && all_done > (uint64_t)all_total))
        lc->bad = 1;
    if (index < 8) {
        lc->calls[index]++;
        lc->last_done[index] = done;
        lc->last_total[index] = total;
    }
    lc->all_done = all_done;
    lc->all_total = all_total;
    return 0;
}

/* Layers [a, b, a, c]: each reported under its index in the order added;
 * the second layer of `a` once, whole, when a's blob has landed; the last
 * call has every byte of every layer. */
static int test_push_progress_indexes(void)
{
    enum { A = 41001, B = 23002, C = 67003 };
    for (int concurrency = 1; concurrency <= 4; concurrency += 3) {
        ocipush_session *s = session_for(REG);
        pattern_source ps[3];
        ocipush_source *a = pattern_stream(&ps[0], A, A), *b = pattern_stream(&ps[1], B, B),
                       *c = pattern_stream(&ps[2], C, C);
        ocipush_push *p = NULL;
        layer_calls lc = {0};
        char repo[64];
        snprintf(repo, sizeof repo, "api/progress-index%d", concurrency);
        CHECK(s && a && b && c);
        CHECK_RC(ocipush_push_new(&p), OCIPUSH_OK);
        CHECK_RC(ocipush_push_add_layer(p, a, NULL, "a"), OCIPUSH_OK);
        CHECK_RC(ocipush_push_add_layer(p, b, NULL, "b"), OCIPUSH_OK);
        CHECK_RC(ocipush_push_add_layer(p, a, NULL, "a again"), OCIPUSH_OK);
        CHECK_RC(ocipush_push_add_layer(p, c, NULL, "c"), OCIPUSH_OK);
        CHECK_RC(ocipush_push_set_concurrency(p, concurrency), OCIPUSH_OK);
        CHECK_RC(ocipush_push_set_progress_callback(p, on_layer_progress, &lc), OCIPUSH_OK);
        CHECK_RC(ocipush_push_run(s, p, NULL, repo), OCIPUSH_OK);
        CHECK(!lc.bad);
        CHECK(lc.calls[0] > 0 && lc.last_done[0] == A && lc.last_total[0] == A);
        CHECK(lc.calls[1] > 0 && lc.last_done[1] == B && lc.last_total[1] == B);
        CHECK(lc.calls[2] == 1 && lc.last_done[2] == A && lc.last_total[2] == A);
        CHECK(lc.calls[3] > 0 && lc.last_done[3] == C && lc.last_total[3] == C);
        CHECK(lc.all_total == 2 * A + B + C && lc.all_done == (uint64_t)lc.all_total);
        ocipush_push_free(p);
        ocipush_source_free(a);
        ocipush_source_free(b);
        ocipush_source_free(c);
        ocipush_session_free(s);
    }
    return 0;
}

/* [x of known digest, y]: x is skipped (the registry has it) or mounted,
 * its source never read; it is still reported once, whole, and the last
 * call has all_done == all_total. x's source declares `x_declared` bytes
 * (-1: a size known only once x has landed). */
static int push_progress_known(ocipush_session *s, const char *repo, const char *mount_from,
                               int concurrency, int64_t x_declared)
{
    enum { X = 30011, Y = 20011 };
    pattern_source px, py;
    ocipush_source *x = pattern_stream(&px, X, x_declared), *y = pattern_stream(&py, Y, Y);
    char digest[OCIPUSH_DIGEST_MAX];
    ocipush_push *p = NULL;
    layer_calls lc = {0};
    CHECK(x && y);
    px.fail_at = 0; /* reading it would fail the push */
    pattern_digest(digest, X);
    CHECK_RC(ocipush_push_new(&p), OCIPUSH_OK);
    CHECK_RC(ocipush_push_add_layer_digest(p, x, NULL, NULL, digest), OCIPUSH_OK);
    CHECK_RC(ocipush_push_add_layer(p, y, NULL, NULL), OCIPUSH_OK);
    if (mount_from)
        CHECK_RC(ocipush_push_set_mount_source(p, mount_from), OCIPUSH_OK);
    CHECK_RC(ocipush_push_set_concurrency(p, concurrency), OCIPUSH_OK);
    CHECK_RC(ocipush_push_set_progress_callback(p, on_layer_progress, &lc), OCIPUSH_OK);
    CHECK_RC(ocipush_push_run(s, p, NULL, repo), OCIPUSH_OK);
    CHECK(px.reads_after_fail == 0);
    CHECK(!lc.bad);
    CHECK(lc.calls[0] == 1 && lc.last_done[0] == X && lc.last_total[0] == X);
    CHECK(lc.calls[1] > 0 && lc.last_done[1] == Y && lc.last_total[1] == Y);
    CHECK(lc.all_total == X + Y && lc.all_done == (uint64_t)lc.all_total);
    ocipush_push_free(p);
    ocipush_source_free(x);
    ocipush_source_free(y);
    return 0;
}

static int test_push_progress_skipped_and_mounted(void)
{
    ocipush_session *s = session_for(REG);
    pattern_source px;
    ocipush_source *x = pattern_stream(&px, 30011, 30011);
    CHECK(s && x);
    CHECK_RC(ocipush_blob_push(s, NULL, NULL, "api/progress-skip", x, NULL), OCIPUSH_OK);
    ocipush_source_free(x);
    for (int concurrency = 1; concurrency <= 4; concurrency += 3) {
        char repo[64];
        snprintf(repo, sizeof repo, "api/progress-mount%d", concurrency);
        if (push_progress_known(s, "api/progress-skip", NULL, concurrency, 30011) ||
            push_progress_known(s, "api/progress-skip", NULL, concurrency, -1) ||
            push_progress_known(s, repo, "api/progress-skip", concurrency, -1))
            return 1;
        CHECK(strstr(log_text.data, "mounted ") != NULL);
    }
    ocipush_session_free(s);
    return 0;
}

/* push_known: an artifact of two layers of known digest to `repo`; the
 * sources fail at once when `unreadable` (so nothing may read them). */
static int push_known(ocipush_session *s, const char *repo, const char *mount_from, int unreadable,
                      const char *wrong_digest, int want_rc)
{
    pattern_source ps[2];
    ocipush_source *src[2];
    char digest[2][OCIPUSH_DIGEST_MAX];
    ocipush_push *p = NULL;
    CHECK_RC(ocipush_push_new(&p), OCIPUSH_OK);
    for (int i = 0; i < 2; i++) {
        CHECK((src[i] = pattern_stream(&ps[i], 30000 + (uint64_t)i, 30000 + i)));
        if (unreadable)
            ps[i].fail_at = 0;
        pattern_digest(digest[i], 30000 + (uint64_t)i);
        CHECK_RC(ocipush_push_add_layer_digest(p, src[i], NULL, NULL,
                                               i == 1 && wrong_digest ? wrong_digest : digest[i]),
                 OCIPUSH_OK);
    }
    if (mount_from)
        CHECK_RC(ocipush_push_set_mount_source(p, mount_from), OCIPUSH_OK);
    CHECK_RC(ocipush_push_add_tag(p, "known"), OCIPUSH_OK);
    CHECK_RC(ocipush_push_run(s, p, NULL, repo), want_rc);
    for (int i = 0; i < 2; i++) {
        CHECK(ps[i].reads_after_fail == 0);
        ocipush_source_free(src[i]);
    }
    ocipush_push_free(p);
    return 0;
}

static int test_known_digests_skip_and_mount(void)
{
    ocipush_session *s = session_for(REG);
    CHECK(s);
    /* First push: uploaded. Second: the registry has the blobs, the sources
     * (which would fail) are not read. Third: mounted from the first repo. */
    if (push_known(s, "api/known", NULL, 0, NULL, OCIPUSH_OK) ||
        push_known(s, "api/known", NULL, 1, NULL, OCIPUSH_OK) ||
        push_known(s, "api/known-mounted", "api/known", 1, NULL, OCIPUSH_OK))
        return 1;
    CHECK(head_status("api/known-mounted", "manifests", "known") == 200);
    char d[OCIPUSH_DIGEST_MAX], served[OCIPUSH_DIGEST_MAX];
    pattern_digest(d, 30001);
    served_digest(served, "api/known-mounted", d);
    CHECK(strcmp(d, served) == 0);
    /* A wrong digest: not committed, no tag. */
    char wrong[OCIPUSH_DIGEST_MAX];
    op_sha256_digest(wrong, "something else", 14);
    if (push_known(s, "api/known-wrong", NULL, 0, wrong, OCIPUSH_E_DIGEST_MISMATCH))
        return 1;
    CHECK(head_status("api/known-wrong", "manifests", "known") == 404);
    ocipush_session_free(s);
    return 0;
}

/* ocipush_session_cancel() from inside the call (here the progress
 * callback; a signal handler or another thread in real use): the push fails
 * with OCIPUSH_E_ABORTED, the open upload session is still DELETEd, nothing
 * lands, and the session stays cancelled without sending anything more. */
static int cancel_after(uint64_t done, int64_t total, void *ud)
{
    (void)total;
    if (done >= 100000)
        ocipush_session_cancel(ud);
    return 0;
}

static int test_cancel(void)
{
    ocipush_session *s = session_for(REG);
    pattern_source p;
    ocipush_source *src = pattern_stream(&p, 1000000, -1);
    char digest[OCIPUSH_DIGEST_MAX];
    pattern_digest(digest, 1000000);
    CHECK(s && src);
    CHECK(ocipush_session_cancel(NULL) == OCIPUSH_E_INVALID);
    ocipush_session_set_log_callback(s, capture_log, OCIPUSH_LOG_DEBUG, NULL);
    ocipush_session_set_progress_callback(s, cancel_after, s);
    CHECK_RC(ocipush_blob_push(s, NULL, NULL, "api/cancel", src, NULL), OCIPUSH_E_ABORTED);
    CHECK(strstr(ocipush_session_errmsg(s), "cancelled") != NULL);
    CHECK(strstr(log_text.data, "> DELETE ") != NULL);
    /* Answered (204, or 404 when distribution dropped the session as the
     * PATCH was cut). */
    CHECK(strstr(log_text.data, "cancelled upload session: HTTP ") != NULL);
    CHECK(head_status("api/cancel", "blobs", digest) == 404);
    op_buf_reset(&log_text);
    int exists = 0;
    CHECK_RC(ocipush_blob_exists(s, &exists, "api/cancel", digest), OCIPUSH_E_ABORTED);
    /* Stopped before it was sent: no answer came. */
    CHECK(!log_text.data || strstr(log_text.data, "] < ") == NULL);
    ocipush_source_free(src);
    ocipush_session_free(s);
    return 0;
}

static int test_chunk_size_minimum(void)
{
    ocipush_session *s = session_for(REG);
    CHECK(s);
    CHECK_RC(ocipush_session_set_chunk_size(s, 1), OCIPUSH_E_INVALID);
    CHECK_RC(ocipush_session_set_chunk_size(s, OCIPUSH_CHUNK_SIZE_MIN - 1), OCIPUSH_E_INVALID);
    CHECK_RC(ocipush_session_set_chunk_size(s, OCIPUSH_CHUNK_SIZE_MIN), OCIPUSH_OK);
    CHECK_RC(ocipush_session_set_chunk_size(s, 0), OCIPUSH_OK);
    ocipush_session_free(s);
    return 0;
}

/* Outputs are written only on success: a credential store that is there
 * and cannot be read fails the lookup and leaves *out_found as it was. */
static int test_outputs_only_on_success(void)
{
    ocipush_session *s = session_for(REG);
    CHECK(s);
    char dir[] = "/tmp/ocipush-api-creds-XXXXXX", config[64];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(config, sizeof config, "%s/config.json", dir);
    CHECK(mkdir(config, 0700) == 0); /* a directory where the file should be */
    const char *old = getenv("DOCKER_CONFIG");
    char *saved = old ? strdup(old) : NULL;
    setenv("DOCKER_CONFIG", dir, 1);
    int found = 7;
    CHECK_RC(ocipush_session_load_credentials(s, &found), OCIPUSH_E_IO);
    CHECK(found == 7);
    if (saved)
        setenv("DOCKER_CONFIG", saved, 1);
    else
        unsetenv("DOCKER_CONFIG");
    free(saved);
    rmdir(config);
    rmdir(dir);
    ocipush_session_free(s);
    return 0;
}

/* Enum-valued parameters are ints, and checked: a value outside the enum is
 * refused, whatever an FFI or a cast passed. */
static int test_enum_ints_checked(void)
{
    ocipush_session *s = session_for(REG);
    CHECK(s);
    CHECK_RC(ocipush_session_set_strategy(s, OCIPUSH_STRATEGY_CHUNKED), OCIPUSH_OK);
    CHECK_RC(ocipush_session_set_strategy(s, OCIPUSH_STRATEGY_CHUNKED + 1), OCIPUSH_E_INVALID);
    CHECK_RC(ocipush_session_set_strategy(s, -1), OCIPUSH_E_INVALID);
    ocipush_manifest *m = NULL;
    CHECK_RC(ocipush_manifest_new(&m, OCIPUSH_MANIFEST_INDEX + 1), OCIPUSH_E_INVALID);
    CHECK_RC(ocipush_manifest_new(&m, -1), OCIPUSH_E_INVALID);
    CHECK(m == NULL);
    /* Millisecond counts are int64_t: a large one is kept as forever. */
    CHECK_RC(ocipush_session_set_timeouts(s, INT64_MAX, INT64_MAX), OCIPUSH_OK);
    CHECK_RC(ocipush_session_set_retry(s, 2, 0, INT64_MAX, 0), OCIPUSH_OK);
    CHECK_RC(ocipush_session_set_timeouts(s, -1, 0), OCIPUSH_E_INVALID);
    ocipush_session_free(s);
    return 0;
}

static int open_fds(void)
{
    int n = 0;
    char path[64];
    for (int fd = 0; fd < 1024; fd++) {
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        struct stat st;
        n += lstat(path, &st) == 0;
    }
    return n;
}

/* ocipush_source_new_compressed's refusals free the inner source (ASan and
 * valgrind see a leak otherwise); the diff_id only after the end. */
static int test_compressed_source_refusals(void)
{
    ocipush_source *inner = NULL, *src = NULL;
    char digest[OCIPUSH_DIGEST_MAX] = "untouched";
    ocipush_session *s = session_for(REG);
    CHECK(s);
    CHECK_RC(ocipush_source_new_memory(&inner, "abc", 3, 1), OCIPUSH_OK);
    CHECK_RC(ocipush_source_new_compressed(&src, inner, 99, -1), OCIPUSH_E_INVALID);
    CHECK_RC(ocipush_source_new_memory(&inner, "abc", 3, 1), OCIPUSH_OK);
    CHECK_RC(ocipush_source_new_compressed(&src, inner, OCIPUSH_COMPRESS_GZIP, 10),
             OCIPUSH_E_INVALID);
    CHECK_RC(ocipush_source_new_compressed(&src, NULL, OCIPUSH_COMPRESS_GZIP, -1),
             OCIPUSH_E_INVALID);
    CHECK_RC(ocipush_source_new_memory(&inner, "abc", 3, 1), OCIPUSH_OK);
    CHECK_RC(ocipush_source_uncompressed_digest(inner, digest, NULL), OCIPUSH_E_INVALID);
    CHECK_RC(ocipush_source_new_compressed(&src, inner, OCIPUSH_COMPRESS_GZIP, -1), OCIPUSH_OK);
    CHECK(ocipush_source_size(src) == -1);
    CHECK_RC(ocipush_source_uncompressed_digest(src, digest, NULL), OCIPUSH_E_INVALID);
    CHECK(strcmp(digest, "untouched") == 0);
    uint64_t size = 0;
    CHECK_RC(ocipush_blob_push(s, digest, &size, "api/gz", src, NULL), OCIPUSH_OK);
    char diff_id[OCIPUSH_DIGEST_MAX], want[OCIPUSH_DIGEST_MAX];
    uint64_t raw = 0;
    CHECK_RC(ocipush_source_uncompressed_digest(src, diff_id, &raw), OCIPUSH_OK);
    op_sha256_digest(want, "abc", 3);
    CHECK(strcmp(diff_id, want) == 0 && raw == 3);
    CHECK(strcmp(digest, diff_id) != 0 && size > 3); /* the gzip bytes' digest */
    ocipush_source_free(src);
    /* zstd: its own level range; refused as unsupported without libzstd. */
    CHECK_RC(ocipush_source_new_memory(&inner, "abc", 3, 1), OCIPUSH_OK);
    CHECK_RC(ocipush_source_new_compressed(&src, inner, OCIPUSH_COMPRESS_ZSTD, 20),
             OCIPUSH_E_INVALID);
    CHECK_RC(ocipush_source_new_memory(&inner, "abc", 3, 1), OCIPUSH_OK);
    int zstd_rc = ocipush_source_new_compressed(&src, inner, OCIPUSH_COMPRESS_ZSTD, 19);
    CHECK_RC(zstd_rc, ocipush_feature("zstd") ? OCIPUSH_OK : OCIPUSH_E_UNSUPPORTED);
    if (zstd_rc == OCIPUSH_OK) {
        CHECK_RC(ocipush_blob_push(s, digest, &size, "api/zst", src, NULL), OCIPUSH_OK);
        CHECK_RC(ocipush_source_uncompressed_digest(src, diff_id, &raw), OCIPUSH_OK);
        CHECK(strcmp(diff_id, want) == 0 && raw == 3);
        CHECK(strcmp(digest, diff_id) != 0);
        ocipush_source_free(src);
    }
    ocipush_session_free(s);
    return 0;
}

/* ocipush_copy's checks before anything is read or sent (test_copy.sh
 * copies real layouts): and its digest output stays untouched. */
static int test_copy_refusals(void)
{
    const char *tmp = getenv("OCIPUSH_TEST_TMP");
    char empty[512], source[600], digest[OCIPUSH_DIGEST_MAX] = "untouched";
    snprintf(empty, sizeof empty, "%s/copy-empty", tmp ? tmp : "/tmp");
    mkdir(empty, 0700);
    snprintf(source, sizeof source, "oci:%s", empty);
    ocipush_session *s = session_for(REG);
    CHECK(s);
    CHECK_RC(ocipush_copy(NULL, digest, source, "api/copy", NULL, 0), OCIPUSH_E_INVALID);
    CHECK_RC(ocipush_copy(s, digest, "tarball:x.tar", "api/copy", NULL, 0), OCIPUSH_E_INVALID);
    CHECK(strstr(ocipush_session_errmsg(s), "unknown image source") != NULL);
    /* A docker archive's image name goes into messages: no control bytes. */
    CHECK_RC(ocipush_copy(s, digest, "docker-archive:x.tar:a\x1b[2J:v1", "api/copy", NULL, 0),
             OCIPUSH_E_INVALID);
    CHECK(strstr(ocipush_session_errmsg(s), "invalid image name") != NULL);
    CHECK(strchr(ocipush_session_errmsg(s), 0x1b) == NULL);
    CHECK_RC(ocipush_copy(s, digest, "docker-archive:", "api/copy", NULL, 0), OCIPUSH_E_INVALID);
    /* The setter for its layers: refusals leave the setting alone. */
    CHECK_RC(ocipush_session_set_layer_compression(NULL, OCIPUSH_COMPRESS_GZIP, -1),
             OCIPUSH_E_INVALID);
    CHECK_RC(ocipush_session_set_layer_compression(s, 7, -1), OCIPUSH_E_INVALID);
    CHECK_RC(ocipush_session_set_layer_compression(s, OCIPUSH_COMPRESS_GZIP, 10),
             OCIPUSH_E_INVALID);
    CHECK_RC(ocipush_session_set_layer_compression(s, OCIPUSH_COMPRESS_ZSTD, 20),
             OCIPUSH_E_INVALID);
    CHECK_RC(ocipush_session_set_layer_compression(s, OCIPUSH_COMPRESS_ZSTD, 19),
             ocipush_feature("zstd") ? OCIPUSH_OK : OCIPUSH_E_UNSUPPORTED);
    CHECK_RC(ocipush_session_set_layer_compression(s, OCIPUSH_COMPRESS_NONE, 5), OCIPUSH_OK);
    CHECK_RC(ocipush_copy(s, digest, source, "api/copy", NULL, 0x100), OCIPUSH_E_INVALID);
    CHECK(strstr(ocipush_session_errmsg(s), "unknown copy flags") != NULL);
    CHECK_RC(ocipush_copy(s, digest, source, "Bad/Repo", NULL, 0), OCIPUSH_E_INVALID);
    CHECK_RC(ocipush_copy(s, digest, source, "api/copy", "bad tag", 0), OCIPUSH_E_INVALID);
    CHECK_RC(ocipush_copy(s, digest, "oci:", "api/copy", NULL, 0), OCIPUSH_E_INVALID);
    CHECK_RC(ocipush_copy(s, digest, source, "api/copy", NULL, 0), OCIPUSH_E_INVALID);
    CHECK(strstr(ocipush_session_errmsg(s), "is not an OCI layout: it has no oci-layout") != NULL);
    CHECK(strcmp(digest, "untouched") == 0);
    ocipush_session_free(s);
    return 0;
}

/* A file source holds no descriptor until a push reads it, nor after; it
 * must still be the same file then. */
static int test_file_source_opened_when_read(void)
{
    const char *tmp = getenv("OCIPUSH_TEST_TMP");
    char path[512], other[600];
    snprintf(path, sizeof path, "%s/lazy.bin", tmp ? tmp : "/tmp");
    snprintf(other, sizeof other, "%s.other", path);
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite("lazy file source", 1, 16, f) == 16 && fclose(f) == 0);
    ocipush_session *s = session_for(REG);
    ocipush_source *src[8] = {0};
    CHECK(s);
    int before = open_fds();
    for (int i = 0; i < 8; i++)
        CHECK_RC(ocipush_source_new_file(&src[i], path), OCIPUSH_OK);
    CHECK(open_fds() == before);
    char digest[OCIPUSH_DIGEST_MAX];
    CHECK_RC(ocipush_blob_push(s, digest, NULL, "api/lazy", src[0], NULL), OCIPUSH_OK);
    /* Pushed again (found there): no descriptor more than after the first
     * push, which left its connection open, not the file. */
    int after_first = open_fds();
    CHECK_RC(ocipush_blob_push(s, NULL, NULL, "api/lazy", src[3], NULL), OCIPUSH_OK);
    CHECK(open_fds() == after_first);
    char served[OCIPUSH_DIGEST_MAX];
    served_digest(served, "api/lazy", digest);
    CHECK(strcmp(served, digest) == 0);
    /* Another file of the same size renamed over it: refused, not sent. */
    f = fopen(other, "wb");
    CHECK(f && fwrite("other file, same", 1, 16, f) == 16 && fclose(f) == 0);
    CHECK(rename(other, path) == 0);
    CHECK_RC(ocipush_blob_push(s, NULL, NULL, "api/lazy2", src[1], NULL), OCIPUSH_E_SOURCE);
    CHECK(strstr(ocipush_session_errmsg(s), "another file") != NULL);
    /* Gone: the failure names the path and the reason. */
    CHECK(unlink(path) == 0);
    CHECK_RC(ocipush_blob_push(s, NULL, NULL, "api/lazy2", src[2], NULL), OCIPUSH_E_IO);
    CHECK(strstr(ocipush_session_errmsg(s), "lazy.bin") != NULL);
    CHECK(strstr(ocipush_session_errmsg(s), "No such file") != NULL);
    /* Missing already when the source is made: fails there. */
    ocipush_source *missing = NULL;
    CHECK_RC(ocipush_source_new_file(&missing, path), OCIPUSH_E_IO);
    for (int i = 0; i < 8; i++)
        ocipush_source_free(src[i]);
    ocipush_session_free(s);
    return 0;
}

static void run(const char *name, int (*fn)(void))
{
    if (fn() == 0) {
        printf("ok - %s\n", name);
        passes++;
    } else {
        printf("not ok - %s\n", name);
        failures++;
    }
    fflush(stdout);
}

/* A refusal by the registry is told as data too: the status and the
 * registry's error code of the answer, beside the message; a call that
 * fails without an answer, and the next call, clear them. */
static int test_error_detail(void)
{
    ocipush_session *s = session_for(REG);
    CHECK(s);
    CHECK_RC(ocipush_session_set_retry(s, 1, 0, 0, 0), OCIPUSH_OK);
    /* A manifest naming a blob the registry lacks: 400 MANIFEST_BLOB_UNKNOWN. */
    static const char manifest[] =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
        "\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":"
        "\"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\",\"size\":2},"
        "\"layers\":[]}";
    CHECK(ocipush_session_http_status(s) == 0);
    CHECK(strcmp(ocipush_session_error_code(s), "") == 0);
    CHECK_RC(
        ocipush_manifest_push_raw(s, NULL, "api/detail", "v1", NULL, manifest, sizeof manifest - 1),
        OCIPUSH_E_HTTP);
    CHECK(ocipush_session_http_status(s) == 400);
    CHECK(strcmp(ocipush_session_error_code(s), "MANIFEST_BLOB_UNKNOWN") == 0);
    CHECK(strstr(ocipush_session_errmsg(s), "MANIFEST_BLOB_UNKNOWN") != NULL);
    /* A failure with no answer behind it: none reported. */
    CHECK_RC(
        ocipush_manifest_push_raw(s, NULL, "Not/A/Name", "v1", NULL, manifest, sizeof manifest - 1),
        OCIPUSH_E_INVALID);
    CHECK(ocipush_session_http_status(s) == 0);
    CHECK(strcmp(ocipush_session_error_code(s), "") == 0);
    /* A call that succeeds starts clean. */
    int exists = 1;
    CHECK_RC(
        ocipush_manifest_push_raw(s, NULL, "api/detail", "v1", NULL, manifest, sizeof manifest - 1),
        OCIPUSH_E_HTTP);
    CHECK_RC(ocipush_blob_exists(
                 s, &exists, "api/detail",
                 "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"),
             OCIPUSH_OK);
    CHECK(ocipush_session_http_status(s) == 0);
    CHECK(strcmp(ocipush_session_errmsg(s), "") == 0);
    CHECK(ocipush_session_http_status(NULL) == 0);
    CHECK(strcmp(ocipush_session_error_code(NULL), "") == 0);
    ocipush_session_free(s);
    return 0;
}

/* ocipush_global_init() is counted: two inits, two cleanups, and one
 * cleanup too many does nothing; sessions work before, between and after. */
static int test_global_init(void)
{
    ocipush_session *s = NULL; /* CHECK_RC reports its message */
    CHECK_RC(ocipush_global_init(), OCIPUSH_OK);
    CHECK_RC(ocipush_global_init(), OCIPUSH_OK);
    s = session_for(REG);
    CHECK(s);
    CHECK_RC(ocipush_session_ping(s, NULL), OCIPUSH_OK);
    ocipush_global_cleanup();
    CHECK_RC(ocipush_session_ping(s, NULL), OCIPUSH_OK);
    ocipush_session_free(s);
    ocipush_global_cleanup();
    ocipush_global_cleanup(); /* none left to undo */
    s = session_for(REG);
    CHECK(s);
    CHECK_RC(ocipush_session_ping(s, NULL), OCIPUSH_OK);
    ocipush_session_free(s);
    return 0;
}

int main(void)
{
    REG = getenv("OCIPUSH_TEST_REGISTRY");
    PROXY = getenv("OCIPUSH_TEST_PROXY");
    DEAD = getenv("OCIPUSH_TEST_DEAD");
    if (!REG || !PROXY || !DEAD) {
        fprintf(stderr, "run me through tests/registry-env.sh\n");
        return 1;
    }
    run("global init and cleanup are counted", test_global_init);
    run("a source that fails mid-stream", test_source_fails_mid_stream);
    run("a failing layer leaves no tag", test_failing_layer_leaves_no_tag);
    run("digest mismatch commits nothing", test_digest_mismatch_commits_nothing);
    run("stream replayed from a small spool", test_stream_replayed_from_small_spool);
    run("one-byte reads through the proxy", test_one_byte_reads_through_proxy);
    run("a size that lies", test_size_that_lies);
    run("progress callback aborts", test_progress_abort);
    run("a file that changes while pushed fails, nothing lands", test_file_changed_while_pushed);
    run("registry not running", test_registry_not_running);
    run("a refusal's HTTP status and registry error code", test_error_detail);
    run("manifest and index byte-identical", test_manifest_and_index);
    run("exists, and a known blob is skipped", test_exists_and_skip);
    run("a small blob is hashed first, skipped when there", test_small_blob_hashed_first);
    run("source reuse", test_source_reuse);
    run("cross-repository mount: 201, 202, mount only", test_mount);
    run("what each blob's push did: pushed, skipped, mounted", test_blob_outcomes);
    run("the media type a raw manifest is pushed with", test_manifest_media_type);
    run("layers pushed in parallel, in order, with progress", test_parallel_push);
    run("parallel: a failing layer, a stop from progress", test_parallel_failure_and_abort);
    run("layers of known digest: skipped, mounted, checked", test_known_digests_skip_and_mount);
    run("push progress: layer indexes, a source given twice", test_push_progress_indexes);
    run("push progress: skipped and mounted layers end at all_total",
        test_push_progress_skipped_and_mounted);
    run("cancel: aborted, the upload session deleted, the session stays cancelled", test_cancel);
    run("the chunk size setter refuses less than 64 KiB", test_chunk_size_minimum);
    run("enum-valued ints are checked, milliseconds are int64_t", test_enum_ints_checked);
    run("outputs only on success: a failed credential lookup", test_outputs_only_on_success);
    run("a file source is opened when read, and must be the same file",
        test_file_source_opened_when_read);
    run("copy: what it refuses before reading anything", test_copy_refusals);
    run("a compressed source: refusals free the inner source, the diff_id at the end",
        test_compressed_source_refusals);
    op_buf_free(&log_text);
    curl_global_cleanup();
    printf("%d passed, %d failed\n", passes, failures);
    return failures ? 1 : 0;
}
