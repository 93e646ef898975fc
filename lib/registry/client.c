#include "client.h"

#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "exchange.h"
#include "retry.h"
#include "url.h"

int op_client_init(op_client *cl, op_ctx *c, const op_client *like)
{
    memset(cl, 0, sizeof *cl);
    cl->c = c;
    cl->auth.c = c;
    if (op_transport_new(&cl->t, like ? like->t : NULL))
        return OCIPUSH_E_NOMEM;
    cl->auth.t = cl->t;
    if (like && op_auth_copy(&cl->auth, &like->auth)) {
        op_client_clear(cl);
        return OCIPUSH_E_NOMEM;
    }
    return OCIPUSH_OK;
}

void op_client_clear(op_client *cl)
{
    op_auth_clear(&cl->auth);
    op_transport_free(cl->t);
    cl->t = NULL;
}

int op_client_perform(op_client *cl, const op_request *req, op_response *resp)
{
    op_request r = *req;
    op_retry_budget own = op_retry_budget_of(cl->c);
    if (!r.budget)
        r.budget = &own; /* one budget across the 401 loop too */
    r.authorization_origin = cl->c->set.base_url;
    /* The registry's credentials are looked up (a token fetched) only for
     * a request to its own origin: one to another host (an upload Location
     * on a storage host) needs none and must not fail for want of one. */
    int at_registry = op_url_same_origin(req->url, cl->c->set.base_url);
    op_response_clear(resp); /* no answer until one arrives */
    for (int answered = 0;; answered = 1) {
        const char *sent = NULL;
        int rc = at_registry ? op_auth_header(&cl->auth, &sent) : 0;
        if (rc)
            return rc;
        r.authorization = sent;
        rc = op_exchange(cl->t, cl->c, &r, resp);
        if (rc || resp->status != 401 || !resp->from_origin || answered)
            return rc;
        if ((rc = op_auth_on_401(&cl->auth, resp, sent)))
            return rc;
        if (!op_transport_rewind_body(&r))
            return 0; /* the caller reports the 401 */
    }
}

int op_client_url(char **out, const op_client *cl, const char *repository, const char *kind,
                  const char *name)
{
    op_buf b = {0};
    if (op_buf_printf(&b, "%s/v2/%s/%s%s", cl->c->set.base_url, repository, kind, name)) {
        op_buf_free(&b);
        return OCIPUSH_E_NOMEM;
    }
    return op_buf_take(&b, out);
}
