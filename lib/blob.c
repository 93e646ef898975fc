/* The public blob calls: checking the names, learning a small blob's digest
 * first, skipping a blob the target has (and whose size it tells right),
 * and handing the rest to the target (target.h), which chooses how to send
 * it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blob.h"
#include "digest.h"
#include "retry.h"
#include "session.h"
#include "source.h"

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
        return op_sfail(s, OCIPUSH_E_INVALID, "invalid repository name '%s'",
                        repository ? repository : "(null)");
    if (digest && ocipush_digest_validate(digest))
        return op_sfail(s, OCIPUSH_E_INVALID, "invalid digest '%s' (want sha256:<64 hex>)", digest);
    if (s->target->ops->set_scope(s->target, repository, NULL))
        return op_sfail(s, OCIPUSH_E_NOMEM, "out of memory");
    return 0;
}

/* Whether the target has the blob, and its size (-1 if it did not say).
 * Its retries draw from `budget`, the blob push's (NULL: the check is the
 * whole operation). */
static int blob_exists(ocipush_session *s, op_retry_budget *budget, const char *repository,
                       const char *digest, int *out_exists, int64_t *out_size)
{
    return s->target->ops->blob_exists(s->target, budget, repository, digest, out_exists, out_size);
}

int op_blob_exists(ocipush_session *s, int *out_exists, const char *repository, const char *digest)
{
    if (!digest)
        return op_sfail(s, OCIPUSH_E_INVALID, "no digest given");
    int64_t size;
    int rc = check_names(s, repository, digest);
    return rc ? rc : blob_exists(s, NULL, repository, digest, out_exists, &size);
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
        op_slog(s, OCIPUSH_LOG_WARN,
                "%s says %s has %s with %" PRId64 " bytes, not %" PRId64
                ": not trusted, the blob is sent",
                s->ctx.set.registry, repository, digest, head, known);
    else if (head == 0)
        op_slog(s, OCIPUSH_LOG_WARN,
                "%s says %s has %s with 0 bytes, which only the empty blob has: not trusted, the "
                "blob is sent",
                s->ctx.set.registry, repository, digest);
    return -1;
}

/* The blob is there already (HEAD): fill the outputs and say so. */
static int already_there(ocipush_session *s, const char *repository, const char *digest,
                         int64_t size, char *out_digest, uint64_t *out_size)
{
    op_slog(s, OCIPUSH_LOG_INFO, "%s already has %s", repository, digest);
    if (out_digest)
        op_digest_copy(out_digest, digest);
    if (out_size)
        *out_size = (uint64_t)size;
    return OCIPUSH_OK;
}

/* Put the blob into the target (a mount first when put->mount_from is
 * set), and say what landed. */
static int put_blob(ocipush_session *s, op_blob_put *put)
{
    int rc = s->target->ops->put_blob(s->target, put);
    if (rc == 0 && !put->mounted)
        op_slog(s, OCIPUSH_LOG_INFO, "pushed %s (%" PRId64 " bytes) to %s", put->digest, put->size,
                put->repository);
    return rc;
}

/* The digest of a small rewindable source of known size, read through once
 * (no progress reported: nothing is sent) and rewound. 1 when it is not
 * worth it or the source does not read back as declared: the upload then
 * goes on without it and reports what is wrong. */
