#include "registry.h"

#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "blob_upload.h"
#include "client.h"
#include "digest.h"
#include "registry_errors.h"
#include "retry.h"
#include "validate.h"

typedef struct op_registry {
    op_target base;
    op_client client;
    /* A streamed upload was rejected: this registry (or a proxy in front of
     * it) will not take chunked bodies, so later uploads are sent
     * length-delimited from the start. */
    int stream_rejected;
} op_registry;

static const op_target_ops registry_ops;

static int registry_new(op_target **out, op_ctx *c, const op_registry *like)
{
    op_registry *r = op_calloc(1, sizeof *r);
    if (!r)
        return OCIPUSH_E_NOMEM;
    r->base.ops = &registry_ops;
    r->base.c = c;
    if (op_client_init(&r->client, c, like ? &like->client : NULL)) {
        op_free(r);
        return OCIPUSH_E_NOMEM;
    }
    r->stream_rejected = like && like->stream_rejected;
    *out = &r->base;
    return OCIPUSH_OK;
}

int op_registry_target_new(op_target **out, op_ctx *c)
{
    return registry_new(out, c, NULL);
}

static int registry_clone(op_target **out, const op_target *t, op_ctx *c)
{
    return registry_new(out, c, (const op_registry *)t);
}

static void registry_absorb(op_target *t, const op_target *worker)
{
    ((op_registry *)t)->stream_rejected |= ((const op_registry *)worker)->stream_rejected;
}

static void registry_free(op_target *t)
{
    op_registry *r = (op_registry *)t;
    op_client_clear(&r->client);
    op_free(r);
}

static int registry_set_scope(op_target *t, const char *repository, const char *mount_from)
{
    op_registry *r = (op_registry *)t;
    int rc = repository ? op_auth_set_repository(&r->client.auth, repository) : 0;
    rc = rc ? rc : op_auth_set_mount_source(&r->client.auth, mount_from);
    return rc;
}

static int registry_ping(op_target *t, const char *repository)
{
    (void)repository; /* the scope says which repository */
    op_registry *r = (op_registry *)t;
    op_ctx *c = t->c;
    op_buf url = {0};
    if (op_buf_printf(&url, "%s/v2/", c->set.base_url)) {
        op_buf_free(&url);
        return op_fail(&c->diag, OCIPUSH_E_NOMEM, "out of memory");
    }
    op_response resp = {0};
    op_request req = {.method = "GET", .url = url.data, .idempotent = 1};
    int rc = op_client_perform(&r->client, &req, &resp);
    if (rc == 0 && resp.status != 200)
        rc = op_response_fail(c, "checking the registry", &req, &resp);
    op_response_clear(&resp);
    op_buf_free(&url);
    return rc;
}

/* HEAD the blob: *out_size is its Content-Length when it exists (-1 if the
 * registry did not say). */
static int registry_blob_exists(op_target *t, op_retry_budget *budget, const char *repository,
                                const char *digest, int *out_exists, int64_t *out_size)
{
    op_registry *r = (op_registry *)t;
    op_ctx *c = t->c;
    char *url = NULL;
    int rc = op_client_url(&url, &r->client, repository, "blobs/", digest);
    if (rc)
        return op_fail(&c->diag, rc, "out of memory");
    op_response resp = {0};
    op_request req = {.method = "HEAD", .url = url, .idempotent = 1, .budget = budget};
    rc = op_client_perform(&r->client, &req, &resp);
    if (rc == 0 && (resp.status == 200 || resp.status == 404)) {
        *out_exists = resp.status == 200;
        char *end = NULL;
        long long n = resp.content_length ? strtoll(resp.content_length, &end, 10) : -1;
        *out_size = (resp.content_length && *end == '\0' && n >= 0) ? n : -1;
    } else if (rc == 0) {
        rc = op_response_fail(c, "checking whether the blob exists", &req, &resp);
    }
    op_response_clear(&resp);
    op_free(url);
    return rc;
}

static int registry_put_blob(op_target *t, op_blob_put *put)
{
    op_registry *r = (op_registry *)t;
    return op_blob_upload(&r->client, &r->stream_rejected, put);
}

