#include "exchange.h"

#include <stdio.h>

#include "retry.h"

/* Worth another try, the operation's budget allowing? Then wait and say so.
 * A wait the call's deadline does not leave time for fails it (*rc). */
static int retry_after_failure(op_ctx *c, const op_request *req, int *rc, op_response *resp,
                               op_retry_budget *budget)
{
    char why[OP_ERRMSG_SIZE + 64];
    if (!req->idempotent)
        return 0;
    if (*rc == OCIPUSH_E_NETWORK && resp->transient)
        snprintf(why, sizeof why, "%s failed: %s", req->method, c->diag.errmsg);
    else if (*rc == 0 && resp->transient)
        snprintf(why, sizeof why, "%s answered HTTP %ld", req->method, resp->status);
    else
        return 0;
    if (!op_retry_budget_left(budget) || !op_transport_rewind_body(req))
        return 0;
    int waited = op_retry_next(c, budget, *rc ? NULL : resp->retry_after, why);
    if (waited && waited != OP_RETRY_SPENT) {
        *rc = waited;
        op_response_clear(resp); /* a failure: no answer to use, as documented */
    }
    return waited == 0;
}

int op_exchange(op_transport *t, op_ctx *c, const op_request *req, op_response *resp)
{
    op_retry_budget own = op_retry_budget_of(c);
    op_retry_budget *budget = req->budget ? req->budget : &own;
    int rc;
    do
        rc = op_transport_perform(t, c, req, resp);
    while (retry_after_failure(c, req, &rc, resp, budget));
    return rc;
}
