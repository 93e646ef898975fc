/* The retry policy: which failures are worth another try, how long to wait
 * before it (exponential backoff with jitter, or the server's Retry-After,
 * capped by the policy's maximum delay), and how many tries an operation
 * gets. The parsers here are pure, so they can be fuzzed.
 *
 * Who owns retries: the operation (one blob push, one manifest PUT), through
 * one op_retry_budget of max_attempts tries in all. Three levels may try
 * again, each only what it alone knows how to: exchange.c an exchange it can
 * repeat as is (idempotent, body replayable), upload.c a chunk from the
 * offset the registry reports, blob_upload.c a new upload session. Each draws from
 * the operation's budget, so their tries add up to max_attempts instead of
 * multiplying. The innermost level that can repeat the failed step goes
 * first, so the cheapest resend wins: a commit that fails is sent again as a
 * commit (an empty PUT) until the budget is spent, and the body is never
 * sent again because only its commit failed. */
#ifndef OP_RETRY_H
#define OP_RETRY_H

#include <stddef.h>
#include <time.h>

#include "ctx.h"

/* Retry-After as seconds ("120") or an HTTP date ("Sun, 06 Nov 1994
 * 08:49:37 GMT"), relative to `now`: *out_ms >= 0. 0 or OCIPUSH_E_INVALID. */
int op_retry_after_parse(long *out_ms, const char *value, time_t now);

/* 1 when an answer says "try again": 408, 429, 500, 502, 503, 504, or a
 * registry error code BLOB_UPLOAD_INVALID, UNKNOWN, UNAVAILABLE or
 * TOOMANYREQUESTS; never 401, 403 or 404. */
int op_retry_transient_status(long status, const char *body, size_t len);

/* The registry error codes that say "try again" (NULL-terminated). */
extern const char *const op_retry_transient_codes[];

/* op_retry_transient_status for an answer already read: `transient_code`
 * says whether its body carries one of op_retry_transient_codes. */
int op_retry_transient_answer(long status, int transient_code);

/* The wait before retry number `retry` (1 for the first retry), honouring
 * retry_after (may be NULL); never more than the policy's maximum delay,
 * Retry-After included (a server asking for 999999 s does not hold a push
 * for longer than the user said a wait may last). */
long op_retry_delay_ms(op_ctx *c, int retry, const char *retry_after);

/* The tries of one operation, the first included, whichever level makes
 * them. Made with op_retry_budget_of() when the operation begins; lives on
 * the caller's stack (or in its op_upload), never in the session, so worker
 * threads and nested calls share nothing. */
typedef struct op_retry_budget {
    int used; /* tries made or granted */
    int max;  /* the policy's max_attempts */
} op_retry_budget;

/* A budget of the session's max_attempts, its first try counted. */
op_retry_budget op_retry_budget_of(const op_ctx *c);

/* 1 when the budget has another try left. */
int op_retry_budget_left(const op_retry_budget *b);

/* Take the next try without waiting: its number as a retry (1 for the
 * first), or 0 when the budget is spent. */
int op_retry_budget_take(op_retry_budget *b);

/* Returned by op_retry_next when no try is left: the caller reports the
 * failure it has. Positive, so never an OCIPUSH_E_* code. */
#define OP_RETRY_SPENT 1

/* Take the next try and wait before it (op_retry_delay_ms, retry_after may
 * be NULL), logging why and which retry of how many. 0: try again now.
 * OP_RETRY_SPENT: no try left, nothing waited. When the call's deadline
 * comes before the wait would end, no wait: the failure is recorded, the
 * deadline made to pass now (so what the caller tries next fails on it too),
 * and OCIPUSH_E_NETWORK returned. OCIPUSH_E_ABORTED when the session was
 * cancelled (the wait then ends early). */
int op_retry_next(op_ctx *c, op_retry_budget *b, const char *retry_after, const char *why);

#define OP_RETRY_AFTER_MAX_MS (600L * 1000)

#endif
