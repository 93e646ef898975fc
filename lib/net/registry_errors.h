/* A registry's error body ({"errors":[{"code","message"}]}, OCI distribution
 * spec) read: summarized for messages, its codes looked up. Pure, so it can
 * be fuzzed; the transport reads each answer with it once. */
#ifndef OP_REGISTRY_ERRORS_H
#define OP_REGISTRY_ERRORS_H

#include <stddef.h>

#include "buf.h"

/* Summarise a registry error body ({"errors":[{"code","message"}]}) as
 * "CODE: message; CODE: message" into out, each field sanitized and bounded
 * (sanitize.h), the whole bounded too ("; ..." when errors are left out).
 * A body that is not such JSON yields its first line (a proxy's HTML title,
 * say), sanitized and bounded the same way. */
void op_json_registry_errors(op_buf *out, const char *body, size_t len);

/* Read once: the first registry error code of the body into first (cap
 * bytes, "" if none; first NULL: not wanted), and 1 when any of its codes
 * is one of the NULL-terminated `codes` (NULL: none asked), else 0. */
int op_json_registry_codes(const char *body, size_t len, char *first, size_t cap,
                           const char *const *codes);

/* 1 when the registry error body carries one of the NULL-terminated codes. */
int op_json_registry_has_code(const char *body, size_t len, const char *const *codes);

#endif
