/* The blob reader (lib/reader.c) over unpleasant callback sources, the
 * built-in memory, file and descriptor sources, and the spool. No network:
 * the session is only a holder of settings and the error message. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "digest.h"
#include "ocipush.h"
#include "reader.h"
#include "session.h"
#include "source.h"
#include "spool.h"

static ocipush_session *S;

static void fill_pseudo_random(uint8_t *buf, size_t len, uint32_t seed)
{
    uint32_t x = seed;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        buf[i] = (uint8_t)(x >> 24);
    }
}

static const char *errmsg(void)
{
    return ocipush_session_errmsg(S);
}

/* Fresh settings and no stale message for each scenario. */
static void reset_session(int spool, uint64_t cap)
{
    op_call_scope(S);
    ocipush_session_set_spool(S, spool, cap, UINT64_MAX);
    ocipush_session_set_progress_callback(S, NULL, NULL);
}

/* ---- a configurable callback source ---- */

typedef struct cb_src {
    const uint8_t *data;
    size_t len; /* bytes the reads produce in all */
    size_t pos;
    size_t max_read; /* at most this per read; 0: as much as asked */
    size_t fail_at;  /* the read at this offset fails; SIZE_MAX: never */
    int rewind_fails;
    int over_report; /* claim one byte more than the capacity */
    int reads, rewinds, closes;
    size_t produced; /* bytes handed out over every read */
} cb_src;

static void cb_init(cb_src *c, const uint8_t *data, size_t len)
{
    memset(c, 0, sizeof *c);
    c->data = data;
    c->len = len;
    c->fail_at = SIZE_MAX;
}

static int cb_read(uint8_t *buf, size_t cap, size_t *out_len, void *ud)
{
    cb_src *c = ud;
    c->reads++;
    if (c->over_report) {
        *out_len = cap + 1;
        return 0;
    }
    if (c->pos >= c->fail_at)
        return 42;
    size_t n = c->len - c->pos;
    if (n > cap)
        n = cap;
    if (c->max_read && n > c->max_read)
        n = c->max_read;
    if (c->fail_at != SIZE_MAX && n > c->fail_at - c->pos)
        n = c->fail_at - c->pos;
    if (n)
        memcpy(buf, c->data + c->pos, n);
    c->pos += n;
    c->produced += n;
    *out_len = n;
    return 0;
}

static int cb_rewind(void *ud)
{
    cb_src *c = ud;
    c->rewinds++;
    if (c->rewind_fails)
        return -1;
    c->pos = 0;
    return 0;
}

static void cb_close(void *ud)
{
    ((cb_src *)ud)->closes++;
}

static ocipush_source *cb_source(cb_src *c, int rewindable, int64_t size)
{
    ocipush_source *src = NULL;
    int rc = ocipush_source_new_callback(&src, cb_read, rewindable ? cb_rewind : NULL, cb_close,
                                         size, c);
    CHECK_EQ_INT(rc, OCIPUSH_OK);
    return src;
}

/* Read through the reader with reads of `chunk` bytes until it gives 0 or
 * `stop` bytes came out, appending to out (cap bytes). The reader's status,
 * or -1000 if it broke the read contract. */
static int read_some(op_reader *r, uint8_t *out, size_t cap, size_t chunk, size_t stop, size_t *got)
{
    uint8_t buf[8192];
    *got = 0;
    if (chunk > sizeof buf)
        chunk = sizeof buf;
    for (;;) {
        size_t want = chunk;
        if (stop - *got < want)
            want = stop - *got;
        if (want == 0)
            return 0;
        size_t n = (size_t)-1;
        int rc = op_reader_read(r, buf, want, &n);
        if (rc)
            return rc;
        if (n > want || *got + n > cap)
            return -1000;
        if (n == 0)
            return 0;
        memcpy(out + *got, buf, n);
        *got += n;
    }
}

#define ALL SIZE_MAX

static void expect_digest_of(const op_reader *r, const uint8_t *data, size_t len)
{
    char want[OCIPUSH_DIGEST_MAX];
    if (CHECK_EQ_INT(op_sha256_digest(want, data, len), OCIPUSH_OK) && CHECK(r->at_eof))
        CHECK_EQ_STR(r->digest, want);
}

/* ---- reader over callback sources ---- */

static void test_one_byte_reads(const uint8_t *data)
{
    static uint8_t out[1000];
    for (int known = 0; known < 2; known++) {
        reset_session(1, 1000);
        cb_src c;
        cb_init(&c, data, 1000);
        c.max_read = 1;
        ocipush_source *src = cb_source(&c, 0, known ? 1000 : -1);
        op_reader r = {0};
        if (src && CHECK_EQ_INT(op_reader_init(&r, &S->ctx, src, 1), OCIPUSH_OK)) {
            size_t got = 0;
            CHECK_EQ_INT(read_some(&r, out, sizeof out, 4096, ALL, &got), OCIPUSH_OK);
            CHECK_EQ_INT(got, 1000);
            CHECK(memcmp(out, data, 1000) == 0);
            CHECK_EQ_INT(r.size, 1000);
            CHECK_EQ_U64(r.pos, 1000);
            expect_digest_of(&r, data, 1000);
            CHECK_EQ_INT(c.reads, 1001); /* 1000 bytes, then the end */
            /* At the end: more reads give 0 without asking the source. */
            size_t n = 7;
            uint8_t b[16];
            CHECK_EQ_INT(op_reader_read(&r, b, sizeof b, &n), OCIPUSH_OK);
            CHECK_EQ_INT(n, 0);
            CHECK_EQ_INT(c.reads, 1001);
            CHECK_EQ_INT(op_reader_finish(&r), OCIPUSH_OK);
        }
        op_reader_clear(&r);
        ocipush_source_free(src);
        CHECK_EQ_INT(c.closes, 1);
    }

    /* And reads asked one byte at a time. */
    reset_session(1, 1000);
    cb_src c;
    cb_init(&c, data, 300);
    ocipush_source *src = cb_source(&c, 1, 300);
    op_reader r = {0};
    if (src && CHECK_EQ_INT(op_reader_init(&r, &S->ctx, src, 1), OCIPUSH_OK)) {
        size_t got = 0;
        CHECK_EQ_INT(read_some(&r, out, sizeof out, 1, ALL, &got), OCIPUSH_OK);
        CHECK_EQ_INT(got, 300);
        CHECK(memcmp(out, data, 300) == 0);
        expect_digest_of(&r, data, 300);
    }
    op_reader_clear(&r);
    ocipush_source_free(src);
}

