/* The cJSON steps every JSON file of the library shares: output printed
 * into ocipush's own allocation, a string member added, a size kept exact,
 * an index opened or begun. */
#ifndef OP_JSON_UTIL_H
#define OP_JSON_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* `root` printed compact into *out (op_malloc'd, NUL-ended; cJSON's own
 * allocation, with the host's hooks, never leaves here) and *out_len.
 * 0 or OCIPUSH_E_NOMEM. */
int op_json_print(char **out, size_t *out_len, const cJSON *root);

/* obj[key] = value (a string). 0 or OCIPUSH_E_NOMEM. */
int op_json_add_string(cJSON *obj, const char *key, const char *value);

/* A size as a JSON number, written raw so that sizes above 2^53 are not
 * rounded through a double; NULL when out of memory. */
cJSON *op_json_size(uint64_t size);

/* An image index: `text` (len bytes) parsed, or (text NULL) a new empty one
 * (schemaVersion 2, the index media type, no manifests). 0 with *out,
 * OCIPUSH_E_PROTOCOL (not JSON), OCIPUSH_E_NOMEM. Whether it holds a
 * "manifests" list is the caller's to check. */
int op_json_index_open(cJSON **out, const char *text, size_t len);

#endif
