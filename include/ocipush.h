/*
 * ocipush: push blobs, manifests and whole artifacts to OCI registries.
 *
 * Conventions, true of every function below unless its comment says otherwise:
 *
 * - Handles are opaque. Each is made by an `_new` function and released by the
 *   matching `_free`, and `_free(NULL)` does nothing.
 * - Every call that can fail returns an `int`: 0 (OCIPUSH_OK) on success or one of
 *   the negative OCIPUSH_E_* codes. The codes are fixed and never renumbered.
 *   ocipush_strerror() names a code; ocipush_session_errmsg() gives the detail of
 *   the last failure on a session (what was being done, the HTTP status, the
 *   registry's error code and message).
 * - Arguments come in one order: the handle the call works on (a session,
 *   then the push, manifest or descriptor it acts on), then the out-parameters,
 *   named `out` or `out_*`, then the inputs. Out-parameters are written only on
 *   success. Strings passed in are copied unless said otherwise; nothing passed in
 *   is freed by ocipush unless said otherwise.
 * - A digest is written into a caller's buffer of OCIPUSH_DIGEST_MAX bytes,
 *   which holds the longest digest OCI allows ("sha512:" and 128 hex digits)
 *   and its NUL; ocipush never writes more than that, whatever the algorithm.
 * - Callbacks take a `void *user_data` as their last argument and run inside
 *   the ocipush call that triggered them, on the calling thread, with two
 *   exceptions: ocipush_push_run() with a concurrency above 1 and more than one
 *   distinct layer source uploads the layers on worker threads of its own,
 *   and the layers' source callbacks, the session's log callback and the
 *   push's progress callback then run on those threads (which of them may run
 *   at the same time: see ocipush_push_set_concurrency()); ocipush_copy()
 *   does the same with the blobs of an image, and the session's log and
 *   progress callbacks then run on its threads, one call at a time (see
 *   ocipush_session_set_copy_concurrency()).
 * - Threads: a handle may be used by one thread at a time (except for
 *   ocipush_session_cancel(), which any thread or a signal handler may call
 *   on a session another thread is using). Different sessions
 *   (and the sources, manifests and pushes used with them) may be used from
 *   different threads at once. The worker threads of ocipush_push_run() are
 *   joined before it returns. Nothing in ocipush is process-global except the
 *   one-time initialisation of libcurl and of mbedTLS's PSA crypto, which ocipush
 *   does on the first ocipush_session_new() (or ocipush_global_init()), the allocator (which may be
 *   called from several threads at once, see ocipush_set_allocator()), and
 *   the environment, which ocipush reads and never changes: HOME,
 *   DOCKER_CONFIG, HELM_REGISTRY_CONFIG and PATH (credential lookup),
 *   TMPDIR (the spool), SOURCE_DATE_EPOCH (a chart's timestamps), and what
 *   libcurl reads itself (the proxy variables: http_proxy, https_proxy,
 *   no_proxy, ...). ocipush never changes a signal disposition or the signal
 *   mask of a thread it did not start. Every file, pipe and socket ocipush
 *   opens itself is close-on-exec from the moment it is made, so a child
 *   process another thread starts inherits none of them (the connections
 *   libcurl opens are as libcurl makes them: older versions, such as 7.88,
 *   leave them inheritable).
 * - No call is variadic and no callback takes a va_list, so every function can be
 *   called through an FFI (ctypes, cgo, JNA, ...).
 */
#ifndef OCIPUSH_H
#define OCIPUSH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(OCIPUSH_BUILDING)
#define OCIPUSH_API __declspec(dllexport)
#elif defined(OCIPUSH_BUILDING) && defined(__GNUC__)
#define OCIPUSH_API __attribute__((visibility("default")))
#else
#define OCIPUSH_API
#endif

/* ------------------------------------------------------------------------ */
/* Status codes                                                             */
/* ------------------------------------------------------------------------ */

#define OCIPUSH_OK 0
/** A parameter was invalid: NULL where a value is needed, a malformed
 *  reference, repository, tag or digest, an unknown enum value. */
#define OCIPUSH_E_INVALID (-1)
/** Memory could not be allocated. */
#define OCIPUSH_E_NOMEM (-2)
/** A local I/O error: a file could not be opened or read, a spool file could
 *  not be written. errno is left as the failing system call set it. */
#define OCIPUSH_E_IO (-3)
/** The registry could not be reached or the connection failed (DNS, refused,
 *  reset, timeout, TLS handshake), an answer was cut short (its body shorter
 *  than its Content-Length, the connection closed in the middle), or the
 *  call's deadline passed (ocipush_session_set_timeout()). */
#define OCIPUSH_E_NETWORK (-4)
/** The registry answered with an error status the operation cannot recover
 *  from. The message names the request, the status and the registry's error. */
#define OCIPUSH_E_HTTP (-5)
/** The registry rejected the credentials (401 or 403). */
#define OCIPUSH_E_AUTH (-6)
/** The content did not hash to the expected digest; nothing was committed. */
#define OCIPUSH_E_DIGEST_MISMATCH (-7)
/** A body source's read, size or rewind callback failed. */
#define OCIPUSH_E_SOURCE (-8)
/** A rejected upload had to be sent again but its source cannot rewind and
 *  the spool is off, so the bytes could not be replayed. */
#define OCIPUSH_E_NOT_REPLAYABLE (-9)
/** The progress callback asked to stop, or ocipush_session_cancel() was
 *  called. */
#define OCIPUSH_E_ABORTED (-10)
/** The registry answered something the protocol does not allow (a missing
 *  Location, a wrong digest in a response, an error body over 64 KiB or a
 *  manifest or token over 4 MiB). */
#define OCIPUSH_E_PROTOCOL (-11)
/** This build of ocipush lacks the feature (Helm charts without libarchive
 *  and libyaml). */
#define OCIPUSH_E_UNSUPPORTED (-12)
/** ocipush_blob_push_mount() was given no source, and the blob is neither in
 *  the repository nor mounted: nothing was done. */
#define OCIPUSH_E_NOT_MOUNTED (-13)

/**
 * Static English text naming a status code ("invalid argument", ...).
 * Never NULL; unknown codes give "unknown error". Thread-safe.
 */
OCIPUSH_API const char *ocipush_strerror(int code);

/**
 * Set up what ocipush needs process-wide (libcurl's global state through
 * curl_global_init(CURL_GLOBAL_DEFAULT), the digest backend), now rather
 * than on the first ocipush_session_new(). Optional: ocipush does it by
 * itself when first needed, and that lazy set-up is never undone. A host
 * that manages libcurl's global state itself, or wants it set up before it
 * starts threads, calls this once (or once per user: calls are counted)
 * and ocipush_global_cleanup() as many times. Thread-safe, also with a
 * libcurl older than 7.84 for calls made through ocipush. 0 or
 * OCIPUSH_E_NOMEM (libcurl's set-up failed).
 */
OCIPUSH_API int ocipush_global_init(void);

/**
 * Undo one ocipush_global_init() (curl_global_cleanup); a call with none to
 * undo does nothing. As with curl_global_cleanup(), no session may be in use
 * while the last one runs. Thread-safe.
 */
OCIPUSH_API void ocipush_global_cleanup(void);

/** The library version as "MAJOR.MINOR.PATCH". Static; thread-safe. */
OCIPUSH_API const char *ocipush_version(void);

/**
 * The version this header is of, as numbers and as OCIPUSH_VERSION_NUM
 * (0xMMmmpp, libcurl's LIBCURL_VERSION_NUM form), for a caller to compare
 * with ocipush_version_num(): the library it runs with may be another.
 */
#define OCIPUSH_VERSION_MAJOR 0
#define OCIPUSH_VERSION_MINOR 1
#define OCIPUSH_VERSION_PATCH 0
#define OCIPUSH_VERSION_NUM                                                                        \
    ((OCIPUSH_VERSION_MAJOR << 16) | (OCIPUSH_VERSION_MINOR << 8) | OCIPUSH_VERSION_PATCH)

/** The running library's version as OCIPUSH_VERSION_NUM gives it
 *  (0xMMmmpp), as SQLite's sqlite3_libversion_number() does. Static;
 *  thread-safe. */
OCIPUSH_API unsigned ocipush_version_num(void);

/**
 * Whether the library was built with `feature`: "helm" (Helm charts,
 * ocipush_chart_push()), "oci-archive" (ocipush_copy() from an OCI archive:
 * libarchive), "directory-layers" (ocipush_source_new_tar_dir(): libarchive),
 * "zstd" (OCIPUSH_COMPRESS_ZSTD: libzstd), "mbedtls" or "openssl" (the
 * SHA-256 backend), so a
 * caller or a binding need not call a function to find it missing. 1 or 0;
 * 0 for an unknown name or NULL. Static; thread-safe.
 */
OCIPUSH_API int ocipush_feature(const char *feature);

/** The version of the libcurl the library runs with ("7.88.1"), for a
 *  caller's --version. Static; thread-safe. */
OCIPUSH_API const char *ocipush_libcurl_version(void);

/** Size of every digest output buffer: the longest digest the OCI image spec
 *  allows, "sha512:" and 128 hex digits, and its NUL. Today's digests are
 *  "sha256:<64 hex>" (72 bytes with the NUL); a buffer sized by this constant
 *  stays large enough when sha512 digests come. */
#define OCIPUSH_DIGEST_MAX 136

/** Release memory that ocipush returned through an out-parameter documented as
 *  "free with ocipush_free". NULL does nothing. */
OCIPUSH_API void ocipush_free(void *ptr);

/** Allocator functions for ocipush_set_allocator(); `size` is never 0. */
typedef void *(*ocipush_malloc_fn)(size_t size, void *user_data);
typedef void *(*ocipush_realloc_fn)(void *ptr, size_t size, void *user_data);
typedef void (*ocipush_free_fn)(void *ptr, void *user_data);

/**
 * Make every allocation of ocipush (not those libcurl, cJSON or mbedTLS make
 * for themselves) go through these functions, with `user_data`; all three
 * NULL restore malloc, realloc and free. Process-wide: call it before any
 * other ocipush function and while no ocipush object exists, from one
 * thread. The functions may then be called from several threads at once
 * (sessions used from different threads, the worker threads of a parallel
 * ocipush_push_run()), so they must be thread-safe. Memory ocipush hands out
 * (ocipush_free) comes from them too. An allocation that fails makes the
 * call in progress fail with OCIPUSH_E_NOMEM, leaking nothing. Returns
 * OCIPUSH_OK, or OCIPUSH_E_INVALID when some but not all are NULL.
 */
