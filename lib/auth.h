/* Authentication as a step of every exchange with the registry: which
 * Authorization to send, and what to do with a 401 (fetch a Bearer token
 * from the realm the registry names, or give up on Basic credentials).
 * Tokens are cached per scope until they expire. */
#ifndef OP_AUTH_H
#define OP_AUTH_H

#include "session.h"

struct op_response;

/* The repository the next requests are for: tokens are asked for with
 * "repository:NAME:push,pull". */
int op_auth_set_repository(ocipush_session *s, const char *repository);

/* A repository the next requests mount blobs from (NULL: none); cleared by
 * op_auth_set_repository. */
int op_auth_set_mount_source(ocipush_session *s, const char *repository);

/* The Authorization value for a request to the registry's own origin, or
 * NULL for none; may fetch a token (hence the status). *out points into the
 * session and is valid until the next auth call. */
int op_auth_header(ocipush_session *s, const char **out);

/* A 401 from the registry: 0 when the request should be sent once more
 * (a new token is cached, or credentials to try), else OCIPUSH_E_AUTH with
 * the reason on the session. `sent` is the Authorization that was rejected. */
int op_auth_on_401(ocipush_session *s, const struct op_response *resp, const char *sent);

void op_auth_clear(ocipush_session *s);

/* Give `dst` what `src` learned: the token realm and the cached tokens. */
int op_auth_copy(ocipush_session *dst, const ocipush_session *src);

#endif