static int prehash(ocipush_session *s, ocipush_source *src, char *out)
{
    if (!src->rewind || src->size < 0 || src->size > (int64_t)PREHASH_MAX ||
        s->ctx.set.strategy != OCIPUSH_STRATEGY_AUTO)
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
        rc = src->read(buf, sizeof buf, &n, src->user_data) != 0 || n > sizeof buf ||
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

int op_blob_push(ocipush_session *s, const char *repository, ocipush_source *source,
                 const char *expected_digest, char *out_digest, uint64_t *out_size, int *out_status)
{
    int rc = check_names(s, repository, expected_digest);
    if (rc)
        return rc;
    if (!source)
        return op_sfail(s, OCIPUSH_E_INVALID, "no source given");
    /* One budget for the HEAD, every session and every request of this push. */
    op_retry_budget budget = op_retry_budget_of(&s->ctx);
    char known[OCIPUSH_DIGEST_MAX];
    int prehashed = !expected_digest && prehash(s, source, known) == 0;
    if (prehashed)
        expected_digest = known;
    if (expected_digest) {
        int exists = 0;
        int64_t size = -1;
        if ((rc = blob_exists(s, &budget, repository, expected_digest, &exists, &size)))
            return rc;
        if (exists)
            size = trusted_size(s, repository, expected_digest, size, source->size);
        if (exists && size >= 0) { /* the source is not read (again) */
            if (out_status)
                *out_status = OCIPUSH_BLOB_SKIPPED;
            return already_there(s, repository, expected_digest, size, out_digest, out_size);
        }
    }
    op_blob_put put = {.repository = repository,
                       .source = source,
                       .expected = expected_digest,
                       .prehashed = prehashed,
                       .budget = &budget};
    if ((rc = put_blob(s, &put)))
        return rc;
    if (out_digest)
        op_digest_copy(out_digest, put.digest);
    if (out_size)
        *out_size = (uint64_t)put.size;
    if (out_status)
        *out_status = OCIPUSH_BLOB_PUSHED;
    return OCIPUSH_OK;
}

/* The size of a blob the registry just mounted: its HEAD's, else what the
 * source declares. */
static int mounted_size(ocipush_session *s, op_retry_budget *budget, const char *repository,
                        const char *digest, const ocipush_source *source, uint64_t *out_size)
{
    int exists = 0;
    int64_t size = -1;
    int rc = blob_exists(s, budget, repository, digest, &exists, &size);
    if (rc)
        return rc;
    if (!exists)
        return op_sfail(s, OCIPUSH_E_PROTOCOL, "%s said it mounted %s into %s, which lacks it",
                        s->ctx.set.registry, digest, repository);
    size = trusted_size(s, repository, digest, size, source ? source->size : -1);
    if (size < 0)
        return op_sfail(s, OCIPUSH_E_PROTOCOL,
                        "%s mounted %s into %s but does not say a size to trust for it",
                        s->ctx.set.registry, digest, repository);
    *out_size = (uint64_t)size;
    return OCIPUSH_OK;
}

int op_blob_push_mount(ocipush_session *s, const char *repository, ocipush_source *source,
                       const char *digest, const char *from_repository, uint64_t *out_size,
                       int *out_status)
{
    if (!digest)
        return op_sfail(s, OCIPUSH_E_INVALID, "a mount needs the blob's digest");
    int rc = check_names(s, repository, digest);
    if (rc)
        return rc;
    if (ocipush_repository_validate(from_repository))
        return op_sfail(s, OCIPUSH_E_INVALID, "invalid repository name '%s' to mount from",
                        from_repository ? from_repository : "(null)");
    if (s->target->ops->set_scope(s->target, repository, from_repository))
        return op_sfail(s, OCIPUSH_E_NOMEM, "out of memory");
    /* One budget for the HEADs, the mount, every session and every request. */
    op_retry_budget budget = op_retry_budget_of(&s->ctx);
    int exists = 0;
    int64_t size = -1;
    if ((rc = blob_exists(s, &budget, repository, digest, &exists, &size)))
        return rc;
    if (exists)
        size = trusted_size(s, repository, digest, size, source ? source->size : -1);
    if (exists && size < 0 && !source)
        return op_sfail(s, OCIPUSH_E_PROTOCOL, "%s has %s but does not say a size to trust for it",
                        repository, digest);
    if (exists && size >= 0) {
        *out_status = OCIPUSH_BLOB_SKIPPED;
        return already_there(s, repository, digest, size, NULL, out_size);
    }
    /* A blob there of a size not to trust is uploaded again, as
     * ocipush_blob_push() does. */
    op_blob_put put = {.repository = repository,
                       .source = source,
                       .expected = digest,
                       .mount_from = exists ? NULL : from_repository,
                       .budget = &budget};
    if ((rc = put_blob(s, &put)))
        return rc;
    if (!put.mounted) {
        *out_status = OCIPUSH_BLOB_PUSHED;
        if (out_size)
            *out_size = (uint64_t)put.size;
        return OCIPUSH_OK;
    }
    op_slog(s, OCIPUSH_LOG_INFO, "mounted %s into %s from %s", digest, repository, from_repository);
    if (out_size && (rc = mounted_size(s, &budget, repository, digest, source, out_size)))
        return rc;
    *out_status = OCIPUSH_BLOB_MOUNTED; /* outputs only on success */
    return OCIPUSH_OK;
}

int ocipush_blob_exists(ocipush_session *s, int *out_exists, const char *repository,
                        const char *digest)
{
    if (!s || !out_exists)
        return OCIPUSH_E_INVALID;
    op_call_scope(s);
    return op_blob_exists(s, out_exists, repository, digest);
}

int ocipush_blob_push(ocipush_session *s, char *out_digest, uint64_t *out_size,
                      const char *repository, ocipush_source *source, const char *expected_digest)
{
    if (!s)
        return OCIPUSH_E_INVALID;
    op_call_scope(s);
    char digest[OCIPUSH_DIGEST_MAX];
    uint64_t size = 0;
    int status = OCIPUSH_BLOB_PUSHED;
    int rc = op_blob_push(s, repository, source, expected_digest, digest, &size, &status);
    if (rc)
        return rc;
    op_session_blob_add(s, digest, size, "", status);
    if (out_digest)
        op_digest_copy(out_digest, digest);
    if (out_size)
        *out_size = size;
    return OCIPUSH_OK;
}

int ocipush_blob_push_mount(ocipush_session *s, uint64_t *out_size, int *out_mounted,
                            const char *repository, ocipush_source *source, const char *digest,
                            const char *from_repository)
{
    if (!s || !out_mounted)
        return OCIPUSH_E_INVALID;
    op_call_scope(s);
    uint64_t size = 0;
    int status = OCIPUSH_BLOB_PUSHED;
    int rc = op_blob_push_mount(s, repository, source, digest, from_repository, &size, &status);
    if (rc)
        return rc;
    op_session_blob_add(s, digest, size, "", status);
    if (out_size)
        *out_size = size;
    *out_mounted = status == OCIPUSH_BLOB_MOUNTED;
    return OCIPUSH_OK;
}
