/* One HTTP exchange with the registry: the only file that talks to libcurl.
 * Authentication (and, later, retries) are steps of op_http_perform, so every
 * request of every upload path goes through the same place. */
#ifndef OP_HTTP_H
#define OP_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "session.h"

typedef struct op_http op_http;

int op_http_new(op_http **out);
void op_http_free(op_http *http);

/* Pulls request body bytes: same contract as ocipush_source_read_fn, but
 * returns an OCIPUSH_E_* code on failure (recorded on the session already). */
typedef int (*op_body_fn)(void *ctx, uint8_t *buf, size_t cap, size_t *out_len);

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
    /* An Authorization value for this request only (the token fetch); the
     * session's own credentials are then not used. It goes to the origin of
     * `url` only: a redirect to another origin is sent without it. */
    const char *authorization;
    /* The body holds a secret (a refresh token): a redirect to another
     * origin is refused (OCIPUSH_E_PROTOCOL) rather than followed. */
    int secret_body;
    /* Sending it again changes nothing (HEAD, GET, DELETE, starting an
     * upload, a manifest PUT, a commit): transient failures are retried here.
     * Requests that move upload bytes are retried by the upload layer, which
     * knows where to resume. */
    int idempotent;
    /* The tries of the operation this request is a step of (retry.h says
     * who owns them): a retry here draws from it, so the levels above see
     * what is left. NULL: a request on its own, with a budget of its own. */
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
    char *oci_subject;       /* OCI-Subject: the registry keeps referrers itself */
    int transport_transient; /* no answer, for a reason worth another try */
    /* The request's own Authorization was not sent: a redirect led to
     * another origin, and this answer is that origin's. */
    int authorization_withheld;
    op_buf body; /* up to a cap, for error messages and manifests */
} op_response;

void op_response_clear(op_response *r);

/*
 * Perform one exchange, with its steps: the Authorization the registry wants
 * (a 401 is answered once: a token fetched or credentials checked, the body
 * replayed), and 307/308 redirects (followed with method and body, never to
 * http from https, without credentials to another origin, never with a
 * secret body to another origin; 301/302/303 only for GET and HEAD). Only
 * http and https URLs are requested. Returns OCIPUSH_OK when a final
 * response arrived whole (whatever its status), or, its body dropped, while
 * the request body was still being sent (an early refusal);
 * OCIPUSH_E_NETWORK when the transport failed, the answer was cut short, or
 * the call's deadline passed (resp is then cleared: status 0);
 * OCIPUSH_E_AUTH when authentication cannot go on; OCIPUSH_E_PROTOCOL for a
 * redirect refused, a URL that is not http(s) (nothing is sent to it) or a
 * body past its cap (64 KiB for an error, 4 MiB for a success); the reader's
 * code when the body reader failed. The session's errmsg says why.
 */
int op_http_perform(ocipush_session *s, const op_request *req, op_response *resp);

/* Turn a non-success response into an error on the session: OCIPUSH_E_AUTH
 * for 401/403, else OCIPUSH_E_HTTP. `what` names the step ("starting the
 * upload"); the message adds the method, path, status and registry error. */
int op_http_fail(ocipush_session *s, const char *what, const op_request *req,
                 const op_response *resp);

#endif
