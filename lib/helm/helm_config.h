/* A chart's Chart.yaml as the JSON helm pushes as its config blob. */
#ifndef OP_HELM_CONFIG_H
#define OP_HELM_CONFIG_H

#include <stddef.h>

struct op_yaml;

/* Chart.yaml as the JSON helm pushes as its config blob: helm's Metadata
 * fields in its order, empty ones left out. *out malloc'd. 0,
 * OCIPUSH_E_NOMEM. */
int op_json_helm_config(char **out, size_t *out_len, const struct op_yaml *chart);

#endif
