#include "alloc.h"
#include "session.h"

#include <errno.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "auth.h"
#include "digest.h"
#include "http.h"
#include "layout.h"
#include "reference.h"
#include "sanitize.h"
#include "validate.h"

#define DEFAULT_CONNECT_MS 30000L
#define DEFAULT_IDLE_MS 300000L
/* An hour: a bound on a registry that never lets a call end, which a large
 * blob on a slow link (4 GiB at 10 Mbit/s) still fits in; callers raise it. */
#define DEFAULT_TIMEOUT_MS (3600LL * 1000)
#define DEFAULT_SPOOL_CAP (1u << 20)
/* A layout session's registry: a name that resolves nowhere (RFC 6761). */
#define LAYOUT_PLACEHOLDER "oci-layout.invalid"

static int make_base_url(ocipush_session *s)
{
    op_buf b = {0};
    if (op_buf_printf(&b, "%s://%s", s->plain_http ? "http" : "https", s->registry)) {
        op_buf_free(&b);
        return OCIPUSH_E_NOMEM;
    }
    op_free(s->base_url);
    return op_buf_take(&b, &s->base_url);
}

int ocipush_session_new(ocipush_session **out, const char *registry)
{
    if (!out || op_registry_validate(registry))
        return OCIPUSH_E_INVALID;
    ocipush_session *s = op_calloc(1, sizeof *s);
    if (!s)
        return OCIPUSH_E_NOMEM;
    s->registry = op_strdup(registry);
    s->connect_ms = DEFAULT_CONNECT_MS;
    s->idle_ms = DEFAULT_IDLE_MS;
    s->timeout_ms = DEFAULT_TIMEOUT_MS;
    s->strategy = OCIPUSH_STRATEGY_AUTO;
    s->spool_enabled = 1;
    s->spool_memory_cap = DEFAULT_SPOOL_CAP;
    s->retry_attempts = 4;
    s->retry_base_ms = 500;
    s->retry_max_ms = 10000;
    s->retry_jitter_percent = 20;
    atomic_init(&s->cancel_flag, 0);
    s->cancelled = &s->cancel_flag;
    if (!s->registry || make_base_url(s) || op_http_new(&s->http)) {
        ocipush_session_free(s);
        return OCIPUSH_E_NOMEM;
    }
    *out = s;
    return OCIPUSH_OK;
}

static int replace_string(char **slot, const char *value)
{
    char *copy = NULL;
    if (value && !(copy = op_strdup(value)))
        return OCIPUSH_E_NOMEM;
    op_free(*slot);
    *slot = copy;
    return OCIPUSH_OK;
}

int ocipush_session_new_layout(ocipush_session **out, const char *directory)
{
    if (!out || !directory || !*directory)
        return OCIPUSH_E_INVALID;
    int rc = op_layout_create(directory);
    if (rc)
        return rc;
    ocipush_session *s = NULL;
    /* A placeholder registry keeps the session whole; nothing goes there. */
    if ((rc = ocipush_session_new(&s, LAYOUT_PLACEHOLDER)))
        return rc;
    if (replace_string(&s->layout_dir, directory) || replace_string(&s->registry, directory)) {
        ocipush_session_free(s);
        return OCIPUSH_E_NOMEM;
    }
    *out = s;
    return OCIPUSH_OK;
}

void ocipush_session_free(ocipush_session *s)
{
    if (!s)
        return;
    op_free(s->layout_dir);
    op_http_free(s->http);
    op_auth_clear(s);
    op_free(s->registry);
    op_free(s->base_url);
    op_free(s->ca_file);
    op_free(s->user_agent);
    op_free(s->client_cert);
    op_free(s->client_key);
    op_free(s->username);
    op_free_secret_string(s->basic_auth);
    op_free_secret_string(s->identity_token);
    op_free(s);
}

const char *ocipush_session_errmsg(const ocipush_session *s)
{
    return s ? s->errmsg : "no session";
}

/* Messages quote what servers sent (error texts, header values, URLs):
 * whatever got through unescaped, a message is one line with nothing a
 * terminal acts on. */
