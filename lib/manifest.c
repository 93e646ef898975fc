/* Building OCI image manifests and indexes: descriptors, annotations, and
 * their serialization. Nothing here talks to a target. */
#include "alloc.h"
#include "manifest.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "validate.h"

int op_annotations_set(op_annotations *a, const char *key, const char *value)
{
    char *v = op_strdup(value);
    if (!v)
        return OCIPUSH_E_NOMEM;
    for (size_t i = 0; i < a->count; i++)
        if (strcmp(a->keys[i], key) == 0) {
            op_free(a->values[i]);
            a->values[i] = v;
            return 0;
        }
    char *k = op_strdup(key);
    char **keys = k ? op_realloc(a->keys, (a->count + 1) * sizeof *keys) : NULL;
    if (keys)
        a->keys = keys;
    char **values = keys ? op_realloc(a->values, (a->count + 1) * sizeof *values) : NULL;
    if (!values) {
        op_free(k);
        op_free(v);
        return OCIPUSH_E_NOMEM;
    }
    a->values = values;
    a->keys[a->count] = k;
    a->values[a->count] = v;
    a->count++;
    return 0;
}

void op_annotations_clear(op_annotations *a)
{
    for (size_t i = 0; i < a->count; i++) {
        op_free(a->keys[i]);
        op_free(a->values[i]);
    }
    op_free(a->keys);
    op_free(a->values);
    memset(a, 0, sizeof *a);
}

int op_annotations_copy(op_annotations *dst, const op_annotations *src)
{
    for (size_t i = 0; i < src->count; i++)
        if (op_annotations_set(dst, src->keys[i], src->values[i])) {
            op_annotations_clear(dst);
            return OCIPUSH_E_NOMEM;
        }
    return 0;
}

/* ---- descriptors ---- */

int ocipush_descriptor_new(ocipush_descriptor **out, const char *media_type, const char *digest,
                           uint64_t size)
{
    if (!out || op_media_type_check(media_type) || ocipush_digest_validate(digest))
        return OCIPUSH_E_INVALID;
    ocipush_descriptor *d = op_calloc(1, sizeof *d);
    if (!d)
        return OCIPUSH_E_NOMEM;
    d->media_type = op_strdup(media_type);
    d->digest = op_strdup(digest);
    d->size = size;
    if (!d->media_type || !d->digest) {
        ocipush_descriptor_free(d);
        return OCIPUSH_E_NOMEM;
    }
    *out = d;
    return OCIPUSH_OK;
}

void ocipush_descriptor_free(ocipush_descriptor *d)
{
    if (!d)
        return;
    op_free(d->media_type);
    op_free(d->digest);
    op_free(d->artifact_type);
    op_free(d->os);
    op_free(d->architecture);
    op_free(d->variant);
    op_annotations_clear(&d->annotations);
    op_free(d);
}

int ocipush_descriptor_add_annotation(ocipush_descriptor *d, const char *key, const char *value)
{
    if (!d || op_header_text_check(key) || !value)
        return OCIPUSH_E_INVALID;
    return op_annotations_set(&d->annotations, key, value);
}

/* Replace an optional media type field; NULL clears it. */
static int set_optional_type(char **slot, const char *value)
{
    char *copy = NULL;
    if (value && op_media_type_check(value))
        return OCIPUSH_E_INVALID;
    if (value && !(copy = op_strdup(value)))
        return OCIPUSH_E_NOMEM;
    op_free(*slot);
    *slot = copy;
    return OCIPUSH_OK;
}

int ocipush_descriptor_set_artifact_type(ocipush_descriptor *d, const char *artifact_type)
{
    return d ? set_optional_type(&d->artifact_type, artifact_type) : OCIPUSH_E_INVALID;
}

int ocipush_descriptor_set_platform(ocipush_descriptor *d, const char *os, const char *architecture,
                                    const char *variant)
{
    if (!d || !os || !*os || !architecture || !*architecture)
        return OCIPUSH_E_INVALID;
    char *o = op_strdup(os), *a = op_strdup(architecture), *v = op_strdup(variant);
    if (!o || !a || (variant && !v)) {
        op_free(o);
        op_free(a);
        op_free(v);
        return OCIPUSH_E_NOMEM;
    }
    op_free(d->os);
    op_free(d->architecture);
    op_free(d->variant);
    d->os = o;
    d->architecture = a;
    d->variant = v;
    return OCIPUSH_OK;
}

