/* Pushing one blob's bytes to a registry: choosing how to send them, and
 * falling back to a length-delimited upload when a streamed one is
 * rejected. The registry target's put_blob. */
#include "blob_upload.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "retry.h"
#include "source.h"
#include "upload.h"

#define DEFAULT_CHUNK (16u << 20)
/* A rewindable source of known size up to this is hashed before anything is
 * sent (a few milliseconds): with its digest known, a HEAD skips a blob the
 * registry has already, and one PUT sends it otherwise, so a blob it lacks
 * costs HEAD, POST, PUT: no more requests than POST, PATCH, PUT. Larger
 * blobs are hashed while they are sent instead: hashing them first would
 * add their whole hashing time to the push. */
#define PREHASH_MAX (4u << 20)

/* Refuse to commit content that does not hash to what the caller expects. */
static int check_expected(op_upload *u, const char *expected)
{
    return op_reader_check_expected(u->reader, expected, u->prehashed);
}

/* Size (and, for one PUT, digest) must be known before a length-delimited
 * upload: learn them by reading on to the end, then start again. */
static int learn_size_and_digest(op_upload *u)
{
    if (u->reader->at_eof)
        return op_reader_rewind(u->reader);
    int rc = op_reader_drain(u->reader);
    return rc ? rc : op_reader_rewind(u->reader);
}

/* A one-PUT upload the registry refused for its size or shape (Docker Hub's
 * 400 for a large body, a 413 cap): chunks may pass where it did not. */
static int monolithic_refused(const op_upload *u, int rc)
{
    if (rc != OCIPUSH_E_HTTP || !u->put_failed) /* not a refusal of the POST */
        return 0;
    if (u->last.status == 413)
        return 1;
    return u->last.status == 400 && strcmp(u->last.error_code, "DIGEST_INVALID") != 0 &&
           strcmp(u->last.error_code, "SIZE_INVALID") != 0;
}

/* One upload session, sent with Content-Length: one PUT, or PATCHes then a
 * PUT. Its failures that say "differently" or "again" are acted on by the
 * caller. */
static int send_once(op_upload *u, const char *expected, int monolithic, uint64_t *chunk)
{
    int rc = 0;
    /* One PUT names its digest before the body. Known already (given, or
     * from a first read), it is checked as the last byte goes out, so the
     * source is read once; else it is learned by reading the source first.
     * Chunks of a spooled stream need no size up front: each is kept in the
     * spool, and measured, before it goes. */
    int ahead = monolithic && expected && u->reader->size >= 0;
    int windowed = !monolithic && u->reader->size < 0 && u->reader->spool;
    if ((monolithic && !ahead) || (u->reader->size < 0 && !windowed))
        rc = learn_size_and_digest(u);
    else if (u->reader->pos != 0)
        rc = op_reader_rewind(u->reader);
    if (rc == 0 && monolithic && !ahead)
        rc = check_expected(u, expected);
    rc = rc ? rc : op_upload_start(u);
    u->put_failed = 0;
    if (rc == 0 && monolithic) {
        u->reader->expected = ahead ? expected : NULL;
        u->reader->expected_own = u->prehashed;
        rc = op_upload_put_body(u, ahead ? expected : u->reader->digest);
        u->reader->expected = NULL;
        u->put_failed = rc != 0;
        return rc ? rc : op_reader_finish(u->reader);
    }
    rc = rc ? rc : op_upload_chunks(u, chunk);
    rc = rc ? rc : op_reader_finish(u->reader);
    rc = rc ? rc : check_expected(u, expected);
    return rc ? rc : op_upload_commit(u, u->reader->digest);
}

/* After a failed session: a new one, if the failure is a passing one and
 * the blob push's budget has a try left (drawn, and waited for, here). 0 to
 * start it, else the failure to report. A failed commit never gets here
 * while tries are left: exchange.c sends it again itself (it is idempotent), so
 * a body is sent again only when the body itself failed. In a one-PUT
 * upload the body and the commit are one request: when it fails the
 * registry has kept no bytes, and committing means sending them again. */
static int next_session(op_upload *u, int rc, const char *why)
{
    if (rc == OP_E_RESTART)
        return 0; /* the retry was drawn where the chunk failed */
    if (!u->last.transient || (rc != OCIPUSH_E_HTTP && rc != OCIPUSH_E_NETWORK))
        return rc == OP_E_NO_RANGES ? OCIPUSH_E_HTTP : rc; /* and one PUT was refused too */
    int waited = op_retry_next(u->c, u->budget, u->last.retry_after, why);
    return waited == OP_RETRY_SPENT ? rc : waited;
}