static void test_read_failure(const uint8_t *data)
{
    static uint8_t out[1000];
    static const size_t fail_at[] = {700, 0, 256};
    for (size_t i = 0; i < sizeof fail_at / sizeof fail_at[0]; i++) {
        reset_session(1, 100);
        cb_src c;
        cb_init(&c, data, 1000);
        c.fail_at = fail_at[i];
        ocipush_source *src = cb_source(&c, 0, 1000);
        op_reader r = {0};
        if (src && CHECK_EQ_INT(op_reader_init(&r, &S->ctx, src, 1), OCIPUSH_OK)) {
            size_t got = 0;
            CHECK_EQ_INT(read_some(&r, out, sizeof out, 256, ALL, &got), OCIPUSH_E_SOURCE);
            CHECK_EQ_INT(got, fail_at[i]);
            CHECK(memcmp(out, data, got) == 0);
            CHECK(!r.at_eof);
            char offset[32];
            snprintf(offset, sizeof offset, "byte %zu", fail_at[i]);
            if (!CHECK(strstr(errmsg(), offset) != NULL))
                fprintf(stderr, "    errmsg \"%s\" does not say \"%s\"\n", errmsg(), offset);
        }
        op_reader_clear(&r);
        ocipush_source_free(src);
        CHECK_EQ_INT(c.closes, 1);
    }

    /* A callback that reports more than it was given room for. */
    reset_session(1, 100);
    cb_src c;
    cb_init(&c, data, 1000);
    c.over_report = 1;
    ocipush_source *src = cb_source(&c, 0, -1);
    op_reader r = {0};
    if (src && CHECK_EQ_INT(op_reader_init(&r, &S->ctx, src, 1), OCIPUSH_OK)) {
        uint8_t b[64];
        size_t n = 0;
        CHECK_EQ_INT(op_reader_read(&r, b, sizeof b, &n), OCIPUSH_E_SOURCE);
        CHECK_EQ_INT(n, 0);
        CHECK(errmsg()[0] != '\0');
    }
    op_reader_clear(&r);
    ocipush_source_free(src);
}

static void test_size_mismatch(const uint8_t *data)
{
    static uint8_t out[2000];
    size_t got = 0;
    op_reader r = {0};
    cb_src c;
    ocipush_source *src;

    /* Declared larger than what comes: caught at the end. */
    reset_session(1, 1 << 20);
    cb_init(&c, data, 1000);
    src = cb_source(&c, 0, 1100);
    if (src && CHECK_EQ_INT(op_reader_init(&r, &S->ctx, src, 1), OCIPUSH_OK)) {
        CHECK_EQ_INT(read_some(&r, out, sizeof out, 256, ALL, &got), OCIPUSH_E_SOURCE);
        CHECK_EQ_INT(got, 1000);
        CHECK(!r.at_eof);
        CHECK(strstr(errmsg(), "1100") != NULL);
        op_reader_clear(&r);
    }
    ocipush_source_free(src);

    /* Declared smaller: caught as soon as a read passes the size. */
    reset_session(1, 1 << 20);
    cb_init(&c, data, 1000);
    src = cb_source(&c, 0, 900);
    if (src && CHECK_EQ_INT(op_reader_init(&r, &S->ctx, src, 1), OCIPUSH_OK)) {
        CHECK_EQ_INT(read_some(&r, out, sizeof out, 256, ALL, &got), OCIPUSH_E_SOURCE);
        CHECK(got <= 900);
        CHECK(!r.at_eof);
        CHECK(strstr(errmsg(), "900") != NULL);
        op_reader_clear(&r);
    }
    ocipush_source_free(src);

    /* Declared smaller, read exactly as far as declared (as an upload of
     * r.size bytes does): op_reader_finish finds the extra byte. */
    reset_session(1, 1 << 20);
    cb_init(&c, data, 1000);
    src = cb_source(&c, 0, 900);
    if (src && CHECK_EQ_INT(op_reader_init(&r, &S->ctx, src, 1), OCIPUSH_OK)) {
        r.limit = 900;
        CHECK_EQ_INT(read_some(&r, out, sizeof out, 256, ALL, &got), OCIPUSH_OK);
        CHECK_EQ_INT(got, 900);
        CHECK_EQ_INT(op_reader_finish(&r), OCIPUSH_E_SOURCE);
        CHECK(!r.at_eof);
        op_reader_clear(&r);
    }
    ocipush_source_free(src);

    /* Exactly as declared: op_reader_finish confirms the end and the digest. */
    reset_session(1, 1 << 20);
    cb_init(&c, data, 1000);
    src = cb_source(&c, 0, 1000);
    if (src && CHECK_EQ_INT(op_reader_init(&r, &S->ctx, src, 1), OCIPUSH_OK)) {
        r.limit = 1000;
        CHECK_EQ_INT(read_some(&r, out, sizeof out, 333, ALL, &got), OCIPUSH_OK);
        CHECK_EQ_INT(got, 1000);
        CHECK(!r.at_eof);
        CHECK_EQ_INT(op_reader_finish(&r), OCIPUSH_OK);
        expect_digest_of(&r, data, 1000);
        CHECK_EQ_INT(errmsg()[0], '\0');
        op_reader_clear(&r);
    }
    ocipush_source_free(src);

    /* Empty, declared empty; and declared empty but not. */
    for (size_t len = 0; len < 2; len++) {
        reset_session(1, 1 << 20);
        cb_init(&c, data, len);
        src = cb_source(&c, 0, 0);
        if (src && CHECK_EQ_INT(op_reader_init(&r, &S->ctx, src, 1), OCIPUSH_OK)) {
            int rc = read_some(&r, out, sizeof out, 256, ALL, &got);
            CHECK_EQ_INT(rc, len ? OCIPUSH_E_SOURCE : OCIPUSH_OK);
            CHECK_EQ_INT(got, 0);
            if (len == 0)
                expect_digest_of(&r, data, 0);
            op_reader_clear(&r);
        }
        ocipush_source_free(src);
    }

    /* A rewindable source that comes back shorter after its rewind. */
    reset_session(1, 1 << 20);
    cb_init(&c, data, 1000);
    src = cb_source(&c, 1, -1);
    if (src && CHECK_EQ_INT(op_reader_init(&r, &S->ctx, src, 1), OCIPUSH_OK)) {
        CHECK_EQ_INT(read_some(&r, out, sizeof out, 256, ALL, &got), OCIPUSH_OK);
        CHECK_EQ_INT(got, 1000);
        CHECK_EQ_INT(op_reader_rewind(&r), OCIPUSH_OK);
        c.len = 600;
        CHECK_EQ_INT(read_some(&r, out, sizeof out, 256, ALL, &got), OCIPUSH_E_SOURCE);
        CHECK_EQ_INT(got, 600);
        CHECK(strstr(errmsg(), "600") != NULL);
        op_reader_clear(&r);
    }
    ocipush_source_free(src);
}

