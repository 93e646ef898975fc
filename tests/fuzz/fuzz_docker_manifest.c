/* A legacy docker archive's JSON (images/docker_manifest.h), of exactly its
 * length: the same text as manifest.json (op_docker_manifest_parse) and as an
 * image config (op_docker_diff_ids_parse). Every image handed out has a
 * Config and at least one layer, its names are non-empty, and every diff_id
 * is a sha256 digest, whatever the text; op_docker_same_name is reflexive,
 * symmetric and blind to docker's implicit "docker.io/library/". */
#include <cjson/cJSON.h>

#include "alloc.h"
#include "docker_manifest.h"
#include "fuzz.h"
#include "ocipush.h"

#define TAGS_COMPARED 64 /* first tags compared pairwise: the rest in turn */

/* a and b compare the same both ways; a is itself, also spelled long. */
static void check_same_name(const char *a, const char *b)
{
    FUZZ_CHECK(op_docker_same_name(a, a));
    FUZZ_CHECK(op_docker_same_name(a, b) == op_docker_same_name(b, a));
    if (!strchr(a, '/')) {
        static const char *const prefixes[] = {"docker.io/library/", "index.docker.io/library/",
                                               "docker.io/"};
        for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++) {
            size_t n = strlen(prefixes[i]), len = strlen(a);
            char *longer = malloc(n + len + 1);
            FUZZ_CHECK(longer != NULL);
            memcpy(longer, prefixes[i], n);
            memcpy(longer + n, a, len + 1);
            FUZZ_CHECK(op_docker_same_name(a, longer) && op_docker_same_name(longer, a));
            FUZZ_CHECK(op_docker_same_name(b, longer) == op_docker_same_name(b, a));
            free(longer);
        }
    }
}

static void manifest(const char *text, size_t len)
{
    op_diag d = {0};
    cJSON *doc = NULL;
    op_docker_image *images = NULL;
    size_t count = 99;
    int rc = op_docker_manifest_parse(&doc, &images, &count, &d, "fuzz", text, len);
    FUZZ_CHECK(rc == 0 || rc == OCIPUSH_E_INVALID || rc == OCIPUSH_E_NOMEM);
    if (rc) {
        FUZZ_CHECK(d.errmsg[0] != '\0');
        FUZZ_CHECK(doc == NULL && images == NULL && count == 99);
        return;
    }
    FUZZ_CHECK(doc != NULL && images != NULL && count > 0);
    const char *first = NULL, *prev = NULL;
    size_t seen = 0;
    const char *compared[TAGS_COMPARED];
    for (size_t i = 0; i < count; i++) {
        const op_docker_image *im = &images[i];
        FUZZ_CHECK(im->config != NULL && im->config[0] != '\0');
        FUZZ_CHECK(im->layer_count >= 1 && im->layers != NULL);
        for (size_t j = 0; j < im->layer_count; j++)
            FUZZ_CHECK(im->layers[j] != NULL && im->layers[j][0] != '\0');
        FUZZ_CHECK((im->tag_count == 0) == (im->repo_tags == NULL));
        for (size_t j = 0; j < im->tag_count; j++) {
            const char *tag = im->repo_tags[j];
            FUZZ_CHECK(tag != NULL && tag[0] != '\0');
            if (seen < TAGS_COMPARED) {
                for (size_t k = 0; k < seen; k++)
                    check_same_name(tag, compared[k]);
                compared[seen++] = tag;
            } else {
                check_same_name(tag, prev);
                check_same_name(tag, first);
            }
            if (!first)
                first = tag;
            prev = tag;
        }
    }
    if (first)
        check_same_name(first, "docker.io/library/busybox:latest");
    op_docker_images_free(images, count);
    cJSON_Delete(doc);
}

static void diff_ids(const char *text, size_t len)
{
    op_diag d = {0};
    cJSON *doc = NULL;
    const char **ids = NULL;
    size_t count = 99;
    int rc = op_docker_diff_ids_parse(&doc, &ids, &count, &d, "fuzz", text, len);
    FUZZ_CHECK(rc == 0 || rc == OCIPUSH_E_INVALID || rc == OCIPUSH_E_NOMEM);
    if (rc) {
        FUZZ_CHECK(d.errmsg[0] != '\0');
        FUZZ_CHECK(doc == NULL && ids == NULL && count == 99);
        return;
    }
    FUZZ_CHECK(doc != NULL && (count == 0) == (ids == NULL));
    for (size_t i = 0; i < count; i++)
        FUZZ_CHECK(ocipush_digest_validate(ids[i]) == 0);
    op_free(ids);
    cJSON_Delete(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    manifest((const char *)data, size);
    diff_ids((const char *)data, size);
    return 0;
}
