#include "json_util.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "ocipush.h"

int op_json_print(char **out, size_t *out_len, const cJSON *root)
{
    char *text = cJSON_PrintUnformatted(root);
    if (!text)
        return OCIPUSH_E_NOMEM;
    /* cJSON allocates with its hooks (malloc unless the host changed them):
     * copy into our own allocation so ocipush_free() is always right. */
    size_t len = strlen(text);
    char *copy = op_malloc(len + 1);
    if (copy)
        memcpy(copy, text, len + 1);
    cJSON_free(text);
    if (!copy)
        return OCIPUSH_E_NOMEM;
    *out = copy;
    *out_len = len;
    return 0;
}

int op_json_add_string(cJSON *obj, const char *key, const char *value)
{
    return cJSON_AddItemToObject(obj, key, cJSON_CreateString(value)) ? 0 : OCIPUSH_E_NOMEM;
}

cJSON *op_json_size(uint64_t size)
{
    char text[24];
    snprintf(text, sizeof text, "%" PRIu64, size);
    return cJSON_CreateRaw(text);
}

int op_json_index_open(cJSON **out, const char *text, size_t len)
{
    cJSON *root = text ? cJSON_ParseWithLength(text, len) : cJSON_CreateObject();
    if (!root)
        return text ? OCIPUSH_E_PROTOCOL : OCIPUSH_E_NOMEM;
    if (!text && (!cJSON_AddNumberToObject(root, "schemaVersion", 2) ||
                  op_json_add_string(root, "mediaType", OCIPUSH_MEDIA_TYPE_INDEX) ||
                  !cJSON_AddArrayToObject(root, "manifests"))) {
        cJSON_Delete(root);
        return OCIPUSH_E_NOMEM;
    }
    *out = root;
    return 0;
}
