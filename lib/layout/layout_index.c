#include "layout_index.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ocipush.h"

#include "json_util.h"

#define REF_NAME "org.opencontainers.image.ref.name"

static const char *entry_tag(const cJSON *entry)
{
    const cJSON *ann = cJSON_GetObjectItemCaseSensitive(entry, "annotations");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(ann, REF_NAME);
    return cJSON_IsString(name) ? name->valuestring : NULL;
}

int op_json_layout_index_put(char **out, const char *text, size_t len, const char *media_type,
                             const char *digest, uint64_t size, const char *tag)
{
    cJSON *root = NULL;
    int rc = op_json_index_open(&root, text, len);
    cJSON *list = rc ? NULL : cJSON_GetObjectItemCaseSensitive(root, "manifests");
    if (!rc && !cJSON_IsArray(list))
        rc = OCIPUSH_E_PROTOCOL;
    int listed = 0;
    for (cJSON *e = rc ? NULL : list->child, *next; e; e = next) {
        next = e->next;
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "digest");
        const char *t = entry_tag(e);
        if (tag && t && strcmp(t, tag) == 0)
            cJSON_Delete(cJSON_DetachItemViaPointer(list, e)); /* the tag moves */
        else if (!tag && cJSON_IsString(d) && strcmp(d->valuestring, digest) == 0)
            listed = 1;
    }
    if (!rc && !listed) {
        cJSON *e = cJSON_CreateObject();
        cJSON *ann = NULL;
        if (!e || op_json_add_string(e, "mediaType", media_type) ||
            op_json_add_string(e, "digest", digest) ||
            !cJSON_AddItemToObject(e, "size", op_json_size(size)) ||
            (tag && (!(ann = cJSON_AddObjectToObject(e, "annotations")) ||
                     op_json_add_string(ann, REF_NAME, tag))) ||
            !cJSON_AddItemToArray(list, e)) {
            cJSON_Delete(e);
            rc = OCIPUSH_E_NOMEM;
        }
    }
    size_t out_len;
    rc = rc ? rc : op_json_print(out, &out_len, root);
    cJSON_Delete(root);
    return rc;
}

int op_json_layout_index_find(char *out, const char *text, size_t len, const char *tag)
{
    cJSON *root = cJSON_ParseWithLength(text, len);
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "manifests");
    const cJSON *e;
    int rc = OCIPUSH_E_INVALID;
    if (!cJSON_IsArray(list))
        list = NULL;
    cJSON_ArrayForEach(e, list)
    {
        const char *t = entry_tag(e);
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "digest");
        if (t && strcmp(t, tag) == 0 && cJSON_IsString(d) &&
            ocipush_digest_validate(d->valuestring) == 0) {
            snprintf(out, OCIPUSH_DIGEST_MAX, "%s", d->valuestring);
            rc = 0;
        }
    }
    cJSON_Delete(root);
    return rc;
}
