#include "reader.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "source.h"

/* Below this a thread costs more than the hashing it would overlap. */
#define THREADED_HASH_MIN (4u << 20)

int op_reader_init(op_reader *r, op_ctx *c, ocipush_source *src, int hash_file_aside)
{
    memset(r, 0, sizeof *r);
    r->c = c;
    r->src = src;
    r->limit = UINT64_MAX;
    r->size = src->size;
    if (src->started && !src->rewind)
        return op_fail(&c->diag, OCIPUSH_E_INVALID,
                       "the source is a stream that an earlier push already consumed");
    if (src->started && src->rewind(src->user_data) != 0)
        return op_fail(&c->diag, OCIPUSH_E_SOURCE, "rewinding the source for a new push failed");
    const char *why;
    int rc = op_source_open(src, &why);
    if (rc)
        return op_fail(&c->diag, rc, "opening the source failed: %s", why);
    /* A thread of its own hashes large or unknown-size blobs beside the send;
     * a large regular file it reads itself when the caller allows it (not
     * into a layout, where the bytes written must be the bytes hashed, not
     * a second read of them). */
    int large = src->size < 0 || src->size >= (int64_t)THREADED_HASH_MIN;
    rc = OCIPUSH_E_IO;
    if (large && src->file_fd >= 0 && src->size >= 0 && hash_file_aside)
        rc = op_hasher_new_file(&r->hash, src->file_fd, src->file_start, src->size);
    r->file_hashed = rc == 0;
    if (rc)
        rc = op_hasher_new(&r->hash, large);
    if (rc)
        return op_fail(&c->diag, rc, "cannot start a SHA-256 hash");
    if (!src->rewind && c->set.spool_enabled &&
        (rc = op_spool_new(&r->spool, c->set.spool_memory_cap, c->set.spool_disk_cap)))
        return op_fail(&c->diag, rc, "out of memory making the spool");
    return 0;
}

void op_reader_clear(op_reader *r)
{
    if (r->spool && (op_spool_on_disk(r->spool) || (r->ahead && op_spool_on_disk(r->ahead))))
        op_log(&r->c->diag, OCIPUSH_LOG_INFO,
               "the spool held at most %" PRIu64 " bytes on disk (in %s)", r->disk_peak,
               op_spool_dir());
    op_hasher_free(r->hash);
    op_spool_free(r->spool);
    op_spool_free(r->ahead);
    r->ahead = NULL;
    r->hash = NULL;
    r->spool = NULL;
}

/* The hash is final: the size is known and the digest written. */
static int finish_hash(op_reader *r)
{
    int rc = op_hasher_finish(r->hash, r->digest);
    if (rc == OCIPUSH_E_SOURCE)
        return op_fail(&r->c->diag, rc, "%s", op_hasher_why(r->hash));
    if (rc)
        return op_fail(&r->c->diag, OCIPUSH_E_INVALID, "finishing the SHA-256 hash failed");
    r->at_eof = 1;
    return 0;
}

/* The source has ended at r->high: fix the size and the digest. */
static int reached_eof(op_reader *r)
{
    if (r->size >= 0 && (uint64_t)r->size != r->high)
        return op_fail(&r->c->diag, OCIPUSH_E_SOURCE,
                       "the source ended after %" PRIu64 " bytes but declared %" PRId64, r->high,
                       r->size);
    r->size = (int64_t)r->high;
    return finish_hash(r);
}

uint64_t op_reader_window(const op_reader *r)
{
    if (!r->spool)
        return 0;
    uint64_t mem = r->c->set.spool_memory_cap, disk = r->c->set.spool_disk_cap;
    return disk > UINT64_MAX - mem ? UINT64_MAX : mem + disk;
}

/* How the window is set, for messages that say how to raise it. */
static void window_text(const op_reader *r, char *out, size_t cap)
{
    uint64_t w = op_reader_window(r);
    if (w == UINT64_MAX)
        snprintf(out, cap, "the spool (with no cap)");
    else
        snprintf(out, cap,
                 "the spool's window of %" PRIu64 " bytes (raise it with --spool-max or "
                 "ocipush_session_set_spool())",
                 w);
}

