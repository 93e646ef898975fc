#include "settings.h"

#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "digest.h"

/* An hour: a bound on a registry that never lets a call end, which a large
 * blob on a slow link (4 GiB at 10 Mbit/s) still fits in; callers raise it. */
#define DEFAULT_TIMEOUT_MS (3600LL * 1000)
#define DEFAULT_SPOOL_CAP (1u << 20)
#define DEFAULT_SPOOL_DISK_CAP (64u << 20)

static int make_base_url(char **out, const char *registry, int plain_http)
{
    op_buf b = {0};
    if (op_buf_printf(&b, "%s://%s", plain_http ? "http" : "https", registry) ||
        op_buf_take(&b, out)) {
        op_buf_free(&b);
        return OCIPUSH_E_NOMEM;
    }
    return OCIPUSH_OK;
}

int op_settings_init(op_settings *set, const char *registry)
{
    *set = (op_settings){
        .connect_ms = OP_DEFAULT_CONNECT_MS,
        .idle_ms = OP_DEFAULT_IDLE_MS,
        .timeout_ms = DEFAULT_TIMEOUT_MS,
        .strategy = OCIPUSH_STRATEGY_AUTO,
        .retry_attempts = 4,
        .retry_base_ms = 500,
        .retry_max_ms = 10000,
        .retry_jitter_percent = 20,
        .spool_enabled = 1,
        .spool_memory_cap = DEFAULT_SPOOL_CAP,
        .spool_disk_cap = DEFAULT_SPOOL_DISK_CAP,
        .layer_compression = OCIPUSH_COMPRESS_GZIP,
        .layer_compression_level = -1,
        .copy_concurrency = 4,
    };
    if (!(set->registry = op_strdup(registry)) ||
        make_base_url(&set->base_url, registry, set->plain_http))
        return OCIPUSH_E_NOMEM;
    return OCIPUSH_OK;
}

void op_settings_clear(op_settings *set)
{
#define OP_SETTINGS_FREE_(name, secret) op_replace_string(&set->name, NULL, secret);
    OP_SETTINGS_STRINGS(OP_SETTINGS_FREE_)
#undef OP_SETTINGS_FREE_
}

int op_settings_copy(op_settings *dst, const op_settings *src)
{
    *dst = *src;
    int rc = 0;
#define OP_SETTINGS_DUP_(name, secret)                                                             \
    dst->name = NULL;                                                                              \
    if (!rc)                                                                                       \
        rc = op_replace_string(&dst->name, src->name, secret);
    OP_SETTINGS_STRINGS(OP_SETTINGS_DUP_)
#undef OP_SETTINGS_DUP_
    if (rc)
        op_settings_clear(dst);
    return rc;
}

int op_settings_set_plain_http(op_settings *set, int enable)
{
    char *url = NULL;
    if (make_base_url(&url, set->registry, enable != 0))
        return OCIPUSH_E_NOMEM;
    op_free(set->base_url);
    set->base_url = url;
    set->plain_http = enable != 0;
    return OCIPUSH_OK;
}

int op_settings_set_basic_auth(op_settings *set, const char *username, const char *password)
{
    if (username && (!*username || !password || strchr(username, ':')))
        return OCIPUSH_E_INVALID;
    char *header = NULL;
    char *user = op_strdup(username);
    if (username) {
        op_buf pair = {.secret = 1};
        op_buf hdr = {.secret = 1};
        char *b64 = NULL;
        int rc = user ? 0 : OCIPUSH_E_NOMEM;
        rc = rc ? rc : op_buf_printf(&pair, "%s:%s", username, password);
        rc = rc ? rc : op_base64_encode(&b64, pair.data, pair.len);
        rc = rc ? rc : op_buf_printf(&hdr, "Basic %s", b64);
        rc = rc ? rc : op_buf_take(&hdr, &header);
        op_buf_free(&pair);
        op_buf_free(&hdr);
        op_free_secret_string(b64);
        if (rc) {
            op_free(user);
            return rc;
        }
    }
    op_free_secret_string(set->basic_auth);
    op_free(set->username);
    set->basic_auth = header;
    set->username = user;
    return OCIPUSH_OK;
}

int op_settings_set_identity_token(op_settings *set, const char *token)
{
    if (token && !*token)
        return OCIPUSH_E_INVALID;
    return op_replace_string(&set->identity_token, token, 1);
}
