/* A source whose bytes are another source's, compressed on the fly (gzip
 * with zlib, zstd with libzstd when built with it): a layer made from an
 * uncompressed tar. Its length is not known
 * until the end, so it goes as a stream (the spool keeps what a replay may
 * need); the push hashes the compressed bytes, this source the uncompressed
 * ones (the diff_id an image config lists). Built on the public callback
 * interface, as the other built-in sources are.
 *
 * gzip's input goes in blocks of 64 KiB at fixed offsets. A block that does
 * not compress (two 4 KiB samples of it that deflate at level 1 cannot
 * shrink by 3%: random bytes, media, a file compressed already) is stored
 * as it is (level 0) instead of deflated: zlib spends as long searching
 * random bytes for matches as it does text (about 40 MB/s here), so a layer
 * of such files would be bound by a search that finds nothing. The choice
 * depends on the bytes alone, so the output is still the same every time. */
#include <string.h>

#include <zlib.h>
#ifdef OCIPUSH_HAVE_ZSTD
#include <zstd.h>
#endif

#include <inttypes.h>
#include <stdio.h>

#include "alloc.h"
#include "digest.h"
#include "source.h"

#define PIECE (64 * 1024)
#define SAMPLE 4096

typedef struct compressed {
    ocipush_source *inner;
    int algorithm, level;
    z_stream z;
    int z_ready;
    z_stream probe; /* raw deflate at level 1, for the samples */
    int probe_ready;
    int z_level;        /* the level z runs at now */
    size_t held;        /* bytes of `in` read but not yet given to z */
    uint8_t out[PIECE]; /* gzip's output, staged */
    size_t staged, staged_at;
    uint8_t probe_out[SAMPLE + 64];
#ifdef OCIPUSH_HAVE_ZSTD
    ZSTD_CCtx *zstd;
    ZSTD_inBuffer zin;
#endif
    uint8_t in[PIECE];
    int inner_eof, finished;
    op_sha256 *hash;                 /* of the uncompressed bytes */
    uint64_t size;                   /* of the uncompressed bytes */
    char digest[OCIPUSH_DIGEST_MAX]; /* "" until the end */
    char why[160];                   /* its own failure, for the message; "" for none */
} compressed;

/* gzip (windowBits 15 + 16), a header with no name and mtime 0; zstd with
 * a checksum and no dictionary, one thread: the same input and level give
 * the same bytes every time, so a rewind replays them. */
static int start(compressed *c)
{
    c->why[0] = '\0';
    if (c->algorithm == OCIPUSH_COMPRESS_GZIP) {
        memset(&c->z, 0, sizeof c->z);
        int z_ok =
            deflateInit2(&c->z, c->level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
        c->z_level = c->level;
        c->held = c->staged = c->staged_at = 0;
        if (!c->probe_ready)
            c->probe_ready =
                deflateInit2(&c->probe, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK;
        if (z_ok && !c->probe_ready)
            deflateEnd(&c->z);
        c->z_ready = z_ok && c->probe_ready;
    }
#ifdef OCIPUSH_HAVE_ZSTD
    else {
        c->z_ready = c->zstd || (c->zstd = ZSTD_createCCtx()) != NULL;
        c->z_ready =
            c->z_ready &&
            !ZSTD_isError(ZSTD_CCtx_reset(c->zstd, ZSTD_reset_session_and_parameters)) &&
            !ZSTD_isError(ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_compressionLevel, c->level)) &&
            !ZSTD_isError(ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_checksumFlag, 1)) &&
            !ZSTD_isError(ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_windowLog, 19));
        c->zin.src = c->in;
        c->zin.size = c->zin.pos = 0;
    }
#endif
    c->inner_eof = c->finished = 0;
    c->size = 0;
    c->digest[0] = '\0';
    op_sha256_free(c->hash);
    c->hash = NULL;
    return c->z_ready && op_sha256_new(&c->hash) == 0 ? 0 : -1;
}

/* Read the inner source on into `in`, a whole block unless it ends first
 * (its bytes hashed as they come): blocks start at fixed offsets however
 * the inner source splits its reads. *out_n: the bytes read. */
static int read_block(compressed *c, size_t *out_n)
{
    size_t got = 0;
    c->inner->started = 1;
    while (got < sizeof c->in && !c->inner_eof) {
        size_t n = 0;
        int rc = c->inner->read(c->in + got, sizeof c->in - got, &n, c->inner->user_data);
        if (rc != 0 || n > sizeof c->in - got)
            return rc ? rc : -1;
        if (n && op_sha256_update(c->hash, c->in + got, n))
            return -1;
        got += n;
        c->inner_eof = n == 0;
    }
    c->size += got;
    *out_n = got;
    return 0;
}