static int registry_put_manifest(op_target *t, op_retry_budget *budget, const char *repository,
                                 const char *reference, const char *media_type, const void *data,
                                 size_t len, const char *digest, op_manifest_answer *out)
{
    op_registry *r = (op_registry *)t;
    op_ctx *c = t->c;
    if (out)
        *out = (op_manifest_answer){0};
    char *url = NULL;
    int rc = op_client_url(&url, &r->client, repository, "manifests/", reference);
    if (rc)
        return op_fail(&c->diag, rc, "out of memory");
    op_response resp = {0};
    op_request req = {.method = "PUT",
                      .url = url,
                      .content_type = media_type,
                      .body = data,
                      .body_len = len,
                      .idempotent = 1,
                      .budget = budget};
    rc = op_client_perform(&r->client, &req, &resp);
    /* Not only the first code: distribution lists DIGEST_INVALID with it. */
    static const char *const blob_unknown[] = {"MANIFEST_BLOB_UNKNOWN", NULL};
    if (rc == 0 && resp.status != 201 && out)
        out->blob_unknown = resp.status == 400 &&
                            op_json_registry_has_code(resp.body.data, resp.body.len, blob_unknown);
    if (rc == 0 && resp.status != 201)
        rc = op_response_fail(c, "pushing the manifest", &req, &resp);
    if (rc == 0 && resp.content_digest && ocipush_digest_validate(resp.content_digest))
        rc = op_fail(&c->diag, OCIPUSH_E_PROTOCOL,
                     "the registry answered the manifest with a malformed Docker-Content-Digest");
    else if (rc == 0 && resp.content_digest && strcmp(resp.content_digest, digest) != 0)
        rc = op_fail(&c->diag, OCIPUSH_E_PROTOCOL, "the registry stored the manifest as %s, not %s",
                     resp.content_digest, digest);
    if (out)
        out->keeps_referrers = resp.oci_subject != NULL;
    op_response_clear(&resp);
    op_free(url);
    return rc;
}

/* The media type of a served manifest: its Content-Type without
 * parameters ("; charset=..."), checked, into *out (malloc'd). */
static int served_type(op_ctx *c, const op_response *resp, const char *repository,
                       const char *reference, char **out)
{
    size_t n = strcspn(resp->content_type, "; ");
    char *type = op_strndup(resp->content_type, n);
    if (!type)
        return op_fail(&c->diag, OCIPUSH_E_NOMEM, "out of memory");
    if (op_media_type_check(type)) {
        op_free(type);
        return op_fail(&c->diag, OCIPUSH_E_PROTOCOL,
                       "the manifest %s of %s came with a Content-Type that is not a media type",
                       reference, repository);
    }
    *out = type;
    return 0;
}

static int registry_get_manifest(op_target *t, const char *repository, const char *reference,
                                 op_buf *body, char **out_media_type, char *out_digest,
                                 int *out_found)
{
    op_registry *r = (op_registry *)t;
    op_ctx *c = t->c;
    char *url = NULL;
    int rc = op_client_url(&url, &r->client, repository, "manifests/", reference);
    if (rc)
        return op_fail(&c->diag, rc, "out of memory");
    op_response resp = {0};
    op_request req = {.method = "GET",
                      .url = url,
                      .accept = OCIPUSH_MEDIA_TYPE_MANIFEST
                      ", " OCIPUSH_MEDIA_TYPE_INDEX
                      ", application/vnd.docker.distribution.manifest.v2+json"
                      ", application/vnd.docker.distribution.manifest.list.v2+json",
                      .idempotent = 1};
    *out_found = 0;
    rc = op_client_perform(&r->client, &req, &resp);
    int absent = rc == 0 && resp.status == 404;
    if (rc == 0 && !absent && resp.status != 200)
        rc = op_response_fail(c, "getting a manifest", &req, &resp);
    if (rc == 0 && !absent && (!resp.content_type || !resp.body.len))
        rc = op_fail(&c->diag, OCIPUSH_E_PROTOCOL,
                     "the manifest %s of %s came without a type or body", reference, repository);
    if (rc == 0 && !absent && (rc = op_sha256_digest(out_digest, resp.body.data, resp.body.len)))
        rc = op_fail(&c->diag, rc, "hashing the manifest failed");
    if (rc == 0 && !absent && strncmp(reference, "sha256:", 7) == 0 &&
        strcmp(reference, out_digest) != 0)
        rc = op_fail(&c->diag, OCIPUSH_E_PROTOCOL, "asked for manifest %s, the registry served %s",
                     reference, out_digest);
    if (rc == 0 && !absent)
        rc = served_type(c, &resp, repository, reference, out_media_type);
    if (rc == 0 && !absent) {
        *body = resp.body;
        resp.body = (op_buf){0};
        *out_found = 1;
    }
    op_response_clear(&resp);
    op_free(url);
    return rc;
}

static const op_target_ops registry_ops = {
    .clone = registry_clone,
    .absorb = registry_absorb,
    .free = registry_free,
    .ping = registry_ping,
    .set_scope = registry_set_scope,
    .blob_exists = registry_blob_exists,
    .put_blob = registry_put_blob,
    .put_manifest = registry_put_manifest,
    .get_manifest = registry_get_manifest,
};
