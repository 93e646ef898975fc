/* Pure parsers for names from the user: registry hosts, repositories, tags,
 * digests and full references. No I/O, so they can be fuzzed. */
#ifndef OP_REFERENCE_H
#define OP_REFERENCE_H

#include <stddef.h>

/* "host", "host:port" or "[v6]:port"; 0 or OCIPUSH_E_INVALID. */
int op_registry_validate(const char *registry);

/* A parsed "host[:port]/repository[:tag][@digest]". Each string is malloc'd;
 * tag and digest are NULL when absent. */
typedef struct op_reference {
    char *registry;
    char *repository;
    char *tag;
    char *digest;
} op_reference;

/* 0, OCIPUSH_E_INVALID (with a reason in why, if not NULL), OCIPUSH_E_NOMEM. */
int op_reference_parse(op_reference *out, const char *text, const char **why);
void op_reference_clear(op_reference *ref);

#endif