OCIPUSH_API int ocipush_set_allocator(ocipush_malloc_fn malloc_fn, ocipush_realloc_fn realloc_fn,
                                      ocipush_free_fn free_fn, void *user_data);

/* ------------------------------------------------------------------------ */
/* Session                                                                  */
/* ------------------------------------------------------------------------ */

/** A connection to one registry, with its settings, its connection cache and
 *  the message of its last failure. */
typedef struct ocipush_session ocipush_session;

/** How blobs are uploaded (see ocipush_session_set_strategy). */
typedef enum ocipush_strategy {
    /** Length-delimited when the size is known, streamed when it is not. A
     *  blob of at most 4 MiB whose digest is known goes in one PUT; its
     *  digest is known when given, and a rewindable source of known size up
     *  to 4 MiB is hashed before anything is sent so that it is (and so that
     *  a blob the registry has already is skipped, see ocipush_blob_push()).
     *  A larger blob goes in a PATCH with Content-Range, hashed as it is
     *  sent, then a PUT. The default. */
    OCIPUSH_STRATEGY_AUTO = 0,
    /** POST, then one PUT ?digest= carrying the whole body with a
     *  Content-Length. A source of unknown size or digest is read (and, if it
     *  cannot rewind, spooled) once first to learn them. */
    OCIPUSH_STRATEGY_MONOLITHIC = 1,
    /** POST, one PATCH with Transfer-Encoding: chunked, then PUT ?digest=.
     *  Constant memory; the digest is computed while sending. */
    OCIPUSH_STRATEGY_STREAM = 2,
    /** POST, PATCHes of the chunk size with Content-Range and Content-Length
     *  (never smaller than the registry's OCI-Chunk-Min-Length), then PUT. */
    OCIPUSH_STRATEGY_CHUNKED = 3
} ocipush_strategy;

/** Log levels passed to the log callback. */
typedef enum ocipush_log_level {
    OCIPUSH_LOG_ERROR = 0,
    OCIPUSH_LOG_WARN = 1,
    OCIPUSH_LOG_INFO = 2,
    OCIPUSH_LOG_DEBUG = 3
} ocipush_log_level;

/**
 * Log callback. `message` is already formatted, has no trailing newline, never
 * contains credentials, and is valid only during the call. It is one line
 * with no control character: what servers sent (error messages, header
 * values, URLs) is escaped there as \xNN, as in ocipush_session_errmsg(). Called on the
 * calling thread, or, during a parallel ocipush_push_run(), on its worker
 * threads, one call at a time (see ocipush_push_set_concurrency()).
 */
typedef void (*ocipush_log_fn)(int level, const char *message, void *user_data);

/**
 * Progress callback, called as body bytes are read for upload. `done` is the
 * number of bytes of the current blob read so far (it goes back to 0 when an
 * upload is started again), `total` its size or -1 when not known yet. Return 0
 * to go on, nonzero to abort the operation with OCIPUSH_E_ABORTED. Called on
 * the calling thread: a parallel ocipush_push_run() does not call it for the
 * layers (see ocipush_push_set_concurrency()). During ocipush_copy() it tells
 * the blobs of the image being copied in all (`done` of them all, `total`
 * theirs or -1), one call at a time, on the copy's worker threads when it
 * has several (see ocipush_session_set_copy_concurrency()).
 */
typedef int (*ocipush_progress_fn)(uint64_t done, int64_t total, void *user_data);

/**
 * Make a session for the registry `registry`, given as "host" or "host:port"
 * (an IPv6 address in brackets: "[::1]:5000"). HTTPS is used unless
 * ocipush_session_set_plain_http() says otherwise.
 *
 * Returns OCIPUSH_OK and sets *out, OCIPUSH_E_INVALID for a NULL or malformed
 * registry, OCIPUSH_E_NOMEM. Free with ocipush_session_free().
 */
OCIPUSH_API int ocipush_session_new(ocipush_session **out, const char *registry);

/**
 * Make a session that pushes into the OCI image layout at `directory`
 * instead of a registry. What is missing is made now: the directories above
 * `directory`, as `mkdir -p` makes them (mode 0777 less the umask), then
 * `directory` and its blobs/sha256/ (0755 less the umask), and its
 * `oci-layout` file. Blobs are written under blobs/sha256/ (through a
 * temporary file, checked, then renamed), manifests too, and a tag is an
 * entry of index.json named by org.opencontainers.image.ref.name (a tag
 * pushed again moves). The bytes are the ones a registry would get, so
 * digests are the same. Repository names given to the other calls are
 * checked but not used (a layout holds one image store); mounts upload
 * instead (a mount with no source returns OCIPUSH_E_NOT_MOUNTED); the
 * network settings are ignored. Not safe with another process writing the
 * same layout at the same time. Returns OCIPUSH_OK, OCIPUSH_E_INVALID,
 * OCIPUSH_E_IO (errno set: a directory that cannot be made, a file where a
 * directory should be), OCIPUSH_E_NOMEM. Free with ocipush_session_free().
 */
OCIPUSH_API int ocipush_session_new_layout(ocipush_session **out, const char *directory);

/** Free a session, closing its connections. NULL does nothing. */
OCIPUSH_API void ocipush_session_free(ocipush_session *session);

/**
 * The detail message of the last failing call made with this session (or
 * with an object used through it), "" if none failed. One line of at most
 * 1023 bytes: what a server sent is quoted sanitized, control characters,
 * DEL, bytes that are not UTF-8, C1 and bidirectional controls escaped as
 * \xNN, each of its fields cut at 300 bytes with "...". Valid until the next
 * call on the session. Never NULL for a non-NULL session.
 */
OCIPUSH_API const char *ocipush_session_errmsg(const ocipush_session *session);

/**
 * The HTTP status of the registry's answer that ocipush_session_errmsg()
 * reports (401, 404, 400, ...): what made the last failing call on this
 * session fail, for a script or a binding to act on without parsing the
 * message. 0 when the message is about no answer (none came, the input was
 * refused, the source failed) or there is none. Cleared, with the message,
 * when a call starts. Thread-safe as the session is (see the conventions
 * above). 0 for NULL.
 */
OCIPUSH_API int ocipush_session_http_status(const ocipush_session *session);

/**
 * The registry's error code in that answer (the first of its "errors", as
 * the OCI distribution spec names them: MANIFEST_BLOB_UNKNOWN, DENIED,
 * UNAUTHORIZED, ...), or "" when it gave none or the message is about no
 * answer. Sanitized as ocipush_session_errmsg() is, at most 63 bytes. Valid
 * until the next call on the session; never NULL ("" for NULL).
 */
OCIPUSH_API const char *ocipush_session_error_code(const ocipush_session *session);

/** Use plain http:// instead of https:// when `enable` is nonzero.
 *  Returns OCIPUSH_OK or OCIPUSH_E_INVALID. */
OCIPUSH_API int ocipush_session_set_plain_http(ocipush_session *session, int enable);

/** Trust the PEM CA bundle at `path` (copied) instead of the system store;
 *  NULL returns to the system store. Returns OCIPUSH_OK, OCIPUSH_E_INVALID,
 *  OCIPUSH_E_NOMEM. The file is read at the first request. */
OCIPUSH_API int ocipush_session_set_ca_file(ocipush_session *session, const char *path);

/** Skip TLS certificate and host name verification when `enable` is nonzero
 *  (logged as a warning at the first request). Returns OCIPUSH_OK or
 *  OCIPUSH_E_INVALID. */
OCIPUSH_API int ocipush_session_set_insecure(ocipush_session *session, int enable);

/**
 * Credentials (copied). With a registry that answers a Basic challenge they
 * are sent as Basic, only to the registry's own scheme, host and port, never
 * to an upload Location or redirect elsewhere. With one that answers a
 * Bearer challenge they are sent only to its token realm (over https, or
 * over http when the session is plain http; an https registry's plain-http
 * realm gets an anonymous request, and the error says the credentials were
 * withheld), and only to the realm's own origin: a realm that redirects to
 * another scheme, host or port is followed without them. They are sent to
 * get a token for the repository being pushed ("repository:NAME:push,pull");
 * without credentials an anonymous token is asked for. A token that is not
 * an RFC 6750 b64token is refused (OCIPUSH_E_PROTOCOL), never sent. Tokens
 * are cached per scope until they expire, and a 401 in the middle of an
 * upload gets a new one and the request is sent again (from the rewound
 * source or the spool). Credentials and tokens never appear in log messages
 * or error messages. NULL username clears them. Returns OCIPUSH_OK,
 * OCIPUSH_E_INVALID (empty username, password NULL with a username, or a
 * username containing ':'), OCIPUSH_E_NOMEM.
 */
OCIPUSH_API int ocipush_session_set_basic_auth(ocipush_session *session, const char *username,
                                               const char *password);

/**
 * Use an identity token (an OAuth2 refresh token, as `docker login` stores
 * for some registries) instead of a password: Bearer tokens are then asked
 * for with a refresh-token POST to the registry's token realm, under the
 * rules for credentials above; a redirect of that POST to another origin is
 * refused (OCIPUSH_E_PROTOCOL), as its body holds the token. NULL clears
 * it. Returns OCIPUSH_OK, OCIPUSH_E_INVALID (empty string), OCIPUSH_E_NOMEM.
 */
OCIPUSH_API int ocipush_session_set_identity_token(ocipush_session *session, const char *token);

/**
 * Present a client certificate (mutual TLS): PEM files at `cert_path` and
 * `key_path` (copied paths; read at the first request; `key_path` NULL when
 * the key is in the certificate file). NULL `cert_path` clears them.
 * Returns OCIPUSH_OK, OCIPUSH_E_INVALID, OCIPUSH_E_NOMEM.
 */
OCIPUSH_API int ocipush_session_set_client_cert(ocipush_session *session, const char *cert_path,
                                                const char *key_path);

