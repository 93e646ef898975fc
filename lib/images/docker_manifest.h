/* The two JSON documents of a legacy docker archive (`docker save` before
 * Docker 25, skopeo's docker-archive:): manifest.json, the list of images
 * with their config and layer members, and each config's rootfs.diff_ids,
 * the digests of the uncompressed layers. Pure parsers of untrusted text,
 * fuzzed (tests/fuzz/fuzz_docker_manifest.c). */
#ifndef OP_DOCKER_MANIFEST_H
#define OP_DOCKER_MANIFEST_H

#include <stddef.h>

#include "diag.h"

struct cJSON;

/* One image of manifest.json. The strings point into the parsed document. */
typedef struct op_docker_image {
    const char *config;     /* the config's member path ("<hex>.json") */
    const char **repo_tags; /* "busybox:latest", ...; tag_count of them */
    size_t tag_count;
    const char **layers; /* the layer tars' member paths, bottom first */
    size_t layer_count;
} op_docker_image;

/* manifest.json's text (`name` says whose, for messages): its images, whose
 * strings point into *out_doc (cJSON_Delete) and are freed with
 * op_docker_images_free. Every image has a Config and at least one layer;
 * RepoTags may be missing or empty (an image saved by its ID). 0,
 * OCIPUSH_E_INVALID (not JSON, not a list of images, an image without
 * Config or Layers, a non-string among them), OCIPUSH_E_NOMEM; the message
 * on `d`. */
int op_docker_manifest_parse(struct cJSON **out_doc, op_docker_image **out_images,
                             size_t *out_count, op_diag *d, const char *name, const char *text,
                             size_t len);

void op_docker_images_free(op_docker_image *images, size_t count);

/* A docker image config's rootfs.diff_ids (`name` names the config for
 * messages): *out_ids[i] points into *out_doc (cJSON_Delete; the array with
 * op_free). 0, OCIPUSH_E_INVALID (not a JSON object, no rootfs, rootfs not
 * of type "layers", a diff_id that is not a sha256 digest),
 * OCIPUSH_E_NOMEM; the message on `d`. */
int op_docker_diff_ids_parse(struct cJSON **out_doc, const char ***out_ids, size_t *out_count,
                             op_diag *d, const char *name, const char *text, size_t len);

/* Whether `a` and `b` name the same image, as docker spells them short:
 * "busybox:latest" is "docker.io/library/busybox:latest". */
int op_docker_same_name(const char *a, const char *b);

#endif
