#include "deadline.h"

#include <time.h>

#include "session.h"

int64_t op_now_ms(void)
{
    struct timespec ts;
    /* Monotonic: a clock set back or forward moves no deadline. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

op_call op_call_begin(ocipush_session *s)
{
    op_call call = {s, 0};
    if (!s)
        return call;
    s->errmsg[0] = '\0';
    if (!s->in_call) {
        s->in_call = 1;
        int64_t now = op_now_ms();
        s->deadline_ms = s->timeout_ms <= 0                ? 0
                         : s->timeout_ms > INT64_MAX - now ? INT64_MAX
                                                           : now + s->timeout_ms;
        call.outermost = 1;
    }
    return call;
}

void op_call_end(op_call *call)
{
    if (call->s && call->outermost) {
        call->s->in_call = 0;
        call->s->deadline_ms = 0;
    }
}

int64_t op_deadline_left_ms(const ocipush_session *s)
{
    if (!s->deadline_ms)
        return -1;
    int64_t left = s->deadline_ms - op_now_ms();
    return left > 0 ? left : 0;
}

void op_deadline_expire(ocipush_session *s)
{
    if (s->deadline_ms)
        s->deadline_ms = op_now_ms();
}

int op_deadline_fail(ocipush_session *s, const char *when, const char *what, const char *detail)
{
    return op_fail(s, OCIPUSH_E_NETWORK, "the call's deadline (%lld ms) passed %s %s%s%s",
                   (long long)s->timeout_ms, when, what, detail ? ": " : "", detail ? detail : "");
}