/**
 * Look the session's registry up in the credential stores docker and helm
 * keep, and use what is found as ocipush_session_set_basic_auth() or
 * ocipush_session_set_identity_token() would. In order: docker's config
 * ($DOCKER_CONFIG/config.json, else ~/.docker/config.json), where a
 * `credHelpers` entry for the registry, else `credsStore`, names a helper run
 * as `docker-credential-NAME get` (found on PATH, given the registry on its
 * standard input); then the `auths` entry (`auth`: base64 "user:password",
 * or `identitytoken`); then helm's registry config
 * ($HELM_REGISTRY_CONFIG, else ~/.config/helm/registry/config.json), read
 * the same way. Keys match "host:port" with or without a scheme and path.
 * Sets *out_found to 1 when credentials were found, else 0 (an absent file
 * is not an error, nor is a helper that cannot be started or that exits
 * non-zero, "not found": a warning is logged for the first).
 * The helper runs as a child process (posix_spawnp) with SIGPIPE at its
 * default and no signal blocked; it inherits the environment and standard
 * error, and no other descriptor of ocipush (with glibc 2.34 or later, no
 * other descriptor of the process either). It must finish within the
 * session's helper timeout (ocipush_session_set_helper_timeout(), default
 * 30 s) and print at most 64 KiB; otherwise it is killed (SIGKILL) and
 * reaped, and the lookup fails. The process's signal dispositions are not
 * touched. Secrets read (the files' text, `auth`, `identitytoken`, a
 * helper's answer) are wiped before their memory is freed. Reads HOME,
 * DOCKER_CONFIG, HELM_REGISTRY_CONFIG and PATH: not thread-safe with respect
 * to other threads changing the environment.
 * Returns OCIPUSH_OK, OCIPUSH_E_INVALID (a config that is not JSON, an entry
 * that cannot be decoded, a helper's unreadable or over-long answer),
 * OCIPUSH_E_IO (a file that cannot be read, no pipe for a helper, a helper
 * that did not finish in time), OCIPUSH_E_NOMEM.
 */
OCIPUSH_API int ocipush_session_load_credentials(ocipush_session *session, int *out_found);

/**
 * How long ocipush_session_load_credentials() waits for a credential helper
 * (docker-credential-NAME) to answer and exit, in milliseconds; 0 restores
 * the default, 30000. A helper that takes longer (one that waits for a
 * password prompt nobody answers, say) is killed. Returns OCIPUSH_OK, or
 * OCIPUSH_E_INVALID (a NULL session, a negative value).
 */
OCIPUSH_API int ocipush_session_set_helper_timeout(ocipush_session *session, int64_t timeout_ms);

/**
 * Save credentials for `registry` ("host[:port]") in docker's config file
 * ($DOCKER_CONFIG/config.json, else ~/.docker/config.json) as
 * auths[registry].auth, keeping everything else in the file, written through
 * a temporary file and renamed, mode 0600 (directory 0700 if created). Does
 * not check them against the registry: see ocipush_session_ping(). Not
 * safe against another process writing the same file at the same time.
 * Returns OCIPUSH_OK, OCIPUSH_E_INVALID, OCIPUSH_E_IO (errno set),
 * OCIPUSH_E_NOMEM.
 */
OCIPUSH_API int ocipush_credentials_store(const char *registry, const char *username,
                                          const char *password);

/**
 * Remove the credentials for `registry` from docker's config file, as
 * ocipush_credentials_store() wrote them; *out_found (may be NULL) says
 * whether there were any. Returns OCIPUSH_OK, OCIPUSH_E_INVALID,
 * OCIPUSH_E_IO, OCIPUSH_E_NOMEM.
 */
OCIPUSH_API int ocipush_credentials_erase(int *out_found, const char *registry);

/**
 * Check that the registry answers and accepts the session's credentials:
 * GET /v2/, answering its challenge as a push would (for a Bearer registry,
 * a token for `repository` with push and pull, or for the catalog when
 * `repository` is NULL). Returns OCIPUSH_OK, OCIPUSH_E_INVALID,
 * OCIPUSH_E_NETWORK, OCIPUSH_E_AUTH (credentials refused), OCIPUSH_E_HTTP.
 */
OCIPUSH_API int ocipush_session_ping(ocipush_session *session, const char *repository);

/** The User-Agent header (copied); NULL restores "ocipush/VERSION".
 *  Returns OCIPUSH_OK, OCIPUSH_E_INVALID (empty, or holding a control
 *  character: CR, LF, NUL, tab, ...; the session's errmsg says so),
 *  OCIPUSH_E_NOMEM. */
OCIPUSH_API int ocipush_session_set_user_agent(ocipush_session *session, const char *user_agent);

/**
 * Timeouts in milliseconds: `connect_ms` for establishing a connection
 * (default 30000), `idle_ms` for a transfer that moves no byte at all
 * (default 300000). 0 keeps the default. Returns OCIPUSH_OK or
 * OCIPUSH_E_INVALID (negative values).
 */
OCIPUSH_API int ocipush_session_set_timeouts(ocipush_session *session, int64_t connect_ms,
                                             int64_t idle_ms);

/**
 * The deadline of every call made with this session: the longest one call
 * (ocipush_push_run(), ocipush_blob_push(), ocipush_session_ping(), ...)
 * may take in all, `total_ms` milliseconds, across every request, retry and
 * wait it makes, the calls it makes itself and the worker threads of a
 * parallel push included. A request still running when it passes is ended,
 * a retry whose wait would outlast it is not made, and the call fails with
 * OCIPUSH_E_NETWORK, its message saying that the deadline passed; an upload
 * in progress is not committed. So a registry that answers slowly, or with
 * a body that never ends, cannot hold a call for ever. 0 means no deadline.
 * Default: one hour, a bound that a large blob on a slow link still fits in
 * (4 GiB at 10 Mbit/s); raise it for more. A change takes effect at the next
 * call. Returns OCIPUSH_OK or OCIPUSH_E_INVALID (NULL session, negative
 * value).
 */
OCIPUSH_API int ocipush_session_set_timeout(ocipush_session *session, int64_t total_ms);

/** Set (or clear, with NULL) the log callback; `max_level` filters messages
 *  above it. Returns OCIPUSH_OK or OCIPUSH_E_INVALID. */
OCIPUSH_API int ocipush_session_set_log_callback(ocipush_session *session, ocipush_log_fn fn,
                                                 int max_level, void *user_data);

/** Set (or clear, with NULL) the progress callback (ocipush_progress_fn).
 *  Returns OCIPUSH_OK or OCIPUSH_E_INVALID. */
OCIPUSH_API int ocipush_session_set_progress_callback(ocipush_session *session,
                                                      ocipush_progress_fn fn, void *user_data);

/**
 * Cancel what the session is doing: the call in progress on it (and every
 * later one) fails with OCIPUSH_E_ABORTED as soon as it can: a transfer
 * stops at its next progress check (within about a second), a request not
 * yet sent is not sent, a source is not read further, a wait before a retry
 * ends. What that call started is still undone: an open upload session is
 * cancelled (DELETE), each such request bounded to 5 seconds, so nothing it
 * uploaded is committed, and no manifest or tag is pushed after the cancel.
 * The worker threads of a parallel ocipush_push_run() stop too. The session
 * stays cancelled: free it (a new session is needed to push again).
 *
 * Threads and signals: unlike every other call, this one may be made from
 * any thread while another uses the session, and from a signal handler (it
 * is async-signal-safe: it only stores to a lock-free atomic flag, and
 * neither allocates nor locks nor touches errno). The session must stay
 * valid during the call: free it only once no thread or handler can still
 * call this (block the signal first). Returns OCIPUSH_OK, or
 * OCIPUSH_E_INVALID for a NULL session.
 */
OCIPUSH_API int ocipush_session_cancel(ocipush_session *session);

/** Choose the upload strategy, one of the ocipush_strategy values (an int,
 *  as every enum-valued parameter here is, so its width is not the
 *  compiler's choice); default OCIPUSH_STRATEGY_AUTO. Returns OCIPUSH_OK or
 *  OCIPUSH_E_INVALID for any other value. */
OCIPUSH_API int ocipush_session_set_strategy(ocipush_session *session, int strategy);

/** The smallest chunk size ocipush_session_set_chunk_size() takes (64 KiB):
 *  ocipush never sends a smaller chunk but the last one of a blob. */
#define OCIPUSH_CHUNK_SIZE_MIN 65536

/**
 * Chunk size in bytes for OCIPUSH_STRATEGY_CHUNKED, and for length-delimited
 * uploads in AUTO and after a fallback: 0 (the default) means one request for
 * the whole blob in AUTO and 16 MiB for CHUNKED; anything else must be at
 * least OCIPUSH_CHUNK_SIZE_MIN. Returns OCIPUSH_OK or OCIPUSH_E_INVALID (a
 * size from 1 to OCIPUSH_CHUNK_SIZE_MIN - 1).
 */
OCIPUSH_API int ocipush_session_set_chunk_size(ocipush_session *session, uint64_t bytes);

/**
 * The retry policy. An operation that fails in a way worth another try (the
 * connection refused, reset or timed out; HTTP 408, 429, 500, 502, 503, 504;
 * or the registry error codes BLOB_UPLOAD_INVALID, UNKNOWN, UNAVAILABLE,
 * TOOMANYREQUESTS) is tried up to `max_attempts` times in all (1: never
 * again), waiting `base_delay_ms` before the first retry and twice as long
 * before each next one, at most `max_delay_ms`, spread by +-`jitter_percent`;
 * a Retry-After header (seconds or an HTTP date) sets the wait instead, but
 * never past `max_delay_ms`. The operation is the whole of one blob push
 * (its HEAD, upload sessions, chunks and commit), one manifest PUT, or one
 * request of any other call: `max_attempts` counts every try of it, whichever
 * step is tried again, so a commit that keeps failing is sent at most
 * `max_attempts` times, and a body already sent is not sent again when only
 * its commit failed (the commit alone is). 401, 403 and 404 are never
 * retried this way, nor a body that cannot be reproduced. A chunked upload
 * cut in the middle asks the registry how much it has (GET of the upload, its
 * Range) and sends only the rest; when that answer is useless, or for a
 * streamed or one-PUT upload whose body failed, the blob is sent again in a
 * new upload session from the rewound source or the spool (in one PUT the
 * body is the commit: when it fails the registry keeps nothing). Waits block
 * the calling thread and end at the call's deadline
 * (ocipush_session_set_timeout()). Defaults: 4 attempts, 500 ms, 10000 ms,
 * 20 %. Returns OCIPUSH_OK or OCIPUSH_E_INVALID.
 */
OCIPUSH_API int ocipush_session_set_retry(ocipush_session *session, int max_attempts,
                                          int64_t base_delay_ms, int64_t max_delay_ms,
                                          int jitter_percent);