/* The spool stopped keeping bytes at r->high: say so once per window. A
 * reached cap is how a long stream goes (INFO); a file that cannot be
 * written is the machine's trouble (WARN). The push goes on either way. */
static void spool_stopped(op_reader *r)
{
    if (r->spool_told)
        return;
    r->spool_told = 1;
    int err = op_spool_errno(r->spool);
    char window[160];
    window_text(r, window, sizeof window);
    if (err)
        op_log(&r->c->diag, OCIPUSH_LOG_WARN,
               "the spool cannot write its temporary file in %s (%s) after %" PRIu64
               " bytes of the stream: it keeps no more, and the push goes on",
               op_spool_dir(), strerror(err), op_spool_end(r->spool));
    else
        op_log(&r->c->diag, OCIPUSH_LOG_INFO,
               "%s is full at byte %" PRIu64 " of the stream: it keeps no more, and the "
               "push goes on",
               window, op_spool_end(r->spool));
}

/* A replay needs the bytes from `offset` on, which the spool does not hold. */
static int not_kept(op_reader *r, uint64_t offset)
{
    char window[160];
    window_text(r, window, sizeof window);
    int err = op_spool_errno(r->spool);
    return op_fail(&r->c->diag, OCIPUSH_E_NOT_REPLAYABLE,
                   "the upload must be sent again from byte %" PRIu64
                   " but the stream cannot rewind and %s holds only bytes %" PRIu64 " to %" PRIu64
                   "%s%s%s",
                   offset, window, op_spool_base(r->spool), op_spool_end(r->spool),
                   err ? " (its temporary file could not be written: " : "",
                   err ? strerror(err) : "", err ? ")" : "");
}

/* Can the spool replay from `offset` up to what was read? With a chunk read
 * ahead, the two spools must hold it all between them. */
static int spool_covers(const op_reader *r, uint64_t offset)
{
    if (offset < op_spool_base(r->spool))
        return 0;
    if (!r->prefetch)
        return op_spool_end(r->spool) == r->high;
    return op_spool_end(r->spool) == op_spool_base(r->ahead) && op_spool_end(r->ahead) == r->high;
}

/* The spool that holds byte `offset`, or NULL. */
static op_spool *spool_of(const op_reader *r, uint64_t offset)
{
    if (offset >= op_spool_base(r->spool) && offset < op_spool_end(r->spool))
        return r->spool;
    if (r->prefetch && offset >= op_spool_base(r->ahead) && offset < op_spool_end(r->ahead))
        return r->ahead;
    return NULL;
}

static void note_disk(op_reader *r)
{
    uint64_t used = op_spool_disk_used(r->spool) + (r->ahead ? op_spool_disk_used(r->ahead) : 0);
    if (used > r->disk_peak)
        r->disk_peak = used;
}

/* Account for n fresh bytes at r->pos: hash and spool what passes the mark. */
static int take_new_bytes(op_reader *r, const uint8_t *buf, size_t n)
{
    uint64_t end = r->pos + n;
    if (end <= r->high)
        return 0;
    size_t skip = (size_t)(r->high - r->pos);
    if (r->size >= 0 && end > (uint64_t)r->size)
        return op_fail(&r->c->diag, OCIPUSH_E_SOURCE,
                       "the source gave more bytes than the %" PRId64 " it declared", r->size);
    if (op_hasher_update(r->hash, buf + skip, n - skip))
        return op_fail(&r->c->diag, OCIPUSH_E_INVALID, "SHA-256 update failed");
    op_spool *into = r->prefetch ? r->ahead : r->spool;
    int full = into && op_spool_append(into, buf + skip, n - skip) != 0;
    r->high = end;
    if (into)
        note_disk(r);
    if (full && into == r->spool)
        spool_stopped(r); /* a chunk read ahead just ends where its spool is full */
    return 0;
}

