#include "diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sanitize.h"

/* Messages quote what servers sent (error texts, header values, URLs):
 * whatever got through unescaped, a message is one line with nothing a
 * terminal acts on. */
int op_fail(op_diag *d, int code, const char *fmt, ...)
{
    char raw[2 * OP_ERRMSG_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    op_sanitize(d->errmsg, sizeof d->errmsg, raw, strlen(raw));
    d->http_status = 0; /* a new message: about no answer, unless one says so */
    d->error_code[0] = '\0';
    op_log(d, OCIPUSH_LOG_DEBUG, "error: %s", d->errmsg);
    return code;
}

void op_log(op_diag *d, int level, const char *fmt, ...)
{
    if (!d->log_fn || level > d->log_level)
        return;
    char raw[2048], msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    op_sanitize(msg, sizeof msg, raw, strlen(raw));
    d->log_fn(level, msg, d->log_user_data);
}

void op_diag_answer(op_diag *d, long status, const char *code)
{
    d->http_status = status > 0 && status < 1000 ? (int)status : 0;
    op_sanitize(d->error_code, sizeof d->error_code, code ? code : "", code ? strlen(code) : 0);
}

void op_diag_clear(op_diag *d)
{
    d->errmsg[0] = '\0';
    d->http_status = 0;
    d->error_code[0] = '\0';
}
