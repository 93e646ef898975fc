/* The context every layer below the session works in: the settings, the
 * diagnostics, and the state of the public call in progress (its deadline,
 * whether it was cancelled, whether it is cleaning up after itself). A
 * session owns one; the copy a worker thread uses shares the call's
 * deadline and its cancellation.
 *
 * The deadline (ocipush_session_set_timeout) is set by the outermost public
 * call made on a session, seen by every request, retry and wait inside it
 * and by the contexts its worker threads use, and gone when it returns. */
#ifndef OP_CTX_H
#define OP_CTX_H

#include <stdatomic.h>
#include <stdint.h>

#include "diag.h"
#include "settings.h"

typedef struct op_ctx {
    op_settings set;
    op_diag diag;
    int in_call;         /* a public call is in progress */
    int64_t deadline_ms; /* when it must end (CLOCK_MONOTONIC), 0: never */
    /* ocipush_session_cancel() stores to *cancelled, which is cancel_flag
     * of the context the caller's session made, shared by pointer with the
     * copies a parallel push makes (op_ctx_copy), so that one store from a
     * signal handler stops every worker. The copies are freed before their
     * parent returns. */
    atomic_int cancel_flag;
    atomic_int *cancelled;
    /* Undoing what a failed, cancelled or timed-out call started (the
     * DELETE of an upload session), which still goes out, past a cancel or
     * the call's deadline, each request within OP_CLEANUP_MS. */
    int cleaning_up;
    uint64_t rng; /* the retry jitter's state (retry.c), 0 until first used */
} op_ctx;

/* How long each request that cleans up (cleaning_up) may take. */
#define OP_CLEANUP_MS 5000L

/* The defaults for a registry "host[:port]". 0 or OCIPUSH_E_NOMEM (then
 * op_ctx_clear() frees what was made). */
int op_ctx_init(op_ctx *c, const char *registry);

/* dst (uninitialized) becomes a context for a worker of src's call: its
 * settings copied, its log callback, its deadline and its cancellation
 * shared; no error message. 0 or OCIPUSH_E_NOMEM (nothing to free). */
int op_ctx_copy(op_ctx *dst, const op_ctx *src);

void op_ctx_clear(op_ctx *c);

typedef struct op_call {
    op_ctx *c;
    int outermost; /* this call set the deadline, and ends it */
} op_call;

/* A public call begins on `c` (may be NULL: nothing happens): its error
 * message is cleared and, when no call is in progress on `c`, the deadline
 * starts. Use through op_call_scope() (session.h), which ends it too. */
op_call op_call_begin(op_ctx *c);
void op_call_end(op_call *call);

/* CLOCK_MONOTONIC in milliseconds: a clock set back or forward moves no
 * deadline. */
int64_t op_now_ms(void);

/* Milliseconds left before the deadline: -1 when there is none, 0 once it
 * has passed. */
int64_t op_deadline_left_ms(const op_ctx *c);

/* The deadline passes now: what the call does next fails on it. For a wait
 * that would outlast it. */
void op_deadline_expire(op_ctx *c);

/* Record that the deadline passed `when` ("during", "before") `what` ("GET
 * url"), with curl's `detail` (may be NULL); returns OCIPUSH_E_NETWORK. */
int op_deadline_fail(op_ctx *c, const char *when, const char *what, const char *detail);

/* Whether ocipush_session_cancel() was called and the call in progress
 * should stop now (never while it cleans up). Any thread. */
int op_cancelled(const op_ctx *c);

/* OCIPUSH_E_ABORTED with a message when op_cancelled(), else 0. */
int op_check_cancel(op_ctx *c);

#endif
