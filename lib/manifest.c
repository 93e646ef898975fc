/* Building and pushing OCI image manifests and indexes. */
#include "alloc.h"
#include "manifest.h"

#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "buf.h"
#include "digest.h"
#include "http.h"
#include "json.h"
#include "layout.h"
#include "reference.h"
#include "upload.h"
#include "validate.h"

/* A tag is at most 128 characters (distribution spec). */
#define OP_TAG_BUFSIZE 129

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

int ocipush_manifest_new(ocipush_manifest **out, ocipush_manifest_kind kind)
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

int ocipush_manifest_serialize(char **out, size_t *out_len, const ocipush_manifest *m)
{
    if (!out || !out_len || !m)
        return OCIPUSH_E_INVALID;
    return op_json_manifest(out, out_len, m);
}

/* ---- pushing ---- */

int op_manifest_put(ocipush_session *s, struct op_retry_budget *budget, const char *repository,
                    const char *target, const char *media_type, const void *data, size_t len,
                    const char *digest, op_manifest_answer *out)
{
    if (out)
        *out = (op_manifest_answer){0};
    if (op_session_check_cancel(s)) /* a layout has no request to stop */
        return OCIPUSH_E_ABORTED;
    if (s->layout_dir)
        return op_layout_put_manifest(s, strcmp(target, digest) == 0 ? NULL : target, media_type,
                                      data, len, digest);
    char *url = NULL;
    int rc = op_registry_url(&url, s, repository, "manifests/", target);
    if (rc)
        return op_fail(s, rc, "out of memory");
    op_response resp = {0};
    op_request req = {.method = "PUT",
                      .url = url,
                      .content_type = media_type,
                      .body = data,
                      .body_len = len,
                      .idempotent = 1,
                      .budget = budget};
    rc = op_http_perform(s, &req, &resp);
    static const char *const blob_unknown[] = {"MANIFEST_BLOB_UNKNOWN", NULL};
    if (rc == 0 && resp.status != 201 && out)
        out->blob_unknown = resp.status == 400 &&
                            op_json_registry_has_code(resp.body.data, resp.body.len, blob_unknown);
    if (rc == 0 && resp.status != 201)
        rc = op_http_fail(s, "pushing the manifest", &req, &resp);
    if (rc == 0 && resp.content_digest && ocipush_digest_validate(resp.content_digest))
        rc = op_fail(s, OCIPUSH_E_PROTOCOL,
                     "the registry answered the manifest with a malformed Docker-Content-Digest");
    else if (rc == 0 && resp.content_digest && strcmp(resp.content_digest, digest) != 0)
        rc = op_fail(s, OCIPUSH_E_PROTOCOL, "the registry stored the manifest as %s, not %s",
                     resp.content_digest, digest);
    if (out)
        out->keeps_referrers = resp.oci_subject != NULL;
    op_response_clear(&resp);
    op_free(url);
    return rc;
}

int op_manifest_get(ocipush_session *s, const char *repository, const char *reference, op_buf *body,
                    char **out_media_type, char *out_digest, int *out_found)
{
    if (s->layout_dir)
        return op_layout_get_manifest(s, reference, body, out_media_type, out_digest, out_found);
    char *url = NULL;
    int rc = op_registry_url(&url, s, repository, "manifests/", reference);
    if (rc)
        return op_fail(s, rc, "out of memory");
    op_response resp = {0};
    op_request req = {.method = "GET",
                      .url = url,
                      .accept = OCIPUSH_MEDIA_TYPE_MANIFEST
                      ", " OCIPUSH_MEDIA_TYPE_INDEX
                      ", application/vnd.docker.distribution.manifest.v2+json"
                      ", application/vnd.docker.distribution.manifest.list.v2+json",
                      .idempotent = 1};
    *out_found = 0;
    rc = op_http_perform(s, &req, &resp);
    if (rc == 0 && resp.status == 404) {
        op_response_clear(&resp);
        op_free(url);
        return 0;
    }
    if (rc == 0 && resp.status != 200)
        rc = op_http_fail(s, "getting a manifest", &req, &resp);
    if (rc == 0 && (!resp.content_type || !resp.body.len))
        rc = op_fail(s, OCIPUSH_E_PROTOCOL, "the manifest %s of %s came without a type or body",
                     reference, repository);
    if (rc == 0 && (rc = op_sha256_digest(out_digest, resp.body.data, resp.body.len)))
        rc = op_fail(s, rc, "hashing the manifest failed");
    if (rc == 0 && strncmp(reference, "sha256:", 7) == 0 && strcmp(reference, out_digest) != 0)
        rc = op_fail(s, OCIPUSH_E_PROTOCOL, "asked for manifest %s, the registry served %s",
                     reference, out_digest);
    if (rc == 0) {
        /* Content-Type may carry parameters ("; charset=..."): keep the type. */
        size_t n = strcspn(resp.content_type, "; ");
        char *type = op_strndup(resp.content_type, n);
        if (!type)
            rc = op_fail(s, OCIPUSH_E_NOMEM, "out of memory");
        else if (op_media_type_check(type))
            rc = op_fail(s, OCIPUSH_E_PROTOCOL,
                         "the manifest %s of %s came with a Content-Type that is not a media type",
                         reference, repository);
        if (rc)
            op_free(type);
        else
            *out_media_type = type;
    }
    if (rc == 0) {
        *body = resp.body;
        resp.body = (op_buf){0};
        *out_found = 1;
    }
    op_response_clear(&resp);
    op_free(url);
    return rc;
}

