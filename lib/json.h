/* JSON in and out: the only file that uses cJSON. */
#ifndef OP_JSON_H
#define OP_JSON_H

#include <stddef.h>

#include "buf.h"
#include "manifest.h"

/* Summarise a registry error body ({"errors":[{"code","message"}]}) as
 * "CODE: message; CODE: message" into out. A body that is not such JSON
 * yields its first line (a proxy's HTML title, say), trimmed. */
void op_json_registry_errors(op_buf *out, const char *body, size_t len);

/* Serialize a manifest or index to compact JSON; *out malloc'd, NUL-ended.
 * 0, OCIPUSH_E_INVALID (image manifest without config), OCIPUSH_E_NOMEM. */
int op_json_manifest(char **out, size_t *out_len, const ocipush_manifest *m);

/* The mediaType a manifest document declares, else the one its shape implies
 * ("manifests" => index, "layers" or "config" => image manifest). *out is
 * malloc'd. 0, or OCIPUSH_E_INVALID when it is not a JSON object or neither
 * applies, OCIPUSH_E_NOMEM. */
int op_json_manifest_media_type(char **out, const char *data, size_t len);

#endif
