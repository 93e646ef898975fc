/* ocipush_source_new_compressed alone (the pushes are in test_api.c,
 * test_dirlayer.sh and test_docker_archive.sh): gzip output that inflates
 * back to the input for text, random bytes and a mix of both; the same bytes
 * whatever the inner source's read sizes and the reader's buffer sizes (down
 * to one byte, where a change of level must wait for room), for zstd too;
 * blocks that do
 * not compress stored as they are, so random input gives exactly zlib's
 * level-0 stream; the diff_id of the input. */
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "buf.h"
#include "check.h"
#include "digest.h"
#include "ocipush.h"
#include "source.h"

#define MIB (1u << 20)

static unsigned char *random_bytes(size_t n, unsigned seed)
{
    unsigned char *p = malloc(n);
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; p && i < n; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5; /* xorshift32 */
        p[i] = (unsigned char)(x >> 24);
    }
    return p;
}

/* Words from a small vocabulary: compresses well, as text does. */
static void text_into(unsigned char *p, size_t n, unsigned seed)
{
    static const char *words[] = {"layer ",   "manifest ", "registry ", "blob ",
                                  "digest\n", "config ",   "index ",    "tar "};
    uint32_t x = seed + 7;
    size_t i = 0;
    while (i < n) {
        x = x * 1103515245u + 12345u;
        const char *w = words[(x >> 16) % 8];
        for (size_t k = 0; w[k] && i < n; k++)
            p[i++] = (unsigned char)w[k];
    }
}

/* An inner source that gives its bytes in uneven reads. */
typedef struct uneven {
    const unsigned char *data;
    size_t len, at;
    uint32_t x;
} uneven;

static int uneven_read(uint8_t *buf, size_t cap, size_t *out_len, void *ud)
{
    uneven *u = ud;
    u->x = u->x * 1103515245u + 12345u;
    size_t n = 1 + (u->x >> 16) % 9000;
    n = n < cap ? n : cap;
    n = n < u->len - u->at ? n : u->len - u->at;
    memcpy(buf, u->data + u->at, n);
    u->at += n;
    *out_len = n;
    return 0;
}

/* The whole output of a gzip source over `data`, read `step` bytes at a time
 * (0: 256 KiB); the inner source gives uneven reads when `uneven_reads`. */
static int algorithm = OCIPUSH_COMPRESS_GZIP;

static int compress_all(const unsigned char *data, size_t len, int uneven_reads, size_t step,
                        op_buf *out, char *diff_id)
{
    ocipush_source *inner = NULL, *src = NULL;
    uneven u = {data, len, 0, 99};
    int rc = uneven_reads
                 ? ocipush_source_new_callback(&inner, uneven_read, NULL, NULL, (int64_t)len, &u)
                 : ocipush_source_new_memory(&inner, data, len, 0);
    if (rc || (rc = ocipush_source_new_compressed(&src, inner, algorithm, -1)))
        return rc;
    size_t cap = step ? step : 256 * 1024;
    unsigned char *buf = malloc(cap);
    for (;;) {
        size_t n = 0;
        if (!buf || (rc = src->read(buf, cap, &n, src->user_data)) || n == 0)
            break;
        if (op_buf_append(out, buf, n)) {
            rc = OCIPUSH_E_NOMEM;
            break;
        }
    }
    if (rc == 0)
        rc = ocipush_source_uncompressed_digest(src, diff_id, NULL);
    free(buf);
    ocipush_source_free(src);
    return rc;
}

static int inflates_to(const op_buf *gz, const unsigned char *want, size_t len)
{
    z_stream z = {0};
    unsigned char *got = malloc(len + 1);
    int ok = got && inflateInit2(&z, 15 + 16) == Z_OK;
    z.next_in = (unsigned char *)gz->data;
    z.avail_in = (uInt)gz->len;
    z.next_out = got;
    z.avail_out = (uInt)len + 1;
    ok = ok && inflate(&z, Z_FINISH) == Z_STREAM_END && z.total_out == len &&
         memcmp(got, want, len) == 0 && z.avail_in == 0;
    inflateEnd(&z);
    free(got);
    return ok;
}

/* zlib's gzip stream of `data` at level 0, made as the source makes it: the
 * input in blocks of 64 KiB, the output 64 KiB of room at a time (level 0's
 * stored blocks are sized by the room), the header with no name and mtime 0.
 * `len` is not a multiple of 64 KiB: the last block ends the input. */