/**
 * The spool that lets a non-rewindable stream be sent again when a registry
 * or proxy rejects a streamed upload, or a chunk fails. It keeps a window of
 * the stream: its first `memory_cap` bytes in memory (default 1 MiB), the
 * next `disk_cap` bytes in an unlinked temporary file under $TMPDIR (or
 * /tmp; default 64 MiB; UINT64_MAX for no cap but the disk's). Bytes the
 * registry has acknowledged (a chunk it answered 202) leave the window.
 *
 * The spool never fails a push by itself: when it cannot keep more (its caps
 * reached, or the file cannot be written: no space, an I/O error) it stops
 * keeping bytes, logs why (OCIPUSH_LOG_WARN for a file that cannot be
 * written, with the system's reason and the directory), and the push goes
 * on. Only a replay that needs bytes it did not keep fails, with
 * OCIPUSH_E_NOT_REPLAYABLE and a message that names the window and how to
 * raise it. A streamed upload that is refused (see ocipush_blob_push()) goes
 * on as length-delimited chunks of at most half the window, each kept in it
 * before it is sent (the next one is read into the other half while one
 * goes), so a stream of any length passes a proxy that refuses chunked
 * bodies; only a registry that takes neither chunked bodies nor
 * chunks needs the whole blob in the window (one PUT).
 *
 * A file size limit (RLIMIT_FSIZE) counts as a full disk only for a process
 * that ignores SIGXFSZ; otherwise the kernel ends the process first.
 *
 * `enable` 0, or both caps 0, turns the spool off: a rejected stream then
 * fails with OCIPUSH_E_NOT_REPLAYABLE. Returns OCIPUSH_OK or
 * OCIPUSH_E_INVALID (NULL session).
 */
OCIPUSH_API int ocipush_session_set_spool(ocipush_session *session, int enable, uint64_t memory_cap,
                                          uint64_t disk_cap);

/* ------------------------------------------------------------------------ */
/* Body sources                                                             */
/* ------------------------------------------------------------------------ */

/** Where the bytes of a blob come from. A source can be used for several
 *  pushes if it can rewind; a non-rewindable one is consumed by its first. */
typedef struct ocipush_source ocipush_source;

/**
 * Read callback: copy up to `capacity` bytes into `buffer`, set *out_len to
 * the number copied, and return 0. (The buffer to fill and its capacity come
 * first, as the outputs, then *out_len; `user_data` is last, as for every
 * callback.) *out_len == 0 with return 0 means end of
 * data; a short read is fine. Any nonzero return is a failure: the upload in
 * progress is abandoned (not committed) with OCIPUSH_E_SOURCE. The read and
 * rewind callbacks of a layer of a parallel ocipush_push_run() run on one of
 * its worker threads (see ocipush_push_set_concurrency()).
 */
typedef int (*ocipush_source_read_fn)(uint8_t *buffer, size_t capacity, size_t *out_len,
                                      void *user_data);
/** Rewind callback: make the next read start again at the first byte. Return
 *  0 on success, nonzero if it cannot. */
typedef int (*ocipush_source_rewind_fn)(void *user_data);
/** Close callback: release what user_data holds. Called exactly once. */
typedef void (*ocipush_source_close_fn)(void *user_data);

/**
 * A source over `len` bytes at `data`. With `copy` nonzero the bytes are
 * copied now; with `copy` 0 they are borrowed and must stay valid and
 * unchanged until the source is freed. `data` may be NULL when `len` is 0.
 * Rewindable, size known. Returns OCIPUSH_OK, OCIPUSH_E_INVALID, OCIPUSH_E_NOMEM.
 */
OCIPUSH_API int ocipush_source_new_memory(ocipush_source **out, const void *data, size_t len,
                                          int copy);

/**
 * A source over the file at `path`. A regular file is rewindable with a
 * known size; it is opened now, to check it (so a missing or unreadable file,
 * or a directory, fails here, with errno set), and closed again: it is held
 * open only while a push reads it, from its first read until that blob is
 * pushed (or found in the registry), so that pushing many files at once does
 * not need a descriptor for each. If by then the path names another file, or
 * the file's size has changed, the push fails with OCIPUSH_E_SOURCE (or
 * OCIPUSH_E_IO when it cannot be opened any more). Anything else (a FIFO, a
 * character device) is opened now, closed when the source is freed, and read
 * as a non-rewindable stream. Returns OCIPUSH_OK, OCIPUSH_E_INVALID,
 * OCIPUSH_E_IO, OCIPUSH_E_NOMEM.
 */
OCIPUSH_API int ocipush_source_new_file(ocipush_source **out, const char *path);

/**
 * A source over the open descriptor `fd`, read from its current offset. A
 * regular file is rewindable (to that offset) with a known size; a pipe,
 * socket or terminal is a non-rewindable stream. With `take_ownership`
 * nonzero the descriptor is closed when the source is freed (and also when
 * this call fails). Returns OCIPUSH_OK, OCIPUSH_E_INVALID, OCIPUSH_E_IO,
 * OCIPUSH_E_NOMEM.
 */
OCIPUSH_API int ocipush_source_new_fd(ocipush_source **out, int fd, int take_ownership);

/**
 * A source whose bytes come from the caller's callbacks. `read` is required.
 * `rewind` may be NULL: the source is then a non-rewindable stream, replayed
 * from the session's spool if an upload must be sent again. `size` is the
 * exact number of bytes the reads will produce, or -1 if not known; a source
 * that produces a different number fails its upload. `close`, if not NULL,
 * is called exactly once with `user_data`: when the source is freed, or
 * before this function returns an error. Returns OCIPUSH_OK,
 * OCIPUSH_E_INVALID, OCIPUSH_E_NOMEM.
 */
OCIPUSH_API int ocipush_source_new_callback(ocipush_source **out, ocipush_source_read_fn read,
                                            ocipush_source_rewind_fn rewind,
                                            ocipush_source_close_fn close, int64_t size,
                                            void *user_data);

/** ocipush_source_new_compressed() algorithm: gzip (RFC 1952, zlib), the
 *  compression of application/vnd.oci.image.layer.v1.tar+gzip. */
#define OCIPUSH_COMPRESS_GZIP 1
/** ocipush_source_new_compressed() algorithm: zstd (RFC 8878, libzstd, with
 *  its checksum and a window of 512 KiB, so that the default level
 *  compresses in about 2 MiB of memory; level 19 needs about 86 MB), the
 *  compression of application/vnd.oci.image.layer.v1.tar+zstd; only in a
 *  build with libzstd (ocipush_feature("zstd")). */
#define OCIPUSH_COMPRESS_ZSTD 2

/**
 * A source whose bytes are those of `inner` compressed on the fly with
 * `algorithm` at `level`: OCIPUSH_COMPRESS_GZIP at 0 to 9 (-1 for gzip's
 * default, 6) or OCIPUSH_COMPRESS_ZSTD at 0 to 19 (-1 or 0 for zstd's
 * default, 3): a layer made from an uncompressed tar, as `docker save`
 * holds them. Takes ownership of `inner`: it is freed with the new source,
 * and also when this call fails. The output is the same for the same input
 * and level (a gzip header with no name and no time), whatever the sizes of
 * the reads, so the source can
 * rewind when `inner` can, and a replay sends the same bytes; otherwise it
 * is a stream, replayed from the session's spool. Its size is not known in
 * advance (-1), so a push sends it streamed, with the fallback; the digest
 * a push reports is that of the compressed bytes, and once the source was
 * read to its end ocipush_source_uncompressed_digest() tells that of the
 * uncompressed ones. gzip stores a 64 KiB block that does not compress
 * (two 4 KiB samples of it that deflate at level 1 cannot shrink by 3%:
 * random bytes, media, a file compressed already) instead of searching it
 * for matches that are not there, which is where zlib spends its time on
 * such data. An inner source that gives another length than it
 * declared fails the read (OCIPUSH_E_SOURCE). Returns OCIPUSH_OK,
 * OCIPUSH_E_INVALID (NULL `out` or `inner`, an unknown algorithm, a level out
 * of range), OCIPUSH_E_UNSUPPORTED (zstd in a build without libzstd),
 * OCIPUSH_E_NOMEM. Thread safety: as any source, one thread at a time.
 */
OCIPUSH_API int ocipush_source_new_compressed(ocipush_source **out, ocipush_source *inner,
                                              int algorithm, int level);

/** ocipush_source_new_tar_dir() flag: keep the files' owner and group (their
 *  numbers, and their names when the system knows them) instead of 0:0. */
#define OCIPUSH_TAR_PRESERVE_OWNER 1

/**
 * A source whose bytes are the directory `dir` packed as an uncompressed tar
 * (POSIX pax: plain ustar headers, and pax ones for what ustar cannot hold,
 * such as a path over 100 bytes), made as it is read, without a temporary
 * tar: memory holds a 64 KiB piece and the names of the directories being
 * walked, never the tar. Wrap it in ocipush_source_new_compressed() for a
 * gzip'd layer (application/vnd.oci.image.layer.v1.tar+gzip).
 *
 * Every entry below `dir` is in it, directories included, with its path
 * relative to `dir` (no leading "/" or "./"; `dir` itself is not an entry),
 * the names of each directory sorted bytewise (strcmp), a directory before
 * what it holds. The same tree gives the same bytes: owner and group 0:0
 * without names (unless `flags` has OCIPUSH_TAR_PRESERVE_OWNER), permissions
 * as they are, mtime `mtime` for every entry when `mtime` >= 0 (seconds
 * since the epoch; SOURCE_DATE_EPOCH, say) or each file's own (whole
 * seconds) when it is negative, no atime, ctime or extended attributes,
 * names as UTF-8 whatever the locale. So the source can rewind (the walk
 * starts again) and a replay sends the same bytes, as long as the tree does
 * not change. `dir` may be a symbolic link to a directory; below it,
 * symbolic links are stored as links (never followed), and files are opened
 * with O_NOFOLLOW; a file with several hard links is stored whole each time
 * (as a regular file, not as a tar hard link). Its size is not known in
 * advance (-1): a push sends it streamed, with the fallback.
 *
 * The tree is read when the source is: a socket, FIFO or device in it, an
 * entry that cannot be read, or a file whose size changes between its
 * header and its data (the tar would be corrupt) fails the read, so the
 * push fails with OCIPUSH_E_SOURCE and nothing is committed or tagged; the
 * session's message (ocipush_session_errmsg()) names the path and what is
 * wrong ("DIR/sock is a socket: ..."). Returns OCIPUSH_OK,
 * OCIPUSH_E_INVALID (NULL or empty `dir`, `dir` not a directory, an unknown
 * flag), OCIPUSH_E_IO (`dir` cannot be found or opened; errno set),
 * OCIPUSH_E_NOMEM, OCIPUSH_E_UNSUPPORTED (built without libarchive: see
 * ocipush_feature("directory-layers")).
 */
