/* Diagnostics: the last error message of a call and the log callback. Every
 * layer reports through one of these, owned by the session (op_ctx.diag), so
 * nothing below the session needs to know what a session is. */
#ifndef OP_DIAG_H
#define OP_DIAG_H

#include "ocipush.h"

#define OP_ERRMSG_SIZE 1024

typedef struct op_diag {
    char errmsg[OP_ERRMSG_SIZE]; /* one line, sanitized; "" when none */
    /* The answer that made the call fail, when one did: its HTTP status (0:
     * none) and the registry's first error code (sanitized, "" if none). */
    int http_status;
    char error_code[64];
    ocipush_log_fn log_fn; /* NULL: nothing is logged */
    int log_level;         /* the most verbose level delivered */
    void *log_user_data;
} op_diag;

/* Record a failure: formats the message into d->errmsg (sanitized: one line
 * with nothing a terminal acts on, whatever server text it quotes), clears
 * the answer it is about (op_diag_answer), logs it at DEBUG and returns code, so callers can
 * `return op_fail(d, OCIPUSH_E_X,
 * "...")`. */
int op_fail(op_diag *d, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The registry answer the message op_fail() just recorded is about
 * (op_response_fail): its status and its first error code, kept sanitized
 * for the session's getters. Call it after op_fail(), which clears them. */
void op_diag_answer(op_diag *d, long status, const char *code);

/* A new call: no message, no answer. */
void op_diag_clear(op_diag *d);

/* Format, sanitize and deliver a log message if a callback is set and wants
 * the level. */
void op_log(op_diag *d, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
