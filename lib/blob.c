/* Pushing one blob: choosing how to send it, and falling back to a
 * length-delimited upload when a streamed one is rejected. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "auth.h"
#include "digest.h"
#include "http.h"
#include "layout.h"
#include "retry.h"
#include "reader.h"
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

static int check_names(ocipush_session *s, const char *repository, const char *digest)
{
    if (ocipush_repository_validate(repository))
        return op_fail(s, OCIPUSH_E_INVALID, "invalid repository name '%s'",
                       repository ? repository : "(null)");
    if (digest && ocipush_digest_validate(digest))
        return op_fail(s, OCIPUSH_E_INVALID, "invalid digest '%s' (want sha256:<64 hex>)", digest);
    return op_auth_set_repository(s, repository);
}

/* HEAD the blob: *out_size is its Content-Length when it exists (-1 if the
 * registry did not say). Its retries draw from `budget`, the blob push's
 * (NULL: the HEAD is the whole operation). */
static int head_blob(ocipush_session *s, op_retry_budget *budget, const char *repository,
                     const char *digest, int *out_exists, int64_t *out_size)
{
    if (s->layout_dir)
        return op_layout_blob_exists(s, digest, out_exists, out_size);
    char *url = NULL;
    int rc = op_registry_url(&url, s, repository, "blobs/", digest);
    if (rc)
        return op_fail(s, rc, "out of memory");
    op_response resp = {0};
    op_request req = {.method = "HEAD", .url = url, .idempotent = 1, .budget = budget};
    rc = op_http_perform(s, &req, &resp);
    if (rc == 0 && (resp.status == 200 || resp.status == 404)) {
        *out_exists = resp.status == 200;
        char *end = NULL;
        long long n = resp.content_length ? strtoll(resp.content_length, &end, 10) : -1;
        *out_size = (resp.content_length && *end == '\0' && n >= 0) ? n : -1;
    } else if (rc == 0) {
        rc = op_http_fail(s, "checking whether the blob exists", &req, &resp);
    }
    op_response_clear(&resp);
    op_free(url);
    return rc;
}

int ocipush_blob_exists(ocipush_session *s, int *out_exists, const char *repository,
                        const char *digest)
{
    if (!s || !out_exists)
        return OCIPUSH_E_INVALID;
    op_call_scope(s);
    if (!digest)
        return op_fail(s, OCIPUSH_E_INVALID, "no digest given");
    int64_t size;
    int rc = check_names(s, repository, digest);
    return rc ? rc : head_blob(s, NULL, repository, digest, out_exists, &size);
}

/* The digest of the empty blob: the only one a registry may rightly say is
 * 0 bytes long. */
#define EMPTY_BLOB_DIGEST "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* The size to describe a blob by that a HEAD found, or -1 when the HEAD is
 * not to be trusted and the blob goes up again. `known` is the size ocipush
 * knows (the source's, -1 if none), `head` the HEAD's Content-Length (-1 if
 * none). What ocipush knows wins: a HEAD that gives another size (0 from a
 * proxy that rewrites HEAD answers, or a registry that lies) is not
 * describing these bytes, and a manifest must never carry its size. Upload,
 * not OCIPUSH_E_PROTOCOL: the commit has the registry check the bytes
 * against the digest, so the push still lands on a registry whose HEAD alone
 * is wrong. With nothing known, the HEAD's size stands, unless it is 0 for a
 * digest that is not the empty blob's. */
static int64_t trusted_size(ocipush_session *s, const char *repository, const char *digest,
                            int64_t head, int64_t known)
{
    if (known >= 0 && (head < 0 || head == known))
        return known;
    if (known < 0 && (head > 0 || (head == 0 && strcmp(digest, EMPTY_BLOB_DIGEST) == 0)))
        return head;
    if (known >= 0)
        op_log(s, OCIPUSH_LOG_WARN,
               "%s says %s has %s with %" PRId64 " bytes, not %" PRId64
               ": not trusted, the blob is sent",
               s->registry, repository, digest, head, known);
    else if (head == 0)
        op_log(s, OCIPUSH_LOG_WARN,
               "%s says %s has %s with 0 bytes, which only the empty blob has: not trusted, the "
               "blob is sent",
               s->registry, repository, digest);
    return -1;
}

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
    if (u->last_status == 413)
        return 1;
    return u->last_status == 400 && strcmp(u->last_code, "DIGEST_INVALID") != 0 &&
           strcmp(u->last_code, "SIZE_INVALID") != 0;
}

/* One upload session, sent with Content-Length: one PUT, or PATCHes then a
 * PUT. Its failures that say "differently" or "again" are acted on by the
 * caller. */