static int read_source(op_reader *r, uint8_t *buf, size_t cap, size_t *n)
{
    ocipush_source *src = r->src;
    src->started = 1;
    int cb = src->read(buf, cap, n, src->user_data);
    const char *why = cb != 0 ? op_source_why(src) : "";
    if (*why)
        return op_fail(&r->c->diag, OCIPUSH_E_SOURCE,
                       "reading the source failed at byte %" PRIu64 ": %s", r->pos, why);
    if (cb != 0)
        return op_fail(&r->c->diag, OCIPUSH_E_SOURCE,
                       "reading the source failed at byte %" PRIu64 " (read callback returned %d)",
                       r->pos, cb);
    if (*n > cap)
        return op_fail(&r->c->diag, OCIPUSH_E_SOURCE,
                       "the read callback reported more than it was asked");
    return 0;
}

/* One piece of the next chunk, about as large as the piece of this one that
 * just went out, from the source into the spool ahead. */
static int read_ahead(op_reader *r, size_t sent)
{
    uint8_t piece[64 * 1024];
    if (!r->prefetch || r->at_eof || op_spool_full(r->ahead))
        return 0;
    uint64_t have = r->high - op_spool_base(r->ahead);
    if (have >= r->prefetch)
        return 0;
    size_t want = sent < sizeof piece ? sent : sizeof piece;
    if (r->prefetch - have < want)
        want = (size_t)(r->prefetch - have);
    size_t n = 0;
    uint64_t pos = r->pos;
    r->pos = r->high; /* the new bytes' place in the stream, for take_new_bytes */
    int rc = read_source(r, piece, want, &n);
    if (rc == 0 && n == 0)
        rc = reached_eof(r);
    else if (rc == 0)
        rc = take_new_bytes(r, piece, n);
    r->pos = pos;
    return rc;
}

int op_reader_read(void *ctx, uint8_t *buf, size_t cap, size_t *out_len)
{
    op_reader *r = ctx;
    size_t n = 0;
    int rc = 0;
    *out_len = 0;
    if ((rc = op_check_cancel(r->c)))
        return rc;
    if (r->pos >= r->limit)
        return 0;
    if (r->limit - r->pos < cap)
        cap = (size_t)(r->limit - r->pos);
    if (r->spool && r->pos < r->high) {
        op_spool *from = spool_of(r, r->pos);
        if (!from)
            return not_kept(r, r->pos);
        rc = op_spool_read_at(from, r->pos, buf, cap, &n);
        if (rc)
            return op_fail(&r->c->diag, rc, "reading the spool back failed at byte %" PRIu64,
                           r->pos);
        if (n && from == r->spool && (rc = read_ahead(r, n)))
            return rc;
    } else if (r->at_eof && r->pos >= r->high) {
        return 0;
    } else if (r->filling && op_spool_full(r->spool)) {
        return 0; /* the chunk ends with what the spool could keep */
    } else {
        if ((rc = read_source(r, buf, cap, &n)))
            return rc;
        if (n == 0) {
            if (r->pos < r->high)
                return op_fail(&r->c->diag, OCIPUSH_E_SOURCE,
                               "the source ended at byte %" PRIu64
                               " when read again, but gave %" PRIu64 " bytes before",
                               r->pos, r->high);
            return r->at_eof ? 0 : reached_eof(r);
        }
        if ((rc = take_new_bytes(r, buf, n)))
            return rc;
    }
    /* A file hashed by its own thread: the last bytes go out only if the
     * file is as it was, so what was sent is what is hashed. */
    int last = r->size >= 0 && r->pos + n == (uint64_t)r->size;
    if (last && r->file_hashed && op_hasher_check_file(r->hash))
        return op_fail(&r->c->diag, OCIPUSH_E_SOURCE, "%s", op_hasher_why(r->hash));
    if (last && r->expected) {
        if (!r->at_eof && r->high == (uint64_t)r->size && (rc = finish_hash(r)))
            return rc;
        if ((rc = op_reader_check_expected(r, r->expected, r->expected_own)))
            return rc;
    }
    r->pos += n;
    *out_len = n;
    if (!r->filling && r->c->set.progress_fn &&
        r->c->set.progress_fn(r->pos, r->size, r->c->set.progress_user_data))
        return op_fail(&r->c->diag, OCIPUSH_E_ABORTED, "the progress callback stopped the upload");
    return 0;
}

