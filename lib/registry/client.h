/* The authorized exchange with a registry: what upload.c, the blob push and
 * the manifest requests use. It adds to an exchange (net/exchange.h) the
 * Authorization for the registry's own origin only (auth/auth.h), and the
 * 401 loop: a challenge answered once (a token fetched, or credentials
 * checked), the body replayed. */
#ifndef OP_CLIENT_H
#define OP_CLIENT_H

#include "auth.h"
#include "ctx.h"
#include "transport.h"

typedef struct op_client {
    op_ctx *c;
    op_transport *t; /* its own connections */
    op_auth auth;    /* what the registry's challenges taught, the tokens */
} op_client;

/* A client for c->set's registry, with a transport of its own. `like` (may
 * be NULL) is a client whose realm and tokens it starts with, and whose
 * one-time warnings it does not repeat (a worker thread's copy). 0 or
 * OCIPUSH_E_NOMEM (then nothing to clear). */
int op_client_init(op_client *cl, op_ctx *c, const op_client *like);
void op_client_clear(op_client *cl);

/* An exchange with the registry (op_exchange's contract), the Authorization
 * the registry wants sent to its origin, a 401 from that origin answered
 * once (OCIPUSH_E_AUTH when authentication cannot go on). When the body
 * cannot be sent again after a 401, the 401 is the answer. A request to
 * another origin goes without credentials (and with no token fetched for
 * it), as does any hop of it a redirect leads elsewhere. A retry or a 401
 * starts again from req->url. resp is cleared first: status 0 when the
 * call fails before an answer arrives. */
int op_client_perform(op_client *cl, const op_request *req, op_response *resp);

/* "{base}/v2/{repository}/{kind}{name}", e.g. kind "manifests/" and a tag;
 * *out malloc'd. 0 or OCIPUSH_E_NOMEM. */
int op_client_url(char **out, const op_client *cl, const char *repository, const char *kind,
                  const char *name);

#endif
