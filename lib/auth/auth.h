/* Authentication with the registry: which Authorization to send, and what
 * to do with a 401 (fetch a Bearer token from the realm the registry names,
 * or give up on Basic credentials). Tokens are cached per scope until they
 * expire. The credentials are the context's settings; the token fetch is an
 * exchange of its own over the registry's transport. */
#ifndef OP_AUTH_H
#define OP_AUTH_H

#include <stddef.h>

#include "ctx.h"
#include "transport.h"

struct op_token;

typedef struct op_auth {
    op_ctx *c;          /* the credentials (c->set) and diagnostics */
    op_transport *t;    /* the token fetch goes over it */
    char *bearer_realm; /* set once the registry challenged with Bearer */
    char *bearer_service;
    char *scope_repository;   /* what the current operation pushes to */
    char *scope_mount_source; /* a repository it mounts from, or NULL */
    struct op_token *tokens;
    size_t token_count;
} op_auth;

/* The repository the next requests are for: tokens are asked for with
 * "repository:NAME:push,pull". */
int op_auth_set_repository(op_auth *a, const char *repository);

/* A repository the next requests mount blobs from (NULL: none); cleared by
 * op_auth_set_repository. */
int op_auth_set_mount_source(op_auth *a, const char *repository);

/* The Authorization value for a request to the registry's own origin, or
 * NULL for none; may fetch a token (hence the status). *out points into
 * `a` and is valid until the next auth call. */
int op_auth_header(op_auth *a, const char **out);

/* A 401 from the registry: 0 when the request should be sent once more
 * (a new token is cached, or credentials to try), else OCIPUSH_E_AUTH with
 * the reason on the context. `sent` is the Authorization that was rejected. */
int op_auth_on_401(op_auth *a, const op_response *resp, const char *sent);

/* Free what `a` learned and holds; c and t stay. */
void op_auth_clear(op_auth *a);

/* Give `dst` what `src` learned: the token realm and the cached tokens. */
int op_auth_copy(op_auth *dst, const op_auth *src);

#endif