OCIPUSH_API int ocipush_source_new_tar_dir(ocipush_source **out, const char *dir, int flags,
                                           int64_t mtime);

/**
 * The digest "sha256:<hex>" of the uncompressed bytes of a source made by
 * ocipush_source_new_compressed() (an image config's diff_id for the layer),
 * into `out_digest` (OCIPUSH_DIGEST_MAX bytes), and their count into
 * *out_size (may be NULL), once the source was read to its end (by a push
 * that succeeded). Returns OCIPUSH_OK, or OCIPUSH_E_INVALID (NULL, another
 * kind of source, not read to its end yet), and then writes nothing.
 */
OCIPUSH_API int ocipush_source_uncompressed_digest(const ocipush_source *source, char *out_digest,
                                                   uint64_t *out_size);

/** The source's size in bytes, or -1 if it is not known in advance. */
OCIPUSH_API int64_t ocipush_source_size(const ocipush_source *source);

/** Free a source, closing what it owns. NULL does nothing. */
OCIPUSH_API void ocipush_source_free(ocipush_source *source);

/* ------------------------------------------------------------------------ */
/* Blobs                                                                    */
/* ------------------------------------------------------------------------ */

/**
 * What a push did with one blob (ocipush_push_blob(), ocipush_session_blob()),
 * an int as every enum-valued output here is. New values may be added at
 * the end: treat an unknown one as OCIPUSH_BLOB_PUSHED.
 */
typedef enum ocipush_blob_status {
    /** Its bytes were read from its source and uploaded (or, into an OCI
     *  layout, written). */
    OCIPUSH_BLOB_PUSHED = 0,
    /** The repository had it already (a HEAD said so, with a size to
     *  trust): nothing was sent, and its source was not read for the upload. */
    OCIPUSH_BLOB_SKIPPED = 1,
    /** The registry mounted it from another repository
     *  (ocipush_blob_push_mount(), ocipush_push_set_mount_source()): nothing
     *  was sent. */
    OCIPUSH_BLOB_MOUNTED = 2
} ocipush_blob_status;

/**
 * Push one blob, read from `source`, to `repository` (e.g. "library/app") on
 * the session's registry, and write its digest "sha256:<hex>" into
 * `out_digest` (OCIPUSH_DIGEST_MAX bytes) and its size into *out_size
 * (either may be NULL).
 *
 * `expected_digest`, if not NULL, is what the content must hash to: the
 * registry is first asked (HEAD) whether it has that blob, in which case the
 * source is not read at all; and a mismatch is detected before the upload is
 * committed, which then fails with OCIPUSH_E_DIGEST_MISMATCH and leaves
 * nothing in the registry. Without it, with the auto strategy, a rewindable
 * source of known size up to 4 MiB is read and hashed first and the
 * registry asked the same way, so a blob it has is not sent again; if the
 * source then reads back other bytes, the push fails with OCIPUSH_E_SOURCE
 * before anything is committed. A larger blob's digest is known only once
 * it is sent: pass `expected_digest` to skip it. A HEAD is not trusted when
 * the size it gives is not the source's (or, for a source of unknown size,
 * is 0 for a digest that is not the empty blob's): the blob is then
 * uploaded, logged at OCIPUSH_LOG_WARN, so *out_size is never a size the
 * registry made up.
 *
 * The digest is computed while the source is read, and each byte is hashed
 * once even when an upload is sent again. A regular file of 4 MiB or more (a
 * file or descriptor source) is hashed by a thread that reads it on its own
 * beside the send; if the file changes while it is pushed (its size,
 * modification or change time moves), the push fails with OCIPUSH_E_SOURCE
 * before its last bytes are sent, so nothing is committed. When a streamed upload is rejected
 * (HTTP 400, 411, 413, 501, or the connection closed before any answer), the
 * blob is sent again, length-delimited, in a new upload session, from the
 * rewound source or the spool; the session then stays length-delimited for
 * the rest of its life. Each such fallback is logged at OCIPUSH_LOG_WARN.
 *
 * Returns OCIPUSH_OK, OCIPUSH_E_INVALID (bad repository or digest),
 * OCIPUSH_E_NOMEM, OCIPUSH_E_IO (spool), OCIPUSH_E_NETWORK, OCIPUSH_E_HTTP,
 * OCIPUSH_E_AUTH, OCIPUSH_E_DIGEST_MISMATCH, OCIPUSH_E_SOURCE,
 * OCIPUSH_E_NOT_REPLAYABLE, OCIPUSH_E_ABORTED, OCIPUSH_E_PROTOCOL. The
 * session's errmsg says what happened. Whether the blob was uploaded or
 * skipped (the registry had it): ocipush_session_blob(), until the next
 * call on the session.
 */
OCIPUSH_API int ocipush_blob_push(ocipush_session *session, char *out_digest, uint64_t *out_size,
                                  const char *repository, ocipush_source *source,
                                  const char *expected_digest);

/**
 * Put the blob `digest` into `repository` by mounting it from
 * `from_repository` on the same registry (the blob is then not uploaded at
 * all), uploading it from `source` when the registry cannot mount it.
 * A Bearer token is asked for with pull on `from_repository` too, in the same
 * exchange. The registry is first asked (HEAD) whether it has the blob
 * already; then nothing is done and the source is not read. When it answers
 * the mount with 202 (it could not mount, and opened an upload session), the
 * blob is uploaded in that session; when it refuses the mount otherwise (400
 * and 404 are seen for a source on another registry or a repository without
 * it), the blob is uploaded in a new session, silently but for a log line.
 * The content uploaded is checked against `digest` as in ocipush_blob_push().
 * A layout session (ocipush_session_new_layout()) has nothing to mount from:
 * it uploads.
 *
 * OCIPUSH_OK means the blob is in `repository` now, and then always sets
 * *out_mounted: 1 when this call mounted it, 0 when the registry had it
 * already or it was uploaded from `source`; and *out_size (may be NULL) to
 * its size. With `source` NULL nothing is ever uploaded: when the blob is
 * neither there already nor mounted, the call returns OCIPUSH_E_NOT_MOUNTED
 * (the session's errmsg says what the registry answered) and nothing is
 * done. As for every call, neither output is written unless the call returns
 * OCIPUSH_OK. Returns the codes of ocipush_blob_push(), and
 * OCIPUSH_E_NOT_MOUNTED; OCIPUSH_E_INVALID also for a NULL digest or
 * `out_mounted`, or an invalid `from_repository`; OCIPUSH_E_PROTOCOL also
 * when the registry has (or mounted) the blob but does not say a size to
 * trust for it (no Content-Length, or 0 for a blob that is not empty) and no
 * source of known size tells it. A HEAD whose size is not the source's is
 * not trusted, as in ocipush_blob_push(): the blob is uploaded from the
 * source. What was done (mounted, skipped or uploaded): ocipush_session_blob().
 */
OCIPUSH_API int ocipush_blob_push_mount(ocipush_session *session, uint64_t *out_size,
                                        int *out_mounted, const char *repository,
                                        ocipush_source *source, const char *digest,
                                        const char *from_repository);

/**
 * Whether the registry has the blob `digest` in `repository`: *out_exists is
 * set to 1 or 0. Returns OCIPUSH_OK, OCIPUSH_E_INVALID, OCIPUSH_E_NETWORK,
 * OCIPUSH_E_HTTP, OCIPUSH_E_AUTH.
 */
OCIPUSH_API int ocipush_blob_exists(ocipush_session *session, int *out_exists,
                                    const char *repository, const char *digest);

/**
 * How many blobs the last call on `session` stored, told by
 * ocipush_session_blob(): 1 after an ocipush_blob_push() or
 * ocipush_blob_push_mount() that succeeded; after an ocipush_chart_push()
 * that succeeded, 2 or 3 (the config, the chart, its provenance when there
 * is one); 0 after a failure, after any other call, and after
 * ocipush_push_run() (a push's blobs are told by ocipush_push_blob(), on
 * the push). Reset, with the error message, when the next call on the
 * session starts; the getters here and ocipush_session_errmsg() and its
 * kin are not calls that reset it. 0 for NULL.
 */
OCIPUSH_API size_t ocipush_session_blob_count(const ocipush_session *session);

/**
 * Blob `index` (from 0, below ocipush_session_blob_count()) of those the
 * last call on `session` stored, in the order ocipush_session_blob_count()
 * gives: *out_digest its digest "sha256:<hex>", *out_size its size,
 * *out_media_type the media type the manifest describes it by ("" for a
 * lone blob of ocipush_blob_push(), which has none), *out_status one of the
 * ocipush_blob_status values. Each output may be NULL. The strings belong
 * to the session and stay valid until the next call on it (or its free).
 * This is how ocipush_blob_push() tells whether the blob was uploaded or
 * skipped, without a change to its signature. Returns OCIPUSH_OK, or
 * OCIPUSH_E_INVALID (a NULL session, an index not below the count), and
 * then writes nothing. Thread-safe as the session is.
 */
OCIPUSH_API int ocipush_session_blob(const ocipush_session *session, const char **out_digest,
                                     uint64_t *out_size, const char **out_media_type,
                                     int *out_status, size_t index);

/* ------------------------------------------------------------------------ */
/* Manifests and indexes                                                    */
/* ------------------------------------------------------------------------ */

/** Media types ocipush writes. */
#define OCIPUSH_MEDIA_TYPE_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define OCIPUSH_MEDIA_TYPE_INDEX "application/vnd.oci.image.index.v1+json"
#define OCIPUSH_MEDIA_TYPE_EMPTY "application/vnd.oci.empty.v1+json"
#define OCIPUSH_MEDIA_TYPE_LAYER "application/vnd.oci.image.layer.v1.tar"

/** A content descriptor: media type, digest, size, and optional annotations,
 *  artifactType and (for index entries) platform. */
typedef struct ocipush_descriptor ocipush_descriptor;

/**
 * Make a descriptor. `media_type` and `digest` are checked and copied; `size`
 * is the content's size in bytes. Returns OCIPUSH_OK, OCIPUSH_E_INVALID (a
 * media type that ocipush_media_type_validate() refuses, a malformed digest),
 * OCIPUSH_E_NOMEM.
 */
OCIPUSH_API int ocipush_descriptor_new(ocipush_descriptor **out, const char *media_type,
                                       const char *digest, uint64_t size);

