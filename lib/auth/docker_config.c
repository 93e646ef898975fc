#include "docker_config.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "ocipush.h"

#include "alloc.h"
#include "buf.h"
#include "json_util.h"

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