static void test_rewind_failure(const uint8_t *data)
{
    static uint8_t out[1000];
    size_t got = 0;
    op_reader r = {0};
    cb_src c;

    reset_session(1, 1 << 20);
    cb_init(&c, data, 1000);
    c.rewind_fails = 1;
    ocipush_source *src = cb_source(&c, 1, 1000);
    if (src && CHECK_EQ_INT(op_reader_init(&r, &S->ctx, src, 1), OCIPUSH_OK)) {
        CHECK(r.spool == NULL);                         /* a rewindable source is not spooled */
        CHECK_EQ_INT(op_reader_rewind(&r), OCIPUSH_OK); /* nothing read yet */
        CHECK_EQ_INT(read_some(&r, out, sizeof out, 64, 100, &got), OCIPUSH_OK);
        CHECK_EQ_INT(got, 100);
        CHECK_EQ_INT(op_reader_rewind(&r), OCIPUSH_E_SOURCE);
        CHECK_EQ_INT(c.rewinds, 1);
        CHECK(errmsg()[0] != '\0');
        op_reader_clear(&r);

        /* A second push of the same source must rewind it first. */
        op_call_scope(S);
        CHECK_EQ_INT(op_reader_init(&r, &S->ctx, src, 1), OCIPUSH_E_SOURCE);
        CHECK(errmsg()[0] != '\0');
        op_reader_clear(&r);

        c.rewind_fails = 0;
        if (CHECK_EQ_INT(op_reader_init(&r, &S->ctx, src, 1), OCIPUSH_OK)) {
            CHECK_EQ_INT(c.rewinds, 3);
            CHECK_EQ_INT(read_some(&r, out, sizeof out, 256, ALL, &got), OCIPUSH_OK);
            CHECK_EQ_INT(got, 1000);
            CHECK(memcmp(out, data, 1000) == 0);
            expect_digest_of(&r, data, 1000);
        }
        op_reader_clear(&r);
    }
    ocipush_source_free(src);
    CHECK_EQ_INT(c.closes, 1);

    /* A stream an earlier reader consumed cannot be pushed again. */
    reset_session(1, 1 << 20);
    cb_init(&c, data, 1000);
    src = cb_source(&c, 0, -1);
    if (src && CHECK_EQ_INT(op_reader_init(&r, &S->ctx, src, 1), OCIPUSH_OK)) {
        CHECK_EQ_INT(read_some(&r, out, sizeof out, 64, 10, &got), OCIPUSH_OK);
        op_reader_clear(&r);
        CHECK_EQ_INT(op_reader_init(&r, &S->ctx, src, 1), OCIPUSH_E_INVALID);
        CHECK(errmsg()[0] != '\0');
        op_reader_clear(&r);
    }
    ocipush_source_free(src);
}

static void test_spool_replay(const uint8_t *data)
{
    enum { LEN = 5000 };
    static uint8_t out[LEN];
    size_t got = 0;
    op_reader r = {0};
    cb_src c;

    for (int known = 0; known < 2; known++) {
        reset_session(1, 1000);
        cb_init(&c, data, LEN);
        c.max_read = 333;
        ocipush_source *src = cb_source(&c, 0, known ? LEN : -1);
        if (!src || !CHECK_EQ_INT(op_reader_init(&r, &S->ctx, src, 1), OCIPUSH_OK)) {
            ocipush_source_free(src);
            continue;
        }
        if (CHECK(r.spool != NULL)) {
            CHECK_EQ_INT(read_some(&r, out, sizeof out, 500, 3000, &got), OCIPUSH_OK);
            CHECK_EQ_INT(got, 3000);
            CHECK(memcmp(out, data, 3000) == 0);
            CHECK(op_spool_on_disk(r.spool));
            CHECK_EQ_U64(op_spool_size(r.spool), 3000);

            CHECK_EQ_INT(op_reader_rewind(&r), OCIPUSH_OK);
            CHECK_EQ_U64(r.pos, 0);
            memset(out, 0, sizeof out);
            CHECK_EQ_INT(read_some(&r, out, sizeof out, 700, ALL, &got), OCIPUSH_OK);
            CHECK_EQ_INT(got, LEN);
            CHECK(memcmp(out, data, LEN) == 0);
            CHECK_EQ_INT(r.size, LEN);
            expect_digest_of(&r, data, LEN);
            CHECK_EQ_INT(c.produced, LEN); /* the stream itself was read once */
            CHECK_EQ_U64(op_spool_size(r.spool), LEN);

            /* Once more, all from the spool: the source is not asked again. */
            int reads = c.reads;
            CHECK_EQ_INT(op_reader_rewind(&r), OCIPUSH_OK);
            memset(out, 0, sizeof out);
            CHECK_EQ_INT(read_some(&r, out, sizeof out, 4096, ALL, &got), OCIPUSH_OK);
            CHECK_EQ_INT(got, LEN);
            CHECK(memcmp(out, data, LEN) == 0);
            CHECK_EQ_INT(c.reads, reads);
            expect_digest_of(&r, data, LEN);
            CHECK_EQ_INT(op_reader_finish(&r), OCIPUSH_OK);
        }
        op_reader_clear(&r);
        ocipush_source_free(src);
        CHECK_EQ_INT(c.closes, 1);
    }

    /* Drained first (to learn size and digest), then sent from the spool. */
    reset_session(1, 1000);
    cb_init(&c, data, LEN);
    c.max_read = 777;
    ocipush_source *src = cb_source(&c, 0, -1);
    if (src && CHECK_EQ_INT(op_reader_init(&r, &S->ctx, src, 1), OCIPUSH_OK)) {
        CHECK_EQ_INT(op_reader_drain(&r), OCIPUSH_OK);
        CHECK_EQ_INT(r.size, LEN);
        expect_digest_of(&r, data, LEN);
        CHECK_EQ_INT(op_reader_rewind(&r), OCIPUSH_OK);
        memset(out, 0, sizeof out);
        CHECK_EQ_INT(read_some(&r, out, sizeof out, 1024, ALL, &got), OCIPUSH_OK);
        CHECK_EQ_INT(got, LEN);
        CHECK(memcmp(out, data, LEN) == 0);
        CHECK_EQ_INT(c.produced, LEN);
        op_reader_clear(&r);
    }
    ocipush_source_free(src);
}