/* Sessions one after another until the blob lands: switching between one
 * PUT and chunks when the registry refuses one of them (a switch is not a
 * retry: it draws nothing from the budget), starting again when a session
 * fails for a passing reason, as the budget allows. */
static int send_length_delimited(op_upload *u, const char *expected, int monolithic, uint64_t chunk)
{
    int switched_to_chunks = 0, switched_to_put = 0;
    for (;;) {
        int rc = send_once(u, expected, monolithic, &chunk);
        if (rc == 0)
            return 0;
        op_upload_cancel(u);
        if (monolithic && !switched_to_chunks && monolithic_refused(u, rc)) {
            switched_to_chunks = 1;
            monolithic = 0;
            chunk = u->c->set.chunk_size ? u->c->set.chunk_size : DEFAULT_CHUNK;
            op_log(&u->c->diag, OCIPUSH_LOG_WARN,
                   "%s refused the blob in one PUT (HTTP %ld); sending it in chunks of %" PRIu64
                   " bytes",
                   u->c->set.registry, u->last.status, chunk);
            continue;
        }
        if (rc == OP_E_NO_RANGES && !switched_to_put) {
            switched_to_put = 1;
            monolithic = 1;
            op_log(&u->c->diag, OCIPUSH_LOG_WARN,
                   "%s does not take chunked uploads (HTTP %ld); sending the blob in one PUT",
                   u->c->set.registry, u->last.status);
            continue;
        }
        if ((rc = next_session(u, rc, "the upload failed; starting a new upload session")))
            return rc;
    }
}

static int send_streamed(op_upload *u, const char *expected, int *out_rejected)
{
    int rc = op_upload_start(u);
    rc = rc ? rc : op_upload_stream(u, out_rejected);
    rc = rc ? rc : op_reader_finish(u->reader);
    rc = rc ? rc : check_expected(u, expected);
    return rc ? rc : op_upload_commit(u, u->reader->digest);
}

/* A streamed upload that failed for a passing reason (a 503, a 429) goes
 * again, streamed, in a new session, from the rewound source or the spool,
 * as the blob push's budget allows. */
static int send_streamed_with_retries(op_upload *u, const char *expected, int *out_rejected)
{
    for (;;) {
        int rc = send_streamed(u, expected, out_rejected);
        if (rc == 0 || *out_rejected || !u->last.transient || rc != OCIPUSH_E_HTTP ||
            !op_retry_budget_left(u->budget))
            return rc;
        op_upload_cancel(u);
        if ((rc = op_reader_rewind(u->reader)))
            return rc;
        if ((rc = next_session(u, OCIPUSH_E_HTTP,
                               "the streamed upload failed; starting a new upload session")))
            return rc;
    }
}

/* The reason ocipush exists: a proxy or registry that refuses a chunked
 * body gets the same bytes again with a Content-Length, in a new session. */
static int fall_back(op_upload *u, const char *expected, uint64_t chunk)
{
    char why[64];
    if (u->last.status)
        snprintf(why, sizeof why, "HTTP %ld", u->last.status);
    else
        snprintf(why, sizeof why, "connection closed without an answer");
    op_upload_cancel(u);
    *u->stream_rejected = 1;
    /* A stream goes on in chunks kept in the spool's window, so it needs no
     * more disk than the window whatever its length; one PUT only when the
     * caller asked for it, or the registry takes no chunks. */
    if (chunk == 0 && u->reader->spool && u->reader->size < 0)
        chunk = op_reader_window(u->reader);
    if (!u->reader->spool && !u->reader->src->rewind)
        return op_fail(&u->c->diag, OCIPUSH_E_NOT_REPLAYABLE,
                       "the registry rejected the streamed upload to %s/%s (%s) and it cannot be "
                       "sent again: the source is a stream that cannot rewind and the spool is off",
                       u->c->set.registry, u->repository, why);
    op_log(&u->c->diag, OCIPUSH_LOG_WARN,
           "streamed upload to %s/%s was rejected (%s); sending it again with Content-Length in a "
           "new upload session",
           u->c->set.registry, u->repository, why);
    uint64_t replayed = u->reader->high; /* what the rejected stream had read */
    int rc = op_reader_rewind(u->reader);
    rc = rc ? rc : send_length_delimited(u, expected, chunk == 0, chunk);
    const char *where = u->reader->spool && op_spool_on_disk(u->reader->spool)
                            ? "spilled to a temporary file"
                            : "in memory";
    if (rc == 0 && u->reader->spool && u->reader->src->size < 0 && chunk)
        op_log(&u->c->diag, OCIPUSH_LOG_INFO,
               "sent the %" PRId64 "-byte stream with Content-Length in chunks through the "
               "spool (%s), %" PRIu64 " bytes of it read before the rejection",
               u->reader->size, where, replayed);
    else if (rc == 0 && u->reader->spool)
        op_log(&u->c->diag, OCIPUSH_LOG_INFO, "replayed %" PRIu64 " bytes from the spool (%s)",
               op_spool_size(u->reader->spool), where);
    return rc;
}