int op_reader_rewind(op_reader *r)
{
    r->limit = UINT64_MAX;
    if (r->pos == 0)
        return 0;
    if (r->spool) {
        if (!spool_covers(r, 0))
            return not_kept(r, 0);
        r->pos = 0; /* replayed from the spool, then the source goes on */
        return 0;
    }
    if (!r->src->rewind)
        return op_fail(
            &r->c->diag, OCIPUSH_E_NOT_REPLAYABLE,
            "the upload must be sent again but its source is a stream that cannot rewind "
            "and the spool is off, so its bytes cannot be replayed");
    if (r->src->rewind(r->src->user_data) != 0)
        return op_fail(&r->c->diag, OCIPUSH_E_SOURCE, "rewinding the source failed");
    r->pos = 0;
    return 0;
}

int op_reader_seek(op_reader *r, uint64_t offset)
{
    if (offset > r->high)
        return op_fail(&r->c->diag, OCIPUSH_E_INVALID, "cannot seek past what was read");
    if (offset == r->pos) {
        return 0;
    }
    if (r->spool) {
        if (!spool_covers(r, offset))
            return not_kept(r, offset);
        r->pos = offset;
        return 0;
    }
    uint64_t limit = r->limit;
    int rc = op_reader_rewind(r);
    uint8_t scratch[64 * 1024];
    size_t n = 1;
    r->limit = offset; /* bytes below the mark are not hashed again */
    while (rc == 0 && r->pos < offset && n > 0)
        rc = op_reader_read(r, scratch, sizeof scratch, &n);
    r->limit = limit;
    if (rc == 0 && r->pos != offset)
        rc = op_fail(&r->c->diag, OCIPUSH_E_SOURCE, "the source ended early when read again");
    return rc;
}

int op_reader_to_mark(void *ctx)
{
    op_reader *r = ctx;
    return op_reader_seek(r, r->mark);
}

int op_reader_drain(op_reader *r)
{
    uint8_t scratch[64 * 1024];
    size_t n;
    r->limit = UINT64_MAX;
    if (!r->src->rewind && !r->spool && !r->at_eof)
        return op_fail(
            &r->c->diag, OCIPUSH_E_NOT_REPLAYABLE,
            "the blob's size or digest must be known before sending, but its source is a "
            "stream that cannot rewind and the spool is off");
    if (r->file_hashed && !r->at_eof) {
        /* The hashing thread reads the file: wait for it instead of reading
         * it here too. Everything counts as read; a rewind comes next. */
        int rc = finish_hash(r);
        if (rc == 0)
            r->pos = r->high = (uint64_t)r->size;
        return rc;
    }
    do {
        int rc = op_reader_read(r, scratch, sizeof scratch, &n);
        if (rc)
            return rc;
        if (r->spool && !r->at_eof && op_spool_end(r->spool) != r->high) {
            char window[160];
            window_text(r, window, sizeof window);
            return op_fail(&r->c->diag, OCIPUSH_E_NOT_REPLAYABLE,
                           "the registry takes the blob only whole, in one PUT, with its size "
                           "and digest first, but the stream is longer than %s",
                           window);
        }
    } while (n > 0);
    return 0;
}

int op_reader_fill(op_reader *r, uint64_t max, uint64_t *out_len)
{
    uint8_t scratch[64 * 1024];
    uint64_t from = r->pos, want = max > UINT64_MAX - from ? UINT64_MAX : from + max;
    int rc = 0;
    *out_len = 0;
    if (!r->spool)
        return op_fail(&r->c->diag, OCIPUSH_E_INVALID, "no spool to fill");
    if (!spool_covers(r, from))
        return not_kept(r, from);
    if (r->prefetch) {
        /* Sent again (a new session): the chunk stays what it was. */
        uint64_t end = op_spool_end(r->spool);
        *out_len = (end < want ? end : want) - from;
        return 0;
    }
    r->pos = r->high;
    r->filling = 1;
    r->limit = want;
    while (rc == 0 && r->pos < want && !r->at_eof && !op_spool_full(r->spool)) {
        size_t n = 0;
        rc = op_reader_read(r, scratch, sizeof scratch, &n);
        if (rc == 0 && n == 0)
            break;
    }
    r->filling = 0;
    r->limit = UINT64_MAX;
    if (rc)
        return rc;
    uint64_t end = op_spool_end(r->spool);
    if (end != r->high)
        return not_kept(r, end); /* bytes read that it could not keep */
    r->pos = from;
    *out_len = (end < want ? end : want) - from;
    return 0;
}

