/* The blob reader: reads a source for upload, hashing each byte exactly once
 * (the hash follows a high-water mark, so bytes read again after a rewind are
 * not hashed twice), spooling a non-rewindable stream when the session allows
 * it, checking the declared size, and reporting progress. */
#ifndef OP_READER_H
#define OP_READER_H

#include <stddef.h>
#include <stdint.h>

#include "hasher.h"
#include "ctx.h"
#include "spool.h"

typedef struct op_reader {
    op_ctx *c;
    ocipush_source *src;
    op_spool *spool; /* a copy of a non-rewindable stream, or NULL */
    /* The next chunk's bytes, read from the source while the current chunk
     * is sent from `spool` (op_reader_prefetch), or NULL; `prefetch` is the
     * most it takes, 0 when it is not filling. */
    op_spool *ahead;
    uint64_t prefetch;
    uint64_t disk_peak; /* the most both spools held on disk at once */
    op_hasher *hash;
    uint64_t pos;    /* offset of the next byte handed out */
    uint64_t high;   /* bytes hashed (and spooled) so far */
    uint64_t limit;  /* reads stop here (one chunk); UINT64_MAX: no limit */
    uint64_t mark;   /* where the body of the request in flight starts */
    int64_t size;    /* declared or learned size; -1 until known */
    int at_eof;      /* the source ended: size and digest are final */
    int file_hashed; /* a thread hashes the source's file on its own */
    int filling;     /* op_reader_fill: no progress told, stop when the spool is full */
    int spool_told;  /* the spool's stop was logged (once per window) */
    /* When set, the last byte goes out only once the content is known to
     * hash to it: a one-PUT upload names its digest up front and commits
     * with its last byte. */
    const char *expected;
    int expected_own; /* `expected` came from ocipush's own first read */
    char digest[OCIPUSH_DIGEST_MAX];
} op_reader;

/* hash_file_aside: a large regular file may be hashed by a thread reading
 * it on its own, beside the send (hasher.h).
 * 0, OCIPUSH_E_INVALID (a stream already consumed), OCIPUSH_E_NOMEM,
 * OCIPUSH_E_SOURCE (a rewind of a reused source failed). */
int op_reader_init(op_reader *r, op_ctx *c, ocipush_source *src, int hash_file_aside);
void op_reader_clear(op_reader *r);

/* op_body_fn over the reader, honouring r->limit. */
int op_reader_read(void *ctx, uint8_t *buf, size_t cap, size_t *out_len);

/* Start again at byte 0: rewind the source or replay the spool.
 * OCIPUSH_E_NOT_REPLAYABLE when neither can. */
int op_reader_rewind(op_reader *r);

/* Go back to `offset` (at most what was read so far), keeping the limit:
 * from the spool, or by rewinding the source and reading up to it again.
 * OCIPUSH_E_NOT_REPLAYABLE when neither can. */
int op_reader_seek(op_reader *r, uint64_t offset);

/* rewind callback of a request: back to r->mark. */
int op_reader_to_mark(void *ctx);

/* Read on to the end of the source (spooling or discarding), so size and
 * digest are known; the position is left at the end. A stream longer than
 * the spool's window fails with OCIPUSH_E_NOT_REPLAYABLE. */
int op_reader_drain(op_reader *r);

/* A spooled stream's next chunk, at the position: read the source on (into
 * the spool) until `max` bytes past the position are kept, the spool is
 * full, or the source ends; the position stays. *out_len: the bytes from
 * the position that the spool holds (0 only at the end of the stream). */
int op_reader_fill(op_reader *r, uint64_t max, uint64_t *out_len);

/* The registry has the bytes before `offset`: they may leave the spool.
 * When that empties it and a next chunk was being read ahead, that chunk's
 * spool becomes the spool. */
void op_reader_ack(op_reader *r, uint64_t offset);

/* While the chunk that ends at what was read so far is sent from the spool,
 * read the next chunk's bytes (at most `max`) from the source into a second
 * spool, one piece each time a piece of the chunk goes out: reading the
 * source then overlaps the wait on the network instead of following it.
 * The two spools together keep to the disk cap. Only for a spooled stream;
 * 0 or OCIPUSH_E_NOMEM. */
int op_reader_prefetch(op_reader *r, uint64_t max);

/* The most bytes of a stream the spool can hold (0 without a spool). */
uint64_t op_reader_window(const op_reader *r);

/* Fail unless the final digest is `expected` (NULL: anything goes):
 * OCIPUSH_E_DIGEST_MISMATCH, or OCIPUSH_E_SOURCE when `own` says ocipush
 * learned `expected` by reading the source before (which has changed). */
int op_reader_check_expected(op_reader *r, const char *expected, int own);

/* After an upload of exactly r->size bytes: confirm the source has nothing
 * more, so the digest is final. OCIPUSH_E_SOURCE if it has. */
int op_reader_finish(op_reader *r);

/* Stores what a reader reads (a target's upload): 0 once stored whole. */
typedef int (*op_reader_sink)(void *ctx, op_reader *r);

/* Read `src` through a new reader (op_reader_init's hash_file_aside) into
 * `sink`; on success out_digest (OCIPUSH_DIGEST_MAX) and *out_size say
 * what it stored. The reader is cleared and the source released (a file is
 * opened again when read again) whatever the outcome. */
int op_reader_run(op_ctx *c, ocipush_source *src, int hash_file_aside, op_reader_sink sink,
                  void *ctx, char *out_digest, int64_t *out_size);

#endif
