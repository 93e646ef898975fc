/* One blob upload session on the registry (POST ... PUT ?digest=) and the
 * requests that move bytes in it. blob_upload.c chooses which to use and
 * when to fall back. */
#ifndef OP_UPLOAD_H
#define OP_UPLOAD_H

#include <stdint.h>

#include "client.h"
#include "reader.h"
#include "retry.h"

typedef struct op_upload {
    op_ctx *c;
    op_client *cl;
    const char *repository;
    const char *expected; /* the digest the blob must have, or NULL */
    op_reader *reader;
    char *location;     /* absolute URL of the upload session; NULL when none */
    uint64_t chunk_min; /* OCI-Chunk-Min-Length, 0 if none */
    /* The answer to the last request, as the transport parsed it (status 0
     * when none arrived; its error code, whether it is worth another try,
     * its Retry-After): what blob_upload.c decides on. */
    op_response last;
    int preopened;  /* `location` is a session a mount opened: the next start uses it */
    int prehashed;  /* the expected digest is ocipush's own, from a first read of the source */
    int put_failed; /* the last failure was of the PUT carrying the whole body */
    /* The tries of the whole blob push, shared by every request and session
     * of it: made by blob.c, drawn from here, by exchange.c and by
     * blob_upload.c. */
    op_retry_budget *budget;
    /* The registry target's memory that it refuses streamed bodies. */
    int *stream_rejected;
} op_upload;

/* Outcomes of op_upload_* that blob_upload.c acts on; never returned to callers of
 * the public API. */
/* The session is unusable: start a new one. The retry that leads there was
 * drawn from the budget (and waited for) already, where the chunk failed. */
#define OP_E_RESTART (-100)
#define OP_E_NO_RANGES (-101) /* the registry takes no Content-Range PATCH */

/* Free the last answer and forget the session's Location (after
 * op_upload_cancel, or once committed). */
void op_upload_clear(op_upload *u);

/* POST ?mount=DIGEST&from=REPO: *out_mounted 1 when the registry mounted the
 * blob (201). A 202 leaves an upload session open, which the next
 * op_upload_start uses; any other answer (some registries refuse a mount
 * with 400 or 404) is not an error: the caller uploads. */
int op_upload_mount(op_upload *u, const char *digest, const char *from, int *out_mounted);

/* POST a new upload session. */
int op_upload_start(op_upload *u);
/* One PATCH with Transfer-Encoding: chunked carrying the whole source.
 * *out_rejected is set when the answer (400, 411, 413, 501, or a connection
 * closed with no answer) says a length-delimited body might pass. */
int op_upload_stream(op_upload *u, int *out_rejected);
/* PATCHes of *chunk bytes with Content-Range, up to the reader's size; for
 * a spooled stream of unknown size, each chunk (at most the spool's window)
 * is read into the spool first, so its length is known, and leaves it once
 * the registry has it, so disk stays bounded whatever the stream's length. A
 * PATCH cut or refused for a passing reason is retried from the offset the
 * registry reports (GET of the upload); a chunk refused as too large (413, or
 * 416 where the registry has all before it) makes *chunk smaller. Returns 0,
 * OP_E_RESTART when the session cannot go on, OP_E_NO_RANGES when the first
 * PATCH says the registry has no chunked uploads, or an error. */
int op_upload_chunks(op_upload *u, uint64_t *chunk);
/* PUT ?digest= carrying the whole body (the reader's size bytes). */
int op_upload_put_body(op_upload *u, const char *digest);
/* PUT ?digest= with no body: commit what was PATCHed. */
int op_upload_commit(op_upload *u, const char *digest);
/* DELETE the session (best effort) so the registry drops its partial data. */
void op_upload_cancel(op_upload *u);

#endif
