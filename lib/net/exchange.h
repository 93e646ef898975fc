/* An exchange that may be tried again: op_transport_perform, and when it
 * fails for a passing reason (a reset, a 503, a 429) and the request is
 * idempotent with a body that can be sent again, another try after the
 * policy's wait, drawn from the operation's budget (retry.h). Used by the
 * token fetch (auth/) and by the registry client. */
#ifndef OP_EXCHANGE_H
#define OP_EXCHANGE_H

#include "transport.h"

/* op_transport_perform with retries, as above; its return values. A
 * failure with no try left (or no time left for the wait) is the last
 * try's. */
int op_exchange(op_transport *t, op_ctx *c, const op_request *req, op_response *resp);

#endif
