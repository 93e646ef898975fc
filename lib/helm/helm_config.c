#include "helm_config.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ocipush.h"

#include "json_util.h"
#include "yaml_tree.h"

typedef enum {
    F_STRING,
    F_STRINGS,
    F_BOOL,
    F_MAP,
    F_MAINTAINERS,
    F_DEPENDENCIES,
    F_ANY
} field_kind;

typedef struct field {
    const char *name;
    field_kind kind;
} field;

/* helm's chart.Metadata, in its order (pkg/chart/metadata.go). */
static const field metadata_fields[] = {{"name", F_STRING},
                                        {"home", F_STRING},
                                        {"sources", F_STRINGS},
                                        {"version", F_STRING},
                                        {"description", F_STRING},
                                        {"keywords", F_STRINGS},
                                        {"maintainers", F_MAINTAINERS},
                                        {"icon", F_STRING},
                                        {"apiVersion", F_STRING},
                                        {"condition", F_STRING},
                                        {"tags", F_STRING},
                                        {"appVersion", F_STRING},
                                        {"deprecated", F_BOOL},
                                        {"annotations", F_MAP},
                                        {"kubeVersion", F_STRING},
                                        {"dependencies", F_DEPENDENCIES},
                                        {"type", F_STRING},
                                        {NULL, F_STRING}};

static const field maintainer_fields[] = {
    {"name", F_STRING}, {"email", F_STRING}, {"url", F_STRING}, {NULL, F_STRING}};

static const field dependency_fields[] = {
    {"name", F_STRING},       {"version", F_STRING}, {"repository", F_STRING},
    {"condition", F_STRING},  {"tags", F_STRINGS},   {"enabled", F_BOOL},
    {"import-values", F_ANY}, {"alias", F_STRING},   {NULL, F_STRING}};

/* Any YAML node as JSON, scalars as strings. */
static cJSON *yaml_any(const op_yaml *n)
{
    if (n->kind == OP_YAML_SCALAR)
        return cJSON_CreateString(n->value);
    cJSON *out = n->kind == OP_YAML_MAPPING ? cJSON_CreateObject() : cJSON_CreateArray();
    for (size_t i = 0; out && i < n->count; i++) {
        cJSON *child = yaml_any(n->items[i]);
        int ok =
            child && (n->kind == OP_YAML_MAPPING ? cJSON_AddItemToObject(out, n->keys[i], child)
                                                 : cJSON_AddItemToArray(out, child));
        if (!ok) {
            cJSON_Delete(child);
            cJSON_Delete(out);
            return NULL;
        }
    }
    return out;
}

static cJSON *fields_json(const op_yaml *map, const field *fields);

/* One field's value, or NULL when helm would leave it out (omitempty). */
static cJSON *field_json(const op_yaml *v, field_kind kind, int *nomem)
{
    cJSON *out = NULL;
    switch (kind) {
    case F_STRING:
        if (v->kind == OP_YAML_SCALAR && v->value[0])
            out = cJSON_CreateString(v->value);
        break;
    case F_BOOL:
        /* false is helm's zero value: left out, as omitempty does. */
        if (v->kind == OP_YAML_SCALAR && strcmp(v->value, "true") == 0)
            out = cJSON_CreateTrue();
        break;
    case F_ANY: out = yaml_any(v); break;
    case F_STRINGS:
    case F_MAP:
    case F_MAINTAINERS:
    case F_DEPENDENCIES: {
        int want_map = kind == F_MAP;
        if ((v->kind == OP_YAML_MAPPING) != want_map || v->kind == OP_YAML_SCALAR || !v->count)
            break;
        out = want_map ? cJSON_CreateObject() : cJSON_CreateArray();
        for (size_t i = 0; out && i < v->count; i++) {
            const op_yaml *item = v->items[i];
            cJSON *child = NULL;
            if (kind == F_MAINTAINERS || kind == F_DEPENDENCIES)
                child = item->kind == OP_YAML_MAPPING
                            ? fields_json(item, kind == F_MAINTAINERS ? maintainer_fields
                                                                      : dependency_fields)
                            : NULL;
            else if (item->kind == OP_YAML_SCALAR)
                child = cJSON_CreateString(item->value);
            if (!child)
                continue;
            if (!(want_map ? cJSON_AddItemToObject(out, v->keys[i], child)
                           : cJSON_AddItemToArray(out, child))) {
                cJSON_Delete(child);
                cJSON_Delete(out);
                out = NULL;
            }
        }
        if (!out)
            *nomem = 1;
        break;
    }
    }
    return out;
}

static cJSON *fields_json(const op_yaml *map, const field *fields)
{
    cJSON *obj = cJSON_CreateObject();
    int nomem = !obj;
    for (const field *f = fields; !nomem && f->name; f++) {
        const op_yaml *v = op_yaml_get(map, f->name);
        cJSON *item = v ? field_json(v, f->kind, &nomem) : NULL;
        if (item && !cJSON_AddItemToObject(obj, f->name, item)) {
            cJSON_Delete(item);
            nomem = 1;
        }
    }
    if (nomem) {
        cJSON_Delete(obj);
        return NULL;
    }
    return obj;
}

int op_json_helm_config(char **out, size_t *out_len, const op_yaml *chart)
{
    cJSON *root = fields_json(chart, metadata_fields);
    int rc = root ? op_json_print(out, out_len, root) : OCIPUSH_E_NOMEM;
    cJSON_Delete(root);
    return rc;
}
