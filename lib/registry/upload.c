#include "alloc.h"
#include "upload.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "retry.h"
#include "url.h"

/* Every answer in the session carries the URL of its next step; it is
 * followed exactly as given (relative or absolute, query kept), since
 * registries keep upload state in it. */
static int follow_location(op_upload *u, const op_request *req, const op_response *resp,
                           int required)
{
    if (!resp->location) {
        if (required)
            return op_fail(&u->c->diag, OCIPUSH_E_PROTOCOL,
                           "%s %s answered %ld without the Location of the upload session",
                           req->method, u->repository, resp->status);
        return 0;
    }
    char *next = NULL;
    int rc = op_url_resolve(&next, req->url, resp->location);
    if (rc)
        return op_fail(&u->c->diag, rc == OCIPUSH_E_NOMEM ? rc : OCIPUSH_E_PROTOCOL,
                       "the registry sent an unusable upload Location");
    if (strncasecmp(req->url, "https:", 6) == 0 && strncasecmp(next, "https:", 6) != 0) {
        op_free(next);
        return op_fail(&u->c->diag, OCIPUSH_E_PROTOCOL,
                       "refusing an upload Location that goes from https to plain http");
    }
    op_free(u->location);
    u->location = next;
    return 0;
}

/* One request of the upload, its answer kept in u->last for blob_upload.c; its
 * retries, if any, are the blob push's. */
static int exchange(op_upload *u, const op_request *req)
{
    op_request with_budget = *req;
    with_budget.budget = u->budget;
    return op_client_perform(u->cl, &with_budget, &u->last);
}

void op_upload_clear(op_upload *u)
{
    op_response_clear(&u->last);
    op_free(u->location);
    u->location = NULL;
}

int op_upload_mount(op_upload *u, const char *digest, const char *from, int *out_mounted)
{
    char *base = NULL, *with_mount = NULL, *url = NULL;
    op_response *resp = &u->last;
    *out_mounted = 0;
    int rc = op_client_url(&base, u->cl, u->repository, "blobs/uploads/", "");
    rc = rc ? rc : op_url_add_query(&with_mount, base, "mount", digest);
    rc = rc ? rc : op_url_add_query(&url, with_mount, "from", from);
    op_free(base);
    op_free(with_mount);
    if (rc)
        return op_fail(&u->c->diag, rc, "out of memory");
    op_request req = {.method = "POST", .url = url, .idempotent = 1};
    rc = exchange(u, &req);
    if (rc == 0 && resp->status == 201) {
        if (resp->content_digest && ocipush_digest_validate(resp->content_digest))
            rc = op_fail(&u->c->diag, OCIPUSH_E_PROTOCOL,
                         "the registry answered the mount with a malformed Docker-Content-Digest");
        else if (resp->content_digest && strcmp(resp->content_digest, digest) != 0)
            rc = op_fail(&u->c->diag, OCIPUSH_E_PROTOCOL, "the registry mounted %s, not %s",
                         resp->content_digest, digest);
        else
            *out_mounted = 1;
    } else if (rc == 0 && resp->status == 202 && follow_location(u, &req, resp, 1) == 0) {
        u->preopened = 1; /* the spec lets the client go on in this session */
        op_log(&u->c->diag, OCIPUSH_LOG_INFO, "%s could not mount %s from %s (HTTP 202)",
               u->c->set.registry, digest, from);
    } else if (rc == 0 || rc == OCIPUSH_E_PROTOCOL) {
        op_log(&u->c->diag, OCIPUSH_LOG_INFO, "mounting %s from %s was refused (HTTP %ld)", digest,
               from, resp->status);
        rc = 0;
    }
    op_free(url);
    return rc;
}

