#include "ctx.h"

#include <string.h>
#include <time.h>

/* A signal handler may call ocipush_session_cancel(): the store must not
 * take a lock. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "atomic_int is not always lock-free");

int op_ctx_init(op_ctx *c, const char *registry)
{
    memset(c, 0, sizeof *c);
    atomic_init(&c->cancel_flag, 0);
    c->cancelled = &c->cancel_flag;
    return op_settings_init(&c->set, registry);
}

int op_ctx_copy(op_ctx *dst, const op_ctx *src)
{
    memset(dst, 0, sizeof *dst);
    atomic_init(&dst->cancel_flag, 0);
    if (op_settings_copy(&dst->set, &src->set))
        return OCIPUSH_E_NOMEM;
    dst->diag.log_fn = src->diag.log_fn;
    dst->diag.log_level = src->diag.log_level;
    dst->diag.log_user_data = src->diag.log_user_data;
    /* A worker works inside its parent's call, to the same deadline. */
    dst->in_call = src->in_call;
    dst->deadline_ms = src->deadline_ms;
    dst->cancelled = src->cancelled;
    return OCIPUSH_OK;
}

void op_ctx_clear(op_ctx *c)
{
    op_settings_clear(&c->set);
}

int64_t op_now_ms(void)
{
    struct timespec ts;
    /* Monotonic: a clock set back or forward moves no deadline. */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

op_call op_call_begin(op_ctx *c)
{
    op_call call = {c, 0};
    if (!c)
        return call;
    op_diag_clear(&c->diag);
    if (!c->in_call) {
        c->in_call = 1;
        int64_t now = op_now_ms(), t = c->set.timeout_ms;
        c->deadline_ms = t <= 0 ? 0 : t > INT64_MAX - now ? INT64_MAX : now + t;
        call.outermost = 1;
    }
    return call;
}

void op_call_end(op_call *call)
{
    if (call->c && call->outermost) {
        call->c->in_call = 0;
        call->c->deadline_ms = 0;
    }
}

int64_t op_deadline_left_ms(const op_ctx *c)
{
    if (!c->deadline_ms)
        return -1;
    int64_t left = c->deadline_ms - op_now_ms();
    return left > 0 ? left : 0;
}

void op_deadline_expire(op_ctx *c)
{
    if (c->deadline_ms)
        c->deadline_ms = op_now_ms();
}

int op_deadline_fail(op_ctx *c, const char *when, const char *what, const char *detail)
{
    return op_fail(&c->diag, OCIPUSH_E_NETWORK, "the call's deadline (%lld ms) passed %s %s%s%s",
                   (long long)c->set.timeout_ms, when, what, detail ? ": " : "",
                   detail ? detail : "");
}

int op_cancelled(const op_ctx *c)
{
    return !c->cleaning_up && atomic_load_explicit(c->cancelled, memory_order_relaxed);
}

int op_check_cancel(op_ctx *c)
{
    if (!op_cancelled(c))
        return 0;
    return op_fail(&c->diag, OCIPUSH_E_ABORTED, "cancelled (ocipush_session_cancel)");
}
