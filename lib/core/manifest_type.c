#include "manifest_type.h"

#include <cjson/cJSON.h>

#include "buf.h"
#include "ocipush.h"

int op_json_manifest_media_type(char **out, const char *data, size_t len)
{
    cJSON *root = cJSON_ParseWithLength(data, len);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return OCIPUSH_E_INVALID;
    }
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(root, "mediaType");
    const char *type = NULL;
    if (cJSON_IsString(mt) && mt->valuestring[0])
        type = mt->valuestring;
    else if (cJSON_GetObjectItemCaseSensitive(root, "manifests"))
        type = OCIPUSH_MEDIA_TYPE_INDEX;
    else if (cJSON_GetObjectItemCaseSensitive(root, "layers") ||
             cJSON_GetObjectItemCaseSensitive(root, "config"))
        type = OCIPUSH_MEDIA_TYPE_MANIFEST;
    char *copy = type ? op_strdup(type) : NULL;
    cJSON_Delete(root);
    if (!type)
        return OCIPUSH_E_INVALID;
    if (!copy)
        return OCIPUSH_E_NOMEM;
    *out = copy;
    return 0;
}