int op_upload_start(op_upload *u)
{
    if (u->preopened && u->location) {
        u->preopened = 0;
        return 0;
    }
    u->preopened = 0;
    char *url = NULL;
    op_response *resp = &u->last;
    int rc = op_client_url(&url, u->cl, u->repository, "blobs/uploads/", "");
    if (rc)
        return op_fail(&u->c->diag, rc, "out of memory");
    /* Retrying a POST at worst leaves an unused session for the registry to
     * expire. */
    op_request req = {.method = "POST", .url = url, .idempotent = 1};
    rc = exchange(u, &req);
    if (rc == 0 && resp->status != 202)
        rc = op_response_fail(u->c, "starting the upload", &req, resp);
    if (rc == 0)
        rc = follow_location(u, &req, resp, 1);
    if (rc == 0 && resp->chunk_min) {
        char *end = NULL;
        unsigned long long v = strtoull(resp->chunk_min, &end, 10);
        u->chunk_min = (end && *end == '\0') ? (uint64_t)v : 0;
    }
    op_free(url);
    return rc;
}

static int is_stream_rejection(int rc, long status)
{
    if (rc == OCIPUSH_E_NETWORK && status == 0)
        return 1; /* the connection closed before any answer */
    return rc == 0 && (status == 400 || status == 411 || status == 413 || status == 501);
}

int op_upload_stream(op_upload *u, int *out_rejected)
{
    op_response *resp = &u->last;
    op_request req = {.method = "PATCH",
                      .url = u->location,
                      .reader = op_reader_read,
                      .reader_ctx = u->reader,
                      .reader_len = -1,
                      .rewind = op_reader_to_mark};
    u->reader->mark = 0;
    *out_rejected = 0;
    int rc = exchange(u, &req);
    if (is_stream_rejection(rc, resp->status)) {
        *out_rejected = 1;
        if (rc == 0)
            rc = op_response_fail(u->c, "streaming the blob", &req, resp);
    } else if (rc == 0 && resp->status != 202 && resp->status != 201) {
        rc = op_response_fail(u->c, "streaming the blob", &req, resp);
    } else if (rc == 0) {
        rc = follow_location(u, &req, resp, 0);
    }
    return rc;
}

static int send_chunk(op_upload *u, uint64_t offset, uint64_t len)
{
    char range[64];
    snprintf(range, sizeof range, "%" PRIu64 "-%" PRIu64, offset, offset + len - 1);
    op_response *resp = &u->last;
    op_request req = {.method = "PATCH",
                      .url = u->location,
                      .content_range = range,
                      .reader = op_reader_read,
                      .reader_ctx = u->reader,
                      .reader_len = (int64_t)len,
                      .rewind = op_reader_to_mark};
    u->reader->limit = offset + len;
    u->reader->mark = offset;
    int rc = exchange(u, &req);
    u->reader->limit = UINT64_MAX;
    /* 201 instead of 202 is what ECR answers; both mean accepted. */
    if (rc == 0 && resp->status != 202 && resp->status != 201)
        rc = op_response_fail(u->c, "uploading a chunk", &req, resp);
    if (rc == 0 && u->reader->pos != offset + len)
        rc = op_fail(&u->c->diag, OCIPUSH_E_SOURCE, "the source ended inside chunk %s", range);
    uint64_t next = 0;
    if (rc == 0 && resp->range && op_range_parse(&next, resp->range) == 0 && next != offset + len)
        /* ECR's Range stops advancing: the registry's final digest check is
         * what counts, so go on from our own offset. */
        op_log(&u->c->diag, OCIPUSH_LOG_DEBUG, "after chunk %s the registry reports Range %s",
               range, resp->range);
    if (rc == 0)
        rc = follow_location(u, &req, resp, 0);
    return rc;
}

/* GET the upload: how many bytes the registry has (its Range), or -1 when it
 * will not say (404, no Range: ECR Public, some proxies). */
static int64_t upload_status(op_upload *u)
{
    op_response *resp = &u->last;
    op_request req = {.method = "GET", .url = u->location, .idempotent = 1};
    int64_t have = -1;
    uint64_t next = 0;
    int rc = exchange(u, &req);
    if (rc == 0 && resp->status == 204 && resp->range && op_range_parse(&next, resp->range) == 0 &&
        follow_location(u, &req, resp, 0) == 0)
        have = (int64_t)next;
    op_log(&u->c->diag, OCIPUSH_LOG_DEBUG, "upload status: HTTP %ld, Range %s", resp->status,
           resp->range ? resp->range : "(none)");
    return have;
}

