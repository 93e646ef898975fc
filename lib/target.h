/* Where a push goes: one interface, two implementations, a registry
 * (registry/registry.c) and an OCI image layout (layout/layout.c). blob.c,
 * manifest.c and push.c call a session's target and never ask which kind it
 * is; whatever differs between the two is behind these operations. A new
 * target (an OCI archive being written, say) is a new implementation of
 * op_target_ops, made by its own constructor and chosen where the session
 * is made.
 *
 * A target is used by one thread at a time; a worker thread of a parallel
 * push uses a clone (its own connections), made and freed by its parent. */
#ifndef OP_TARGET_H
#define OP_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "ctx.h"
#include "ocipush.h"

struct op_retry_budget;

typedef struct op_target op_target;

/* One blob to put: what blob.c knows, and what the target tells back. */
typedef struct op_blob_put {
    const char *repository;
    ocipush_source *source; /* NULL: a mount or nothing */
    const char *expected;   /* the digest the bytes must have, or NULL */
    int prehashed;          /* `expected` came from ocipush's own first read */
    /* Try to mount it from this repository first (NULL: no); a target that
     * holds no repositories has nothing to mount from. With no source, a
     * blob not mounted fails with OCIPUSH_E_NOT_MOUNTED. */
    const char *mount_from;
    struct op_retry_budget *budget; /* the whole blob push's tries */
    /* Out: */
    int mounted;                     /* 1: mounted, nothing was read */
    char digest[OCIPUSH_DIGEST_MAX]; /* what was stored, when uploaded */
    int64_t size;
} op_blob_put;

/* What a manifest put's answer said besides its status. */
typedef struct op_manifest_answer {
    int keeps_referrers; /* OCI-Subject: the registry keeps the referrers itself */
    int blob_unknown;    /* refused with MANIFEST_BLOB_UNKNOWN */
} op_manifest_answer;

typedef struct op_target_ops {
    /* A copy for a worker thread working in `c` (op_ctx_copy of the
     * parent's): what the target learned goes with it. 0 or NOMEM. */
    int (*clone)(op_target **out, const op_target *t, op_ctx *c);
    /* Take back what a worker's clone learned (a registry that refuses
     * streamed bodies), before the clone is freed. */
    void (*absorb)(op_target *t, const op_target *worker);
    void (*free)(op_target *t);
    /* Can it be reached and written (repository may be NULL)? */
    int (*ping)(op_target *t, const char *repository);
    /* The repository the next operations are for, and one they mount blobs
     * from (NULL: none): a registry asks for tokens of that scope. */
    int (*set_scope)(op_target *t, const char *repository, const char *mount_from);
    /* Whether the blob is there, and its size as the target says it (-1
     * when it does not); retries draw from `budget` (NULL: its own). */
    int (*blob_exists)(op_target *t, struct op_retry_budget *budget, const char *repository,
                       const char *digest, int *out_exists, int64_t *out_size);
    /* Store a blob (see op_blob_put); the source is read once, hashed as it
     * goes, and nothing is made visible unless it hashes to `expected`. */
    int (*put_blob)(op_target *t, op_blob_put *put);
    /* Store a manifest's bytes under `reference`, a tag (which tags it) or
     * its digest. *out (may be NULL) is set whatever the outcome. Retries
     * draw from `budget` (NULL: its own), so a caller that sends it again
     * itself shares one budget with them. */
    int (*put_manifest)(op_target *t, struct op_retry_budget *budget, const char *repository,
                        const char *reference, const char *media_type, const void *data, size_t len,
                        const char *digest, op_manifest_answer *out);
    /* A manifest by tag or digest: *out_found 0 when absent, else its bytes
     * in *body, its media type (malloc'd) and digest (checked against a
     * digest reference). */
    int (*get_manifest)(op_target *t, const char *repository, const char *reference, op_buf *body,
                        char **out_media_type, char *out_digest, int *out_found);
} op_target_ops;

struct op_target {
    const op_target_ops *ops;
    op_ctx *c; /* the session's (or a worker's) context */
};

#endif
