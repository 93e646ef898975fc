/* The public calls on a session: making one (a registry or an OCI layout
 * target), its settings, its credentials, ping, cancel. */
#include "session.h"

#include <limits.h>
#include <string.h>

#include "alloc.h"
#include "creds.h"
#include "digest.h"
#include "layout.h"
#include "reference.h"
#include "registry.h"
#include "validate.h"

/* A session in the making: its context, and no target yet. */
static int session_alloc(ocipush_session **out, const char *registry)
{
    ocipush_session *s = op_calloc(1, sizeof *s);
    if (!s)
        return OCIPUSH_E_NOMEM;
    if (op_ctx_init(&s->ctx, registry)) {
        ocipush_session_free(s);
        return OCIPUSH_E_NOMEM;
    }
    *out = s;
    return OCIPUSH_OK;
}

int ocipush_session_new(ocipush_session **out, const char *registry)
{
    if (!out || op_registry_validate(registry))
        return OCIPUSH_E_INVALID;
    ocipush_session *s = NULL;
    int rc = session_alloc(&s, registry);
    if (rc == 0 && (rc = op_registry_target_new(&s->target, &s->ctx)))
        ocipush_session_free(s);
    else if (rc == 0)
        *out = s;
    return rc;
}

int ocipush_session_new_layout(ocipush_session **out, const char *directory)
{
    if (!out || !directory || !*directory)
        return OCIPUSH_E_INVALID;
    ocipush_session *s = NULL;
    /* Its registry, for messages, is the directory. */
    int rc = session_alloc(&s, directory);
    if (rc == 0 && (rc = op_layout_target_new(&s->target, &s->ctx, directory)))
        ocipush_session_free(s);
    else if (rc == 0)
        *out = s;
    return rc;
}

void ocipush_session_free(ocipush_session *s)
{
    if (!s)
        return;
    if (s->target)
        s->target->ops->free(s->target);
    op_ctx_clear(&s->ctx);
    op_free(s);
}

const char *ocipush_session_errmsg(const ocipush_session *s)
{
    return s ? s->ctx.diag.errmsg : "no session";
}

int ocipush_session_http_status(const ocipush_session *s)
{
    return s ? s->ctx.diag.http_status : 0;
}

const char *ocipush_session_error_code(const ocipush_session *s)
{
    return s ? s->ctx.diag.error_code : "";
}

op_call op_session_begin(ocipush_session *s)
{
    if (!s)
        return op_call_begin(NULL);
    s->blob_count = 0;
    return op_call_begin(&s->ctx);
}

void op_session_blob_add(ocipush_session *s, const char *digest, uint64_t size,
                         const char *media_type, int status)
{
    if (s->blob_count >= OP_SESSION_BLOBS)
        return;
    op_session_blob *b = &s->blobs[s->blob_count++];
    op_digest_copy(b->digest, digest);
    b->size = size;
    b->media_type = media_type;
    b->status = status;
}

size_t ocipush_session_blob_count(const ocipush_session *s)
{
    return s ? s->blob_count : 0;
}

int ocipush_session_blob(const ocipush_session *s, const char **out_digest, uint64_t *out_size,
                         const char **out_media_type, int *out_status, size_t index)
{
    if (!s || index >= s->blob_count)
        return OCIPUSH_E_INVALID;
    const op_session_blob *b = &s->blobs[index];
    if (out_digest)
        *out_digest = b->digest;
    if (out_size)
        *out_size = b->size;
    if (out_media_type)
        *out_media_type = b->media_type;
    if (out_status)
        *out_status = b->status;
    return OCIPUSH_OK;
}

int ocipush_session_cancel(ocipush_session *s)
{
    if (!s)
        return OCIPUSH_E_INVALID;
    atomic_store_explicit(s->ctx.cancelled, 1, memory_order_relaxed);
    return OCIPUSH_OK;
}

int ocipush_session_set_plain_http(ocipush_session *s, int enable)
{
    if (!s)
        return OCIPUSH_E_INVALID;
    return op_settings_set_plain_http(&s->ctx.set, enable);
}

int ocipush_session_set_ca_file(ocipush_session *s, const char *path)
{
    if (!s || (path && !*path))
        return OCIPUSH_E_INVALID;
    return op_replace_string(&s->ctx.set.ca_file, path, 0);
}