static int send_once(op_upload *u, const char *expected, int monolithic, uint64_t *chunk)
{
    int rc = 0;
    /* One PUT names its digest before the body. Known already (given, or
     * from a first read), it is checked as the last byte goes out, so the
     * source is read once; else it is learned by reading the source first. */
    int ahead = monolithic && expected && u->reader->size >= 0;
    if ((monolithic && !ahead) || u->reader->size < 0)
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
 * while tries are left: http.c sends it again itself (it is idempotent), so
 * a body is sent again only when the body itself failed. In a one-PUT
 * upload the body and the commit are one request: when it fails the
 * registry has kept no bytes, and committing means sending them again. */
static int next_session(op_upload *u, int rc, const char *why)
{
    if (rc == OP_E_RESTART)
        return 0; /* the retry was drawn where the chunk failed */
    if (!u->last_transient || (rc != OCIPUSH_E_HTTP && rc != OCIPUSH_E_NETWORK))
        return rc == OP_E_NO_RANGES ? OCIPUSH_E_HTTP : rc; /* and one PUT was refused too */
    int waited = op_retry_next(u->s, &u->budget, op_upload_retry_after(u), why);
    return waited == OP_RETRY_SPENT ? rc : waited;
}

/* Sessions one after another until the blob lands: switching between one
 * PUT and chunks when the registry refuses one of them (a switch is not a
 * retry: it draws nothing from the budget), starting again when a session
 * fails for a passing reason, as the budget allows. */
static int send_length_delimited(op_upload *u, const char *expected, int monolithic, uint64_t chunk)
{
    ocipush_session *s = u->s;
    int switched_to_chunks = 0, switched_to_put = 0;
    for (;;) {
        int rc = send_once(u, expected, monolithic, &chunk);
        if (rc == 0)
            return 0;
        op_upload_cancel(u);
        if (monolithic && !switched_to_chunks && monolithic_refused(u, rc)) {
            switched_to_chunks = 1;
            monolithic = 0;
            chunk = s->chunk_size ? s->chunk_size : DEFAULT_CHUNK;
            op_log(s, OCIPUSH_LOG_WARN,
                   "%s refused the blob in one PUT (HTTP %ld); sending it in chunks of %" PRIu64
                   " bytes",
                   s->registry, u->last_status, chunk);
            continue;
        }
        if (rc == OP_E_NO_RANGES && !switched_to_put) {
            switched_to_put = 1;
            monolithic = 1;
            op_log(s, OCIPUSH_LOG_WARN,
                   "%s does not take chunked uploads (HTTP %ld); sending the blob in one PUT",
                   s->registry, u->last_status);
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
        if (rc == 0 || *out_rejected || !u->last_transient || rc != OCIPUSH_E_HTTP ||
            !op_retry_budget_left(&u->budget))
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
    ocipush_session *s = u->s;
    char why[64];
    if (u->last_status)
        snprintf(why, sizeof why, "HTTP %ld", u->last_status);
    else
        snprintf(why, sizeof why, "connection closed without an answer");
    op_upload_cancel(u);
    s->stream_rejected = 1;
    if (!u->reader->spool && !u->reader->src->rewind)
        return op_fail(s, OCIPUSH_E_NOT_REPLAYABLE,
                       "the registry rejected the streamed upload to %s/%s (%s) and it cannot be "
                       "sent again: the source is a stream that cannot rewind and the spool is off",
                       s->registry, u->repository, why);
    op_log(s, OCIPUSH_LOG_WARN,
           "streamed upload to %s/%s was rejected (%s); sending it again with Content-Length in a "
           "new upload session",
           s->registry, u->repository, why);
    int rc = op_reader_rewind(u->reader);
    rc = rc ? rc : send_length_delimited(u, expected, chunk == 0, chunk);
    if (rc == 0 && u->reader->spool)
        op_log(s, OCIPUSH_LOG_INFO, "replayed %" PRIu64 " bytes from the spool (%s)",
               op_spool_size(u->reader->spool),
               op_spool_on_disk(u->reader->spool) ? "spilled to a temporary file" : "in memory");
    return rc;
}

static int push_blob(op_upload *u, const char *expected)
{
    ocipush_session *s = u->s;
    int size_known = u->reader->size >= 0;
    switch (s->strategy) {
    case OCIPUSH_STRATEGY_MONOLITHIC: return send_length_delimited(u, expected, 1, 0);
    case OCIPUSH_STRATEGY_CHUNKED:
        return send_length_delimited(u, expected, 0, s->chunk_size ? s->chunk_size : DEFAULT_CHUNK);
    case OCIPUSH_STRATEGY_AUTO:
        /* One PUT for a small blob of known digest (checked before it is
         * sent); a larger one is hashed as it goes out in a PATCH. */
        if (size_known)
            return send_length_delimited(u, expected,
                                         expected && s->chunk_size == 0 &&
                                             u->reader->size <= (int64_t)PREHASH_MAX,
                                         s->chunk_size);
        break;
    case OCIPUSH_STRATEGY_STREAM: break;
    }
    if (s->stream_rejected) {
        op_log(s, OCIPUSH_LOG_INFO,
               "%s rejected a streamed upload before: sending with Content-Length", s->registry);
        return send_length_delimited(u, expected, s->chunk_size == 0, s->chunk_size);
    }
    int rejected = 0;
    int rc = send_streamed_with_retries(u, expected, &rejected);
    return rejected ? fall_back(u, expected, s->chunk_size) : rc;
}

/* The blob is there already (HEAD): fill the outputs and say so. */
static int already_there(ocipush_session *s, const char *repository, const char *digest,
                         int64_t size, char *out_digest, uint64_t *out_size)
{
    op_log(s, OCIPUSH_LOG_INFO, "%s already has %s", repository, digest);
    if (out_digest)
        memcpy(out_digest, digest, OCIPUSH_DIGEST_BUFSIZE);
    if (out_size)
        *out_size = (uint64_t)size;
    return OCIPUSH_OK;
}

/* Upload from the source; `u` may hold a session a mount opened. */
static int upload_source(op_upload *u, ocipush_source *source, const char *expected,
                         char *out_digest, uint64_t *out_size)
{
    op_reader reader;
    u->reader = &reader;
    int rc = op_reader_init(&reader, u->s, source);
    if (rc == 0)
        rc =
            u->s->layout_dir ? op_layout_put_blob(u->s, &reader, expected) : push_blob(u, expected);
    op_upload_cancel(u); /* no-op once committed */
    if (rc == 0) {
        op_log(u->s, OCIPUSH_LOG_INFO, "pushed %s (%" PRId64 " bytes) to %s", reader.digest,
               reader.size, u->repository);
        if (out_digest)
            memcpy(out_digest, reader.digest, OCIPUSH_DIGEST_BUFSIZE);
        if (out_size)
            *out_size = (uint64_t)reader.size;
    }
    op_reader_clear(&reader);
    op_source_release(source); /* a file is opened again when read again */
    u->reader = NULL;
    return rc;
}

/* The digest of a small rewindable source of known size, read through once
 * (no progress reported: nothing is sent) and rewound. 1 when it is not
 * worth it or the source does not read back as declared: the upload then
 * goes on without it and reports what is wrong. */
static int prehash(ocipush_session *s, ocipush_source *src, char *out)
{
    if (!src->rewind || src->size < 0 || src->size > (int64_t)PREHASH_MAX ||
        s->strategy != OCIPUSH_STRATEGY_AUTO)
        return 1;
    if (src->started && src->rewind(src->user_data) != 0)
        return 1;
    src->started = 1;
    op_sha256 *sha = NULL;
    if (op_sha256_new(&sha))
        return 1;
    uint8_t buf[16 * 1024];
    uint64_t total = 0;
    size_t n = 0;
    int rc = 0;
    do {
        rc = src->read(src->user_data, buf, sizeof buf, &n) != 0 || n > sizeof buf ||
             op_sha256_update(sha, buf, n) != 0;
        total += rc ? 0 : n;
    } while (rc == 0 && n > 0 && total <= (uint64_t)src->size);
    if (rc == 0 && total == (uint64_t)src->size)
        rc = op_sha256_finish(sha, out) != 0;
    else
        rc = 1;
    op_sha256_free(sha);
    if (src->rewind(src->user_data) != 0)
        rc = 1;
    op_source_release(src); /* the blob may be there already: nothing else reads it */
    return rc;
}

int ocipush_blob_push(ocipush_session *s, const char *repository, ocipush_source *source,
                      const char *expected_digest, char *out_digest, uint64_t *out_size)
{
    if (!s)
        return OCIPUSH_E_INVALID;
    op_call_scope(s);
    int rc = check_names(s, repository, expected_digest);
    if (rc)
        return rc;
    if (!source)
        return op_fail(s, OCIPUSH_E_INVALID, "no source given");
    /* One budget for the HEAD, every session and every request of this push. */
    op_retry_budget budget = op_retry_budget_of(s);
    char known[OCIPUSH_DIGEST_BUFSIZE];
    int prehashed = !expected_digest && prehash(s, source, known) == 0;
    if (prehashed)
        expected_digest = known;
    if (expected_digest) {
        int exists = 0;
        int64_t size = -1;
        if ((rc = head_blob(s, &budget, repository, expected_digest, &exists, &size)))
            return rc;
        if (exists)
            size = trusted_size(s, repository, expected_digest, size, source->size);
        if (exists && size >= 0) /* the source is not read (again) */
            return already_there(s, repository, expected_digest, size, out_digest, out_size);
    }
    op_upload u = {.s = s, .repository = repository, .prehashed = prehashed, .budget = budget};
    return upload_source(&u, source, expected_digest, out_digest, out_size);
}

/* The size of a blob the registry just mounted: its HEAD's, else what the
 * source declares. */
static int mounted_size(ocipush_session *s, op_retry_budget *budget, const char *repository,
                        const char *digest, const ocipush_source *source, uint64_t *out_size)
{
    int exists = 0;
    int64_t size = -1;
    int rc = head_blob(s, budget, repository, digest, &exists, &size);
    if (rc)
        return rc;
    if (!exists)
        return op_fail(s, OCIPUSH_E_PROTOCOL, "%s said it mounted %s into %s, which lacks it",
                       s->registry, digest, repository);
    size = trusted_size(s, repository, digest, size, source ? source->size : -1);
    if (size < 0)
        return op_fail(s, OCIPUSH_E_PROTOCOL,
                       "%s mounted %s into %s but does not say a size to trust for it", s->registry,
                       digest, repository);
    *out_size = (uint64_t)size;
    return OCIPUSH_OK;
}

/* Mount-only (no source) and nothing mounted: a status of its own, so that
 * OCIPUSH_OK always means the blob is in the repository. */
static int not_mounted(op_upload *u, const char *digest, const char *from_repository)
{
    op_upload_cancel(u); /* the session a 202 opened */
    if (u->s->layout_dir)
        return op_fail(u->s, OCIPUSH_E_NOT_MOUNTED,
                       "an OCI layout has nothing to mount %s from, and no source was given: "
                       "nothing was done",
                       digest);
    return op_fail(u->s, OCIPUSH_E_NOT_MOUNTED,
                   "%s did not mount %s from %s (HTTP %ld) and no source was given: nothing was "
                   "done",
                   u->s->registry, digest, from_repository, u->last_status);
}

int ocipush_blob_push_mount(ocipush_session *s, const char *repository, ocipush_source *source,
                            const char *digest, const char *from_repository, uint64_t *out_size,
                            int *out_mounted)
{
    if (!s || !out_mounted)
        return OCIPUSH_E_INVALID;
    op_call_scope(s);
    if (!digest)
        return op_fail(s, OCIPUSH_E_INVALID, "a mount needs the blob's digest");
    int rc = check_names(s, repository, digest);
    if (rc)
        return rc;
    if (ocipush_repository_validate(from_repository))
        return op_fail(s, OCIPUSH_E_INVALID, "invalid repository name '%s' to mount from",
                       from_repository ? from_repository : "(null)");
    if ((rc = op_auth_set_mount_source(s, from_repository)))
        return rc;
    /* One budget for the HEADs, the mount, every session and every request. */
    op_retry_budget budget = op_retry_budget_of(s);
    int exists = 0;
    int64_t size = -1;
    if ((rc = head_blob(s, &budget, repository, digest, &exists, &size)))
        return rc;
    if (exists)
        size = trusted_size(s, repository, digest, size, source ? source->size : -1);
    if (exists && size < 0 && !source)
        return op_fail(s, OCIPUSH_E_PROTOCOL, "%s has %s but does not say a size to trust for it",
                       repository, digest);
    if (exists && size >= 0) {
        *out_mounted = 0;
        return already_there(s, repository, digest, size, NULL, out_size);
    }
    op_upload u = {.s = s, .repository = repository, .budget = budget};
    int mounted = 0;
    /* A layout holds no repositories: there is nothing to mount from. A blob
     * there of unknown size is uploaded again, as ocipush_blob_push() does. */
    if (!exists && !s->layout_dir && (rc = op_upload_mount(&u, digest, from_repository, &mounted)))
        return rc;
    if (mounted) {
        op_log(s, OCIPUSH_LOG_INFO, "mounted %s into %s from %s", digest, repository,
               from_repository);
        if (out_size && (rc = mounted_size(s, &u.budget, repository, digest, source, out_size)))
            return rc;
        *out_mounted = 1;
        return OCIPUSH_OK;
    }
    if (!source)
        return not_mounted(&u, digest, from_repository);
    if (!s->layout_dir)
        op_log(s, OCIPUSH_LOG_INFO, "uploading %s to %s instead", digest, repository);
    if ((rc = upload_source(&u, source, digest, NULL, out_size)) == 0)
        *out_mounted = 0;
    return rc;
}
