#include "token_json.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ocipush.h"

#include "buf.h"

int op_json_token(char **out_token, long *out_expires_in, const char *body, size_t len)
{
    cJSON *root = body ? cJSON_ParseWithLength(body, len) : NULL;
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(root, "token");
    if (!cJSON_IsString(tok) || !tok->valuestring[0])
        tok = cJSON_GetObjectItemCaseSensitive(root, "access_token");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(root, "expires_in");
    int rc = 0;
    if (!cJSON_IsString(tok) || !tok->valuestring[0])
        rc = OCIPUSH_E_PROTOCOL;
    else if (!(*out_token = op_strdup(tok->valuestring)))
        rc = OCIPUSH_E_NOMEM;
    else
        *out_expires_in = cJSON_IsNumber(exp) && exp->valuedouble >= 1 && exp->valuedouble < 1e9
                              ? (long)exp->valuedouble
                              : 60;
    cJSON_Delete(root);
    return rc;
}