#define MIN_CHUNK ((uint64_t)OCIPUSH_CHUNK_SIZE_MIN)

/* Can a refused chunk be made smaller? Then say so and do it. */
static int shrink_chunk(op_upload *u, uint64_t *chunk, uint64_t len, long status)
{
    uint64_t floor = u->chunk_min > MIN_CHUNK ? u->chunk_min : MIN_CHUNK;
    if (len <= floor)
        return 0;
    *chunk = len / 2 > floor ? len / 2 : floor;
    op_log(&u->c->diag, OCIPUSH_LOG_WARN,
           "%s refused a chunk of %" PRIu64 " bytes (HTTP %ld); going on with chunks of %" PRIu64,
           u->c->set.registry, len, status, *chunk);
    return 1;
}

/* Another try for a failed chunk, from the blob push's budget: after the
 * wait a passing failure asks for; a chunk too large is tried again smaller
 * at once. 0 to go on, else the failure to report. */
static int retry_chunk(op_upload *u, int rc)
{
    if (!op_retry_budget_left(u->budget))
        return rc; /* spent here or by the requests before: give up */
    if (!u->last.transient)
        return op_retry_budget_take(u->budget) ? 0 : rc;
    int waited = op_retry_next(u->c, u->budget, u->last.retry_after, "a chunk failed");
    return waited == OP_RETRY_SPENT ? rc : waited;
}

/* After a failed chunk at [off, off+len): where to go on from, into *off.
 * 0 to go on, else OP_E_RESTART or the failure itself. */
static int recover_chunk(op_upload *u, int rc, uint64_t *off, uint64_t len, uint64_t *chunk,
                         int64_t *last_have)
{
    long st = u->last.status;
    int too_large = st == 413 || st == 416;
    if (rc != OCIPUSH_E_HTTP && !(rc == OCIPUSH_E_NETWORK && u->last.transient))
        return rc; /* the source, the caller or the credentials: nothing to retry */
    if (*off == 0 && !u->last.transient && (st == 400 || st == 405 || st == 415 || st == 501))
        return OP_E_NO_RANGES;
    if (!too_large && !u->last.transient)
        return rc;
    int retry = retry_chunk(u, rc);
    if (retry)
        return retry;
    int64_t have = upload_status(u);
    /* distribution answers "0-0" for an empty upload as for a 1-byte one:
     * at offset 0, it means nothing. */
    if (have == 1 && *off == 0)
        have = 0;
    if (have < 0 || (uint64_t)have > *off + len || (uint64_t)have < *off ||
        (*last_have >= 0 && have <= *last_have && !too_large))
        return OP_E_RESTART; /* no usable status, or it does not advance */
    if (too_large && (uint64_t)have == *off && !shrink_chunk(u, chunk, len, st))
        return rc;
    *last_have = have;
    int seek = op_reader_seek(u->reader, (uint64_t)have);
    if (seek)
        return seek;
    if ((uint64_t)have != *off)
        op_log(&u->c->diag, OCIPUSH_LOG_INFO, "resuming the upload at byte %" PRId64, have);
    *off = (uint64_t)have;
    return 0;
}

/* The next chunk at `off`: at most *chunk bytes, to the size when it is
 * known; of a stream of unknown size, what the spool holds once filled (its
 * Content-Length must be known before it goes). 0 with *len 0 at the end. */
static int next_chunk(op_upload *u, uint64_t off, uint64_t chunk, uint64_t *len)
{
    op_reader *r = u->reader;
    if (r->size < 0)
        return op_reader_fill(r, chunk, len);
    uint64_t size = (uint64_t)r->size;
    *len = off >= size ? 0 : size - off < chunk ? size - off : chunk;
    return 0;
}