static int level0(const unsigned char *data, size_t len, op_buf *out)
{
    enum { BLOCK = 64 * 1024 };
    static unsigned char stage[BLOCK];
    z_stream z = {0};
    size_t at = 0;
    int z_rc = Z_OK;
    if (deflateInit2(&z, 0, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    while (z_rc != Z_STREAM_END) {
        z.next_out = stage;
        z.avail_out = BLOCK;
        while (z.avail_out == BLOCK && z_rc != Z_STREAM_END) {
            if (z.avail_in == 0 && at < len) {
                size_t n = len - at < BLOCK ? len - at : BLOCK;
                z.next_in = (unsigned char *)data + at;
                z.avail_in = (uInt)n;
                at += n;
            }
            z_rc = deflate(&z, at == len ? Z_FINISH : Z_NO_FLUSH);
            if (z_rc != Z_OK && z_rc != Z_STREAM_END && z_rc != Z_BUF_ERROR) {
                deflateEnd(&z);
                return -1;
            }
        }
        if (op_buf_append(out, stage, BLOCK - z.avail_out)) {
            deflateEnd(&z);
            return -1;
        }
    }
    deflateEnd(&z);
    return 0;
}

static void check_case(const char *what, const unsigned char *data, size_t len, op_buf *first)
{
    char want[OCIPUSH_DIGEST_MAX], id[OCIPUSH_DIGEST_MAX];
    op_sha256_digest(want, data, len);
    /* Even reads, uneven inner reads, and a reader one byte or 77 at a time:
     * the same bytes. */
    static const struct {
        int uneven;
        size_t step;
    } ways[] = {{0, 0}, {1, 0}, {1, 1}, {0, 77}, {1, 4096}};
    for (size_t w = 0; w < sizeof ways / sizeof ways[0]; w++) {
        op_buf out = {0};
        if (!CHECK_EQ_INT(compress_all(data, len, ways[w].uneven, ways[w].step, &out, id), 0))
            fprintf(stderr, "  %s, way %zu\n", what, w);
        CHECK_EQ_STR(id, want);
        if (w == 0) {
            if (algorithm == OCIPUSH_COMPRESS_GZIP && !CHECK(inflates_to(&out, data, len)))
                fprintf(stderr, "  %s does not inflate back\n", what);
            *first = out;
            continue;
        }
        if (!CHECK(out.len == first->len && memcmp(out.data, first->data, out.len) == 0))
            fprintf(stderr, "  %s, way %zu: other bytes (%zu, not %zu)\n", what, w, out.len,
                    first->len);
        op_buf_free(&out);
    }
}

int main(void)
{
    size_t len = 3 * MIB + 12345;
    unsigned char *rnd = random_bytes(len, 1), *text = malloc(len), *mix = malloc(len);
    if (!CHECK(rnd && text && mix))
        return check_done();
    text_into(text, len, 2);
    /* Text, then random, then text: blocks of both kinds, levels switched. */
    memcpy(mix, text, len);
    memcpy(mix + MIB + 1000, rnd, MIB);
    op_buf gz_rnd = {0}, gz_text = {0}, gz_mix = {0}, zero = {0};
    check_case("random", rnd, len, &gz_rnd);
    check_case("text", text, len, &gz_text);
    check_case("mixed", mix, len, &gz_mix);
    CHECK(gz_text.len < len / 4);
    CHECK(gz_mix.len > MIB && gz_mix.len < MIB + len / 4);
    /* Random blocks are stored, not searched: exactly zlib's level-0 stream
     * (the old code deflated them at level 6: other block boundaries). */
    if (CHECK_EQ_INT(level0(rnd, len, &zero), 0))
        CHECK(gz_rnd.len == zero.len && memcmp(gz_rnd.data, zero.data, zero.len) == 0);
    op_buf_free(&gz_rnd);
    op_buf_free(&gz_text);
    op_buf_free(&gz_mix);
    op_buf_free(&zero);
    /* zstd: the same bytes whatever the reads, too (the pushes decompress
     * it with the zstd tool). */
    if (ocipush_feature("zstd")) {
        algorithm = OCIPUSH_COMPRESS_ZSTD;
        check_case("mixed, zstd", mix, len, &gz_mix);
        CHECK(gz_mix.len > MIB && gz_mix.len < MIB + len / 4);
        op_buf_free(&gz_mix);
    }
    free(rnd);
    free(text);
    free(mix);
    return check_done();
}
