/* The session: settings, the last error message, logging, and the HTTP
 * connection state shared by every request made through it. */
#ifndef OP_SESSION_H
#define OP_SESSION_H

#include <stdatomic.h>
#include <stdint.h>

#include "deadline.h"
#include "ocipush.h"

struct op_http;

struct ocipush_session {
    char *registry;   /* "host[:port]" as given (the directory, for a layout) */
    char *layout_dir; /* an OCI image layout instead of a registry, or NULL */
    char *base_url;   /* "https://host[:port]" */
    int plain_http;
    int insecure;
    char *ca_file;
    char *user_agent;
    char *basic_auth;     /* "Basic <base64>" or NULL; never logged */
    char *username;       /* kept for messages and the token realm */
    char *identity_token; /* an OAuth2 refresh token, used instead of a password */
    char *client_cert;
    char *client_key;
    long connect_ms;
    long idle_ms;
    int64_t helper_timeout_ms; /* a credential helper's deadline; 0: the default */
    int64_t timeout_ms;        /* the longest one public call may take; 0: no limit */
    int in_call;               /* a public call is in progress (deadline.c) */
    int64_t deadline_ms;       /* when it must end (CLOCK_MONOTONIC), 0: never */

    ocipush_log_fn log_fn;
    int log_level;
    void *log_user_data;
    ocipush_progress_fn progress_fn;
    void *progress_user_data;

    ocipush_strategy strategy;
    uint64_t chunk_size;
    int retry_attempts; /* every try, the first included */
    long retry_base_ms;
    long retry_max_ms;
    int retry_jitter_percent;
    uint64_t rng;
    int spool_enabled;
    uint64_t spool_memory_cap;

    /* Set after a streamed upload was rejected: this registry (or a proxy in
     * front of it) will not take chunked bodies, so later uploads are sent
     * length-delimited from the start. */
    int stream_rejected;
    int warned_insecure; /* the skip-verify warning is logged once */

    /* Authentication state (auth.c). */
    char *bearer_realm; /* set once the registry challenged with Bearer */
    char *bearer_service;
    char *scope_repository;   /* what the current operation pushes to */
    char *scope_mount_source; /* a repository it mounts from, or NULL */
    struct op_token *tokens;
    size_t token_count;

    /* ocipush_session_cancel() stores to *cancelled, which is cancel_flag
     * of the session the caller made, shared by pointer with the copies a
     * parallel push makes (op_session_clone), so that one store from a
     * signal handler stops every worker. The copies are freed before their
     * parent returns. cleaning_up: this session is undoing what a failed,
     * cancelled or timed-out call started (the DELETE of an upload session),
     * which still goes out, past a cancel or the call's deadline, each
     * request within OP_CLEANUP_MS. */
    atomic_int cancel_flag;
    atomic_int *cancelled;
    int cleaning_up;

    struct op_http *http; /* created on first use */
    char errmsg[1024];
};

/* Record a failure: formats the message into session->errmsg and returns
 * code, so callers can `return op_fail(s, OCIPUSH_E_X, "...")`. */
int op_fail(ocipush_session *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Format and deliver a log message if a callback is set and wants the level. */
void op_log(ocipush_session *s, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A new session with the same registry, settings, callbacks and what
 * authentication learned, for a worker thread. 0 or OCIPUSH_E_NOMEM. */
int op_session_clone(ocipush_session **out, const ocipush_session *s);

/* The first statement of every public call on a session, in the function's
 * outermost block: clears the error message and, for the outermost call,
 * starts the call's deadline, which ends when the function returns, on
 * every path (the cleanup attribute of GCC and Clang). */
#define op_call_scope(s)                                                                           \
    op_call op_call_scope_ __attribute__((cleanup(op_call_end), unused)) = op_call_begin(s)

/* How long each request that cleans up (s->cleaning_up) may take. */
#define OP_CLEANUP_MS 5000L

/* Whether ocipush_session_cancel() was called and the call in progress
 * should stop now (never while it cleans up). Any thread. */
int op_session_cancelled(const ocipush_session *s);

/* OCIPUSH_E_ABORTED with a message when op_session_cancelled(), else 0. */
int op_session_check_cancel(ocipush_session *s);

#endif