static void test_spool_off(const uint8_t *data)
{
    static uint8_t out[1000];
    size_t got = 0;
    op_reader r = {0};
    cb_src c;

    reset_session(0, 1000);
    cb_init(&c, data, 1000);
    ocipush_source *src = cb_source(&c, 0, 1000);
    if (src && CHECK_EQ_INT(op_reader_init(&r, &S->ctx, src, 1), OCIPUSH_OK)) {
        CHECK(r.spool == NULL);
        CHECK_EQ_INT(op_reader_rewind(&r), OCIPUSH_OK); /* nothing read: nothing to replay */
        CHECK_EQ_INT(read_some(&r, out, sizeof out, 64, 100, &got), OCIPUSH_OK);
        CHECK_EQ_INT(got, 100);
        CHECK_EQ_INT(op_reader_rewind(&r), OCIPUSH_E_NOT_REPLAYABLE);
        CHECK(errmsg()[0] != '\0');
        op_call_scope(S);
        CHECK_EQ_INT(op_reader_drain(&r), OCIPUSH_E_NOT_REPLAYABLE);
        CHECK(errmsg()[0] != '\0');
        op_reader_clear(&r);
    }
    ocipush_source_free(src);
    CHECK_EQ_INT(c.closes, 1);
}

static void test_memory_source(const uint8_t *data)
{
    enum { LEN = 5000 };
    static uint8_t out[LEN];
    size_t got = 0;
    op_reader r = {0};
    ocipush_source *src = NULL;

    reset_session(1, 1000);
    if (!CHECK_EQ_INT(ocipush_source_new_memory(&src, data, LEN, 0), OCIPUSH_OK))
        return;
    CHECK_EQ_INT(ocipush_source_size(src), LEN);
    if (CHECK_EQ_INT(op_reader_init(&r, &S->ctx, src, 1), OCIPUSH_OK)) {
        CHECK(r.spool == NULL);
        CHECK_EQ_INT(read_some(&r, out, sizeof out, 1000, ALL, &got), OCIPUSH_OK);
        CHECK_EQ_INT(got, LEN);
        CHECK(memcmp(out, data, LEN) == 0);
        expect_digest_of(&r, data, LEN);
        /* Read again after a rewind: same bytes, digest unchanged. */
        CHECK_EQ_INT(op_reader_rewind(&r), OCIPUSH_OK);
        memset(out, 0, sizeof out);
        CHECK_EQ_INT(read_some(&r, out, sizeof out, 999, ALL, &got), OCIPUSH_OK);
        CHECK_EQ_INT(got, LEN);
        CHECK(memcmp(out, data, LEN) == 0);
        expect_digest_of(&r, data, LEN);
        op_reader_clear(&r);
    }

    /* Partly read, rewound, read in full: each byte hashed once (hashing the
     * first part twice would give another digest). */
    if (CHECK_EQ_INT(op_reader_init(&r, &S->ctx, src, 1), OCIPUSH_OK)) {
        CHECK_EQ_INT(read_some(&r, out, sizeof out, 500, 1234, &got), OCIPUSH_OK);
        CHECK_EQ_INT(got, 1234);
        CHECK_EQ_INT(op_reader_rewind(&r), OCIPUSH_OK);
        CHECK_EQ_INT(read_some(&r, out, sizeof out, 100, 50, &got), OCIPUSH_OK);
        CHECK_EQ_INT(op_reader_rewind(&r), OCIPUSH_OK);
        memset(out, 0, sizeof out);
        CHECK_EQ_INT(read_some(&r, out, sizeof out, 4096, ALL, &got), OCIPUSH_OK);
        CHECK_EQ_INT(got, LEN);
        CHECK(memcmp(out, data, LEN) == 0);
        CHECK_EQ_U64(r.high, LEN);
        expect_digest_of(&r, data, LEN);
        op_reader_clear(&r);
    }
    ocipush_source_free(src);

    /* A copied source does not see later changes to the caller's buffer. */
    uint8_t *mine = malloc(LEN);
    src = NULL;
    if (CHECK(mine != NULL)) {
        memcpy(mine, data, LEN);
        CHECK_EQ_INT(ocipush_source_new_memory(&src, mine, LEN, 1), OCIPUSH_OK);
        memset(mine, 0xAA, LEN);
        if (src && CHECK_EQ_INT(op_reader_init(&r, &S->ctx, src, 1), OCIPUSH_OK)) {
            CHECK_EQ_INT(read_some(&r, out, sizeof out, 4096, ALL, &got), OCIPUSH_OK);
            CHECK_EQ_INT(got, LEN);
            CHECK(memcmp(out, data, LEN) == 0);
            op_reader_clear(&r);
        }
    }
    ocipush_source_free(src);
    free(mine);

    /* Empty memory sources; invalid arguments. */
    src = NULL;
    if (CHECK_EQ_INT(ocipush_source_new_memory(&src, NULL, 0, 1), OCIPUSH_OK)) {
        CHECK_EQ_INT(ocipush_source_size(src), 0);
        if (CHECK_EQ_INT(op_reader_init(&r, &S->ctx, src, 1), OCIPUSH_OK)) {
            CHECK_EQ_INT(read_some(&r, out, sizeof out, 10, ALL, &got), OCIPUSH_OK);
            CHECK_EQ_INT(got, 0);
            expect_digest_of(&r, data, 0);
            op_reader_clear(&r);
        }
    }
    ocipush_source_free(src);
    src = NULL;
    CHECK_EQ_INT(ocipush_source_new_memory(&src, NULL, 1, 0), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_source_new_memory(NULL, data, 1, 0), OCIPUSH_E_INVALID);
    CHECK(src == NULL);
}

