/* Parsing WWW-Authenticate (RFC 7235): one or more challenges, each a scheme
 * and parameters, possibly several in one header value. Pure, no I/O, so it
 * can be fuzzed. */
#ifndef OP_CHALLENGE_H
#define OP_CHALLENGE_H

#include <stddef.h>

typedef struct op_challenge {
    char *scheme; /* as sent; compare case-insensitively */
    char *realm;
    char *service;
    char *scope;
    char *error;
} op_challenge;

/* Parse a header value (several headers joined with ", " are one value).
 * *out is an array of *out_count challenges, freed with op_challenges_free.
 * 0, OCIPUSH_E_INVALID (malformed: nothing usable), OCIPUSH_E_NOMEM. */
int op_challenges_parse(op_challenge **out, size_t *out_count, const char *value);
void op_challenges_free(op_challenge *list, size_t count);

/* The first challenge of that scheme, or NULL. */
const op_challenge *op_challenge_find(const op_challenge *list, size_t count, const char *scheme);

#endif