int op_descriptor_copy(ocipush_descriptor **out, const ocipush_descriptor *src)
{
    ocipush_descriptor *d = NULL;
    int rc = ocipush_descriptor_new(&d, src->media_type, src->digest, src->size);
    if (!rc && src->artifact_type)
        rc = ocipush_descriptor_set_artifact_type(d, src->artifact_type);
    if (!rc && src->os)
        rc = ocipush_descriptor_set_platform(d, src->os, src->architecture, src->variant);
    if (!rc)
        rc = op_annotations_copy(&d->annotations, &src->annotations);
    if (rc) {
        ocipush_descriptor_free(d);
        return rc;
    }
    *out = d;
    return 0;
}

/* ---- manifests ---- */

int ocipush_manifest_new(ocipush_manifest **out, int kind)
{
    if (!out || (kind != OCIPUSH_MANIFEST_IMAGE && kind != OCIPUSH_MANIFEST_INDEX))
        return OCIPUSH_E_INVALID;
    ocipush_manifest *m = op_calloc(1, sizeof *m);
    if (!m)
        return OCIPUSH_E_NOMEM;
    m->kind = kind;
    *out = m;
    return OCIPUSH_OK;
}

void ocipush_manifest_free(ocipush_manifest *m)
{
    if (!m)
        return;
    op_free(m->artifact_type);
    ocipush_descriptor_free(m->config);
    for (size_t i = 0; i < m->entry_count; i++)
        ocipush_descriptor_free(m->entries[i]);
    op_free(m->entries);
    ocipush_descriptor_free(m->subject);
    op_annotations_clear(&m->annotations);
    op_free(m);
}

static int replace_descriptor(ocipush_descriptor **slot, const ocipush_descriptor *src)
{
    ocipush_descriptor *copy = NULL;
    if (src && op_descriptor_copy(&copy, src))
        return OCIPUSH_E_NOMEM;
    ocipush_descriptor_free(*slot);
    *slot = copy;
    return OCIPUSH_OK;
}

int ocipush_manifest_set_config(ocipush_manifest *m, const ocipush_descriptor *config)
{
    if (!m || !config || m->kind != OCIPUSH_MANIFEST_IMAGE)
        return OCIPUSH_E_INVALID;
    return replace_descriptor(&m->config, config);
}

static int append_entry(ocipush_manifest *m, const ocipush_descriptor *d)
{
    ocipush_descriptor *copy = NULL;
    if (op_descriptor_copy(&copy, d))
        return OCIPUSH_E_NOMEM;
    ocipush_descriptor **grown = op_realloc(m->entries, (m->entry_count + 1) * sizeof *grown);
    if (!grown) {
        ocipush_descriptor_free(copy);
        return OCIPUSH_E_NOMEM;
    }
    m->entries = grown;
    m->entries[m->entry_count++] = copy;
    return OCIPUSH_OK;
}

int ocipush_manifest_add_layer(ocipush_manifest *m, const ocipush_descriptor *layer)
{
    if (!m || !layer || m->kind != OCIPUSH_MANIFEST_IMAGE)
        return OCIPUSH_E_INVALID;
    return append_entry(m, layer);
}

int ocipush_manifest_add_manifest(ocipush_manifest *index, const ocipush_descriptor *entry)
{
    if (!index || !entry || index->kind != OCIPUSH_MANIFEST_INDEX)
        return OCIPUSH_E_INVALID;
    return append_entry(index, entry);
}

int ocipush_manifest_set_subject(ocipush_manifest *m, const ocipush_descriptor *subject)
{
    return m ? replace_descriptor(&m->subject, subject) : OCIPUSH_E_INVALID;
}

int ocipush_manifest_set_artifact_type(ocipush_manifest *m, const char *artifact_type)
{
    return m ? set_optional_type(&m->artifact_type, artifact_type) : OCIPUSH_E_INVALID;
}

int ocipush_manifest_add_annotation(ocipush_manifest *m, const char *key, const char *value)
{
    if (!m || op_header_text_check(key) || !value)
        return OCIPUSH_E_INVALID;
    return op_annotations_set(&m->annotations, key, value);
}