static void test_limit(const uint8_t *data)
{
    static uint8_t out[1000];
    size_t got = 0;
    op_reader r = {0};
    cb_src c;

    reset_session(1, 1 << 20);
    cb_init(&c, data, 1000);
    ocipush_source *src = cb_source(&c, 0, 1000);
    if (src && CHECK_EQ_INT(op_reader_init(&r, &S->ctx, src, 1), OCIPUSH_OK)) {
        r.limit = 100;
        CHECK_EQ_INT(read_some(&r, out, sizeof out, 64, ALL, &got), OCIPUSH_OK);
        CHECK_EQ_INT(got, 100);
        CHECK(memcmp(out, data, 100) == 0);
        CHECK_EQ_U64(r.pos, 100);
        CHECK_EQ_INT(c.produced, 100);
        /* At the limit: 0, without asking the source. */
        int reads = c.reads;
        uint8_t b[16];
        size_t n = 5;
        CHECK_EQ_INT(op_reader_read(&r, b, sizeof b, &n), OCIPUSH_OK);
        CHECK_EQ_INT(n, 0);
        CHECK_EQ_INT(c.reads, reads);
        CHECK(!r.at_eof);

        r.limit = 250;
        CHECK_EQ_INT(read_some(&r, out, sizeof out, 4096, ALL, &got), OCIPUSH_OK);
        CHECK_EQ_INT(got, 150);
        CHECK(memcmp(out, data + 100, 150) == 0);

        /* A limit inside what the spool holds: replayed bytes stop there too. */
        CHECK_EQ_INT(op_reader_rewind(&r), OCIPUSH_OK);
        r.limit = 70;
        CHECK_EQ_INT(read_some(&r, out, sizeof out, 4096, ALL, &got), OCIPUSH_OK);
        CHECK_EQ_INT(got, 70);
        CHECK(memcmp(out, data, 70) == 0);

        r.limit = UINT64_MAX;
        CHECK_EQ_INT(read_some(&r, out, sizeof out, 4096, ALL, &got), OCIPUSH_OK);
        CHECK_EQ_INT(got, 930);
        CHECK(memcmp(out, data + 70, 930) == 0);
        expect_digest_of(&r, data, 1000);
        op_reader_clear(&r);
    }
    ocipush_source_free(src);
}

typedef struct progress_log {
    int calls;
    uint64_t last_done;
    int64_t last_total;
    uint64_t stop_at;
    int monotonic;
} progress_log;

static int on_progress(uint64_t done, int64_t total, void *ud)
{
    progress_log *p = ud;
    if (p->calls && done < p->last_done)
        p->monotonic = 0;
    p->calls++;
    p->last_done = done;
    p->last_total = total;
    return done >= p->stop_at;
}

static void test_progress(const uint8_t *data)
{
    static uint8_t out[1000];
    size_t got = 0;
    op_reader r = {0};
    ocipush_source *src = NULL;

    for (int known = 0; known < 2; known++) {
        reset_session(1, 1 << 20);
        progress_log p = {.stop_at = 500, .monotonic = 1};
        ocipush_session_set_progress_callback(S, on_progress, &p);
        cb_src c;
        cb_init(&c, data, 1000);
        src = cb_source(&c, 0, known ? 1000 : -1);
        if (src && CHECK_EQ_INT(op_reader_init(&r, &S->ctx, src, 1), OCIPUSH_OK)) {
            CHECK_EQ_INT(read_some(&r, out, sizeof out, 100, ALL, &got), OCIPUSH_E_ABORTED);
            CHECK_EQ_INT(got, 400);
            CHECK_EQ_INT(p.calls, 5);
            CHECK_EQ_U64(p.last_done, 500);
            CHECK_EQ_INT(p.last_total, known ? 1000 : -1);
            CHECK(p.monotonic);
            CHECK(errmsg()[0] != '\0');
            op_reader_clear(&r);
        }
        ocipush_source_free(src);
    }

    /* A callback that lets everything through sees every byte. */
    reset_session(1, 1 << 20);
    progress_log p = {.stop_at = UINT64_MAX, .monotonic = 1};
    ocipush_session_set_progress_callback(S, on_progress, &p);
    src = NULL;
    if (CHECK_EQ_INT(ocipush_source_new_memory(&src, data, 1000, 0), OCIPUSH_OK) &&
        CHECK_EQ_INT(op_reader_init(&r, &S->ctx, src, 1), OCIPUSH_OK)) {
        CHECK_EQ_INT(read_some(&r, out, sizeof out, 300, ALL, &got), OCIPUSH_OK);
        CHECK_EQ_INT(got, 1000);
        CHECK_EQ_U64(p.last_done, 1000);
        CHECK_EQ_INT(p.last_total, 1000);
        CHECK_EQ_INT(p.calls, 4);
        op_reader_clear(&r);
    }
    ocipush_source_free(src);
    ocipush_session_set_progress_callback(S, NULL, NULL);
}

static void test_close_once(const uint8_t *data)
{
    cb_src c;
    ocipush_source *src = NULL;

    cb_init(&c, data, 10);
    src = cb_source(&c, 1, 10);
    CHECK_EQ_INT(ocipush_source_size(src), 10);
    CHECK_EQ_INT(c.closes, 0);
    ocipush_source_free(src);
    CHECK_EQ_INT(c.closes, 1);

    /* Failures close too, once. */
    src = NULL;
    cb_init(&c, data, 10);
    CHECK_EQ_INT(ocipush_source_new_callback(&src, NULL, cb_rewind, cb_close, 10, &c),
                 OCIPUSH_E_INVALID);
    CHECK_EQ_INT(c.closes, 1);
    CHECK(src == NULL);
    cb_init(&c, data, 10);
    CHECK_EQ_INT(ocipush_source_new_callback(&src, cb_read, NULL, cb_close, -2, &c),
                 OCIPUSH_E_INVALID);
    CHECK_EQ_INT(c.closes, 1);
    CHECK(src == NULL);
    cb_init(&c, data, 10);
    CHECK_EQ_INT(ocipush_source_new_callback(NULL, cb_read, NULL, cb_close, -1, &c),
                 OCIPUSH_E_INVALID);
    CHECK_EQ_INT(c.closes, 1);
    CHECK_EQ_INT(ocipush_source_new_callback(&src, NULL, NULL, NULL, -1, NULL), OCIPUSH_E_INVALID);
    CHECK(src == NULL);

    cb_init(&c, data, 10);
    src = cb_source(&c, 0, -1);
    CHECK_EQ_INT(ocipush_source_size(src), -1);
    ocipush_source_free(src);
    CHECK_EQ_INT(c.closes, 1);
    CHECK_EQ_INT(c.reads, 0);

    CHECK_EQ_INT(ocipush_source_size(NULL), -1);
    ocipush_source_free(NULL);
}