int op_upload_chunks(op_upload *u, uint64_t *chunk)
{
    op_reader *r = u->reader;
    uint64_t off = 0, window = op_reader_window(r);
    int64_t last_have = -1;
    if (*chunk < u->chunk_min)
        *chunk = u->chunk_min;
    /* A stream's chunk is kept whole before it is sent, and the next one is
     * read into the other half of the window while it goes. */
    int windowed = r->size < 0;
    if (windowed && window / 2 > u->chunk_min)
        window /= 2;
    if (*chunk == 0)
        *chunk = windowed ? window : (uint64_t)r->size;
    if (windowed && *chunk > window)
        *chunk = window;
    int landed = 0;
    for (;;) {
        uint64_t len = 0;
        int rc = next_chunk(u, off, *chunk, &len);
        if (rc)
            return rc;
        if (len == 0)
            return 0;
        /* Once the registry has taken a chunk (so it takes chunks, and no
         * one PUT follows that would need the whole stream). */
        if (windowed && landed && (rc = op_reader_prefetch(r, *chunk)))
            return rc;
        rc = send_chunk(u, off, len);
        if (rc == 0) {
            off += len;
            landed = 1;
            op_reader_ack(r, off); /* the registry has it: out of the spool */
            continue;
        }
        rc = recover_chunk(u, rc, &off, len, chunk, &last_have);
        if (rc)
            return rc;
        /* The registry may have it all (a lost answer): out of the spool
         * too, or the next fill would find it full and nothing to add. */
        op_reader_ack(r, off);
    }
}

/* PUT location?digest=D, with or without a body: the step that commits. */
static int put_digest(op_upload *u, const char *digest, int with_body)
{
    char *url = NULL;
    op_response *resp = &u->last;
    int rc = op_url_add_query(&url, u->location, "digest", digest);
    if (rc)
        return op_fail(&u->c->diag, rc, "cannot build the commit URL");
    op_request req = {.method = "PUT", .url = url, .idempotent = !with_body};
    if (with_body) {
        req.reader = op_reader_read;
        req.reader_ctx = u->reader;
        req.reader_len = u->reader->size;
        req.rewind = op_reader_to_mark;
        u->reader->mark = 0;
    }
    rc = exchange(u, &req);
    if (rc == 0 && resp->status != 201)
        rc = op_response_fail(u->c, "committing the blob", &req, resp);
    if (rc == 0 && resp->content_digest && ocipush_digest_validate(resp->content_digest))
        rc = op_fail(&u->c->diag, OCIPUSH_E_PROTOCOL,
                     "the registry answered the commit with a malformed Docker-Content-Digest");
    else if (rc == 0 && resp->content_digest && strcmp(resp->content_digest, digest) != 0)
        rc = op_fail(&u->c->diag, OCIPUSH_E_PROTOCOL, "the registry stored the blob as %s, not %s",
                     resp->content_digest, digest);
    if (rc == 0) {
        /* Committed: the session is gone, nothing to cancel. */
        op_free(u->location);
        u->location = NULL;
    }
    op_free(url);
    return rc;
}

int op_upload_put_body(op_upload *u, const char *digest)
{
    return put_digest(u, digest, 1);
}

int op_upload_commit(op_upload *u, const char *digest)
{
    return put_digest(u, digest, 0);
}

void op_upload_cancel(op_upload *u)
{
    if (!u->location)
        return;
    /* Keep the message of the failure that led here, not the DELETE's. */
    char saved[sizeof u->c->diag.errmsg];
    memcpy(saved, u->c->diag.errmsg, sizeof saved);
    op_response resp = {0};
    op_request req = {.method = "DELETE", .url = u->location};
    u->c->cleaning_up = 1; /* goes out even after a cancel or the deadline */
    if (op_client_perform(u->cl, &req, &resp) == 0)
        op_log(&u->c->diag, OCIPUSH_LOG_DEBUG, "cancelled upload session: HTTP %ld", resp.status);
    u->c->cleaning_up = 0;
    op_response_clear(&resp);
    memcpy(u->c->diag.errmsg, saved, sizeof saved);
    op_free(u->location);
    u->location = NULL;
}