static int push_blob(op_upload *u, const char *expected)
{
    int size_known = u->reader->size >= 0;
    switch (u->c->set.strategy) {
    case OCIPUSH_STRATEGY_MONOLITHIC: return send_length_delimited(u, expected, 1, 0);
    case OCIPUSH_STRATEGY_CHUNKED:
        return send_length_delimited(u, expected, 0,
                                     u->c->set.chunk_size ? u->c->set.chunk_size : DEFAULT_CHUNK);
    case OCIPUSH_STRATEGY_AUTO:
        /* One PUT for a small blob of known digest (checked before it is
         * sent); a larger one is hashed as it goes out in a PATCH. */
        if (size_known)
            return send_length_delimited(u, expected,
                                         expected && u->c->set.chunk_size == 0 &&
                                             u->reader->size <= (int64_t)PREHASH_MAX,
                                         u->c->set.chunk_size);
        break;
    case OCIPUSH_STRATEGY_STREAM: break;
    }
    if (*u->stream_rejected) {
        op_log(&u->c->diag, OCIPUSH_LOG_INFO,
               "%s rejected a streamed upload before: sending with Content-Length",
               u->c->set.registry);
        uint64_t chunk = u->c->set.chunk_size;
        if (chunk == 0 && u->reader->spool && u->reader->size < 0)
            chunk = op_reader_window(u->reader);
        return send_length_delimited(u, expected, chunk == 0, chunk);
    }
    int rejected = 0;
    int rc = send_streamed_with_retries(u, expected, &rejected);
    return rejected ? fall_back(u, expected, u->c->set.chunk_size) : rc;
}

/* The reader's bytes into the registry, in `u` (which may hold a session a
 * mount opened); the session is cancelled unless it committed. */
static int upload_read(void *ctx, op_reader *reader)
{
    op_upload *u = ctx;
    u->reader = reader;
    int rc = push_blob(u, u->expected);
    op_upload_cancel(u); /* no-op once committed */
    u->reader = NULL;
    return rc;
}

/* Mount-only (no source) and nothing mounted: a status of its own, so that
 * OCIPUSH_OK always means the blob is in the repository. */
static int not_mounted(op_upload *u, const char *digest, const char *from_repository)
{
    op_upload_cancel(u); /* the session a 202 opened */
    return op_fail(&u->c->diag, OCIPUSH_E_NOT_MOUNTED,
                   "%s did not mount %s from %s (HTTP %ld) and no source was given: nothing was "
                   "done",
                   u->c->set.registry, digest, from_repository, u->last.status);
}

int op_blob_upload(op_client *cl, int *stream_rejected, op_blob_put *put)
{
    op_upload u = {.c = cl->c,
                   .cl = cl,
                   .repository = put->repository,
                   .expected = put->expected,
                   .prehashed = put->prehashed,
                   .budget = put->budget,
                   .stream_rejected = stream_rejected};
    int rc = 0;
    put->mounted = 0;
    if (put->mount_from)
        rc = op_upload_mount(&u, put->expected, put->mount_from, &put->mounted);
    if (rc == 0 && !put->mounted && !put->source)
        rc = not_mounted(&u, put->expected, put->mount_from);
    else if (rc == 0 && !put->mounted) {
        if (put->mount_from)
            op_log(&u.c->diag, OCIPUSH_LOG_INFO, "uploading %s to %s instead", put->expected,
                   put->repository);
        rc = op_reader_run(u.c, put->source, 1, upload_read, &u, put->digest, &put->size);
    }
    op_upload_cancel(&u);
    op_upload_clear(&u);
    return rc;
}