/** Free a descriptor. NULL does nothing. */
OCIPUSH_API void ocipush_descriptor_free(ocipush_descriptor *desc);

/** Add (or replace) the annotation `key` = `value` (both copied; the key
 *  non-empty, without control characters; the value is JSON-escaped).
 *  Returns OCIPUSH_OK, OCIPUSH_E_INVALID, OCIPUSH_E_NOMEM. */
OCIPUSH_API int ocipush_descriptor_add_annotation(ocipush_descriptor *desc, const char *key,
                                                  const char *value);

/** Set the descriptor's artifactType (copied, checked as
 *  ocipush_media_type_validate() does; NULL clears). Returns OCIPUSH_OK,
 *  OCIPUSH_E_INVALID, OCIPUSH_E_NOMEM. */
OCIPUSH_API int ocipush_descriptor_set_artifact_type(ocipush_descriptor *desc,
                                                     const char *artifact_type);

/** Set the platform of an index entry (`os` and `architecture` required,
 *  `variant` may be NULL; all copied). Returns OCIPUSH_OK,
 *  OCIPUSH_E_INVALID, OCIPUSH_E_NOMEM. */
OCIPUSH_API int ocipush_descriptor_set_platform(ocipush_descriptor *desc, const char *os,
                                                const char *architecture, const char *variant);

/** An OCI image manifest or image index being built. */
typedef struct ocipush_manifest ocipush_manifest;

/** Kind of document an ocipush_manifest builds. */
typedef enum ocipush_manifest_kind {
    OCIPUSH_MANIFEST_IMAGE = 0, /**< application/vnd.oci.image.manifest.v1+json */
    OCIPUSH_MANIFEST_INDEX = 1  /**< application/vnd.oci.image.index.v1+json */
} ocipush_manifest_kind;

/** Make an empty manifest or index: `kind` one of the ocipush_manifest_kind
 *  values. Returns OCIPUSH_OK, OCIPUSH_E_INVALID (NULL `out`, any other
 *  kind), OCIPUSH_E_NOMEM. */
OCIPUSH_API int ocipush_manifest_new(ocipush_manifest **out, int kind);

/** Free a manifest. NULL does nothing. */
OCIPUSH_API void ocipush_manifest_free(ocipush_manifest *manifest);

/** Set the config descriptor of an image manifest (copied). Returns
 *  OCIPUSH_OK, OCIPUSH_E_INVALID (an index, or NULL), OCIPUSH_E_NOMEM. */
OCIPUSH_API int ocipush_manifest_set_config(ocipush_manifest *manifest,
                                            const ocipush_descriptor *config);

/** Append a layer descriptor to an image manifest (copied). Returns
 *  OCIPUSH_OK, OCIPUSH_E_INVALID (an index, or NULL), OCIPUSH_E_NOMEM. */
OCIPUSH_API int ocipush_manifest_add_layer(ocipush_manifest *manifest,
                                           const ocipush_descriptor *layer);

/** Append a manifest descriptor to an index (copied). Returns OCIPUSH_OK,
 *  OCIPUSH_E_INVALID (an image manifest, or NULL), OCIPUSH_E_NOMEM. */
OCIPUSH_API int ocipush_manifest_add_manifest(ocipush_manifest *index,
                                              const ocipush_descriptor *entry);

/** Set the subject descriptor (copied; NULL clears). Returns OCIPUSH_OK,
 *  OCIPUSH_E_INVALID, OCIPUSH_E_NOMEM. */
OCIPUSH_API int ocipush_manifest_set_subject(ocipush_manifest *manifest,
                                             const ocipush_descriptor *subject);

/** Set the artifactType (copied, checked as ocipush_media_type_validate()
 *  does; NULL clears). Returns OCIPUSH_OK, OCIPUSH_E_INVALID, OCIPUSH_E_NOMEM. */
OCIPUSH_API int ocipush_manifest_set_artifact_type(ocipush_manifest *manifest,
                                                   const char *artifact_type);

/** Add (or replace) a top-level annotation (copied; the key non-empty,
 *  without control characters). Returns OCIPUSH_OK, OCIPUSH_E_INVALID,
 *  OCIPUSH_E_NOMEM. */
OCIPUSH_API int ocipush_manifest_add_annotation(ocipush_manifest *manifest, const char *key,
                                                const char *value);

/**
 * Serialize to compact JSON, the exact bytes that would be pushed. *out is a
 * NUL-terminated string (free with ocipush_free), *out_len its length without
 * the NUL. An image manifest needs a config. Returns OCIPUSH_OK,
 * OCIPUSH_E_INVALID (no config), OCIPUSH_E_NOMEM.
 */
OCIPUSH_API int ocipush_manifest_serialize(const ocipush_manifest *manifest, char **out,
                                           size_t *out_len);

/**
 * Serialize and push `manifest` to `repository` under `reference`: a tag
 * ("v1"), a digest ("sha256:<hex>"), both ("v1@sha256:<hex>"), or NULL to
 * push by digest only. A digest given is the one the bytes must have: it is
 * checked before anything is sent, and a mismatch returns
 * OCIPUSH_E_DIGEST_MISMATCH with nothing pushed and no tag moved. Writes the
 * manifest's digest into `out_digest` (OCIPUSH_DIGEST_MAX bytes; may be
 * NULL). The registry must already have every blob the manifest names.
 * Returns OCIPUSH_OK, OCIPUSH_E_INVALID (also a malformed tag or digest in
 * `reference`), OCIPUSH_E_NOMEM, OCIPUSH_E_NETWORK, OCIPUSH_E_HTTP,
 * OCIPUSH_E_AUTH, OCIPUSH_E_PROTOCOL, OCIPUSH_E_DIGEST_MISMATCH.
 */
OCIPUSH_API int ocipush_manifest_push(ocipush_session *session, char *out_digest,
                                      const char *repository, const char *reference,
                                      const ocipush_manifest *manifest);

/**
 * Push `len` bytes of manifest `data` exactly as they are, with Content-Type
 * `media_type`, to `repository` under `reference` (a tag, a digest, both as
 * "TAG@sha256:<hex>", or NULL to push by digest; a digest given is checked
 * before anything is sent, as in ocipush_manifest_push()). A NULL
 * `media_type` means the document's own "mediaType" field, or, without one,
 * the type its shape implies ("manifests": an index; "config" or "layers":
 * an image manifest). The digest of the bytes is written into `out_digest`
 * (may be NULL). The media type used, given or the document's own, is the
 * request's Content-Type: one that ocipush_media_type_validate() refuses
 * fails the call with OCIPUSH_E_INVALID before anything is sent, the message
 * naming it ("the manifest's mediaType", "the media type given"). Returns the
 * same codes as ocipush_manifest_push(); OCIPUSH_E_INVALID also when
 * `media_type` is NULL and the data is not such a JSON object.
 */
OCIPUSH_API int ocipush_manifest_push_raw(ocipush_session *session, char *out_digest,
                                          const char *repository, const char *reference,
                                          const char *media_type, const void *data, size_t len);

/**
 * The media type ocipush_manifest_push_raw() sends `len` bytes of manifest
 * `data` with when it is given none: the document's own "mediaType", else
 * the type its shape implies. Nothing is sent; for a caller that reports
 * what it pushed. *out (free with ocipush_free) is set on success. Returns
 * OCIPUSH_OK, OCIPUSH_E_INVALID (NULL `out` or `data`, `len` 0, not a JSON
 * object, no type declared or implied, or a declared one that
 * ocipush_media_type_validate() refuses: the cases where
 * ocipush_manifest_push_raw() with a NULL media type fails before sending),
 * OCIPUSH_E_NOMEM. Thread-safe.
 */
OCIPUSH_API int ocipush_manifest_media_type(char **out, const void *data, size_t len);

/* ------------------------------------------------------------------------ */
/* Whole artifacts                                                          */
/* ------------------------------------------------------------------------ */

/** An artifact to push: a config blob, layers, annotations and tags. */
typedef struct ocipush_push ocipush_push;

/** Make an empty artifact. Its config is the empty JSON "{}" with media type
 *  OCIPUSH_MEDIA_TYPE_EMPTY unless ocipush_push_set_config() is called.
 *  Returns OCIPUSH_OK, OCIPUSH_E_INVALID, OCIPUSH_E_NOMEM. */
OCIPUSH_API int ocipush_push_new(ocipush_push **out);

/** Free an artifact description (not the sources it borrows). NULL does
 *  nothing. */
OCIPUSH_API void ocipush_push_free(ocipush_push *push);

/** Use `source` (borrowed: it must outlive the push) with `media_type`
 *  (copied, checked as ocipush_media_type_validate() does) as the config
 *  blob. Returns OCIPUSH_OK, OCIPUSH_E_INVALID, OCIPUSH_E_NOMEM. */
OCIPUSH_API int ocipush_push_set_config(ocipush_push *push, ocipush_source *source,
                                        const char *media_type);

/** Append a layer read from `source` (borrowed; a source given for several
 *  layers is read once) with `media_type` (copied, checked as
 *  ocipush_media_type_validate() does; NULL means OCIPUSH_MEDIA_TYPE_LAYER)
 *  and, if `title` is not NULL, the annotation
 *  org.opencontainers.image.title = title. It is pushed as
 *  ocipush_blob_push() pushes: a layer (or config) of at most 4 MiB from a
 *  rewindable source is hashed first and skipped when the registry has it;
 *  for a larger one, give its digest (ocipush_push_add_layer_digest()) to
 *  have it skipped. Returns OCIPUSH_OK, OCIPUSH_E_INVALID, OCIPUSH_E_NOMEM. */
OCIPUSH_API int ocipush_push_add_layer(ocipush_push *push, ocipush_source *source,
                                       const char *media_type, const char *title);

/**
 * As ocipush_push_add_layer(), with the layer's digest known up front
 * (copied, checked): the registry is then asked first whether it has the
 * blob, which is not uploaded (its source not read) when it does; it may be
 * mounted (ocipush_push_set_mount_source()); and the content must hash to
 * it, else the push fails with OCIPUSH_E_DIGEST_MISMATCH before any tag is
 * set. Returns OCIPUSH_OK, OCIPUSH_E_INVALID (a malformed digest),
 * OCIPUSH_E_NOMEM.
 */
OCIPUSH_API int ocipush_push_add_layer_digest(ocipush_push *push, ocipush_source *source,
                                              const char *media_type, const char *title,
                                              const char *digest);

