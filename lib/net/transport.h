/* One HTTP exchange: the only file that talks to libcurl. A request goes
 * out with the headers it names (an Authorization only to the origin it is
 * meant for), 307/308 redirects are followed, and the answer is parsed once
 * into its status, the headers ocipush reads, a bounded body, the registry's
 * first error code and whether it is worth another try. It knows nothing of
 * authentication or retries: registry/client.c and net/exchange.c add them. */
#ifndef OP_TRANSPORT_H
#define OP_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "ctx.h"

typedef struct op_transport op_transport;

/* ocipush_global_init() and ocipush_global_cleanup() for libcurl: a counted
 * curl_global_init, and a cleanup for each. 0 or OCIPUSH_E_NOMEM. The lazy
 * initialisation of op_transport_new() is apart from them and never undone. */
int op_transport_global_init(void);

/* The running libcurl's version string (curl_version_info), static. */
const char *op_transport_libcurl_version(void);
void op_transport_global_cleanup(void);

/* A new transport (its own connections); `like` (may be NULL) is one whose
 * one-time warnings were given already, which this one does not repeat.
 * 0 or OCIPUSH_E_NOMEM. Used by one thread at a time: one per session. */
int op_transport_new(op_transport **out, const op_transport *like);
void op_transport_free(op_transport *t);

/* Pulls request body bytes: same contract as ocipush_source_read_fn, but
 * returns an OCIPUSH_E_* code on failure (recorded on the context already). */
typedef int (*op_body_fn)(void *ctx, uint8_t *buf, size_t cap, size_t *out_len);

struct op_retry_budget;

typedef struct op_request {
    const char *method; /* GET HEAD POST PUT PATCH DELETE */
    const char *url;    /* absolute */
    const char *content_type;
    const char *content_range;
    const char *accept;
    /* Body, one of: bytes in memory (body_len may be 0), or a reader with a
     * length (-1: Transfer-Encoding: chunked). No body: body == NULL and
     * reader == NULL, sent as Content-Length: 0 for POST, PUT and PATCH. */
    const void *body;
    size_t body_len;
    op_body_fn reader;
    void *reader_ctx;
    int64_t reader_len;
    /* Puts the reader back at the start of this request's body, so it can be
     * sent again after a 401 or a 307/308; NULL: it cannot be. */
    int (*rewind)(void *ctx);
    /* The Authorization value, or NULL. It goes to URLs of the origin of
     * `authorization_origin` (NULL: of `url`) only: a redirect to another
     * origin is sent without it. */
    const char *authorization;
    const char *authorization_origin;
    /* The body holds a secret (a refresh token): a redirect to another
     * origin is refused (OCIPUSH_E_PROTOCOL) rather than followed. */
    int secret_body;
    /* Sending it again changes nothing (HEAD, GET, DELETE, starting an
     * upload, a manifest PUT, a commit): net/exchange.c retries it when it
     * fails for a passing reason. Requests that move upload bytes are
     * retried by the upload layer, which knows where to resume. */
    int idempotent;
    /* The tries of the operation this request is a step of (retry.h says
     * who owns them). NULL: a request on its own, with a budget of its own. */
    struct op_retry_budget *budget;
} op_request;

typedef struct op_response {
    long status; /* 0 when no response arrived */
    char *location;
    char *range;
    char *content_digest; /* Docker-Content-Digest */
    char *chunk_min;      /* OCI-Chunk-Min-Length */
    char *content_length;
    char *www_authenticate; /* every challenge, several headers joined */
    char *retry_after;
    char *content_type;
    char *oci_subject; /* OCI-Subject: the registry keeps referrers itself */
    op_buf body;       /* up to a cap, for error messages and manifests */
    /* Parsed once, when the exchange ends: */
    char error_code[32]; /* the registry's first error code, "" if none */
    /* Worth another try: no answer, for a reason that may pass (a reset, a
     * refused connection, a stall), or an answer that says "try again"
     * (op_retry_transient_status). */
    int transient;
    /* The request's Authorization was not sent: a redirect led to another
     * origin, and this answer is that origin's. */
    int authorization_withheld;
    /* The final answer came from the Authorization's origin. */
    int from_origin;
} op_response;

void op_response_clear(op_response *r);

/*
 * Perform one exchange, following 307/308 redirects with method and body
 * (never to http from https, without the Authorization to another origin,
 * never with a secret body to another origin; 301/302/303 only for GET and
 * HEAD). Only http and https URLs are requested. Returns OCIPUSH_OK when a
 * final response arrived whole (whatever its status), or, its body dropped,
 * while the request body was still being sent (an early refusal);
 * OCIPUSH_E_NETWORK when the transport failed, the answer was cut short, or
 * the call's deadline passed (resp is then cleared: status 0, `transient`
 * says whether another try may help); OCIPUSH_E_PROTOCOL for a redirect
 * refused, a URL that is not http(s) (nothing is sent to it) or a body past
 * its cap (64 KiB for an error, 4 MiB for a success); the reader's code
 * when the body reader failed. The context's errmsg says why.
 */
int op_transport_perform(op_transport *t, op_ctx *c, const op_request *req, op_response *resp);

/* Put the request's body back at its start, to send it again: 1 when it
 * can be (none, in memory, or a reader that rewound), else 0. */
int op_transport_rewind_body(const op_request *req);

/* Turn a non-success response into an error on the context: OCIPUSH_E_AUTH
 * for 401/403, else OCIPUSH_E_HTTP. `what` names the step ("starting the
 * upload"); the message adds the method, path, status and registry error. */
int op_response_fail(op_ctx *c, const char *what, const op_request *req, const op_response *resp);

#endif