int ocipush_session_set_insecure(ocipush_session *s, int enable)
{
    if (!s)
        return OCIPUSH_E_INVALID;
    s->ctx.set.insecure = enable != 0;
    return OCIPUSH_OK;
}

int ocipush_session_set_basic_auth(ocipush_session *s, const char *username, const char *password)
{
    if (!s)
        return OCIPUSH_E_INVALID;
    return op_settings_set_basic_auth(&s->ctx.set, username, password);
}

int ocipush_session_set_identity_token(ocipush_session *s, const char *token)
{
    if (!s)
        return OCIPUSH_E_INVALID;
    return op_settings_set_identity_token(&s->ctx.set, token);
}

int ocipush_session_set_client_cert(ocipush_session *s, const char *cert_path, const char *key_path)
{
    if (!s || (cert_path && !*cert_path) || (key_path && !*key_path) || (key_path && !cert_path))
        return OCIPUSH_E_INVALID;
    char *cert = op_strdup(cert_path), *key = op_strdup(key_path);
    if ((cert_path && !cert) || (key_path && !key)) {
        op_free(cert);
        op_free(key);
        return OCIPUSH_E_NOMEM;
    }
    op_free(s->ctx.set.client_cert);
    op_free(s->ctx.set.client_key);
    s->ctx.set.client_cert = cert;
    s->ctx.set.client_key = key;
    return OCIPUSH_OK;
}

int ocipush_session_set_user_agent(ocipush_session *s, const char *user_agent)
{
    if (!s)
        return OCIPUSH_E_INVALID;
    op_call_scope(s);
    /* curl sends it as it is: a CR or LF would end the header early. */
    if (user_agent && op_header_text_check(user_agent))
        return op_sfail(s, OCIPUSH_E_INVALID,
                        "the user agent is empty or holds a control character (CR, LF, NUL, ...)");
    return op_replace_string(&s->ctx.set.user_agent, user_agent, 0);
}

/* A millisecond count for the settings, which keep them as libcurl takes
 * them (long): one past LONG_MAX (on a 32-bit long) is as good as forever. */
static long clamp_ms(int64_t ms)
{
    return ms > LONG_MAX ? LONG_MAX : (long)ms;
}

int ocipush_session_set_timeouts(ocipush_session *s, int64_t connect_ms, int64_t idle_ms)
{
    if (!s || connect_ms < 0 || idle_ms < 0)
        return OCIPUSH_E_INVALID;
    s->ctx.set.connect_ms = connect_ms ? clamp_ms(connect_ms) : OP_DEFAULT_CONNECT_MS;
    s->ctx.set.idle_ms = idle_ms ? clamp_ms(idle_ms) : OP_DEFAULT_IDLE_MS;
    return OCIPUSH_OK;
}

int ocipush_session_set_timeout(ocipush_session *s, int64_t total_ms)
{
    if (!s || total_ms < 0)
        return OCIPUSH_E_INVALID;
    s->ctx.set.timeout_ms = total_ms;
    return OCIPUSH_OK;
}

int ocipush_session_set_log_callback(ocipush_session *s, ocipush_log_fn fn, int max_level,
                                     void *user_data)
{
    if (!s)
        return OCIPUSH_E_INVALID;
    s->ctx.diag.log_fn = fn;
    s->ctx.diag.log_level = max_level;
    s->ctx.diag.log_user_data = user_data;
    return OCIPUSH_OK;
}

int ocipush_session_set_progress_callback(ocipush_session *s, ocipush_progress_fn fn,
                                          void *user_data)
{
    if (!s)
        return OCIPUSH_E_INVALID;
    s->ctx.set.progress_fn = fn;
    s->ctx.set.progress_user_data = user_data;
    return OCIPUSH_OK;
}

int ocipush_session_set_strategy(ocipush_session *s, int strategy)
{
    if (!s || strategy < OCIPUSH_STRATEGY_AUTO || strategy > OCIPUSH_STRATEGY_CHUNKED)
        return OCIPUSH_E_INVALID;
    s->ctx.set.strategy = strategy;
    return OCIPUSH_OK;
}

int ocipush_session_set_chunk_size(ocipush_session *s, uint64_t bytes)
{
    if (!s || (bytes && bytes < OCIPUSH_CHUNK_SIZE_MIN))
        return OCIPUSH_E_INVALID;
    s->ctx.set.chunk_size = bytes;
    return OCIPUSH_OK;
}