/* ---- file and descriptor sources ---- */

static void read_whole(ocipush_source *src, const uint8_t *want, size_t len)
{
    static uint8_t out[16384];
    op_reader r = {0};
    size_t got = 0;
    if (CHECK(len <= sizeof out) && CHECK_EQ_INT(op_reader_init(&r, &S->ctx, src, 1), OCIPUSH_OK)) {
        CHECK_EQ_INT(read_some(&r, out, sizeof out, 4096, ALL, &got), OCIPUSH_OK);
        CHECK_EQ_INT(got, len);
        CHECK(memcmp(out, want, len) == 0);
        expect_digest_of(&r, want, len);
        /* And again after a rewind, when the source can. */
        if (src->rewind) {
            CHECK_EQ_INT(op_reader_rewind(&r), OCIPUSH_OK);
            memset(out, 0, len);
            CHECK_EQ_INT(read_some(&r, out, sizeof out, 1000, ALL, &got), OCIPUSH_OK);
            CHECK_EQ_INT(got, len);
            CHECK(memcmp(out, want, len) == 0);
        }
        op_reader_clear(&r);
    }
}

static int fd_is_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1;
}

static void test_file_sources(const uint8_t *data)
{
    enum { LEN = 10000 };
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    char path[4096];
    snprintf(path, sizeof path, "%s/ocipush-unit-XXXXXX", tmp);
    int fd = mkstemp(path);
    if (!CHECK(fd >= 0))
        return;
    CHECK_EQ_INT(write(fd, data, LEN), LEN);
    close(fd);
    reset_session(1, 1 << 20);

    /* A regular file: size known, rewindable, readable by several pushes. */
    ocipush_source *src = NULL;
    if (CHECK_EQ_INT(ocipush_source_new_file(&src, path), OCIPUSH_OK)) {
        CHECK_EQ_INT(ocipush_source_size(src), LEN);
        CHECK(src->rewind != NULL);
        read_whole(src, data, LEN);
        read_whole(src, data, LEN);
    }
    ocipush_source_free(src);

    /* Not a file to read. */
    src = NULL;
    errno = 0;
    CHECK_EQ_INT(ocipush_source_new_file(&src, tmp), OCIPUSH_E_IO);
    CHECK_EQ_INT(errno, EISDIR);
    char missing[4200];
    snprintf(missing, sizeof missing, "%s.missing", path);
    errno = 0;
    CHECK_EQ_INT(ocipush_source_new_file(&src, missing), OCIPUSH_E_IO);
    CHECK_EQ_INT(errno, ENOENT);
    CHECK_EQ_INT(ocipush_source_new_file(&src, NULL), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_source_new_file(&src, ""), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_source_new_file(NULL, path), OCIPUSH_E_INVALID);
    CHECK(src == NULL);

    /* A descriptor part way into a file: from there on, rewinding to there;
     * the source closes what it owns. */
    fd = open(path, O_RDONLY);
    if (CHECK(fd >= 0) && CHECK_EQ_INT(lseek(fd, 100, SEEK_SET), 100)) {
        if (CHECK_EQ_INT(ocipush_source_new_fd(&src, fd, 1), OCIPUSH_OK)) {
            CHECK_EQ_INT(ocipush_source_size(src), LEN - 100);
            CHECK(src->rewind != NULL);
            read_whole(src, data + 100, LEN - 100);
            read_whole(src, data + 100, LEN - 100);
        }
        ocipush_source_free(src);
        CHECK(!fd_is_open(fd));
    }
    /* Not owned: left open. */
    fd = open(path, O_RDONLY);
    src = NULL;
    if (CHECK(fd >= 0) && CHECK_EQ_INT(ocipush_source_new_fd(&src, fd, 0), OCIPUSH_OK)) {
        read_whole(src, data, LEN);
        ocipush_source_free(src);
        CHECK(fd_is_open(fd));
        close(fd);
    }
    src = NULL;
    CHECK_EQ_INT(ocipush_source_new_fd(&src, -1, 0), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_source_new_fd(&src, fd, 0), OCIPUSH_E_IO); /* closed above */
    CHECK(src == NULL);
    unlink(path);

    /* A pipe: size unknown, no rewind, read once (spooled). */
    int p[2];
    if (CHECK_EQ_INT(pipe(p), 0)) {
        CHECK_EQ_INT(write(p[1], data, 3000), 3000); /* fits in the pipe buffer */
        close(p[1]);
        src = NULL;
        if (CHECK_EQ_INT(ocipush_source_new_fd(&src, p[0], 1), OCIPUSH_OK)) {
            CHECK_EQ_INT(ocipush_source_size(src), -1);
            CHECK(src->rewind == NULL);
            op_reader r = {0};
            static uint8_t out[3000];
            size_t got = 0;
            if (CHECK_EQ_INT(op_reader_init(&r, &S->ctx, src, 1), OCIPUSH_OK)) {
                CHECK_EQ_INT(read_some(&r, out, sizeof out, 1024, 1500, &got), OCIPUSH_OK);
                CHECK_EQ_INT(op_reader_rewind(&r), OCIPUSH_OK); /* from the spool */
                CHECK_EQ_INT(read_some(&r, out, sizeof out, 1024, ALL, &got), OCIPUSH_OK);
                CHECK_EQ_INT(got, 3000);
                CHECK(memcmp(out, data, 3000) == 0);
                CHECK_EQ_INT(r.size, 3000);
                expect_digest_of(&r, data, 3000);
                op_reader_clear(&r);
            }
            /* Consumed: a second push is refused. */
            CHECK_EQ_INT(op_reader_init(&r, &S->ctx, src, 1), OCIPUSH_E_INVALID);
            op_reader_clear(&r);
        }
        ocipush_source_free(src);
        CHECK(!fd_is_open(p[0]));
    }
}

