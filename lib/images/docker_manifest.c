/* manifest.json and rootfs.diff_ids of a legacy docker archive (see
 * docker_manifest.h). */
#include "docker_manifest.h"

#include <string.h>

#include <cjson/cJSON.h>

#include "alloc.h"
#include "ocipush.h"

#define IMAGES_MAX 4096u /* images in one archive */
#define LAYERS_MAX 1024u /* layers in one image: more is an attack */

/* The strings of a JSON array into a new array of pointers; NULL list is
 * an empty one. 0, OCIPUSH_E_INVALID (not an array of strings, too long),
 * OCIPUSH_E_NOMEM. */
static int strings_of(const cJSON *list, size_t max, const char ***out, size_t *out_count)
{
    *out = NULL;
    *out_count = 0;
    if (!list || cJSON_IsNull(list))
        return 0;
    if (!cJSON_IsArray(list))
        return OCIPUSH_E_INVALID;
    size_t n = (size_t)cJSON_GetArraySize(list), i = 0;
    if (n > max)
        return OCIPUSH_E_INVALID;
    const char **strings = n ? op_calloc(n, sizeof *strings) : NULL;
    if (n && !strings)
        return OCIPUSH_E_NOMEM;
    const cJSON *item;
    cJSON_ArrayForEach(item, list)
    {
        if (!cJSON_IsString(item) || !*item->valuestring) {
            op_free(strings);
            return OCIPUSH_E_INVALID;
        }
        strings[i++] = item->valuestring;
    }
    *out = strings;
    *out_count = i;
    return 0;
}

void op_docker_images_free(op_docker_image *images, size_t count)
{
    for (size_t i = 0; images && i < count; i++) {
        op_free(images[i].repo_tags);
        op_free(images[i].layers);
    }
    op_free(images);
}

static int image_of(const cJSON *item, op_docker_image *out, op_diag *d, const char *name, size_t i)
{
    const cJSON *config = cJSON_GetObjectItemCaseSensitive(item, "Config");
    int rc = 0;
    if (!cJSON_IsObject(item))
        return op_fail(d, OCIPUSH_E_INVALID, "%s: entry %zu of manifest.json is not an object",
                       name, i);
    if (!cJSON_IsString(config) || !*config->valuestring)
        return op_fail(d, OCIPUSH_E_INVALID, "%s: image %zu of manifest.json has no Config", name,
                       i);
    out->config = config->valuestring;
    rc = strings_of(cJSON_GetObjectItemCaseSensitive(item, "RepoTags"), IMAGES_MAX, &out->repo_tags,
                    &out->tag_count);
    if (rc == 0)
        rc = strings_of(cJSON_GetObjectItemCaseSensitive(item, "Layers"), LAYERS_MAX, &out->layers,
                        &out->layer_count);
    if (rc == OCIPUSH_E_NOMEM)
        return op_fail(d, rc, "out of memory");
    if (rc)
        return op_fail(d, rc,
                       "%s: image %zu of manifest.json has RepoTags or Layers that are not a list "
                       "of names (at most %u tags, %u layers)",
                       name, i, IMAGES_MAX, LAYERS_MAX);
    if (out->layer_count == 0)
        return op_fail(d, OCIPUSH_E_INVALID, "%s: image %zu of manifest.json has no Layers", name,
                       i);
    return 0;
}

int op_docker_manifest_parse(cJSON **out_doc, op_docker_image **out_images, size_t *out_count,
                             op_diag *d, const char *name, const char *text, size_t len)
{
    cJSON *doc = cJSON_ParseWithLength(text, len);
    op_docker_image *images = NULL;
    size_t n = 0, count = 0;
    int rc = 0;
    if (!cJSON_IsArray(doc))
        rc = op_fail(d, OCIPUSH_E_INVALID, "%s: manifest.json is not a JSON list of images", name);
    else if ((n = (size_t)cJSON_GetArraySize(doc)) == 0 || n > IMAGES_MAX)
        rc = op_fail(d, OCIPUSH_E_INVALID, "%s: manifest.json lists %zu images", name, n);
    else if (!(images = op_calloc(n, sizeof *images)))
        rc = op_fail(d, OCIPUSH_E_NOMEM, "out of memory");
    const cJSON *item;
    for (item = rc ? NULL : doc->child; item && !rc; item = item->next)
        rc = image_of(item, &images[count], d, name, count), count++;
    if (rc) {
        op_docker_images_free(images, count);
        cJSON_Delete(doc);
        return rc;
    }
    *out_doc = doc;
    *out_images = images;
    *out_count = count;
    return 0;
}

int op_docker_diff_ids_parse(cJSON **out_doc, const char ***out_ids, size_t *out_count, op_diag *d,
                             const char *name, const char *text, size_t len)
{
    cJSON *doc = cJSON_ParseWithLength(text, len);
    const cJSON *rootfs = cJSON_GetObjectItemCaseSensitive(doc, "rootfs");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(rootfs, "type");
    const char **ids = NULL;
    size_t n = 0;
    int rc = 0;
    if (!cJSON_IsObject(doc))
        rc = op_fail(d, OCIPUSH_E_INVALID, "%s is not a JSON object", name);
    else if (!cJSON_IsObject(rootfs))
        rc = op_fail(d, OCIPUSH_E_INVALID, "%s has no rootfs: not an image config", name);
    else if (!cJSON_IsString(type) || strcmp(type->valuestring, "layers") != 0)
        rc = op_fail(d, OCIPUSH_E_INVALID, "%s: its rootfs is not of type \"layers\"", name);
    else if ((rc = strings_of(cJSON_GetObjectItemCaseSensitive(rootfs, "diff_ids"), LAYERS_MAX,
                              &ids, &n)))
        rc = rc == OCIPUSH_E_NOMEM
                 ? op_fail(d, rc, "out of memory")
                 : op_fail(d, rc, "%s: rootfs.diff_ids is not a list of digests", name);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (ocipush_digest_validate(ids[i]))
            rc = op_fail(d, OCIPUSH_E_INVALID, "%s: rootfs.diff_ids[%zu] is not a sha256 digest",
                         name, i);
    if (rc) {
        op_free(ids);
        cJSON_Delete(doc);
        return rc;
    }
    *out_doc = doc;
    *out_ids = ids;
    *out_count = n;
    return 0;
}

/* `name` without docker's implicit "docker.io/" and "library/". */
static const char *short_name(const char *name)
{
    if (strncmp(name, "docker.io/", 10) == 0)
        name += 10;
    else if (strncmp(name, "index.docker.io/", 16) == 0)
        name += 16;
    else
        return name;
    return strncmp(name, "library/", 8) == 0 && !strchr(name + 8, '/') ? name + 8 : name;
}

int op_docker_same_name(const char *a, const char *b)
{
    return strcmp(short_name(a), short_name(b)) == 0;
}