int ocipush_session_set_retry(ocipush_session *s, int max_attempts, int64_t base_delay_ms,
                              int64_t max_delay_ms, int jitter_percent)
{
    if (!s || max_attempts < 1 || base_delay_ms < 0 || max_delay_ms < base_delay_ms ||
        jitter_percent < 0 || jitter_percent > 100)
        return OCIPUSH_E_INVALID;
    s->ctx.set.retry_attempts = max_attempts;
    s->ctx.set.retry_base_ms = clamp_ms(base_delay_ms);
    s->ctx.set.retry_max_ms = clamp_ms(max_delay_ms);
    s->ctx.set.retry_jitter_percent = jitter_percent;
    return OCIPUSH_OK;
}

int ocipush_session_set_spool(ocipush_session *s, int enable, uint64_t memory_cap,
                              uint64_t disk_cap)
{
    if (!s)
        return OCIPUSH_E_INVALID;
    s->ctx.set.spool_enabled = enable != 0 && (memory_cap > 0 || disk_cap > 0);
    s->ctx.set.spool_memory_cap = memory_cap;
    s->ctx.set.spool_disk_cap = disk_cap;
    return OCIPUSH_OK;
}

int ocipush_session_set_copy_mount_from(ocipush_session *s, const char *repository)
{
    if (!s)
        return OCIPUSH_E_INVALID;
    op_call_scope(s);
    if (repository && ocipush_repository_validate(repository))
        return op_sfail(s, OCIPUSH_E_INVALID, "invalid repository name to mount from");
    return op_replace_string(&s->ctx.set.copy_mount_from, repository, 0);
}

int ocipush_session_set_copy_concurrency(ocipush_session *s, int concurrency)
{
    if (!s || concurrency < 1 || concurrency > 64)
        return OCIPUSH_E_INVALID;
    s->ctx.set.copy_concurrency = concurrency;
    return OCIPUSH_OK;
}

int ocipush_session_set_layer_compression(ocipush_session *s, int algorithm, int level)
{
    int top = algorithm == OCIPUSH_COMPRESS_GZIP ? 9 : algorithm == OCIPUSH_COMPRESS_ZSTD ? 19 : 0;
    int none = algorithm == OCIPUSH_COMPRESS_NONE;
    if (!s || (!none && (top == 0 || level < -1 || level > top)))
        return OCIPUSH_E_INVALID;
    if (algorithm == OCIPUSH_COMPRESS_ZSTD && !ocipush_feature("zstd"))
        return OCIPUSH_E_UNSUPPORTED;
    s->ctx.set.layer_compression = algorithm;
    s->ctx.set.layer_compression_level = level;
    return OCIPUSH_OK;
}

int ocipush_session_ping(ocipush_session *s, const char *repository)
{
    if (!s)
        return OCIPUSH_E_INVALID;
    op_call_scope(s);
    if (repository && ocipush_repository_validate(repository))
        return op_sfail(s, OCIPUSH_E_INVALID, "invalid repository name '%s'", repository);
    if (repository && s->target->ops->set_scope(s->target, repository, NULL))
        return op_sfail(s, OCIPUSH_E_NOMEM, "out of memory");
    return s->target->ops->ping(s->target, repository);
}

int ocipush_session_set_helper_timeout(ocipush_session *s, int64_t timeout_ms)
{
    if (!s || timeout_ms < 0)
        return OCIPUSH_E_INVALID;
    s->ctx.set.helper_timeout_ms = timeout_ms; /* 0: the default */
    return OCIPUSH_OK;
}

int ocipush_session_load_credentials(ocipush_session *s, int *out_found)
{
    if (!s || !out_found)
        return OCIPUSH_E_INVALID;
    op_call_scope(s);
    return op_creds_load(&s->ctx, out_found);
}

int op_session_clone(ocipush_session **out, const ocipush_session *s)
{
    ocipush_session *c = op_calloc(1, sizeof *c);
    if (!c)
        return OCIPUSH_E_NOMEM;
    if (op_ctx_copy(&c->ctx, &s->ctx)) {
        op_free(c);
        return OCIPUSH_E_NOMEM;
    }
    if (s->target->ops->clone(&c->target, s->target, &c->ctx)) {
        ocipush_session_free(c);
        return OCIPUSH_E_NOMEM;
    }
    *out = c;
    return OCIPUSH_OK;
}