/* ---- the spool itself ---- */

/* Read len bytes at offset, however many calls it takes; compare. */
static void expect_spool_bytes(op_spool *sp, uint64_t offset, size_t len, const uint8_t *want)
{
    static uint8_t buf[200000];
    size_t got = 0;
    while (got < len) {
        size_t n = 0;
        if (!CHECK_EQ_INT(op_spool_read_at(sp, offset + got, buf + got, len - got, &n), OCIPUSH_OK))
            return;
        if (!CHECK(n > 0 && n <= len - got)) {
            fprintf(stderr, "    read_at(%llu, %zu) gave %zu\n", (unsigned long long)(offset + got),
                    len - got, n);
            return;
        }
        got += n;
    }
    if (!CHECK(memcmp(buf, want, len) == 0))
        fprintf(stderr, "    spool bytes at %llu+%zu differ\n", (unsigned long long)offset, len);
}

static void expect_spool_end(op_spool *sp, uint64_t offset)
{
    uint8_t b[4];
    size_t n = 99;
    CHECK_EQ_INT(op_spool_read_at(sp, offset, b, sizeof b, &n), OCIPUSH_OK);
    CHECK_EQ_INT(n, 0);
}

static void test_spool(const uint8_t *data)
{
    op_spool *sp = NULL;

    /* Across a 1000-byte memory cap. */
    if (CHECK_EQ_INT(op_spool_new(&sp, 1000, UINT64_MAX), OCIPUSH_OK)) {
        CHECK_EQ_INT(op_spool_append(sp, data, 700), OCIPUSH_OK);
        CHECK(!op_spool_on_disk(sp));
        CHECK_EQ_U64(op_spool_size(sp), 700);
        CHECK_EQ_INT(op_spool_append(sp, data + 700, 700), OCIPUSH_OK);
        CHECK(op_spool_on_disk(sp));
        CHECK_EQ_U64(op_spool_size(sp), 1400);
        CHECK_EQ_INT(op_spool_append(sp, data + 1400, 5000), OCIPUSH_OK);
        CHECK_EQ_U64(op_spool_size(sp), 6400);
        expect_spool_bytes(sp, 0, 6400, data);
        expect_spool_bytes(sp, 990, 20, data + 990); /* memory, then file */
        expect_spool_bytes(sp, 999, 2, data + 999);
        expect_spool_bytes(sp, 1000, 10, data + 1000);
        expect_spool_bytes(sp, 1399, 2, data + 1399); /* between two appends */
        expect_spool_bytes(sp, 6000, 400, data + 6000);
        expect_spool_bytes(sp, 6399, 1, data + 6399);
        expect_spool_end(sp, 6400);
        expect_spool_end(sp, 7000);
        /* A read that asks past the end gets only what there is. */
        uint8_t b[64];
        size_t n = 0;
        CHECK_EQ_INT(op_spool_read_at(sp, 6390, b, sizeof b, &n), OCIPUSH_OK);
        CHECK_EQ_INT(n, 10);
        CHECK(memcmp(b, data + 6390, 10) == 0);
    }
    op_spool_free(sp);

    /* Memory growth past the first allocation, then the file. */
    sp = NULL;
    if (CHECK_EQ_INT(op_spool_new(&sp, 100000, UINT64_MAX), OCIPUSH_OK)) {
        CHECK_EQ_INT(op_spool_append(sp, data, 70000), OCIPUSH_OK);
        CHECK(!op_spool_on_disk(sp));
        CHECK_EQ_INT(op_spool_append(sp, data + 70000, 50000), OCIPUSH_OK);
        CHECK(op_spool_on_disk(sp));
        CHECK_EQ_U64(op_spool_size(sp), 120000);
        expect_spool_bytes(sp, 0, 120000, data);
        expect_spool_bytes(sp, 99990, 20, data + 99990);
        expect_spool_bytes(sp, 65530, 12, data + 65530);
        expect_spool_end(sp, 120000);
    }
    op_spool_free(sp);

    /* Cap 0: straight to the file. */
    sp = NULL;
    if (CHECK_EQ_INT(op_spool_new(&sp, 0, UINT64_MAX), OCIPUSH_OK)) {
        CHECK_EQ_INT(op_spool_append(sp, data, 10), OCIPUSH_OK);
        CHECK(op_spool_on_disk(sp));
        expect_spool_bytes(sp, 0, 10, data);
        expect_spool_bytes(sp, 3, 7, data + 3);
        expect_spool_end(sp, 10);
    }
    op_spool_free(sp);

    /* Byte by byte under the cap: memory only. Empty appends change nothing. */
    sp = NULL;
    if (CHECK_EQ_INT(op_spool_new(&sp, 1 << 20, UINT64_MAX), OCIPUSH_OK)) {
        expect_spool_end(sp, 0);
        CHECK_EQ_INT(op_spool_append(sp, data, 0), OCIPUSH_OK);
        CHECK_EQ_U64(op_spool_size(sp), 0);
        for (size_t i = 0; i < 200; i++)
            if (!CHECK_EQ_INT(op_spool_append(sp, data + i, 1), OCIPUSH_OK))
                break;
        CHECK_EQ_INT(op_spool_append(sp, data, 0), OCIPUSH_OK);
        CHECK(!op_spool_on_disk(sp));
        CHECK_EQ_U64(op_spool_size(sp), 200);
        expect_spool_bytes(sp, 0, 200, data);
        expect_spool_bytes(sp, 150, 50, data + 150);
        expect_spool_end(sp, 200);
    }
    op_spool_free(sp);
    op_spool_free(NULL);
}

