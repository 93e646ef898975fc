/* What a manifest document says it is: pure, so it can be fuzzed. */
#ifndef OP_MANIFEST_TYPE_H
#define OP_MANIFEST_TYPE_H

#include <stddef.h>

/* The mediaType a manifest document declares, else the one its shape implies
 * ("manifests" => index, "layers" or "config" => image manifest). *out is
 * malloc'd. 0, or OCIPUSH_E_INVALID when it is not a JSON object or neither
 * applies, OCIPUSH_E_NOMEM. */
int op_json_manifest_media_type(char **out, const char *data, size_t len);

#endif