/* A manifest reference: "TAG", "sha256:<hex>" or "TAG@sha256:<hex>" (NULL:
 * neither). The tag goes into `tag` ("" if none), the digest the bytes must
 * hash to into `digest` ("" if none). */
static int split_manifest_reference(ocipush_session *s, const char *reference,
                                    char tag[OP_TAG_BUFSIZE], char digest[OCIPUSH_DIGEST_BUFSIZE])
{
    tag[0] = digest[0] = '\0';
    if (!reference)
        return 0;
    const char *at = strchr(reference, '@');
    const char *d = at ? at + 1 : strncmp(reference, "sha256:", 7) == 0 ? reference : NULL;
    size_t tag_len = at ? (size_t)(at - reference) : d ? 0 : strlen(reference);
    /* Neither is echoed: it is not known to be printable. */
    if (d && ocipush_digest_validate(d))
        return op_fail(s, OCIPUSH_E_INVALID,
                       "invalid digest in the manifest reference (want sha256:<64 hex>)");
    if (at || !d) {
        if (tag_len >= OP_TAG_BUFSIZE)
            return op_fail(s, OCIPUSH_E_INVALID, "invalid tag: longer than 128 characters");
        memcpy(tag, reference, tag_len);
        tag[tag_len] = '\0';
        if (ocipush_tag_validate(tag))
            return op_fail(s, OCIPUSH_E_INVALID, "invalid tag in the manifest reference");
    }
    if (d)
        memcpy(digest, d, OCIPUSH_DIGEST_BUFSIZE);
    return 0;
}

int ocipush_manifest_push_raw(ocipush_session *s, const char *repository, const char *reference,
                              const char *media_type, const void *data, size_t len,
                              char *out_digest)
{
    if (!s)
        return OCIPUSH_E_INVALID;
    op_call_scope(s);
    if (ocipush_repository_validate(repository))
        return op_fail(s, OCIPUSH_E_INVALID, "invalid repository name '%s'",
                       repository ? repository : "(null)");
    char tag[OP_TAG_BUFSIZE], want[OCIPUSH_DIGEST_BUFSIZE];
    if (split_manifest_reference(s, reference, tag, want))
        return OCIPUSH_E_INVALID;
    if (op_auth_set_repository(s, repository))
        return OCIPUSH_E_NOMEM;
    if (!data || len == 0)
        return op_fail(s, OCIPUSH_E_INVALID, "empty manifest");
    char *detected = NULL;
    if (!media_type || !*media_type) {
        int rc = op_json_manifest_media_type(&detected, data, len);
        if (rc)
            return op_fail(s, rc,
                           rc == OCIPUSH_E_NOMEM ? "out of memory"
                                                 : "the manifest is not a JSON object with a "
                                                   "mediaType, and no media type was given");
        media_type = detected;
    }
    /* It becomes the Content-Type header: nothing may ride along. */
    if (op_media_type_check(media_type)) {
        const char *field = detected ? "the manifest's mediaType" : "the media type given";
        op_free(detected);
        return op_fail(s, OCIPUSH_E_INVALID,
                       "%s is not a media type (RFC 6838 type/subtype[+suffix], printable ASCII)",
                       field);
    }
    char digest[OCIPUSH_DIGEST_BUFSIZE];
    int rc = op_sha256_digest(digest, data, len);
    if (rc)
        rc = op_fail(s, rc, "hashing the manifest failed");
    /* Before anything is sent: a tag must never move to bytes that are not
     * the ones the caller named. */
    else if (want[0] && strcmp(want, digest) != 0)
        rc = op_fail(s, OCIPUSH_E_DIGEST_MISMATCH,
                     "the manifest's digest is %s, not %s: nothing was pushed", digest, want);
    else
        rc = op_manifest_put(s, NULL, repository, tag[0] ? tag : digest, media_type, data, len,
                             digest, NULL);
    if (rc == 0) {
        op_log(s, OCIPUSH_LOG_INFO, "pushed manifest %s to %s%s%s", digest, repository,
               tag[0] ? ":" : "", tag);
        if (out_digest)
            memcpy(out_digest, digest, sizeof digest);
    }
    op_free(detected);
    return rc;
}

int ocipush_manifest_push(ocipush_session *s, const char *repository, const char *reference,
                          const ocipush_manifest *m, char *out_digest)
{
    if (!s)
        return OCIPUSH_E_INVALID;
    op_call_scope(s);
    if (!m)
        return op_fail(s, OCIPUSH_E_INVALID, "no manifest given");
    char *json = NULL;
    size_t len = 0;
    int rc = op_json_manifest(&json, &len, m);
    if (rc)
        return op_fail(s, rc,
                       rc == OCIPUSH_E_INVALID ? "an image manifest needs a config descriptor"
                                               : "out of memory serializing the manifest");
    rc = ocipush_manifest_push_raw(s, repository, reference,
                                   m->kind == OCIPUSH_MANIFEST_IMAGE ? OCIPUSH_MEDIA_TYPE_MANIFEST
                                                                     : OCIPUSH_MEDIA_TYPE_INDEX,
                                   json, len, out_digest);
    op_free(json);
    return rc;
}