/* For zstd: the next block as its input. */
static int refill(compressed *c)
{
    size_t n = 0;
    int rc = read_block(c, &n);
#ifdef OCIPUSH_HAVE_ZSTD
    c->zin.size = n;
    c->zin.pos = 0;
#endif
    return rc;
}

/* Whether `n` bytes at `p` shrink by 3% at deflate's level 1. */
static int sample_compresses(compressed *c, const uint8_t *p, size_t n)
{
    if (deflateReset(&c->probe) != Z_OK)
        return 1;
    c->probe.next_in = (uint8_t *)p;
    c->probe.avail_in = (uInt)n;
    c->probe.next_out = c->probe_out;
    c->probe.avail_out = sizeof c->probe_out;
    int z = deflate(&c->probe, Z_FINISH);
    size_t out = sizeof c->probe_out - c->probe.avail_out;
    return z != Z_STREAM_END || out * 100 < n * 97;
}

/* The level for the block in `in` (held bytes): 0 when neither of two
 * samples (its start and its middle) compresses, else the one asked for. */
static int block_level(compressed *c)
{
    size_t n = c->held, half = n / 2, len = half < SAMPLE ? half : SAMPLE;
    if (c->level == 0 || len < 512)
        return c->level;
    return sample_compresses(c, c->in, len) || sample_compresses(c, c->in + half, len) ? c->level
                                                                                       : 0;
}

/* The next block into z, at its level. 1 when the change of level needs
 * more room to write what z holds (call again with a new buffer). */
static int feed_gzip(compressed *c)
{
    if (!c->held) {
        size_t n = 0;
        int rc = read_block(c, &n);
        if (rc || n == 0)
            return rc;
        c->held = n;
    }
    int level = block_level(c);
    if (level != c->z_level) {
        int z = deflateParams(&c->z, level, Z_DEFAULT_STRATEGY);
        if (z == Z_BUF_ERROR)
            return 1;
        if (z != Z_OK)
            return -1;
        c->z_level = level;
    }
    c->z.next_in = c->in;
    c->z.avail_in = (uInt)c->held;
    c->held = 0;
    return 0;
}

/* The inner source ended: its length checked, the diff_id final. */
static int finish(compressed *c)
{
    c->finished = 1;
    if (c->inner->size >= 0 && (uint64_t)c->inner->size != c->size) {
        snprintf(c->why, sizeof c->why,
                 "the uncompressed source gave %" PRIu64 " bytes but declared %" PRId64, c->size,
                 c->inner->size);
        return -1;
    }
    return op_sha256_finish(c->hash, c->digest) ? -1 : 0;
}

#ifdef OCIPUSH_HAVE_ZSTD
static int zstd_read(compressed *c, uint8_t *buffer, size_t capacity, size_t *out_len)
{
    ZSTD_outBuffer out = {buffer, capacity, 0};
    int rc = 0;
    while (rc == 0 && !c->finished && out.pos == 0) {
        if (c->zin.pos == c->zin.size && !c->inner_eof && (rc = refill(c)))
            break;
        size_t left = ZSTD_compressStream2(c->zstd, &out, &c->zin,
                                           c->inner_eof ? ZSTD_e_end : ZSTD_e_continue);
        if (ZSTD_isError(left))
            rc = -1;
        else if (c->inner_eof && left == 0)
            rc = finish(c);
    }
    *out_len = out.pos;
    return rc;
}
#endif

/* The next output into `out`, the staging buffer, emptied first: zlib is
 * always given the same room, so its output (level 0's stored blocks are
 * sized by the room) is the same whatever buffers the reader brings. */
static int gzip_stage(compressed *c)
{
    int rc = 0;
    c->staged = c->staged_at = 0;
    c->z.next_out = c->out;
    c->z.avail_out = sizeof c->out;
    /* Until some output is made (deflate may take input and give nothing). */
    while (rc == 0 && !c->finished && c->z.avail_out == sizeof c->out) {
        if (c->z.avail_in == 0 && (c->held || !c->inner_eof) && (rc = feed_gzip(c))) {
            /* 1: what z held went into `out` first (none of it, with all the
             * room there is: a fault). */
            rc = rc == 1 ? (c->z.avail_out == sizeof c->out ? -1 : 0) : rc;
            break;
        }
        int z = deflate(&c->z, c->inner_eof && !c->held ? Z_FINISH : Z_NO_FLUSH);
        if (z == Z_STREAM_END)
            rc = finish(c);
        else if (z == Z_STREAM_ERROR || (z == Z_BUF_ERROR && c->inner_eof))
            rc = -1; /* with all input given and room to write, no progress is a fault */
    }
    c->staged = sizeof c->out - c->z.avail_out;
    return rc;
}

