/* An OCI image layout's index.json: a manifest listed (and tagged), a tag
 * looked up. Pure, so it can be fuzzed. */
#ifndef OP_LAYOUT_INDEX_H
#define OP_LAYOUT_INDEX_H

#include <stddef.h>
#include <stdint.h>

/* index.json of an OCI image layout (`text` NULL: a new one) with `tag`
 * (org.opencontainers.image.ref.name) pointing at the manifest descriptor,
 * other entries of that tag removed; `tag` NULL adds the descriptor untagged
 * unless its digest is listed. *out malloc'd. 0, OCIPUSH_E_PROTOCOL (not an
 * index), OCIPUSH_E_NOMEM. */
int op_json_layout_index_put(char **out, const char *text, size_t len, const char *media_type,
                             const char *digest, uint64_t size, const char *tag);
/* The digest `tag` names in index.json, into out (OCIPUSH_DIGEST_MAX):
 * 0, or OCIPUSH_E_INVALID when no entry has it. */
int op_json_layout_index_find(char *out, const char *text, size_t len, const char *tag);

#endif
