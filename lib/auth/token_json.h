/* A token server's answer read (the docker registry token spec). Pure, so
 * it can be fuzzed. */
#ifndef OP_TOKEN_JSON_H
#define OP_TOKEN_JSON_H

#include <stddef.h>

/* A token server's answer: "token" (or "access_token") into *out_token
 * (malloc'd) and "expires_in" seconds into *out_expires_in (60 when absent,
 * as the spec says). 0, OCIPUSH_E_PROTOCOL (no token), OCIPUSH_E_NOMEM. */
int op_json_token(char **out_token, long *out_expires_in, const char *body, size_t len);

#endif