int op_fail(ocipush_session *s, int code, const char *fmt, ...)
{
    char raw[2 * sizeof s->errmsg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    op_sanitize(s->errmsg, sizeof s->errmsg, raw, strlen(raw));
    op_log(s, OCIPUSH_LOG_DEBUG, "error: %s", s->errmsg);
    return code;
}

void op_log(ocipush_session *s, int level, const char *fmt, ...)
{
    if (!s->log_fn || level > s->log_level)
        return;
    char raw[2048], msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    op_sanitize(msg, sizeof msg, raw, strlen(raw));
    s->log_fn(level, msg, s->log_user_data);
}

/* A signal handler may call ocipush_session_cancel(): the store must not
 * take a lock. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "atomic_int is not always lock-free");

int ocipush_session_cancel(ocipush_session *s)
{
    if (!s)
        return OCIPUSH_E_INVALID;
    atomic_store_explicit(s->cancelled, 1, memory_order_relaxed);
    return OCIPUSH_OK;
}

int op_session_cancelled(const ocipush_session *s)
{
    return !s->cleaning_up && atomic_load_explicit(s->cancelled, memory_order_relaxed);
}

int op_session_check_cancel(ocipush_session *s)
{
    if (!op_session_cancelled(s))
        return 0;
    return op_fail(s, OCIPUSH_E_ABORTED, "cancelled (ocipush_session_cancel)");
}

int ocipush_session_set_plain_http(ocipush_session *s, int enable)
{
    if (!s)
        return OCIPUSH_E_INVALID;
    int old = s->plain_http;
    s->plain_http = enable != 0;
    if (make_base_url(s)) {
        s->plain_http = old;
        return OCIPUSH_E_NOMEM;
    }
    return OCIPUSH_OK;
}

int ocipush_session_set_ca_file(ocipush_session *s, const char *path)
{
    if (!s || (path && !*path))
        return OCIPUSH_E_INVALID;
    return replace_string(&s->ca_file, path);
}

int ocipush_session_set_insecure(ocipush_session *s, int enable)
{
    if (!s)
        return OCIPUSH_E_INVALID;
    s->insecure = enable != 0;
    return OCIPUSH_OK;
}

int ocipush_session_set_basic_auth(ocipush_session *s, const char *username, const char *password)
{
    if (!s || (username && (!*username || !password || strchr(username, ':'))))
        return OCIPUSH_E_INVALID;
    char *header = NULL;
    char *user = op_strdup(username);
    if (username) {
        op_buf pair = {.secret = 1};
        char *b64 = NULL;
        int rc = user ? 0 : OCIPUSH_E_NOMEM;
        rc = rc ? rc : op_buf_printf(&pair, "%s:%s", username, password);
        rc = rc ? rc : op_base64_encode(&b64, pair.data, pair.len);
        op_buf hdr = {.secret = 1};
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
    op_free_secret_string(s->basic_auth);
    op_free(s->username);
    s->basic_auth = header;
    s->username = user;
    return OCIPUSH_OK;
}

int ocipush_session_set_identity_token(ocipush_session *s, const char *token)
{
    if (!s || (token && !*token))
        return OCIPUSH_E_INVALID;
    char *copy = op_strdup(token);
    if (token && !copy)
        return OCIPUSH_E_NOMEM;
    op_free_secret_string(s->identity_token);
    s->identity_token = copy;
    return OCIPUSH_OK;
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
    op_free(s->client_cert);
    op_free(s->client_key);
    s->client_cert = cert;
    s->client_key = key;
    return OCIPUSH_OK;
}

int ocipush_session_set_user_agent(ocipush_session *s, const char *user_agent)
{
    if (!s)
        return OCIPUSH_E_INVALID;
    op_call_scope(s);
    /* curl sends it as it is: a CR or LF would end the header early. */
    if (user_agent && op_header_text_check(user_agent))
        return op_fail(s, OCIPUSH_E_INVALID,
                       "the user agent is empty or holds a control character (CR, LF, NUL, ...)");
    return replace_string(&s->user_agent, user_agent);
}

int ocipush_session_set_timeouts(ocipush_session *s, long connect_ms, long idle_ms)
{
    if (!s || connect_ms < 0 || idle_ms < 0)
        return OCIPUSH_E_INVALID;
    s->connect_ms = connect_ms ? connect_ms : DEFAULT_CONNECT_MS;
    s->idle_ms = idle_ms ? idle_ms : DEFAULT_IDLE_MS;
    return OCIPUSH_OK;
}

int ocipush_session_set_timeout(ocipush_session *s, int64_t total_ms)
{
    if (!s || total_ms < 0)
        return OCIPUSH_E_INVALID;
    s->timeout_ms = total_ms;
    return OCIPUSH_OK;
}

int ocipush_session_set_log_callback(ocipush_session *s, ocipush_log_fn fn, int max_level,
                                     void *user_data)
{
    if (!s)
        return OCIPUSH_E_INVALID;
    s->log_fn = fn;
    s->log_level = max_level;
    s->log_user_data = user_data;
    return OCIPUSH_OK;
}

int ocipush_session_set_progress_callback(ocipush_session *s, ocipush_progress_fn fn,
                                          void *user_data)
{
    if (!s)
        return OCIPUSH_E_INVALID;
    s->progress_fn = fn;
    s->progress_user_data = user_data;
    return OCIPUSH_OK;
}

int ocipush_session_set_strategy(ocipush_session *s, ocipush_strategy strategy)
{
    if (!s || strategy < OCIPUSH_STRATEGY_AUTO || strategy > OCIPUSH_STRATEGY_CHUNKED)
        return OCIPUSH_E_INVALID;
    s->strategy = strategy;
    return OCIPUSH_OK;
}

