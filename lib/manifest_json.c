#include "manifest_json.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ocipush.h"

#include "alloc.h"
#include "json_util.h"
#include "manifest.h"

static int add_annotations(cJSON *obj, const op_annotations *a)
{
    if (a->count == 0)
        return 0;
    cJSON *map = cJSON_AddObjectToObject(obj, "annotations");
    if (!map)
        return OCIPUSH_E_NOMEM;
    for (size_t i = 0; i < a->count; i++)
        if (op_json_add_string(map, a->keys[i], a->values[i]))
            return OCIPUSH_E_NOMEM;
    return 0;
}

static cJSON *descriptor_json(const ocipush_descriptor *d)
{
    cJSON *o = cJSON_CreateObject();
    int rc = o ? 0 : OCIPUSH_E_NOMEM;
    rc = rc ? rc : op_json_add_string(o, "mediaType", d->media_type);
    if (!rc && d->artifact_type)
        rc = op_json_add_string(o, "artifactType", d->artifact_type);
    rc = rc ? rc : op_json_add_string(o, "digest", d->digest);
    if (!rc && !cJSON_AddItemToObject(o, "size", op_json_size(d->size)))
        rc = OCIPUSH_E_NOMEM;
    if (!rc && d->os) {
        cJSON *p = cJSON_AddObjectToObject(o, "platform");
        rc = p ? 0 : OCIPUSH_E_NOMEM;
        rc = rc ? rc : op_json_add_string(p, "architecture", d->architecture);
        rc = rc ? rc : op_json_add_string(p, "os", d->os);
        if (!rc && d->variant)
            rc = op_json_add_string(p, "variant", d->variant);
    }
    rc = rc ? rc : add_annotations(o, &d->annotations);
    if (rc) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static int add_descriptor(cJSON *obj, const char *key, const ocipush_descriptor *d)
{
    cJSON *item = descriptor_json(d);
    return item && cJSON_AddItemToObject(obj, key, item) ? 0 : OCIPUSH_E_NOMEM;
}

static int build_manifest(cJSON *root, const ocipush_manifest *m)
{
    int image = m->kind == OCIPUSH_MANIFEST_IMAGE;
    int rc = cJSON_AddNumberToObject(root, "schemaVersion", 2) ? 0 : OCIPUSH_E_NOMEM;
    rc = rc ? rc
            : op_json_add_string(root, "mediaType",
                                 image ? OCIPUSH_MEDIA_TYPE_MANIFEST : OCIPUSH_MEDIA_TYPE_INDEX);
    if (!rc && m->artifact_type)
        rc = op_json_add_string(root, "artifactType", m->artifact_type);
    if (!rc && image)
        rc = add_descriptor(root, "config", m->config);
    cJSON *list = rc ? NULL : cJSON_AddArrayToObject(root, image ? "layers" : "manifests");
    if (!rc && !list)
        rc = OCIPUSH_E_NOMEM;
    for (size_t i = 0; !rc && i < m->entry_count; i++) {
        cJSON *item = descriptor_json(m->entries[i]);
        if (!item || !cJSON_AddItemToArray(list, item)) {
            cJSON_Delete(item);
            rc = OCIPUSH_E_NOMEM;
        }
    }
    if (!rc && m->subject)
        rc = add_descriptor(root, "subject", m->subject);
    return rc ? rc : add_annotations(root, &m->annotations);
}

int op_json_manifest(char **out, size_t *out_len, const ocipush_manifest *m)
{
    if (m->kind == OCIPUSH_MANIFEST_IMAGE && !m->config)
        return OCIPUSH_E_INVALID;
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return OCIPUSH_E_NOMEM;
    int rc = build_manifest(root, m);
    rc = rc ? rc : op_json_print(out, out_len, root);
    cJSON_Delete(root);
    return rc;
}

int op_json_referrers_add(char **out, size_t *out_len, int *out_present, const char *text,
                          size_t len, const ocipush_descriptor *entry)
{
    cJSON *root = NULL;
    int rc = op_json_index_open(&root, text, len);
    cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "manifests");
    if (!rc && !cJSON_IsArray(list))
        rc = OCIPUSH_E_PROTOCOL;
    *out_present = 0;
    const cJSON *item;
    if (rc)
        list = NULL;
    cJSON_ArrayForEach(item, list)
    {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(item, "digest");
        if (cJSON_IsString(d) && strcmp(d->valuestring, entry->digest) == 0)
            *out_present = 1;
    }
    if (!rc && !*out_present) {
        cJSON *d = descriptor_json(entry);
        if (!d || !cJSON_AddItemToArray(list, d)) {
            cJSON_Delete(d);
            rc = OCIPUSH_E_NOMEM;
        }
    }
    rc = rc || *out_present ? rc : op_json_print(out, out_len, root);
    cJSON_Delete(root);
    return rc;
}

int ocipush_manifest_serialize(const ocipush_manifest *m, char **out, size_t *out_len)
{
    if (!out || !out_len || !m)
        return OCIPUSH_E_INVALID;
    return op_json_manifest(out, out_len, m);
}