static int compressed_read(uint8_t *buffer, size_t capacity, size_t *out_len, void *user_data)
{
    compressed *c = user_data;
#ifdef OCIPUSH_HAVE_ZSTD
    if (c->algorithm == OCIPUSH_COMPRESS_ZSTD) {
        *out_len = 0;
        return c->z_ready && c->hash ? zstd_read(c, buffer, capacity, out_len) : -1;
    }
#endif
    int rc = 0;
    *out_len = 0;
    if (!c->z_ready || !c->hash)
        return -1;
    while (rc == 0 && *out_len < capacity) {
        if (c->staged_at < c->staged) {
            size_t n = c->staged - c->staged_at;
            n = n < capacity - *out_len ? n : capacity - *out_len;
            memcpy(buffer + *out_len, c->out + c->staged_at, n);
            c->staged_at += n;
            *out_len += n;
        } else if (c->finished) {
            break;
        } else {
            rc = gzip_stage(c);
        }
    }
    return rc;
}

/* Its own failure, else the inner source's, is what the message should say. */
static const char *compressed_why(void *user_data)
{
    compressed *c = user_data;
    return *c->why ? c->why : op_source_why(c->inner);
}

static int compressed_rewind(void *user_data)
{
    compressed *c = user_data;
    if (!c->inner->rewind || c->inner->rewind(c->inner->user_data) != 0)
        return -1;
    if (c->z_ready && c->algorithm == OCIPUSH_COMPRESS_GZIP)
        deflateEnd(&c->z);
    return start(c);
}

static void compressed_close(void *user_data)
{
    compressed *c = user_data;
    if (c->z_ready && c->algorithm == OCIPUSH_COMPRESS_GZIP)
        deflateEnd(&c->z);
    if (c->probe_ready)
        deflateEnd(&c->probe);
#ifdef OCIPUSH_HAVE_ZSTD
    ZSTD_freeCCtx(c->zstd);
#endif
    op_sha256_free(c->hash);
    ocipush_source_free(c->inner);
    op_free(c);
}

int ocipush_source_new_compressed(ocipush_source **out, ocipush_source *inner, int algorithm,
                                  int level)
{
    int known = algorithm == OCIPUSH_COMPRESS_GZIP || algorithm == OCIPUSH_COMPRESS_ZSTD;
    int top = algorithm == OCIPUSH_COMPRESS_ZSTD ? 19 : 9;
    if (!out || !inner || !known || level < -1 || level > top) {
        ocipush_source_free(inner);
        return OCIPUSH_E_INVALID;
    }
#ifndef OCIPUSH_HAVE_ZSTD
    if (algorithm == OCIPUSH_COMPRESS_ZSTD) {
        ocipush_source_free(inner);
        return OCIPUSH_E_UNSUPPORTED;
    }
#endif
    compressed *c = op_calloc(1, sizeof *c);
    if (!c) {
        ocipush_source_free(inner);
        return OCIPUSH_E_NOMEM;
    }
    c->inner = inner;
    c->algorithm = algorithm;
    /* gzip's own default (and go's); zstd's own default, 3. */
    c->level = level >= 0 ? level : algorithm == OCIPUSH_COMPRESS_GZIP ? 6 : 3;
    if (start(c)) {
        compressed_close(c);
        return OCIPUSH_E_NOMEM;
    }
    /* The callback source calls compressed_close on its own failure. */
    int rc = ocipush_source_new_callback(
        out, compressed_read, inner->rewind ? compressed_rewind : NULL, compressed_close, -1, c);
    if (rc == OCIPUSH_OK)
        (*out)->why = compressed_why;
    return rc;
}

int ocipush_source_uncompressed_digest(const ocipush_source *source, char *out_digest,
                                       uint64_t *out_size)
{
    if (!source || !out_digest || source->read != compressed_read)
        return OCIPUSH_E_INVALID;
    const compressed *c = source->user_data;
    if (!c->digest[0])
        return OCIPUSH_E_INVALID; /* not read to its end yet */
    op_digest_copy(out_digest, c->digest);
    if (out_size)
        *out_size = c->size;
    return OCIPUSH_OK;
}
