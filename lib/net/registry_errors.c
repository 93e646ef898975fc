#include "registry_errors.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ocipush.h"

#include "sanitize.h"

/* Past this, a summary ends with "...": errmsg has room for one request's
 * errors, not a registry's whole list. */
#define ERRORS_SUMMARY_MAX 600

/* A registry's words go into messages and logs: each field sanitized
 * (sanitize.h), so it is one line, shows no control, and is bounded. */
static void put_field(op_buf *out, const char *text)
{
    op_buf_put_sanitized(out, text, strlen(text), OP_SANITIZE_FIELD_MAX);
}

void op_json_registry_errors(op_buf *out, const char *body, size_t len)
{
    if (!body || len == 0)
        return;
    size_t start = out->len;
    cJSON *root = cJSON_ParseWithLength(body, len);
    const cJSON *errors = root ? cJSON_GetObjectItemCaseSensitive(root, "errors") : NULL;
    if (cJSON_IsArray(errors)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, errors)
        {
            if (out->len - start > ERRORS_SUMMARY_MAX) {
                op_buf_puts(out, "; ...");
                break;
            }
            const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
            const cJSON *msg = cJSON_GetObjectItemCaseSensitive(e, "message");
            if (out->len > start)
                op_buf_puts(out, "; ");
            put_field(out, cJSON_IsString(code) ? code->valuestring : "?");
            if (cJSON_IsString(msg)) {
                op_buf_puts(out, ": ");
                put_field(out, msg->valuestring);
            }
        }
        cJSON_Delete(root);
        return;
    }
    cJSON_Delete(root);
    /* Not registry JSON: its first line, e.g. an HTML title, sanitized. */
    const char *title = NULL;
    for (size_t i = 0; i + 7 <= len; i++)
        if (strncmp(body + i, "<title>", 7) == 0) {
            title = body + i + 7;
            break;
        }
    const char *p = title ? title : body;
    const char *end = body + len;
    size_t n = 0;
    while (p + n < end && p[n] != '\n' && p[n] != '\r' && p[n] != '<')
        n++;
    op_buf_put_sanitized(out, p, n, OP_SANITIZE_FIELD_MAX);
}

int op_json_registry_codes(const char *body, size_t len, char *first, size_t cap,
                           const char *const *codes)
{
    if (first && cap)
        first[0] = '\0';
    if (!body || !len)
        return 0;
    cJSON *root = cJSON_ParseWithLength(body, len);
    const cJSON *errors = cJSON_GetObjectItemCaseSensitive(root, "errors");
    const cJSON *e;
    int found = 0, seen = 0;
    if (!cJSON_IsArray(errors))
        errors = NULL;
    cJSON_ArrayForEach(e, errors)
    {
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
        if (!seen++ && first && cap && cJSON_IsString(code))
            snprintf(first, cap, "%s", code->valuestring);
        for (size_t i = 0; cJSON_IsString(code) && codes && codes[i] && !found; i++)
            found = strcmp(code->valuestring, codes[i]) == 0;
    }
    cJSON_Delete(root);
    return found;
}

int op_json_registry_has_code(const char *body, size_t len, const char *const *codes)
{
    return op_json_registry_codes(body, len, NULL, 0, codes);
}