/**
 * A repository on the same registry that layers of known digest are
 * mounted from (as ocipush_blob_push_mount() does), uploaded when the
 * registry cannot mount them. NULL clears it. Returns OCIPUSH_OK,
 * OCIPUSH_E_INVALID, OCIPUSH_E_NOMEM.
 */
OCIPUSH_API int ocipush_push_set_mount_source(ocipush_push *push, const char *repository);

/** Set the manifest's artifactType (copied, checked as
 *  ocipush_media_type_validate() does; NULL clears). Returns OCIPUSH_OK,
 *  OCIPUSH_E_INVALID, OCIPUSH_E_NOMEM. */
OCIPUSH_API int ocipush_push_set_artifact_type(ocipush_push *push, const char *artifact_type);

/** Add a manifest annotation (copied; the key non-empty, without control
 *  characters). Returns OCIPUSH_OK, OCIPUSH_E_INVALID, OCIPUSH_E_NOMEM. */
OCIPUSH_API int ocipush_push_add_annotation(ocipush_push *push, const char *key, const char *value);

/** Add a tag (copied, checked) to give the manifest; with none, the manifest
 *  is pushed by digest only. Returns OCIPUSH_OK, OCIPUSH_E_INVALID,
 *  OCIPUSH_E_NOMEM. */
OCIPUSH_API int ocipush_push_add_tag(ocipush_push *push, const char *tag);

/**
 * How many blobs ocipush_push_run() uploads at once (1 to 64; default 4).
 * With 1, or when every layer has the same source, everything runs in the
 * calling thread, one blob after another, and the session's progress
 * callback is called for every blob read (before the push's progress
 * callback, for the same bytes). Otherwise the push is parallel: the config
 * blob is pushed first, in the calling thread; then the layers are uploaded
 * by worker threads (as many as the concurrency, at most one per distinct
 * layer source), each with its own copy of the session (its own
 * connections, the session's settings and tokens), and ocipush_push_run()
 * waits for them all. During that part:
 * - a layer source's read and rewind callbacks run on a worker thread. A
 *   source is read by one thread only (a source given for several layers is
 *   read once), so calls to one source never overlap, but the callbacks of
 *   different sources do run at the same time, on different threads, and at
 *   the same time as the log and progress callbacks.
 * - the session's log callback is called from the worker threads, one call
 *   at a time (ocipush holds a lock around each call, the same lock as
 *   around the push's progress callback, so the two never overlap either).
 * - the push's progress callback (ocipush_push_set_progress_callback()) is
 *   called from the worker threads, one call at a time.
 * - the session's progress callback is not called for the layers (their
 *   bytes interleave); it is called for the config blob only.
 * Returns OCIPUSH_OK or OCIPUSH_E_INVALID.
 */
OCIPUSH_API int ocipush_push_set_concurrency(ocipush_push *push, int concurrency);

/**
 * Progress of a push's layers, each and in all: layer `index` (its position
 * in the order the layers were added, from 0) has `done` of `total` bytes
 * read (`total` -1 when not known), all layers together `all_done` of
 * `all_total` (-1 while the size of some layer is not known: a stream's size
 * is known once it has landed). `done` goes back when an upload is started
 * again. A layer whose bytes are not read, because the registry has its blob
 * already, or the blob was mounted, is reported once, with done == total ==
 * its size, when it is known to be there; so is an empty layer. A source
 * given for several layers is read once: its bytes are reported under the
 * first of those layers, and each later one is reported once, with done ==
 * total == its size, once the blob has landed; every layer counts in
 * all_done and all_total, so such a source's size counts once per layer it
 * backs. So when the push succeeds, each layer's last call has done equal to
 * its size, and the last call of all has all_done == all_total, unless it
 * reports a stream whose size was not declared (all_total is then -1).
 * The config blob is not counted. Called one call at a time, on the calling
 * thread or, in a parallel push, on its worker threads (see
 * ocipush_push_set_concurrency()). Return 0 to go on, nonzero to stop the
 * push with OCIPUSH_E_ABORTED.
 */
typedef int (*ocipush_push_progress_fn)(size_t index, uint64_t done, int64_t total,
                                        uint64_t all_done, int64_t all_total, void *user_data);

/** Set (or clear, with NULL) the push's progress callback. Returns
 *  OCIPUSH_OK or OCIPUSH_E_INVALID. */
OCIPUSH_API int ocipush_push_set_progress_callback(ocipush_push *push, ocipush_push_progress_fn fn,
                                                   void *user_data);

/**
 * Make the artifact refer to `reference` (a tag or a digest of a manifest in
 * the same repository), e.g. a signature or an SBOM of an image: the
 * manifest gets a `subject` descriptor, read from the registry when the push
 * runs (it must exist there). When the registry does not answer the manifest
 * PUT with OCI-Subject (it has no referrers API, as distribution 2.8), the
 * referrers tag schema of the OCI distribution spec 1.1 is kept for it: the
 * index tagged `sha256-<hex of the subject>` gets a descriptor of the new
 * manifest (its artifactType, else its config's media type, and its
 * annotations), once. NULL clears it. Returns OCIPUSH_OK, OCIPUSH_E_INVALID
 * (neither a tag nor a digest), OCIPUSH_E_NOMEM.
 */
OCIPUSH_API int ocipush_push_set_subject(ocipush_push *push, const char *reference);

/**
 * Push the artifact to `repository`: the config and every layer as blobs,
 * then the manifest, under the first tag (or by digest), then the other tags.
 * Nothing is tagged unless every blob landed, so a failure never leaves a tag
 * on incomplete content. A first manifest PUT refused with
 * MANIFEST_BLOB_UNKNOWN (distribution answers so when other pushers commit
 * the same blobs at that moment) has every blob checked again with HEAD,
 * after the wait of a first retry, and is sent once more when all are there; a blob the HEAD finds
 * missing fails the push with OCIPUSH_E_HTTP, the blob named in the errmsg (a retry policy of no
 * retries, ocipush_session_set_retry(), sends nothing again). Writes the manifest digest into
 * `out_digest` (may be NULL) on success. Returns the codes of ocipush_blob_push() and
 * ocipush_manifest_push(), and OCIPUSH_E_INVALID for a layer-less artifact. A failure after
 * the manifest landed (a later tag, the referrers index) is partial: what is there is told by
 * ocipush_push_landed() and ocipush_push_tagged(). Changes `push` (its sources are read, and
 * what landed is kept in it); one push may be run again. What happened to each blob (uploaded,
 * skipped, mounted): ocipush_push_blob().
 */
OCIPUSH_API int ocipush_push_run(ocipush_session *session, ocipush_push *push, char *out_digest,
                                 const char *repository);

/**
 * What the last ocipush_push_run() of `push` left in the repository, whatever
 * it returned: the digest of the manifest it stored, or "" when none landed
 * (or it never ran). When the run failed after storing it (a later tag, the
 * referrers index), the manifest is there by this digest. Valid until the
 * next run or free of `push`; "" for NULL.
 */
OCIPUSH_API const char *ocipush_push_landed(const ocipush_push *push);

/**
 * The size in bytes of the manifest ocipush_push_landed() names (its media
 * type is OCIPUSH_MEDIA_TYPE_MANIFEST), or 0 when none landed, for NULL, or
 * before any run. Valid until the next run of `push`.
 */
OCIPUSH_API uint64_t ocipush_push_landed_size(const ocipush_push *push);

/**
 * How many of the tags of `push`, in the order they were added, the last
 * ocipush_push_run() made name that manifest: all of them after a run that
 * succeeded, fewer when one failed (the first `n` are in place, the rest
 * were not changed by this run). 0 for NULL or when nothing landed.
 */
OCIPUSH_API size_t ocipush_push_tagged(const ocipush_push *push);

/**
 * How many blobs the last ocipush_push_run() of `push` stored, each told by
 * ocipush_push_blob(): after a run that succeeded, 1 + the number of layers
 * (the config first, then each layer in the order added); 0 after a run
 * that failed (whatever landed), before any run, and for NULL. Valid until
 * the next run or free of `push`.
 */
OCIPUSH_API size_t ocipush_push_blob_count(const ocipush_push *push);

/**
 * Blob `index` of the last ocipush_push_run() of `push` that succeeded:
 * index 0 is the config (the empty config "{}" when none was set), index
 * 1 + i the layer added i-th. *out_digest is its digest "sha256:<hex>",
 * *out_size its size, *out_media_type its media type as the manifest
 * describes it, *out_status one of the ocipush_blob_status values: whether
 * the run uploaded it, found it in the repository already (skipped) or
 * mounted it. A layer whose source also backs an earlier layer (a source
 * read once) tells that blob's status again. Each output may be NULL. The
 * strings belong to `push` and stay valid until its next run, the next
 * call that changes it (a layer added, its config set) or its free.
 * Returns OCIPUSH_OK, or OCIPUSH_E_INVALID (a NULL push, an index not below
 * ocipush_push_blob_count()), and then writes nothing.
 */
OCIPUSH_API int ocipush_push_blob(const ocipush_push *push, const char **out_digest,
                                  uint64_t *out_size, const char **out_media_type, int *out_status,
                                  size_t index);

/* ------------------------------------------------------------------------ */
/* Copying images                                                           */
/* ------------------------------------------------------------------------ */

/** ocipush_copy() flag: leave the referrers of the copied image behind. */
#define OCIPUSH_COPY_NO_REFERRERS 0x1
/** ocipush_copy() flag: every image the source tags, each under its own
 *  tag (the source then names no tag, and `tag` is NULL); what they share
 *  is copied once. `out_digest` gets the first one's digest. */
#define OCIPUSH_COPY_ALL_TAGS 0x2

/** ocipush_session_set_layer_compression(): the layers go uncompressed. */
#define OCIPUSH_COMPRESS_NONE 0

/**
 * How ocipush_copy() compresses the layers of a legacy docker archive, which
 * holds them as uncompressed tars: `algorithm` OCIPUSH_COMPRESS_GZIP (the
 * default; media type application/vnd.oci.image.layer.v1.tar+gzip),
 * OCIPUSH_COMPRESS_ZSTD (...tar+zstd) or OCIPUSH_COMPRESS_NONE (...tar, the
 * bytes as they are, each checked against its diff_id while it is read and
 * skipped when the repository has it), at `level` as
 * ocipush_source_new_compressed() takes it (-1: the algorithm's default;
 * ignored for none). Layouts and OCI archives are copied byte for byte
 * whatever this says. Returns OCIPUSH_OK, OCIPUSH_E_INVALID (NULL session,
 * an unknown algorithm, a level out of range; the setting is unchanged),
 * OCIPUSH_E_UNSUPPORTED (zstd in a build without libzstd). Not to be called
 * while another thread uses the session.
 */