/* The spool as a window: caps, the one overflow, a drop that empties it. */
static void test_spool_window(const uint8_t *data)
{
    op_spool *sp = NULL;
    size_t n = 0;
    uint8_t b[8];
    if (!CHECK_EQ_INT(op_spool_new(&sp, 100, 200), OCIPUSH_OK))
        return;
    CHECK_EQ_INT(op_spool_append(sp, data, 250), 0);
    CHECK(op_spool_on_disk(sp) && !op_spool_full(sp));
    /* 50 more fit on disk; the other 50 of this append are kept aside. */
    CHECK_EQ_INT(op_spool_append(sp, data + 250, 100), 1);
    CHECK(op_spool_full(sp));
    CHECK_EQ_INT(op_spool_errno(sp), 0); /* a cap, not the disk */
    CHECK_EQ_U64(op_spool_end(sp), 350);
    CHECK_EQ_U64(op_spool_disk_peak(sp), 200);
    expect_spool_bytes(sp, 0, 350, data);
    /* Full: nothing more is kept, and the window still ends at 350. */
    CHECK_EQ_INT(op_spool_append(sp, data + 350, 10), 1);
    CHECK_EQ_U64(op_spool_end(sp), 350);
    /* A drop of part of the window keeps it all. */
    op_spool_drop(sp, 300);
    CHECK_EQ_U64(op_spool_base(sp), 0);
    /* A drop of all of it: empty, not full, the next byte is stream byte 360. */
    op_spool_drop(sp, 360);
    CHECK_EQ_U64(op_spool_base(sp), 360);
    CHECK_EQ_U64(op_spool_size(sp), 0);
    CHECK(!op_spool_full(sp));
    CHECK_EQ_INT(op_spool_append(sp, data + 360, 150), 0);
    CHECK_EQ_U64(op_spool_end(sp), 510);
    CHECK_EQ_INT(op_spool_read_at(sp, 500, b, sizeof b, &n), OCIPUSH_OK);
    CHECK(n == 8 && memcmp(b, data + 500, 8) == 0);
    /* Before the window: refused. */
    CHECK_EQ_INT(op_spool_read_at(sp, 359, b, sizeof b, &n), OCIPUSH_E_INVALID);
    op_spool_free(sp);

    /* An emptied window keeps its file and writes over it (a chunk of a
     * stream at a time: no pages freed and taken again per chunk); what
     * was there before is never read back. */
    if (!CHECK_EQ_INT(op_spool_new(&sp, 0, 1000), OCIPUSH_OK))
        return;
    CHECK_EQ_INT(op_spool_append(sp, data, 800), 0);
    CHECK_EQ_U64(op_spool_disk_used(sp), 800);
    op_spool_drop(sp, 800);
    CHECK_EQ_U64(op_spool_size(sp), 0);
    CHECK_EQ_U64(op_spool_disk_used(sp), 800); /* the file kept its size */
    CHECK_EQ_INT(op_spool_append(sp, data + 1000, 500), 0);
    CHECK_EQ_U64(op_spool_end(sp), 1300);
    CHECK_EQ_U64(op_spool_disk_used(sp), 800);
    expect_spool_bytes(sp, 800, 500, data + 1000);
    CHECK_EQ_INT(op_spool_read_at(sp, 1300, b, sizeof b, &n), OCIPUSH_OK);
    CHECK_EQ_INT(n, 0); /* the old bytes past the window's end stay unread */
    /* A lower cap gives back what the file holds past it, not the window. */
    op_spool_set_caps(sp, 0, 600);
    CHECK_EQ_U64(op_spool_disk_used(sp), 600);
    expect_spool_bytes(sp, 800, 500, data + 1000);
    op_spool_set_caps(sp, 0, 100);
    CHECK_EQ_U64(op_spool_disk_used(sp), 500);
    op_spool_drop(sp, 1300);
    CHECK_EQ_U64(op_spool_disk_used(sp), 0); /* over the cap: cut when emptied */
    CHECK_EQ_U64(op_spool_disk_peak(sp), 800);
    op_spool_free(sp);
}

/* ---- a refused stream in chunks: the next read ahead into a second spool ---- */

/* As op_upload_chunks goes, with a window of 1000 bytes in memory and 2000
 * on disk: chunks of half the window, the next one read ahead into the
 * second spool while one is read out (each spool's file then within half
 * the disk cap), the two swapped at each ack and their files written over.
 * Every byte once from the source, every chunk as the stream, the disk
 * within its cap. */
static void test_chunks_read_ahead(const uint8_t *data)
{
    enum { LEN = 20000, CHUNK = 1500 };
    static uint8_t out[CHUNK];
    op_reader r = {0};
    cb_src c;
    op_call_scope(S);
    ocipush_session_set_spool(S, 1, 1000, 2000);
    cb_init(&c, data, LEN);
    c.max_read = 700;
    ocipush_source *src = cb_source(&c, 0, -1);
    if (!src || !CHECK_EQ_INT(op_reader_init(&r, &S->ctx, src, 1), OCIPUSH_OK)) {
        ocipush_source_free(src);
        return;
    }
    uint64_t off = 0, len = 0;
    int ahead = 0, bad = 0;
    for (int landed = 0; op_reader_fill(&r, CHUNK, &len) == OCIPUSH_OK && len; landed = 1) {
        if (landed && CHECK_EQ_INT(op_reader_prefetch(&r, CHUNK), OCIPUSH_OK))
            ahead += r.prefetch == CHUNK || r.at_eof;
        r.limit = off + len;
        size_t got = 0;
        if (!CHECK_EQ_INT(read_some(&r, out, sizeof out, 512, (size_t)len, &got), OCIPUSH_OK))
            break;
        r.limit = UINT64_MAX;
        bad += got != len || memcmp(out, data + off, got) != 0;
        off += len;
        op_reader_ack(&r, off);
    }
    CHECK_EQ_U64(off, LEN);
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(ahead, LEN / CHUNK); /* each chunk after the first was read ahead */
    CHECK_EQ_INT(c.produced, LEN);
    CHECK(r.disk_peak <= 2000);
    expect_digest_of(&r, data, LEN);
    op_reader_clear(&r);
    ocipush_source_free(src);
}

int main(void)
{
    enum { DATA_LEN = 200000 };
    uint8_t *data = malloc(DATA_LEN);
    if (!CHECK(data != NULL) || !CHECK_EQ_INT(ocipush_session_new(&S, "127.0.0.1:1"), OCIPUSH_OK)) {
        free(data);
        return check_done();
    }
    fill_pseudo_random(data, DATA_LEN, 0x9e3779b9u);

    test_one_byte_reads(data);
    test_read_failure(data);
    test_size_mismatch(data);
    test_rewind_failure(data);
    test_spool_replay(data);
    test_spool_off(data);
    test_memory_source(data);
    test_limit(data);
    test_progress(data);
    test_close_once(data);
    test_file_sources(data);
    test_spool(data);
    test_spool_window(data);
    test_chunks_read_ahead(data);

    ocipush_session_free(S);
    free(data);
    return check_done();
}
