/* A YAML document as a small tree (mappings, sequences, scalars), parsed
 * with libyaml; only what Chart.yaml needs. The one file that uses libyaml. */
#ifndef OP_YAML_TREE_H
#define OP_YAML_TREE_H

#include <stddef.h>

typedef enum op_yaml_kind { OP_YAML_SCALAR, OP_YAML_SEQUENCE, OP_YAML_MAPPING } op_yaml_kind;

typedef struct op_yaml {
    op_yaml_kind kind;
    char *value; /* scalars */
    int plain;   /* a scalar written without quotes (so `true` may be a boolean) */
    char **keys; /* mappings: keys[i] -> items[i] */
    struct op_yaml **items;
    size_t count;
} op_yaml;

/* Parse the first document of `len` bytes. 0, OCIPUSH_E_INVALID (with a
 * reason, static or in `why`, cap bytes), OCIPUSH_E_NOMEM. Aliases are
 * refused (no billion laughs). */
int op_yaml_parse(op_yaml **out, const char *text, size_t len, char *why, size_t cap);
void op_yaml_free(op_yaml *node);

/* The value of `key` in a mapping, or NULL. */
const op_yaml *op_yaml_get(const op_yaml *map, const char *key);

#endif