OCIPUSH_API int ocipush_session_set_layer_compression(ocipush_session *session, int algorithm,
                                                      int level);

/**
 * How many blobs ocipush_copy() uploads at once: 1 to 64 (default 4). Above
 * 1, an image's blobs go on worker threads, each with its own copy of the
 * session (its connections, settings and tokens), as ocipush_push_run()'s
 * layers do (see ocipush_push_set_concurrency()); the session's log and
 * progress callbacks are then called from those threads, one call at a
 * time, never two at once. The first failure stops the other uploads.
 * Returns OCIPUSH_OK or OCIPUSH_E_INVALID (NULL session, out of range; the
 * setting is unchanged). Not to be called while another thread uses the
 * session.
 */
OCIPUSH_API int ocipush_session_set_copy_concurrency(ocipush_session *session, int concurrency);

/**
 * The repository of the same registry ocipush_copy() mounts blobs from
 * (copied; NULL: none, the default): a blob the destination lacks is first
 * asked for as a cross-repository mount from `repository` (POST
 * ?mount=DIGEST&from=REPOSITORY, as ocipush_blob_push_mount() does), and
 * uploaded only when the registry does not mount it. A blob whose digest is
 * known only once it is made (a docker archive's layer compressed on the way)
 * is uploaded. Returns OCIPUSH_OK, OCIPUSH_E_INVALID (NULL session, an
 * invalid repository name; the setting is unchanged), OCIPUSH_E_NOMEM. Not
 * to be called while another thread uses the session.
 */
OCIPUSH_API int ocipush_session_set_copy_mount_from(ocipush_session *session,
                                                    const char *repository);

/**
 * Copy an image as users hold it into `repository` on the session's target
 * (a registry, or an OCI layout: ocipush_session_new_layout()), byte for
 * byte: every blob and manifest keeps its digest. `source` names it as
 * skopeo does: "oci:DIR[:TAG]", the OCI image layout in directory DIR and
 * the manifest or index its index.json tags TAG
 * (org.opencontainers.image.ref.name); without TAG, the only image it holds,
 * or the only tagged one (else OCIPUSH_E_INVALID, the message listing the
 * tags). "oci-archive:FILE[:TAG]" is the same layout in a tar file (plain,
 * gzip or zstd, found by its content; member paths with or without "./"; a
 * Docker 25 `docker save` archive is one), read as a stream with libarchive
 * and never unpacked: it is read once through when the copy starts (a
 * truncated or corrupt archive fails then, before anything is pushed), and
 * each large blob is read again from the archive when it is pushed, so no
 * temporary disk is used (OCIPUSH_E_UNSUPPORTED in a build without
 * libarchive, see ocipush_feature()). An index is copied whole: each manifest it lists, nested
 * indexes too (8 deep at most), and every blob.
 *
 * "docker-archive:FILE[:REPO:TAG]" is `docker save` output (plain or
 * compressed, read the same way). One with oci-layout and index.json
 * (Docker 25 and later) is read as the OCI archive it also is, REPO:TAG
 * matched against each entry's io.containerd.image.name ("busybox:latest"
 * is "docker.io/library/busybox:latest"). A legacy one (manifest.json with
 * Config, RepoTags and Layers) becomes an OCI image manifest: its config
 * pushed byte for byte (application/vnd.oci.image.config.v1+json), each
 * layer tar compressed on the fly as ocipush_session_set_layer_compression()
 * says (gzip by default), its compressed digest and size found while it
 * streams, its uncompressed digest checked against the config's
 * rootfs.diff_ids (OCIPUSH_E_DIGEST_MISMATCH, nothing tagged). Layers may
 * be symbolic or hard links to other members. REPO:TAG picks the image
 * whose RepoTags hold it; without it, the archive's only image. The tag
 * defaults to the picked RepoTag's tag (its first RepoTag's without one).
 * OCIPUSH_E_INVALID for an archive with neither form, a config without
 * rootfs or with another number of diff_ids than layers, a REPO:TAG it
 * lacks (the message lists its RepoTags).
 *
 * Every manifest and index the copy needs is read and checked first. Blobs go
 * next, several at once (ocipush_session_set_copy_concurrency()), each
 * checked against its name while it is read (bytes that
 * hash otherwise fail with OCIPUSH_E_DIGEST_MISMATCH before the upload is
 * committed) and skipped when the repository has it already (HEAD); then
 * each manifest by digest, children before their index; the top last, under
 * `tag` (NULL: the source's tag; "": by digest only), so a failure leaves no
 * tag on incomplete content (with OCIPUSH_COPY_ALL_TAGS in `flags`: each
 * image the source tags, in its order, under its own tag). Then, unless
 * `flags` has OCIPUSH_COPY_NO_REFERRERS, every manifest index.json lists whose subject
 * was copied, by digest, and on a registry without the referrers API listed
 * in the sha256-<hex> tag index of its subject, as ocipush_push_run() does.
 * Streams, retries and the fallback are those of ocipush_blob_push().
 *
 * Writes the top manifest's digest into `out_digest` (OCIPUSH_DIGEST_MAX
 * bytes; may be NULL) on success. Returns the codes of ocipush_blob_push()
 * and ocipush_manifest_push_raw(); OCIPUSH_E_INVALID also for a source that
 * is not a layout (no oci-layout or index.json), a tag it lacks, a manifest
 * that is neither an image manifest nor an index, a descriptor or size that
 * does not match the file; OCIPUSH_E_IO for a blob or manifest file that is
 * missing or unreadable. Each message names the file and what is wrong.
 * What landed before a failure stays (blobs, child manifests), untagged;
 * the referrers go after the top is tagged, so a failure among them leaves
 * the image tagged and complete (another image of the layout that cannot
 * be read is passed over there, logged at OCIPUSH_LOG_INFO). A blob's file
 * must be a regular file, not a symbolic link.
 */
OCIPUSH_API int ocipush_copy(ocipush_session *session, char *out_digest, const char *source,
                             const char *repository, const char *tag, int flags);

/* ------------------------------------------------------------------------ */
/* Helm charts                                                              */
/* ------------------------------------------------------------------------ */

/**
 * Push the Helm chart at `chart_path` (a .tgz, as `helm package` makes) as
 * `helm push` does: Chart.yaml is read from the chart directory in the
 * archive; its metadata, as JSON in helm's field order, is the config blob
 * (application/vnd.cncf.helm.config.v1+json); the archive is a layer
 * (application/vnd.cncf.helm.chart.content.v1.tar+gzip) and `CHART.prov`
 * beside it, when present, another (application/vnd.cncf.helm.chart.
 * provenance.v1.prov); the manifest carries the annotations helm writes
 * (org.opencontainers.image.title, version, description, url, source,
 * authors, created: now, or SOURCE_DATE_EPOCH when set; plus the chart's own
 * annotations, which cannot replace title or version). It goes to the
 * repository `repository_prefix`/NAME (NAME alone for a NULL or empty
 * prefix), tagged with the chart version, '+' replaced by '_'. The chart is
 * checked before anything is pushed: not gzip, not tar, no Chart.yaml, no
 * name or version, a version that is not a semantic version: nothing is
 * pushed and OCIPUSH_E_INVALID says which. *out_reference (may be NULL) is
 * set to "REPOSITORY:TAG" (free with ocipush_free), `out_digest` (may be
 * NULL) to the manifest digest. Returns the codes of ocipush_push_run(),
 * OCIPUSH_E_IO (the chart file cannot be read: missing, no permission, a
 * directory, a read error; errno set, and the message names the path and
 * the system's reason), OCIPUSH_E_UNSUPPORTED (built without Helm support).
 * The blobs it stored (config, chart, provenance) and what happened to
 * each: ocipush_session_blob(), until the next call on the session.
 */
OCIPUSH_API int ocipush_chart_push(ocipush_session *session, char **out_reference, char *out_digest,
                                   const char *chart_path, const char *repository_prefix);

/* ------------------------------------------------------------------------ */
/* References                                                               */
/* ------------------------------------------------------------------------ */

/**
 * Check a repository name against the OCI distribution rules
 * (lowercase path components separated by '/'). Returns OCIPUSH_OK or
 * OCIPUSH_E_INVALID. Thread-safe.
 */
OCIPUSH_API int ocipush_repository_validate(const char *repository);

/** Check a tag ([A-Za-z0-9_][A-Za-z0-9._-]{0,127}). Returns OCIPUSH_OK or
 *  OCIPUSH_E_INVALID. Thread-safe. */
OCIPUSH_API int ocipush_tag_validate(const char *tag);

/** Check a digest "sha256:<64 lowercase hex>". Returns OCIPUSH_OK or
 *  OCIPUSH_E_INVALID. Thread-safe. */
OCIPUSH_API int ocipush_digest_validate(const char *digest);

/**
 * Check a media type as every call that takes one does: RFC 6838
 * `type/subtype` (each an ASCII letter or digit, then at most 126 of letters,
 * digits and `!#$&-^_.+`, so `+suffix` and `vnd.` facets are in), then any
 * number of `; name=value` parameters (a token name, a token or quoted-string
 * value), with spaces only around the `;`; at most 1024 bytes, printable ASCII
 * only (no control character, tab or byte above 0x7e), so a media type can
 * never add a header to a request. Returns OCIPUSH_OK or OCIPUSH_E_INVALID
 * (also for NULL). Thread-safe.
 */
OCIPUSH_API int ocipush_media_type_validate(const char *media_type);

/**
 * Split a reference "host[:port]/repository[:tag][@digest]" and check each
 * part. On success *out_registry and *out_repository are set, *out_tag and
 * *out_digest (each optional: pass NULL to ignore) are set or NULL when
 * absent; every string is freed with ocipush_free. On OCIPUSH_E_INVALID,
 * *out_why (optional) points to static text saying what was wrong. Returns
 * OCIPUSH_OK, OCIPUSH_E_INVALID, OCIPUSH_E_NOMEM. Thread-safe.
 */
OCIPUSH_API int ocipush_reference_parse(char **out_registry, char **out_repository, char **out_tag,
                                        char **out_digest, const char **out_why,
                                        const char *reference);

#ifdef __cplusplus
}
#endif

#endif /* OCIPUSH_H */