void op_reader_ack(op_reader *r, uint64_t offset)
{
    if (!r->spool || offset < op_spool_end(r->spool))
        return;
    op_spool_drop(r->spool, offset);
    r->spool_told = 0;
    if (r->prefetch) {
        /* The chunk read ahead is the next one: its spool becomes the spool,
         * and the emptied one takes the next chunk after it, within half
         * the disk cap, as the other. */
        op_spool *done = r->spool;
        r->spool = r->ahead;
        r->ahead = done;
        op_spool_set_caps(r->ahead, 0, r->c->set.spool_disk_cap / 2);
        r->prefetch = 0;
    }
}

int op_reader_prefetch(op_reader *r, uint64_t max)
{
    uint64_t half = r->c->set.spool_disk_cap / 2;
    /* Both spools within the disk cap: the current one must leave room. */
    /* A window with no disk (memory only) has no second half to read into:
     * its chunks go one after the other, as they fit. */
    if (!r->spool || r->at_eof || op_spool_end(r->spool) != r->high || half == 0 ||
        op_spool_file_bytes(r->spool) > half || max == 0)
        return 0;
    /* It takes nothing more while the other fills: its file (which may
     * still hold pages of a larger window before) is cut to its half. */
    op_spool_set_caps(r->spool, 0, half);
    if (!r->ahead && op_spool_new(&r->ahead, 0, half))
        return op_fail(&r->c->diag, OCIPUSH_E_NOMEM, "out of memory making the spool");
    op_spool_drop(r->ahead, r->high); /* empty, starting at the next byte */
    op_spool_set_caps(r->ahead, 0, half);
    r->prefetch = max;
    return 0;
}

int op_reader_check_expected(op_reader *r, const char *expected, int own)
{
    if (!expected || (r->at_eof && strcmp(expected, r->digest) == 0))
        return 0;
    if (!r->at_eof)
        return op_fail(&r->c->diag, OCIPUSH_E_INVALID, "the digest is not known yet");
    if (own)
        return op_fail(&r->c->diag, OCIPUSH_E_SOURCE,
                       "the source gave other bytes when read again (they hash to %s, first to "
                       "%s); the upload was not committed",
                       r->digest, expected);
    return op_fail(&r->c->diag, OCIPUSH_E_DIGEST_MISMATCH,
                   "the content hashes to %s, not the expected %s; the upload was not committed",
                   r->digest, expected);
}

int op_reader_finish(op_reader *r)
{
    if (r->at_eof && op_hasher_check_file(r->hash))
        return op_fail(&r->c->diag, OCIPUSH_E_SOURCE, "%s", op_hasher_why(r->hash));
    if (r->at_eof)
        return 0;
    uint8_t probe[1];
    size_t n = 0;
    if (r->pos != r->high)
        return op_reader_drain(r);
    int rc = read_source(r, probe, sizeof probe, &n);
    if (rc)
        return rc;
    if (n)
        return op_fail(&r->c->diag, OCIPUSH_E_SOURCE,
                       "the source gave more bytes than the %" PRId64 " it declared", r->size);
    return reached_eof(r);
}

int op_reader_run(op_ctx *c, ocipush_source *src, int hash_file_aside, op_reader_sink sink,
                  void *ctx, char *out_digest, int64_t *out_size)
{
    op_reader reader;
    int rc = op_reader_init(&reader, c, src, hash_file_aside);
    rc = rc ? rc : sink(ctx, &reader);
    if (rc == 0) {
        op_digest_copy(out_digest, reader.digest);
        *out_size = reader.size;
    }
    op_reader_clear(&reader);
    op_source_release(src);
    return rc;
}
