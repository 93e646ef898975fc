/* The retry policy: which failures are worth another try, and how long to
 * wait before it (exponential backoff with jitter, or the server's
 * Retry-After). The parsers here are pure, so they can be fuzzed. */
#ifndef OP_RETRY_H
#define OP_RETRY_H

#include <stddef.h>
#include <time.h>

#include "session.h"

/* Retry-After as seconds ("120") or an HTTP date ("Sun, 06 Nov 1994
 * 08:49:37 GMT"), relative to `now`: *out_ms >= 0. 0 or OCIPUSH_E_INVALID. */
int op_retry_after_parse(long *out_ms, const char *value, time_t now);

/* 1 when an answer says "try again": 408, 429, 500, 502, 503, 504, or a
 * registry error code BLOB_UPLOAD_INVALID, UNKNOWN, UNAVAILABLE or
 * TOOMANYREQUESTS; never 401, 403 or 404. */
int op_retry_transient_status(long status, const char *body, size_t len);

/* The wait before retry number `retry` (1 for the first retry), honouring
 * retry_after (may be NULL); never more than the policy's maximum delay,
 * Retry-After included (a server asking for 999999 s does not hold a push
 * for longer than the user said a wait may last). */
long op_retry_delay_ms(ocipush_session *s, int retry, const char *retry_after);

/* Wait, logging why. When the call's deadline comes first, no wait: the
 * failure is recorded, the deadline made to pass now (so what the caller
 * tries next fails on it too), and OCIPUSH_E_NETWORK returned.
 * OCIPUSH_E_ABORTED when the session was cancelled (the wait then ends
 * early); else 0. */
int op_retry_wait(ocipush_session *s, long ms, const char *why, int retry);

#define OP_RETRY_AFTER_MAX_MS (600L * 1000)

#endif
