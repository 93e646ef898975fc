/* The session: a context (settings, diagnostics, the call in progress:
 * core/ctx.h) and the target it pushes to (target.h). What every public
 * call on a session starts from; nothing below the top layer includes it. */
#ifndef OP_SESSION_H
#define OP_SESSION_H

#include "ctx.h"
#include "ocipush.h"
#include "target.h"

/* One blob the last call stored (ocipush_session_blob). */
typedef struct op_session_blob {
    char digest[OCIPUSH_DIGEST_MAX];
    uint64_t size;
    const char *media_type; /* a static string */
    int status;             /* an ocipush_blob_status */
} op_session_blob;

/* The most a call stores: a chart's config, chart and provenance. */
#define OP_SESSION_BLOBS 3

struct ocipush_session {
    op_ctx ctx;        /* first: op_call_scope relies on it for a NULL session */
    op_target *target; /* a registry, or an OCI layout */
    /* What the last call stored, reset when a call begins: fixed room, so
     * telling it never fails a call that landed. */
    op_session_blob blobs[OP_SESSION_BLOBS];
    size_t blob_count;
};

/* A new session with the same target, settings, callbacks and what the
 * target learned (a registry's tokens), for a worker thread working inside
 * the caller's call (its deadline and cancellation shared). Free it with
 * ocipush_session_free() before `s` returns. 0 or OCIPUSH_E_NOMEM. */
int op_session_clone(ocipush_session **out, const ocipush_session *s);

/* The first statement of every public call on a session, in the function's
 * outermost block: clears the error message and, for the outermost call,
 * starts the call's deadline, which ends when the function returns, on
 * every path (the cleanup attribute of GCC and Clang). */
#define op_call_scope(s)                                                                           \
    op_call op_call_scope_ __attribute__((cleanup(op_call_end), unused)) = op_session_begin(s)

/* op_call_begin for a session (may be NULL): what the last call stored is
 * forgotten too. */
op_call op_session_begin(ocipush_session *s);

/* The call in progress stored a blob: kept for ocipush_session_blob(), in
 * order, when there is room (OP_SESSION_BLOBS). `media_type` is static. */
void op_session_blob_add(ocipush_session *s, const char *digest, uint64_t size,
                         const char *media_type, int status);

/* Shorthands for a session's diagnostics. */
#define op_sfail(s, ...) op_fail(&(s)->ctx.diag, __VA_ARGS__)
#define op_slog(s, ...) op_log(&(s)->ctx.diag, __VA_ARGS__)

#endif
