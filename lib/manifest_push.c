/* The public manifest calls: checking the reference and the media type,
 * hashing, and putting the bytes into the session's target (target.h). */
#include "manifest_push.h"

#include <string.h>

#include "alloc.h"
#include "digest.h"
#include "manifest_json.h"
#include "manifest_type.h"
#include "manifest.h"
#include "session.h"
#include "validate.h"

/* A tag is at most 128 characters (distribution spec). */
#define OP_TAG_BUFSIZE 129

int op_manifest_put(ocipush_session *s, op_retry_budget *budget, const char *repository,
                    const char *reference, const char *media_type, const void *data, size_t len,
                    const char *digest, op_manifest_answer *out)
{
    if (out) /* whatever the target says of it, and on every path */
        *out = (op_manifest_answer){0};
    /* Not even a reused connection sends it after a cancel: a tag must not
     * move once the caller said stop (libcurl before 7.80 has no hook that
     * would stop it there). */
    if (op_check_cancel(&s->ctx))
        return OCIPUSH_E_ABORTED;
    return s->target->ops->put_manifest(s->target, budget, repository, reference, media_type, data,
                                        len, digest, out);
}

int op_manifest_get(ocipush_session *s, const char *repository, const char *reference, op_buf *body,
                    char **out_media_type, char *out_digest, int *out_found)
{
    return s->target->ops->get_manifest(s->target, repository, reference, body, out_media_type,
                                        out_digest, out_found);
}

/* A manifest reference: "TAG", "sha256:<hex>" or "TAG@sha256:<hex>" (NULL:
 * neither). The tag goes into `tag` ("" if none), the digest the bytes must
 * hash to into `digest` ("" if none). */
static int split_manifest_reference(ocipush_session *s, const char *reference,
                                    char tag[OP_TAG_BUFSIZE], char digest[OCIPUSH_DIGEST_MAX])
{
    tag[0] = digest[0] = '\0';
    if (!reference)
        return 0;
    const char *at = strchr(reference, '@');
    const char *d = at ? at + 1 : strncmp(reference, "sha256:", 7) == 0 ? reference : NULL;
    size_t tag_len = at ? (size_t)(at - reference) : d ? 0 : strlen(reference);
    /* Neither is echoed: it is not known to be printable. */
    if (d && ocipush_digest_validate(d))
        return op_sfail(s, OCIPUSH_E_INVALID,
                        "invalid digest in the manifest reference (want sha256:<64 hex>)");
    if (at || !d) {
        if (tag_len >= OP_TAG_BUFSIZE)
            return op_sfail(s, OCIPUSH_E_INVALID, "invalid tag: longer than 128 characters");
        memcpy(tag, reference, tag_len);
        tag[tag_len] = '\0';
        if (ocipush_tag_validate(tag))
            return op_sfail(s, OCIPUSH_E_INVALID, "invalid tag in the manifest reference");
    }
    if (d)
        op_digest_copy(digest, d);
    return 0;
}

int op_manifest_push_raw(ocipush_session *s, const char *repository, const char *reference,
                         const char *media_type, const void *data, size_t len, char *out_digest,
                         op_manifest_answer *answer)
{
    if (ocipush_repository_validate(repository))
        return op_sfail(s, OCIPUSH_E_INVALID, "invalid repository name '%s'",
                        repository ? repository : "(null)");
    char tag[OP_TAG_BUFSIZE], want[OCIPUSH_DIGEST_MAX];
    if (split_manifest_reference(s, reference, tag, want))
        return OCIPUSH_E_INVALID;
    if (s->target->ops->set_scope(s->target, repository, NULL))
        return op_sfail(s, OCIPUSH_E_NOMEM, "out of memory");
    if (!data || len == 0)
        return op_sfail(s, OCIPUSH_E_INVALID, "empty manifest");
    char *detected = NULL;
    if (!media_type || !*media_type) {
        int rc = op_json_manifest_media_type(&detected, data, len);
        if (rc)
            return op_sfail(s, rc,
                            rc == OCIPUSH_E_NOMEM ? "out of memory"
                                                  : "the manifest is not a JSON object with a "
                                                    "mediaType, and no media type was given");
        media_type = detected;
    }
    /* It becomes the Content-Type header: nothing may ride along. */
    if (op_media_type_check(media_type)) {
        const char *field = detected ? "the manifest's mediaType" : "the media type given";
        op_free(detected);
        return op_sfail(s, OCIPUSH_E_INVALID,
                        "%s is not a media type (RFC 6838 type/subtype[+suffix], printable ASCII)",
                        field);
    }
    char digest[OCIPUSH_DIGEST_MAX];
    int rc = op_sha256_digest(digest, data, len);
    if (rc)
        rc = op_sfail(s, rc, "hashing the manifest failed");
    /* Before anything is sent: a tag must never move to bytes that are not
     * the ones the caller named. */
    else if (want[0] && strcmp(want, digest) != 0)
        rc = op_sfail(s, OCIPUSH_E_DIGEST_MISMATCH,
                      "the manifest's digest is %s, not %s: nothing was pushed", digest, want);
    else
        rc = op_manifest_put(s, NULL, repository, tag[0] ? tag : digest, media_type, data, len,
                             digest, answer);
    if (rc == 0) {
        op_slog(s, OCIPUSH_LOG_INFO, "pushed manifest %s to %s%s%s", digest, repository,
                tag[0] ? ":" : "", tag);
        if (out_digest)
            op_digest_copy(out_digest, digest);
    }
    op_free(detected);
    return rc;
}

int ocipush_manifest_push(ocipush_session *s, char *out_digest, const char *repository,
                          const char *reference, const ocipush_manifest *m)
{
    if (!s)
        return OCIPUSH_E_INVALID;
    op_call_scope(s);
    if (!m)
        return op_sfail(s, OCIPUSH_E_INVALID, "no manifest given");
    char *json = NULL;
    size_t len = 0;
    int rc = op_json_manifest(&json, &len, m);
    if (rc)
        return op_sfail(s, rc,
                        rc == OCIPUSH_E_INVALID ? "an image manifest needs a config descriptor"
                                                : "out of memory serializing the manifest");
    rc = op_manifest_push_raw(s, repository, reference,
                              m->kind == OCIPUSH_MANIFEST_IMAGE ? OCIPUSH_MEDIA_TYPE_MANIFEST
                                                                : OCIPUSH_MEDIA_TYPE_INDEX,
                              json, len, out_digest, NULL);
    op_free(json);
    return rc;
}

int ocipush_manifest_push_raw(ocipush_session *s, char *out_digest, const char *repository,
                              const char *reference, const char *media_type, const void *data,
                              size_t len)
{
    if (!s)
        return OCIPUSH_E_INVALID;
    op_call_scope(s);
    return op_manifest_push_raw(s, repository, reference, media_type, data, len, out_digest, NULL);
}

int ocipush_manifest_media_type(char **out, const void *data, size_t len)
{
    if (!out || !data || len == 0)
        return OCIPUSH_E_INVALID;
    char *type = NULL;
    int rc = op_json_manifest_media_type(&type, data, len);
    if (rc == 0 && op_media_type_check(type))
        rc = OCIPUSH_E_INVALID; /* ocipush_manifest_push_raw() would refuse it */
    if (rc) {
        op_free(type);
        return rc;
    }
    *out = type;
    return OCIPUSH_OK;
}
