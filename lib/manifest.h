/* Internal layout of descriptors and manifests, shared by the builder
 * (manifest.c) and the serializer. */
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

#endif