int ocipush_session_set_chunk_size(ocipush_session *s, uint64_t bytes)
{
    if (!s || (bytes && bytes < OCIPUSH_CHUNK_SIZE_MIN))
        return OCIPUSH_E_INVALID;
    s->chunk_size = bytes;
    return OCIPUSH_OK;
}

int ocipush_session_set_retry(ocipush_session *s, int max_attempts, long base_delay_ms,
                              long max_delay_ms, int jitter_percent)
{
    if (!s || max_attempts < 1 || base_delay_ms < 0 || max_delay_ms < base_delay_ms ||
        jitter_percent < 0 || jitter_percent > 100)
        return OCIPUSH_E_INVALID;
    s->retry_attempts = max_attempts;
    s->retry_base_ms = base_delay_ms;
    s->retry_max_ms = max_delay_ms;
    s->retry_jitter_percent = jitter_percent;
    return OCIPUSH_OK;
}

int ocipush_session_set_spool(ocipush_session *s, int enable, uint64_t memory_cap)
{
    if (!s)
        return OCIPUSH_E_INVALID;
    s->spool_enabled = enable != 0;
    s->spool_memory_cap = memory_cap;
    return OCIPUSH_OK;
}

int ocipush_session_ping(ocipush_session *s, const char *repository)
{
    if (!s)
        return OCIPUSH_E_INVALID;
    op_call_scope(s);
    if (repository && ocipush_repository_validate(repository))
        return op_fail(s, OCIPUSH_E_INVALID, "invalid repository name '%s'", repository);
    if (repository && op_auth_set_repository(s, repository))
        return OCIPUSH_E_NOMEM;
    if (s->layout_dir)
        return access(s->layout_dir, W_OK) == 0 ? OCIPUSH_OK
                                                : op_fail(s, OCIPUSH_E_IO, "cannot write in %s: %s",
                                                          s->layout_dir, strerror(errno));
    op_buf url = {0};
    if (op_buf_printf(&url, "%s/v2/", s->base_url)) {
        op_buf_free(&url);
        return op_fail(s, OCIPUSH_E_NOMEM, "out of memory");
    }
    op_response resp = {0};
    op_request req = {.method = "GET", .url = url.data, .idempotent = 1};
    int rc = op_http_perform(s, &req, &resp);
    if (rc == 0 && resp.status != 200)
        rc = op_http_fail(s, "checking the registry", &req, &resp);
    op_response_clear(&resp);
    op_buf_free(&url);
    return rc;
}

int op_session_clone(ocipush_session **out, const ocipush_session *s)
{
    ocipush_session *c = NULL;
    /* A layout session's registry is its directory, no host name. */
    int rc = ocipush_session_new(&c, s->layout_dir ? LAYOUT_PLACEHOLDER : s->registry);
    rc = rc ? rc : ocipush_session_set_plain_http(c, s->plain_http);
    rc = rc ? rc : replace_string(&c->ca_file, s->ca_file);
    rc = rc ? rc : replace_string(&c->user_agent, s->user_agent);
    rc = rc ? rc : replace_string(&c->basic_auth, s->basic_auth);
    rc = rc ? rc : replace_string(&c->username, s->username);
    rc = rc ? rc : replace_string(&c->identity_token, s->identity_token);
    rc = rc ? rc : replace_string(&c->client_cert, s->client_cert);
    rc = rc ? rc : replace_string(&c->client_key, s->client_key);
    rc = rc ? rc : replace_string(&c->layout_dir, s->layout_dir);
    rc = rc ? rc : replace_string(&c->registry, s->registry);
    rc = rc ? rc : op_auth_copy(c, s);
    if (rc) {
        ocipush_session_free(c);
        return OCIPUSH_E_NOMEM;
    }
    c->insecure = s->insecure;
    c->warned_insecure = s->warned_insecure;
    c->connect_ms = s->connect_ms;
    c->idle_ms = s->idle_ms;
    c->helper_timeout_ms = s->helper_timeout_ms;
    /* A worker works inside its parent's call, to the same deadline. */
    c->timeout_ms = s->timeout_ms;
    c->in_call = s->in_call;
    c->deadline_ms = s->deadline_ms;
    c->log_fn = s->log_fn;
    c->log_level = s->log_level;
    c->log_user_data = s->log_user_data;
    c->progress_fn = s->progress_fn;
    c->progress_user_data = s->progress_user_data;
    c->strategy = s->strategy;
    c->chunk_size = s->chunk_size;
    c->retry_attempts = s->retry_attempts;
    c->retry_base_ms = s->retry_base_ms;
    c->retry_max_ms = s->retry_max_ms;
    c->retry_jitter_percent = s->retry_jitter_percent;
    c->spool_enabled = s->spool_enabled;
    c->spool_memory_cap = s->spool_memory_cap;
    c->stream_rejected = s->stream_rejected;
    c->cancelled = s->cancelled;
    *out = c;
    return 0;
}
