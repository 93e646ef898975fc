/* Manifests and indexes as JSON: a manifest serialized, the media type a
 * document declares, and the referrers index (OCI distribution spec 1.1)
 * kept for a registry without the referrers API. */
#ifndef OP_MANIFEST_JSON_H
#define OP_MANIFEST_JSON_H

#include <stddef.h>

#include "ocipush.h"

/* Serialize a manifest or index to compact JSON; *out malloc'd, NUL-ended.
 * 0, OCIPUSH_E_INVALID (image manifest without config), OCIPUSH_E_NOMEM. */
int op_json_manifest(char **out, size_t *out_len, const ocipush_manifest *m);

/* The referrers tag schema (OCI distribution spec 1.1): the index `text`
 * (NULL: none yet) with `entry` appended, unless a descriptor of that digest
 * is there already (*out_present = 1, *out untouched). 0, OCIPUSH_E_PROTOCOL
 * (the tag holds something that is not an index), OCIPUSH_E_NOMEM. */
int op_json_referrers_add(char **out, size_t *out_len, int *out_present, const char *text,
                          size_t len, const ocipush_descriptor *entry);

#endif
