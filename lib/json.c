#include "alloc.h"
#include "json.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ocipush.h"
#include "sanitize.h"
#include "yaml_tree.h"

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

void op_json_registry_first_code(char *out, size_t cap, const char *body, size_t len)
{
    out[0] = '\0';
    if (!body || !len)
        return;
    cJSON *root = cJSON_ParseWithLength(body, len);
    const cJSON *errors = cJSON_GetObjectItemCaseSensitive(root, "errors");
    const cJSON *code =
        cJSON_IsArray(errors) ? cJSON_GetObjectItemCaseSensitive(errors->child, "code") : NULL;
    if (cJSON_IsString(code))
        snprintf(out, cap, "%s", code->valuestring);
    cJSON_Delete(root);
}

int op_json_registry_has_code(const char *body, size_t len, const char *const *codes)
{
    if (!body || !len)
        return 0;
    cJSON *root = cJSON_ParseWithLength(body, len);
    const cJSON *errors = cJSON_GetObjectItemCaseSensitive(root, "errors");
    const cJSON *e;
    int found = 0;
    if (!cJSON_IsArray(errors))
        errors = NULL;
    cJSON_ArrayForEach(e, errors)
    {
        const cJSON *code = cJSON_GetObjectItemCaseSensitive(e, "code");
        for (size_t i = 0; cJSON_IsString(code) && codes[i] && !found; i++)
            found = strcmp(code->valuestring, codes[i]) == 0;
    }
    cJSON_Delete(root);
    return found;
}

static cJSON *size_number(uint64_t size)
{
    /* Raw, so sizes above 2^53 are not rounded through a double. */
    char text[24];
    snprintf(text, sizeof text, "%" PRIu64, size);
    return cJSON_CreateRaw(text);
}

static int add_string(cJSON *obj, const char *key, const char *value)
{
    return cJSON_AddItemToObject(obj, key, cJSON_CreateString(value)) ? 0 : OCIPUSH_E_NOMEM;
}

static int add_annotations(cJSON *obj, const op_annotations *a)
{
    if (a->count == 0)
        return 0;
    cJSON *map = cJSON_AddObjectToObject(obj, "annotations");
    if (!map)
        return OCIPUSH_E_NOMEM;
    for (size_t i = 0; i < a->count; i++)
        if (add_string(map, a->keys[i], a->values[i]))
            return OCIPUSH_E_NOMEM;
    return 0;
}

