/* Internal layout of descriptors and manifests, shared by the builder
 * (manifest.c) and the serializer (json.c). */
#ifndef OP_MANIFEST_H
#define OP_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "ocipush.h"

/* Insertion-ordered string map, so output is deterministic. */
typedef struct op_annotations {
    char **keys;
    char **values;
    size_t count;
} op_annotations;

int op_annotations_set(op_annotations *a, const char *key, const char *value);
int op_annotations_copy(op_annotations *dst, const op_annotations *src);
void op_annotations_clear(op_annotations *a);

struct ocipush_descriptor {
    char *media_type;
    char *digest;
    uint64_t size;
    char *artifact_type;
    char *os, *architecture, *variant; /* platform, index entries only */
    op_annotations annotations;
};

int op_descriptor_copy(ocipush_descriptor **out, const ocipush_descriptor *src);

struct ocipush_manifest {
    ocipush_manifest_kind kind;
    char *artifact_type;
    ocipush_descriptor *config;   /* image manifests */
    ocipush_descriptor **entries; /* layers, or an index's manifests */
    size_t entry_count;
    ocipush_descriptor *subject;
    op_annotations annotations;
};

/* What a manifest PUT's answer said besides its status. */
typedef struct op_manifest_answer {
    int keeps_referrers; /* OCI-Subject: the registry keeps the referrers itself */
    int blob_unknown;    /* refused with MANIFEST_BLOB_UNKNOWN */
} op_manifest_answer;

struct op_retry_budget; /* retry.h */

/* PUT a manifest's bytes to repository/manifests/target (a tag or its
 * digest). *out (may be NULL) is set whatever the outcome. Retries draw from
 * `budget` (NULL: a budget of its own), so a caller that sends the manifest
 * again itself shares one budget with them. */
int op_manifest_put(ocipush_session *s, struct op_retry_budget *budget, const char *repository,
                    const char *target, const char *media_type, const void *data, size_t len,
                    const char *digest, op_manifest_answer *out);

/* GET a manifest (any OCI or docker type). *out_found 0 on 404, else its
 * bytes in *body, its media type (malloc'd) and digest (checked against a
 * digest reference). */
int op_manifest_get(ocipush_session *s, const char *repository, const char *reference, op_buf *body,
                    char **out_media_type, char *out_digest, int *out_found);

#endif
