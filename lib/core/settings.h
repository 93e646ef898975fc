/* A session's settings as plain data: what the caller chose (or the
 * defaults), read by every layer, written only by the session's setters
 * and the credential stores. op_settings_copy() is the one function that
 * copies them, for the session a worker thread uses. */
#ifndef OP_SETTINGS_H
#define OP_SETTINGS_H

#include <stdint.h>

#include "ocipush.h"

/* The transfer timeouts ocipush_session_set_timeouts() falls back to. */
#define OP_DEFAULT_CONNECT_MS 30000L
#define OP_DEFAULT_IDLE_MS 300000L

/* Every string setting, with whether it holds a secret (wiped when freed).
 * The struct declares its strings from this list, so op_settings_copy and
 * op_settings_clear cannot miss one. */
#define OP_SETTINGS_STRINGS(X)                                                                     \
    X(registry, 0) /* "host[:port]" as given (the directory, for a layout) */                      \
    X(base_url, 0) /* "https://host[:port]", from registry and plain_http */                       \
    X(ca_file, 0)                                                                                  \
    X(user_agent, 0) /* NULL: "ocipush/VERSION" */                                                 \
    X(client_cert, 0)                                                                              \
    X(client_key, 0)                                                                               \
    X(username, 0)        /* kept for messages and the token realm */                              \
    X(basic_auth, 1)      /* "Basic <base64>" or NULL; never logged */                             \
    X(identity_token, 1)  /* an OAuth2 refresh token, used instead of a password */                \
    X(copy_mount_from, 0) /* ocipush_copy: the repository blobs are mounted from, or NULL */

typedef struct op_settings {
#define OP_SETTINGS_DECLARE_(name, secret) char *name;
    OP_SETTINGS_STRINGS(OP_SETTINGS_DECLARE_)
#undef OP_SETTINGS_DECLARE_
    int plain_http;
    int insecure;
    long connect_ms;
    long idle_ms;
    int64_t helper_timeout_ms; /* a credential helper's deadline; 0: the default */
    int64_t timeout_ms;        /* the longest one public call may take; 0: no limit */
    ocipush_progress_fn progress_fn;
    void *progress_user_data;
    ocipush_strategy strategy;
    uint64_t chunk_size; /* 0: the strategy's default */
    int retry_attempts;  /* every try, the first included */
    long retry_base_ms;
    long retry_max_ms;
    int retry_jitter_percent;
    int spool_enabled;
    uint64_t spool_memory_cap;
    uint64_t spool_disk_cap; /* the window is memory_cap + disk_cap bytes */
    int layer_compression;   /* a docker archive's layers: OCIPUSH_COMPRESS_* */
    int layer_compression_level;
    int copy_concurrency; /* ocipush_copy's blobs at once */
} op_settings;

/* The defaults, for a registry "host[:port]". 0 or OCIPUSH_E_NOMEM (then
 * op_settings_clear() frees what was made). */
int op_settings_init(op_settings *set, const char *registry);

/* dst (uninitialized) becomes a copy of src, its strings duplicated.
 * 0 or OCIPUSH_E_NOMEM (dst then holds nothing to free). */
int op_settings_copy(op_settings *dst, const op_settings *src);

/* Free the strings (secrets wiped first); the settings hold nothing after. */
void op_settings_clear(op_settings *set);

/* plain_http and the base URL made from it. 0 or OCIPUSH_E_NOMEM, nothing
 * changed. */
int op_settings_set_plain_http(op_settings *set, int enable);

/* Basic credentials (username NULL: none). 0, OCIPUSH_E_INVALID (an empty
 * username, one with ':', or no password), OCIPUSH_E_NOMEM; nothing changed
 * on failure. */
int op_settings_set_basic_auth(op_settings *set, const char *username, const char *password);

/* An identity (refresh) token (NULL: none). 0, OCIPUSH_E_INVALID (empty),
 * OCIPUSH_E_NOMEM; nothing changed on failure. */
int op_settings_set_identity_token(op_settings *set, const char *token);

#endif