static cJSON *descriptor_json(const ocipush_descriptor *d)
{
    cJSON *o = cJSON_CreateObject();
    int rc = o ? 0 : OCIPUSH_E_NOMEM;
    rc = rc ? rc : add_string(o, "mediaType", d->media_type);
    if (!rc && d->artifact_type)
        rc = add_string(o, "artifactType", d->artifact_type);
    rc = rc ? rc : add_string(o, "digest", d->digest);
    if (!rc && !cJSON_AddItemToObject(o, "size", size_number(d->size)))
        rc = OCIPUSH_E_NOMEM;
    if (!rc && d->os) {
        cJSON *p = cJSON_AddObjectToObject(o, "platform");
        rc = p ? 0 : OCIPUSH_E_NOMEM;
        rc = rc ? rc : add_string(p, "architecture", d->architecture);
        rc = rc ? rc : add_string(p, "os", d->os);
        if (!rc && d->variant)
            rc = add_string(p, "variant", d->variant);
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
            : add_string(root, "mediaType",
                         image ? OCIPUSH_MEDIA_TYPE_MANIFEST : OCIPUSH_MEDIA_TYPE_INDEX);
    if (!rc && m->artifact_type)
        rc = add_string(root, "artifactType", m->artifact_type);
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
    char *text = rc ? NULL : cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (rc)
        return rc;
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

/* "https://host:port/v1/" -> "host:port": how docker's config keys map to a
 * registry. */
static int key_matches(const char *key, const char *registry)
{
    const char *k = strstr(key, "://");
    k = k ? k + 3 : key;
    size_t n = strcspn(k, "/");
    return strlen(registry) == n && strncmp(k, registry, n) == 0;
}

/* The last key naming the registry: as with duplicate members, the last one
 * counts (docker's Go decoder keeps the last), and an update, which merges
 * duplicates in order, then finds what a lookup found before. */
static const cJSON *find_registry(const cJSON *map, const char *registry)
{
    const cJSON *item, *found = NULL;
    cJSON_ArrayForEach(item, map)
    {
        if (item->string && key_matches(item->string, registry))
            found = item;
    }
    return found;
}

static int copy_string(char **slot, const cJSON *item)
{
    if (!cJSON_IsString(item) || !item->valuestring[0])
        return 0;
    return (*slot = op_strdup(item->valuestring)) ? 0 : OCIPUSH_E_NOMEM;
}

void op_docker_entry_clear(op_docker_entry *e)
{
    op_free(e->helper);
    op_free_secret_string(e->auth);
    op_free_secret_string(e->username);
    op_free_secret_string(e->password);
    op_free_secret_string(e->identity_token);
    memset(e, 0, sizeof *e);
}

/* Every string of a tree wiped, then the tree deleted: a config file's tree
 * holds the secrets of every registry in it. cJSON frees through its own
 * hooks, which belong to the host, so the wipe must come first. */
static void wipe_strings(cJSON *item)
{
    if (item->valuestring && !(item->type & cJSON_IsReference))
        explicit_bzero(item->valuestring, strlen(item->valuestring));
    if (item->string && !(item->type & cJSON_StringIsConst))
        explicit_bzero(item->string, strlen(item->string));
    if (item->type & cJSON_IsReference)
        return;
    for (cJSON *c = item->child; c; c = c->next)
        wipe_strings(c);
}

static void delete_secret_tree(cJSON *item)
{
    if (item)
        wipe_strings(item);
    cJSON_Delete(item);
}

/* A tree that holds secrets as text, printed into a buffer of ours (cJSON's
 * own printing grows its buffer by realloc, leaving copies behind). */
static int print_secret_tree(char **out, const cJSON *root, size_t hint)
{
    for (size_t cap = hint + 256; cap <= ((size_t)-1) / 4; cap *= 2) {
        char *buf = op_malloc(cap);
        if (!buf)
            return OCIPUSH_E_NOMEM;
        if (cJSON_PrintPreallocated((cJSON *)root, buf, (int)(cap > INT32_MAX ? INT32_MAX : cap),
                                    1)) {
            *out = buf;
            return 0;
        }
        op_free_secret(buf, cap);
        if (cap > INT32_MAX)
            break;
    }
    return OCIPUSH_E_NOMEM;
}

/* A key may stand more than once in a config file; as Go's decoder (docker's
 * own) does, the last one counts: the registry's entry in the last object
 * member `name` that has one, or the last member `name` itself. */
static const cJSON *last_entry(const cJSON *root, const char *name, const char *registry)
{
    const cJSON *m, *found = NULL;
    cJSON_ArrayForEach(m, root)
    {
        if (!m->string || strcmp(m->string, name) != 0)
            continue;
        const cJSON *e = registry ? (cJSON_IsObject(m) ? find_registry(m, registry) : NULL) : m;
        if (e)
            found = e;
    }
    return found;
}

int op_json_docker_lookup(op_docker_entry *out, const char *text, size_t len, const char *registry)
{
    memset(out, 0, sizeof *out);
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!cJSON_IsObject(root)) {
        delete_secret_tree(root);
        return OCIPUSH_E_INVALID;
    }
    const cJSON *helper = last_entry(root, "credHelpers", registry);
    if (!helper)
        helper = last_entry(root, "credsStore", NULL);
    const cJSON *entry = last_entry(root, "auths", registry);
    int rc = copy_string(&out->helper, helper);
    rc = rc ? rc : copy_string(&out->auth, cJSON_GetObjectItemCaseSensitive(entry, "auth"));
    rc = rc ? rc : copy_string(&out->username, cJSON_GetObjectItemCaseSensitive(entry, "username"));
    rc = rc ? rc : copy_string(&out->password, cJSON_GetObjectItemCaseSensitive(entry, "password"));
    rc = rc ? rc
            : copy_string(&out->identity_token,
                          cJSON_GetObjectItemCaseSensitive(entry, "identitytoken"));
    delete_secret_tree(root);
    if (rc)
        op_docker_entry_clear(out);
    return rc;
}

int op_json_helper_answer(char **out_username, char **out_secret, const char *text, size_t len)
{
    cJSON *root = cJSON_ParseWithLength(text, len);
    char *user = NULL, *secret = NULL;
    int rc = cJSON_IsObject(root) ? 0 : OCIPUSH_E_INVALID;
    rc = rc ? rc : copy_string(&user, cJSON_GetObjectItemCaseSensitive(root, "Username"));
    rc = rc ? rc : copy_string(&secret, cJSON_GetObjectItemCaseSensitive(root, "Secret"));
    delete_secret_tree(root);
    if (!rc && !secret)
        rc = OCIPUSH_E_INVALID;
    if (rc) {
        op_free(user);
        op_free_secret_string(secret);
        return rc;
    }
    *out_username = user;
    *out_secret = secret;
    return 0;
}

int op_json_docker_update(char **out, int *out_found, const char *text, size_t len,
                          const char *registry, const char *auth_b64)
{
    cJSON *root = text ? cJSON_ParseWithLength(text, len) : cJSON_CreateObject();
    if (!cJSON_IsObject(root)) {
        delete_secret_tree(root);
        return text ? OCIPUSH_E_INVALID : OCIPUSH_E_NOMEM;
    }
    /* Every "auths" member becomes one, later entries over earlier ones (as
     * a lookup reads them), so what is written is what is found. */
    cJSON *auths = cJSON_CreateObject();
    int rc = auths ? 0 : OCIPUSH_E_NOMEM;
    for (cJSON *m = root->child, *next; !rc && m; m = next) {
        next = m->next;
        if (!m->string || strcmp(m->string, "auths") != 0)
            continue;
        cJSON *member = cJSON_DetachItemViaPointer(root, m);
        for (cJSON *e = cJSON_IsObject(member) ? member->child : NULL, *n; !rc && e; e = n) {
            n = e->next;
            delete_secret_tree(cJSON_DetachItemFromObjectCaseSensitive(auths, e->string));
            cJSON *moved = cJSON_DetachItemViaPointer(member, e);
            if (!cJSON_AddItemToObject(auths, moved->string, moved)) {
                delete_secret_tree(moved);
                rc = OCIPUSH_E_NOMEM;
            }
        }
        delete_secret_tree(member);
    }
    if (rc || !cJSON_AddItemToObject(root, "auths", auths)) {
        delete_secret_tree(auths);
        auths = NULL;
        rc = OCIPUSH_E_NOMEM;
    }
    int found = 0;
    /* Every key naming this registry goes ("host" and "https://host/"). */
    for (const cJSON *e = find_registry(auths, registry); !rc && e;
         e = find_registry(auths, registry)) {
        delete_secret_tree(cJSON_DetachItemViaPointer(auths, (cJSON *)e));
        found = 1;
    }
    if (!rc && auth_b64) {
        cJSON *entry = cJSON_AddObjectToObject(auths, registry);
        if (!entry || !cJSON_AddStringToObject(entry, "auth", auth_b64))
            rc = OCIPUSH_E_NOMEM;
    }
    /* Indented output runs longer than its input: a tab per level a line. */
    size_t hint = 2 * len + (auth_b64 ? strlen(auth_b64) : 0) + 2 * strlen(registry);
    rc = rc ? rc : print_secret_tree(out, root, hint);
    delete_secret_tree(root);
    if (!rc && out_found)
        *out_found = found;
    return rc;
}

int op_json_referrers_add(char **out, size_t *out_len, int *out_present, const char *text,
                          size_t len, const ocipush_descriptor *entry)
{
    cJSON *root = text ? cJSON_ParseWithLength(text, len) : cJSON_CreateObject();
    if (!root)
        return text ? OCIPUSH_E_PROTOCOL : OCIPUSH_E_NOMEM;
    int rc = 0;
    if (!text) {
        if (!cJSON_AddNumberToObject(root, "schemaVersion", 2) ||
            add_string(root, "mediaType", OCIPUSH_MEDIA_TYPE_INDEX) ||
            !cJSON_AddArrayToObject(root, "manifests"))
            rc = OCIPUSH_E_NOMEM;
    }
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
    char *printed = rc || *out_present ? NULL : cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (rc || *out_present)
        return rc;
    if (!printed || !(*out = op_strdup(printed))) {
        cJSON_free(printed);
        return OCIPUSH_E_NOMEM;
    }
    cJSON_free(printed);
    *out_len = strlen(*out);
    return 0;
}

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
    cJSON *root = text ? cJSON_ParseWithLength(text, len) : cJSON_CreateObject();
    int rc = root ? 0 : text ? OCIPUSH_E_PROTOCOL : OCIPUSH_E_NOMEM;
    if (!rc && !text &&
        (!cJSON_AddNumberToObject(root, "schemaVersion", 2) ||
         add_string(root, "mediaType", OCIPUSH_MEDIA_TYPE_INDEX) ||
         !cJSON_AddArrayToObject(root, "manifests")))
        rc = OCIPUSH_E_NOMEM;
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
        if (!e || add_string(e, "mediaType", media_type) || add_string(e, "digest", digest) ||
            !cJSON_AddItemToObject(e, "size", size_number(size)) ||
            (tag && (!(ann = cJSON_AddObjectToObject(e, "annotations")) ||
                     add_string(ann, REF_NAME, tag))) ||
            !cJSON_AddItemToArray(list, e)) {
            cJSON_Delete(e);
            rc = OCIPUSH_E_NOMEM;
        }
    }
    char *printed = rc ? NULL : cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (rc)
        return rc;
    *out = printed ? op_strdup(printed) : NULL;
    cJSON_free(printed);
    return *out ? 0 : OCIPUSH_E_NOMEM;
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
            snprintf(out, OCIPUSH_DIGEST_BUFSIZE, "%s", d->valuestring);
            rc = 0;
        }
    }
    cJSON_Delete(root);
    return rc;
}

#ifdef OCIPUSH_HAVE_HELM
/* ---- Helm chart metadata ---- */

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
    char *text = root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!text)
        return OCIPUSH_E_NOMEM;
    *out = op_strdup(text);
    cJSON_free(text);
    if (!*out)
        return OCIPUSH_E_NOMEM;
    *out_len = strlen(*out);
    return 0;
}
#endif /* OCIPUSH_HAVE_HELM */
