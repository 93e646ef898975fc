/* ocipush: the command-line tool over libocipush.
 *
 *   ocipush [OPTIONS] blob push REPOSITORY FILE|-
 *   ocipush [OPTIONS] manifest push REFERENCE FILE
 *   ocipush [OPTIONS] push REFERENCE FILE[:MEDIATYPE]...
 *   ocipush [OPTIONS] chart push CHART.tgz [oci://HOST[:PORT][/PATH]]
 *
 * --format json makes the four push commands print one JSON object on
 * standard output, the result or {"error": ...} (see json_error()).
 *
 * Exit status: 0 success, 1 failure (one line on stderr; also when the
 * result cannot be written to standard output), 2 usage error, 130 and 143
 * when SIGINT or SIGTERM cancelled the push.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ocipush.h"

#define EXIT_USAGE 2
#define MAX_MANIFEST_BYTES (4u << 20)
#define DEFAULT_LAYOUT "oci-layout"

typedef struct cli {
    int plain_http, insecure, no_spool, verbose, password_stdin, help, version;
    int json;               /* --format json */
    int no_referrers;       /* copy --no-referrers */
    const char *mount_from; /* copy --mount-from */
    int all_tags;           /* copy --all-tags */
    const char *ca_file, *cert_file, *key_file, *username, *password, *config, *artifact_type;
    const char *subject;
    const char *layout; /* --oci-layout DIR: push there instead of a registry */
    char *password_buf; /* --password-stdin's line, wiped before it is freed */
    size_t password_cap;
    ocipush_strategy strategy;
    uint64_t chunk_size;
    uint64_t spool_max; /* --spool-max: the spool's window; valid when spool_max_set */
    int spool_max_set;
    long retries, retry_delay, retry_max_delay, connect_timeout, idle_timeout, concurrency;
    int64_t timeout_ms; /* -1: the library's default */
    const char **annotations;
    size_t annotation_count;

    /* A directory's tar layer. */
    int compress;        /* --compress: 0 none, OCIPUSH_COMPRESS_GZIP (default), _ZSTD */
    long compress_level; /* --compress-level; -1: the algorithm's default */
    int preserve_owner;  /* --preserve-owner */
} cli;

static const char usage_text[] =
    "usage: ocipush [OPTIONS] blob push REPOSITORY FILE|-\n"
    "       ocipush [OPTIONS] manifest push REFERENCE FILE\n"
    "       ocipush [OPTIONS] push REFERENCE FILE[:MEDIATYPE]|DIR[:MEDIATYPE]...\n"
    "       ocipush [OPTIONS] chart push CHART.tgz [oci://HOST[:PORT][/PATH]]\n"
    "       ocipush [OPTIONS] copy SOURCE DESTINATION\n"
    "       ocipush [OPTIONS] login HOST[:PORT] -u USER (-p PASS | --password-stdin)\n"
    "       ocipush logout HOST[:PORT]\n"
    "\n"
    "REFERENCE is host[:port]/repository[:tag], REPOSITORY is host[:port]/repository;\n"
    "with no host (a first component with a '.' or ':', or localhost), and for a chart\n"
    "with no oci:// destination, the push goes into the OCI layout ./" DEFAULT_LAYOUT "\n"
    "(or --oci-layout DIR).\n"
    "A copy's SOURCE is oci:DIR[:TAG], oci-archive:FILE[:TAG] or\n"
    "docker-archive:FILE[:REPO:TAG] (a docker save tar, its layers compressed as\n"
    "--compress says); its DESTINATION is host[:port]/repository[:tag] or oci:DIR[:TAG].\n"
    "- reads standard input as a stream (write -- before a -:MEDIATYPE argument).\n"
    "A push's DIR is packed as a tar layer (sorted, owner 0:0, mtimes SOURCE_DATE_EPOCH\n"
    "when set), gzip'd unless --compress says otherwise.\n"
    "\n"
    "options:\n"
    "  --plain-http             use http:// instead of https://\n"
    "  --insecure               do not verify TLS certificates\n"
    "  --ca-file FILE           trust the CA certificates in FILE\n"
    "  --cert-file FILE         client certificate (PEM) for mutual TLS\n"
    "  --key-file FILE          its private key (PEM)\n"
    "  -u, --username USER      credentials: user name (without -u, docker's and\n"
    "                           helm's credential stores are looked up)\n"
    "  -p, --password PASS      basic credentials: password\n"
    "  --password-stdin         read the password from standard input\n"
    "  --strategy S             auto|monolithic|stream|chunked (default auto)\n"
    "  --chunk-size BYTES       chunk size for chunked and length-delimited uploads\n"
    "                           (at least 64K)\n"
    "  --no-spool               do not keep a copy of a stream to send it again\n"
    "  --spool-max BYTES        the most of a stream kept to send it again, the first\n"
    "                           MiB in memory, the rest in $TMPDIR (default 65M; 0: as\n"
    "                           --no-spool)\n"
    "  --retries N              tries after the first, in all, for one blob or manifest\n"
    "                           push (default 3)\n"
    "  --retry-delay MS         wait before the first retry, doubling after (default 500)\n"
    "  --retry-max-delay MS     longest wait between tries, a Retry-After's too\n"
    "                           (default 10000)\n"
    "  --connect-timeout MS     give up connecting after MS (default 30000)\n"
    "  --idle-timeout MS        give up on a transfer idle for MS (default 300000)\n"
    "  --timeout DURATION       give up on a push (every request, retry and wait) after\n"
    "                           DURATION: 90, 90s, 5m, 1h; 0 for never (default 1h)\n"
    "  --oci-layout DIR         push into the OCI image layout DIR, not to a registry\n"
    "  --config FILE[:TYPE]     push: the config blob (default: the empty config {})\n"
    "  --artifact-type TYPE     push: the manifest's artifactType\n"
    "  --subject TAG|DIGEST     push: the manifest it refers to, in the same repository\n"
    "  --concurrency N          push, copy: blobs uploaded at once (default 4)\n"
    "  --annotation KEY=VALUE   push: a manifest annotation (repeatable)\n"
    "  --compress ALGORITHM     gzip (the default), zstd or none: how a directory's tar\n"
    "                           layer, or a docker archive's layers, are compressed\n"
    "  --compress-level N       the compression level (gzip: 0 to 9, default 6;\n"
    "                           zstd: 0 to 19, default 3)\n"
    "  --preserve-owner         push: a directory's tar keeps its files' owners (not 0:0)\n"
    "  --no-referrers           copy: leave the image's referrers behind\n"
    "  --all-tags               copy: every image the source tags, each under its tag\n"
    "  --mount-from REPO        copy: mount blobs from REPO of the same registry when\n"
    "                           it has them, instead of uploading them\n"
    "  --format FORMAT          text (the default) or json: push, blob push, manifest\n"
    "                           push and chart push print one JSON object, the result\n"
    "                           or {\"error\": ...}\n"
    "  -v, --verbose            say what happens, and each HTTP exchange (method,\n"
    "                           URL, status; credentials never shown)\n"
    "  -h, --help               show this help\n"
    "  --version                show the versions of ocipush and libcurl, the digest\n"
    "                           backend and the built-in features\n";

/* --version: what a bug report needs, from the library this runs with. */
static void print_version(void)
{
    int helm = ocipush_feature("helm"), archive = ocipush_feature("oci-archive");
    int dirs = ocipush_feature("directory-layers"), zstd = ocipush_feature("zstd");
    printf("ocipush %s\nlibcurl %s\ndigest: %s\nfeatures:%s%s%s%s%s\n", ocipush_version(),
           ocipush_libcurl_version(), ocipush_feature("openssl") ? "openssl" : "mbedtls",
           helm ? " helm" : "", archive ? " oci-archive docker-archive" : "",
           dirs ? " directory-layers" : "", zstd ? " zstd" : "",
           helm || archive || dirs || zstd ? "" : " none");
}

static int usage_error(const char *msg)
{
    fprintf(stderr, "ocipush: %s\n%s", msg, usage_text);
    return EXIT_USAGE;
}

/* usage_error() with the argument at fault. */
static int usage_error_about(const char *what, const char *arg)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s: '%.200s'", what, arg);
    return usage_error(msg);
}

static void on_log(int level, const char *message, void *user_data)
{
    (void)user_data;
    static const char *names[] = {"error", "warning", "info", "debug"};
    fprintf(stderr, "ocipush: %s: %s\n", names[level >= 0 && level <= 3 ? level : 3], message);
}

/* A progress line on standard error, only when it is a terminal: bytes, rate
 * and, for a push, the layer; redrawn at most ten times a second. */
typedef struct progress {
    int on;
    int drawn;
    double start, last;
    size_t layers;
    char what[64]; /* the last figures, drawn once more at the end */
    uint64_t done;
    int64_t total;
} progress;

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress_begin(progress *pr, size_t layers)
{
    pr->on = isatty(STDERR_FILENO);
    pr->drawn = 0;
    pr->start = pr->last = now_seconds();
    pr->layers = layers;
    pr->what[0] = '\0';
    pr->done = 0;
    pr->total = -1;
}

static void size_text(char *out, size_t cap, double bytes)
{
    const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024 && u < 4) {
        bytes /= 1024;
        u++;
    }
    snprintf(out, cap, u ? "%.1f %s" : "%.0f %s", bytes, unit[u]);
}

static void progress_draw(progress *pr, const char *what, uint64_t done, int64_t total, int force)
{
    double t = now_seconds();
    snprintf(pr->what, sizeof pr->what, "%s", what);
    pr->done = done;
    pr->total = total;
    if (!pr->on || (!force && t - pr->last < 0.1))
        return;
    pr->last = t;
    char d[32], tot[32], rate[32];
    size_text(d, sizeof d, (double)done);
    size_text(tot, sizeof tot, total < 0 ? 0 : (double)total);
    size_text(rate, sizeof rate, t > pr->start ? (double)done / (t - pr->start) : 0);
    fprintf(stderr, "\r\033[K%s%s %s%s%s  %s/s", what, *what ? ":" : "", d, total < 0 ? "" : " / ",
            total < 0 ? "" : tot, rate);
    pr->drawn = 1;
}

static void progress_end(progress *pr)
{
    if (pr->on && pr->total > 0) {
        char what[sizeof pr->what];
        memcpy(what, pr->what, sizeof what);
        progress_draw(pr, what, pr->done, pr->total, 1);
    }
    if (pr->on && pr->drawn)
        fputs("\n", stderr);
}

static int on_blob_progress(uint64_t done, int64_t total, void *user_data)
{
    progress_draw(user_data, "", done, total, 0);
    return 0;
}

static int on_push_progress(size_t index, uint64_t done, int64_t total, uint64_t all_done,
                            int64_t all_total, void *user_data)
{
    progress *pr = user_data;
    char what[64];
    (void)done;
    (void)total;
    snprintf(what, sizeof what, "layer %zu of %zu", index + 1, pr->layers);
    progress_draw(pr, what, all_done, all_total, 0);
    return 0;
}

/* --format json: set by run_command() for the commands that have it. */
static int json_output;

/* The UTF-8 sequence at `s`: its length (0: not valid UTF-8) and its code
 * point. Overlong forms, surrogates and code points past U+10FFFF are not
 * valid. */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
    size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (n == 0 || s[0] >= 0xf8)
        return 0;
    uint32_t v = s[0] & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min[n] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return n;
}

/* Code points a terminal acts on or a reader is fooled by: C0 and C1
 * controls, DEL, the line and paragraph separators, the bidirectional
 * controls. Escaped, never written raw. */
static int json_escaped(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e ||
           cp == 0x200f || cp == 0x061c;
}

/* `s` as a JSON string: quotes and backslashes escaped, the code points of
 * json_escaped() as \uXXXX, a byte that is not UTF-8 as \ufffd. What a
 * registry sent (an error message) may hold anything: it never reaches the
 * output raw. */
static void json_string(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    fputc('"', f);
    while (*p) {
        uint32_t cp = *p;
        size_t n = 1;
        if (cp >= 0x80 && (n = utf8_decode(p, &cp)) == 0) {
            fputs("\\ufffd", f);
            p++;
            continue;
        }
        if (cp == '"' || cp == '\\')
            fprintf(f, "\\%c", (int)cp);
        else if (json_escaped(cp))
            fprintf(f, "\\u%04x", (unsigned)cp);
        else
            fwrite(p, 1, n, f);
        p += n;
    }
    fputc('"', f);
}

/* "key":"value", with a comma before unless it is the first. */
static void json_field(const char *key, const char *value, int first)
{
    printf("%s\"%s\":", first ? "" : ",", key);
    json_string(stdout, value);
}

/* The name of a status code, as the header defines it. */
static const char *code_name(int rc)
{
    static const char *const names[] = {"OCIPUSH_OK",
                                        "OCIPUSH_E_INVALID",
                                        "OCIPUSH_E_NOMEM",
                                        "OCIPUSH_E_IO",
                                        "OCIPUSH_E_NETWORK",
                                        "OCIPUSH_E_HTTP",
                                        "OCIPUSH_E_AUTH",
                                        "OCIPUSH_E_DIGEST_MISMATCH",
                                        "OCIPUSH_E_SOURCE",
                                        "OCIPUSH_E_NOT_REPLAYABLE",
                                        "OCIPUSH_E_ABORTED",
                                        "OCIPUSH_E_PROTOCOL",
                                        "OCIPUSH_E_UNSUPPORTED",
                                        "OCIPUSH_E_NOT_MOUNTED"};
    return rc <= 0 && -rc < (int)(sizeof names / sizeof names[0]) ? names[-rc]
                                                                  : "OCIPUSH_E_UNKNOWN";
}

/* With --format json, a failure is told on standard output too, as one
 * object: {"error": {"code": -5, "name": "OCIPUSH_E_HTTP", "message":
 * "...", "httpStatus": 400 or null, "registryCode": "DENIED" or null}}.
 * The status and the registry's code are the session's (NULL: none). The
 * line on standard error stays. */
static void json_error(const ocipush_session *s, int rc, const char *message)
{
    if (!json_output)
        return;
    int http = s ? ocipush_session_http_status(s) : 0;
    const char *registry_code = s ? ocipush_session_error_code(s) : "";
    printf("{\"error\":{\"code\":%d", rc);
    json_field("name", code_name(rc), 0);
    json_field("message", message, 0);
    if (http)
        printf(",\"httpStatus\":%d", http);
    else
        fputs(",\"httpStatus\":null", stdout);
    if (*registry_code)
        json_field("registryCode", registry_code, 0);
    else
        fputs(",\"registryCode\":null", stdout);
    fputs("}}\n", stdout);
}

static const char *blob_status_name(int status)
{
    return status == OCIPUSH_BLOB_SKIPPED   ? "skipped"
           : status == OCIPUSH_BLOB_MOUNTED ? "mounted"
                                            : "pushed";
}

/* ,"tags":["TAG"], or [] for none. */
static void json_tags(const char *tag)
{
    fputs(",\"tags\":[", stdout);
    if (tag)
        json_string(stdout, tag);
    fputc(']', stdout);
}

/* One blob of a push: {"digest","size","mediaType","status"}. */
static void json_blob(const char *digest, uint64_t size, const char *media_type, int status,
                      int first)
{
    fputs(first ? "{" : ",{", stdout);
    json_field("digest", digest, 1);
    printf(",\"size\":%" PRIu64, size);
    json_field("mediaType", media_type, 0);
    json_field("status", blob_status_name(status), 0);
    fputc('}', stdout);
}

/* ,"blobs":[...]} and the newline: what the push `p` stored, or (p NULL)
 * what the last call on `s` did. */
static void json_blobs(const ocipush_push *p, const ocipush_session *s)
{
    size_t n = p ? ocipush_push_blob_count(p) : ocipush_session_blob_count(s);
    fputs(",\"blobs\":[", stdout);
    for (size_t i = 0; i < n; i++) {
        const char *d = "", *mt = "";
        uint64_t size = 0;
        int st = OCIPUSH_BLOB_PUSHED;
        if (p)
            ocipush_push_blob(p, &d, &size, &mt, &st, i);
        else
            ocipush_session_blob(s, &d, &size, &mt, &st, i);
        json_blob(d, size, mt, st, i == 0);
    }
    fputs("]}\n", stdout);
}

/* {"reference": the reference a push landed at: HOST/REPOSITORY (or the
 * layout DIR, as the text says it), then :TAG, or @DIGEST with no tag. */
static void json_reference(const cli *c, const char *registry, const char *repository,
                           const char *tag, const char *digest)
{
    char ref[2048];
    snprintf(ref, sizeof ref, "%s%s%s%s%s", c->layout ? c->layout : registry, c->layout ? "" : "/",
             c->layout ? "" : repository, tag ? ":" : "@", tag ? tag : digest);
    fputc('{', stdout);
    json_field("reference", ref, 1);
}

static int fail(ocipush_session *s, int rc, const char *doing)
{
    const char *detail = s ? ocipush_session_errmsg(s) : "";
    fprintf(stderr, "ocipush: %s failed: %s%s%s\n", doing, ocipush_strerror(rc),
            *detail ? ": " : "", detail);
    json_error(s, rc, *detail ? detail : ocipush_strerror(rc));
    return 1;
}

/* SIGINT and SIGTERM cancel the session at work (its open upload sessions
 * are deleted, nothing is tagged), and the command then exits 128 + the
 * signal. With no session at work there is nothing to undo: exit at once.
 * A second signal does not wait for the cleanup either.
 *
 * No handler: main() blocks the signals before any library call or thread
 * (every thread inherits the mask: libcurl's resolver, the push's workers),
 * and one thread takes them with sigwait(). It cancels under `guard`, and
 * session_done() forgets the session under `guard` before it frees it: a
 * cancel and the free never overlap. */
static pthread_mutex_t guard = PTHREAD_MUTEX_INITIALIZER;
static ocipush_session *working; /* guarded */
static int caught;               /* guarded: the signal that cancelled it */
static int over;                 /* guarded: the command's status stands */
static sigset_t waited;          /* SIGINT and SIGTERM unless ignored at start */
static int wake_sig;             /* one of `waited`: stop_signals() sends it */
static pthread_t waiter;
static int waiter_on;

static void *wait_signals(void *arg)
{
    (void)arg;
    for (;;) {
        int sig = 0;
        if (sigwait(&waited, &sig) != 0)
            continue;
        pthread_mutex_lock(&guard);
        if (over) { /* the command is over: what it did stands */
            pthread_mutex_unlock(&guard);
            return NULL;
        }
        if (!working || caught)
            _exit(128 + sig);
        caught = sig;
        ocipush_session_cancel(working);
        pthread_mutex_unlock(&guard);
    }
}

/* First thing in main(). A signal ignored when ocipush starts (SIGINT in a
 * background job of a script, nohup) stays ignored. */
static void catch_signals(void)
{
    static const int sigs[] = {SIGINT, SIGTERM};
    sigemptyset(&waited);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old;
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN) {
            sigaddset(&waited, sigs[i]);
            wake_sig = sigs[i];
        }
    }
    if (!wake_sig)
        return;
    if (pthread_sigmask(SIG_BLOCK, &waited, NULL) != 0)
        return;
    waiter_on = pthread_create(&waiter, NULL, wait_signals, NULL) == 0;
    if (!waiter_on) /* no cancel then, but the signals still end ocipush */
        pthread_sigmask(SIG_UNBLOCK, &waited, NULL);
}

/* The last thing in main(): the waiting thread ends (a signal from here on
 * stays blocked, and the command's status is the exit status). */
static void stop_signals(void)
{
    if (!waiter_on)
        return;
    pthread_mutex_lock(&guard);
    over = 1;
    pthread_mutex_unlock(&guard);
    pthread_kill(waiter, wake_sig);
    pthread_join(waiter, NULL);
    waiter_on = 0;
}

/* A session just made: from here a signal cancels it. */
static void session_working(ocipush_session *s)
{
    pthread_mutex_lock(&guard);
    working = s;
    pthread_mutex_unlock(&guard);
}

/* The command is over, what it did stands: a signal from here on is not
 * acted on, and the command's status is the exit status. Once `guard` is
 * released no cancel can be using the session: free it. */
static void session_done(ocipush_session *s)
{
    pthread_mutex_lock(&guard);
    working = NULL;
    over = 1;
    pthread_mutex_unlock(&guard);
    ocipush_session_free(s);
}

/* The signal that cancelled the command, or 0. */
static int cancelled_by(void)
{
    pthread_mutex_lock(&guard);
    int sig = caught;
    pthread_mutex_unlock(&guard);
    return sig;
}

/* The status of a command that failed: 128 + the signal that cancelled it. */
static int failed(ocipush_session *s, int rc, const char *doing)
{
    int sig = cancelled_by();
    if (sig) {
        char msg[128];
        snprintf(msg, sizeof msg, "%s cancelled by %s", doing,
                 sig == SIGINT ? "SIGINT" : "SIGTERM");
        fprintf(stderr, "ocipush: %s\n", msg);
        json_error(NULL, OCIPUSH_E_ABORTED, msg);
        return 128 + sig;
    }
    return fail(s, rc, doing);
}

static int parse_strategy(const char *s, ocipush_strategy *out)
{
    static const struct {
        const char *name;
        ocipush_strategy value;
    } names[] = {{"auto", OCIPUSH_STRATEGY_AUTO},
                 {"monolithic", OCIPUSH_STRATEGY_MONOLITHIC},
                 {"stream", OCIPUSH_STRATEGY_STREAM},
                 {"chunked", OCIPUSH_STRATEGY_CHUNKED}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].value;
            return 0;
        }
    return -1;
}

/* The library's default memory part of the spool's window. */
#define SPOOL_MEMORY (1u << 20)

static int parse_size(const char *s, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *s == '-')
        return -1;
    uint64_t mult = 1;
    if (*end == 'k' || *end == 'K')
        mult = 1024, end++;
    else if (*end == 'm' || *end == 'M')
        mult = 1024 * 1024, end++;
    else if (*end == 'g' || *end == 'G')
        mult = 1024ull * 1024 * 1024, end++;
    if (*end || v > UINT64_MAX / mult)
        return -1;
    *out = (uint64_t)v * mult;
    return 0;
}

/* --timeout: seconds, or a number with s, m or h; at most 10^9 seconds. */
static int parse_duration(const char *s, int64_t *out_ms)
{
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *s < '0' || *s > '9' || v > 1000000000LL)
        return -1;
    long long unit = 1000;
    if (*end == 'm')
        unit = 60 * 1000, end++;
    else if (*end == 'h')
        unit = 3600 * 1000, end++;
    else if (*end == 's')
        end++;
    if (*end || v > 1000000000LL * 1000 / unit)
        return -1;
    *out_ms = (int64_t)(v * unit);
    return 0;
}

/* A non-negative decimal number, at most 10^9. */
static int parse_count(const char *s, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0 || v > 1000000000L)
        return -1;
    *out = v;
    return 0;
}

static int read_password_stdin(cli *c)
{
    /* Unbuffered: no copy of the password is left in stdin's buffer (nothing
     * else reads standard input with --password-stdin). */
    setvbuf(stdin, NULL, _IONBF, 0);
    ssize_t n = getline(&c->password_buf, &c->password_cap, stdin);
    if (n < 0)
        return -1;
    while (n > 0 && (c->password_buf[n - 1] == '\n' || c->password_buf[n - 1] == '\r'))
        c->password_buf[--n] = '\0';
    c->password = c->password_buf;
    return 0;
}

/* 0, or the exit status: 2 for settings the library refuses (a usage
 * error), 1 for what went wrong. */
static int make_session(const cli *c, const char *registry, ocipush_session **out)
{
    ocipush_session *s = NULL;
    int rc =
        c->layout ? ocipush_session_new_layout(&s, c->layout) : ocipush_session_new(&s, registry);
    if (rc && c->layout) {
        fprintf(stderr, "ocipush: cannot use '%s' as an OCI layout: %s\n", c->layout,
                rc == OCIPUSH_E_IO ? strerror(errno) : ocipush_strerror(rc));
        return rc == OCIPUSH_E_INVALID ? EXIT_USAGE : 1; /* an empty --oci-layout */
    }
    if (rc) {
        fprintf(stderr, "ocipush: invalid registry '%s': %s\n", registry, ocipush_strerror(rc));
        return rc == OCIPUSH_E_INVALID ? EXIT_USAGE : 1;
    }
    /* At work from here: a signal during the credential lookup cancels the
     * session (the helper is waited for), it does not end ocipush under a
     * running helper. */
    session_working(s);
    ocipush_session_set_log_callback(s, on_log, c->verbose ? OCIPUSH_LOG_DEBUG : OCIPUSH_LOG_WARN,
                                     NULL);
    ocipush_session_set_plain_http(s, c->plain_http);
    ocipush_session_set_insecure(s, c->insecure);
    ocipush_session_set_strategy(s, c->strategy);
    ocipush_session_set_timeouts(s, c->connect_timeout, c->idle_timeout);
    if (c->timeout_ms >= 0)
        ocipush_session_set_timeout(s, c->timeout_ms);
    if (c->no_spool)
        ocipush_session_set_spool(s, 0, 0, 0);
    else if (c->spool_max_set) /* the first MiB in memory, the rest on disk */
        ocipush_session_set_spool(s, 1, c->spool_max < SPOOL_MEMORY ? c->spool_max : SPOOL_MEMORY,
                                  c->spool_max < SPOOL_MEMORY ? 0 : c->spool_max - SPOOL_MEMORY);
    /* parse_options checked the numbers; the library has the last word. */
    if ((rc = ocipush_session_set_chunk_size(s, c->chunk_size)) ||
        (rc = ocipush_session_set_retry(s, (int)c->retries + 1, c->retry_delay, c->retry_max_delay,
                                        20))) {
        fprintf(stderr, "ocipush: invalid --chunk-size or retry settings: %s\n",
                ocipush_strerror(rc));
        session_done(s);
        return rc == OCIPUSH_E_INVALID ? EXIT_USAGE : 1;
    }
    if ((c->ca_file && (rc = ocipush_session_set_ca_file(s, c->ca_file))) ||
        (c->cert_file && (rc = ocipush_session_set_client_cert(s, c->cert_file, c->key_file))) ||
        (c->username && (rc = ocipush_session_set_basic_auth(s, c->username, c->password)))) {
        fprintf(stderr, "ocipush: invalid TLS or credential settings: %s\n", ocipush_strerror(rc));
        session_done(s);
        return rc == OCIPUSH_E_INVALID ? EXIT_USAGE : 1;
    }
    int found = 0;
    if (!c->username && (rc = ocipush_session_load_credentials(s, &found))) {
        int status = failed(s, rc, "looking up credentials");
        session_done(s);
        return status;
    }
    *out = s;
    return 0;
}

/* Whether a reference begins with a registry host. As docker tells it: the
 * first of several components is a host when it has a '.' or a ':' (a
 * domain, an address, a port) or is "localhost"; "app:1" and "team/app:1"
 * name none. */
static int names_registry(const char *text)
{
    const char *slash = strchr(text, '/');
    if (!slash)
        return 0;
    size_t n = (size_t)(slash - text);
    return memchr(text, '.', n) || memchr(text, ':', n) ||
           (n == 9 && strncmp(text, "localhost", 9) == 0);
}

/* With no registry in the reference and no --oci-layout, the push goes into
 * the OCI layout DEFAULT_LAYOUT in the working directory: ocipush never
 * guesses a registry (docker would take Docker Hub), and says where it
 * wrote. */
static void default_to_layout(cli *c, const char *text)
{
    if (c->layout || (text && names_registry(text)))
        return;
    c->layout = DEFAULT_LAYOUT;
    if (text)
        fprintf(stderr,
                "ocipush: '%s' names no registry (a host has a '.' or a ':', or is localhost): "
                "pushing into the OCI layout '%s'\n",
                text, c->layout);
    else
        fprintf(stderr,
                "ocipush: no oci:// destination: pushing the chart into the OCI layout '%s'\n",
                c->layout);
}

/* Splits a reference; prints why on failure. */
/* What split_reference() made (any may be NULL). */
static void free_reference(char *registry, char *repository, char *tag, char *digest)
{
    ocipush_free(registry);
    ocipush_free(repository);
    ocipush_free(tag);
    ocipush_free(digest);
}

static int split_reference(const cli *c, const char *text, int tag_allowed, char **registry,
                           char **repository, char **tag, char **digest)
{
    const char *why = NULL;
    *tag = *digest = NULL;
    int rc;
    if (c->layout && !names_registry(text)) {
        /* Into a layout, "repository[:tag]" is enough: no host. */
        char with_host[1024];
        int n = snprintf(with_host, sizeof with_host, "oci-layout.invalid/%s", text);
        if (n < 0 || (size_t)n >= sizeof with_host) {
            fprintf(stderr, "ocipush: invalid reference '%.40s...': too long\n", text);
            return -1;
        }
        rc = ocipush_reference_parse(registry, repository, tag, digest, &why, with_host);
    } else {
        rc = ocipush_reference_parse(registry, repository, tag, digest, &why, text);
    }
    if (rc) {
        fprintf(stderr, "ocipush: invalid reference '%s': %s\n", text, why ? why : "out of memory");
        return -1;
    }
    if (!tag_allowed && (*tag || *digest)) {
        fprintf(stderr, "ocipush: '%s' names a repository: it takes no tag or digest\n", text);
        free_reference(*registry, *repository, *tag, *digest);
        return -1;
    }
    return 0;
}

static int open_source(const char *path, ocipush_source **out)
{
    int rc = strcmp(path, "-") == 0 ? ocipush_source_new_fd(out, STDIN_FILENO, 0)
                                    : ocipush_source_new_file(out, path);
    if (rc) {
        char msg[512];
        snprintf(msg, sizeof msg, "cannot read '%.400s': %s", path,
                 rc == OCIPUSH_E_IO ? strerror(errno) : ocipush_strerror(rc));
        fprintf(stderr, "ocipush: %s\n", msg);
        json_error(NULL, rc, msg);
        return -1;
    }
    return 0;
}

static int cmd_blob_push(const cli *c, const char *repo_ref, const char *path)
{
    char *registry, *repository, *tag, *digest;
    if (split_reference(c, repo_ref, 0, &registry, &repository, &tag, &digest))
        return EXIT_USAGE;
    ocipush_session *s = NULL;
    ocipush_source *src = NULL;
    int status = make_session(c, registry, &s);
    if (status == 0 && (status = 1, open_source(path, &src) == 0)) {
        char out[OCIPUSH_DIGEST_MAX];
        uint64_t size = 0;
        progress pr;
        progress_begin(&pr, 1);
        ocipush_session_set_progress_callback(s, on_blob_progress, &pr);
        int rc = ocipush_blob_push(s, out, &size, repository, src, NULL);
        progress_end(&pr);
        if (rc)
            status = failed(s, rc, "blob push");
        else if (json_output) {
            int blob_status = OCIPUSH_BLOB_PUSHED;
            ocipush_session_blob(s, NULL, NULL, NULL, &blob_status, 0);
            fputc('{', stdout);
            json_field("digest", out, 1);
            printf(",\"size\":%" PRIu64, size);
            json_field("status", blob_status_name(blob_status), 0);
            fputs("}\n", stdout);
            status = 0;
        } else {
            printf("%s\n", out);
            status = 0;
        }
    }
    ocipush_source_free(src);
    session_done(s);
    ocipush_free(registry);
    ocipush_free(repository);
    return status;
}

static int read_whole_file(const char *path, char **out, size_t *out_len)
{
    FILE *f = fopen(path, "rbe");
    char msg[512];
    if (!f) {
        snprintf(msg, sizeof msg, "cannot read '%.400s': %s", path, strerror(errno));
        fprintf(stderr, "ocipush: %s\n", msg);
        json_error(NULL, OCIPUSH_E_IO, msg);
        return -1;
    }
    char *data = malloc(MAX_MANIFEST_BYTES + 1);
    size_t n = data ? fread(data, 1, MAX_MANIFEST_BYTES + 1, f) : 0;
    int err = ferror(f);
    fclose(f);
    if (!data || err || n > MAX_MANIFEST_BYTES) {
        snprintf(msg, sizeof msg, "cannot read '%.400s': %s", path,
                 !data ? "out of memory"
                 : err ? "read error"
                       : "larger than 4 MiB");
        fprintf(stderr, "ocipush: %s\n", msg);
        json_error(NULL, !data ? OCIPUSH_E_NOMEM : err ? OCIPUSH_E_IO : OCIPUSH_E_INVALID, msg);
        free(data);
        return -1;
    }
    *out = data;
    *out_len = n;
    return 0;
}

static int cmd_manifest_push(const cli *c, const char *ref, const char *path)
{
    char *registry, *repository, *tag, *digest;
    if (split_reference(c, ref, 1, &registry, &repository, &tag, &digest))
        return EXIT_USAGE;
    char *data = NULL;
    size_t len = 0;
    ocipush_session *s = NULL;
    int status = 1;
    /* TAG@DIGEST as one reference: the library checks the digest before it
     * sends anything, so a mismatch moves no tag. */
    char target[256];
    snprintf(target, sizeof target, "%s%s%s", tag ? tag : "", tag && digest ? "@" : "",
             digest ? digest : "");
    if (read_whole_file(path, &data, &len) == 0 && (status = make_session(c, registry, &s)) == 0) {
        status = 1;
        char out[OCIPUSH_DIGEST_MAX];
        int rc = ocipush_manifest_push_raw(s, out, repository, target[0] ? target : NULL, NULL,
                                           data, len);
        if (rc)
            status = failed(s, rc, "manifest push");
        else if (json_output) {
            /* The media type the push went with (none was given): the
             * document's, which the library read. */
            char *media_type = NULL;
            ocipush_manifest_media_type(&media_type, data, len);
            json_reference(c, registry, repository, tag, out);
            json_field("repository", repository, 0);
            json_field("digest", out, 0);
            printf(",\"size\":%zu", len);
            json_field("mediaType", media_type ? media_type : "", 0);
            json_tags(tag);
            fputs("}\n", stdout);
            ocipush_free(media_type);
            status = 0;
        } else {
            printf("Pushed: %s\nDigest: %s\n", ref, out);
            status = 0;
        }
    }
    free(data);
    session_done(s);
    free_reference(registry, repository, tag, digest);
    return status;
}

/* "FILE[:MEDIATYPE]": a path that exists as written keeps its colons. */
static void split_file_arg(const char *arg, char **path, const char **media_type)
{
    struct stat st;
    const char *colon = strrchr(arg, ':');
    *media_type = NULL;
    if (colon && strcmp(arg, "-") != 0 && stat(arg, &st) != 0 && colon[1]) {
        *path = strndup(arg, (size_t)(colon - arg));
        *media_type = colon + 1;
    } else {
        *path = strdup(arg);
    }
}

/* The media types of FILE:MEDIATYPE arguments and --config go into the
 * manifest: each is checked before anything is opened or sent, and named by
 * its place, not echoed (it may hold anything). */
static int check_media_types(const cli *c, char **files, int nfiles)
{
    for (int i = c->config ? -1 : 0; i < nfiles; i++) {
        char *path = NULL;
        const char *mt = NULL;
        split_file_arg(i < 0 ? c->config : files[i], &path, &mt);
        free(path);
        if (mt && ocipush_media_type_validate(mt)) {
            char what[64];
            if (i < 0)
                snprintf(what, sizeof what, "--config's media type");
            else
                snprintf(what, sizeof what, "layer %d's media type", i + 1);
            fprintf(stderr,
                    "ocipush: %s is not a media type (type/subtype[+suffix][; name=value], "
                    "printable ASCII)\n",
                    what);
            return -1;
        }
    }
    return 0;
}

/* Sources stay open until the push is done: the push borrows them. */
typedef struct opened {
    ocipush_source **sources;
    char **paths;
    size_t count;
    int64_t mtime; /* of a directory's entries: SOURCE_DATE_EPOCH, or -1 */
} opened;

static int is_directory(const char *path)
{
    struct stat st;
    return strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* SOURCE_DATE_EPOCH (reproducible-builds.org): every mtime of a directory's
 * tar, when set; -1 when not, and -2 when it is not a decimal count of
 * seconds (said here). */
static int64_t source_date_epoch(void)
{
    const char *v = getenv("SOURCE_DATE_EPOCH");
    if (!v || !*v)
        return -1;
    char *end = NULL;
    errno = 0;
    long long t = strtoll(v, &end, 10);
    if (errno || *end || t < 0 || v[0] < '0' || v[0] > '9') {
        fprintf(stderr,
                "ocipush: SOURCE_DATE_EPOCH must be a decimal number of seconds since the epoch, "
                "not '%.40s'\n",
                v);
        return -2;
    }
    return (int64_t)t;
}

static const char *compress_name(int algorithm)
{
    return algorithm == OCIPUSH_COMPRESS_GZIP   ? "gzip"
           : algorithm == OCIPUSH_COMPRESS_ZSTD ? "zstd"
                                                : "none";
}

/* A directory as a layer: its tar, made as the push reads it, compressed
 * as --compress says. */
static int open_directory(const cli *c, const opened *o, const char *path, ocipush_source **out)
{
    ocipush_source *tar = NULL;
    char msg[600];
    errno = 0;
    int rc = ocipush_source_new_tar_dir(
        &tar, path, c->preserve_owner ? OCIPUSH_TAR_PRESERVE_OWNER : 0, o->mtime);
    if (rc)
        snprintf(msg, sizeof msg, "cannot pack the directory '%.400s': %s", path,
                 rc == OCIPUSH_E_IO && errno ? strerror(errno) : ocipush_strerror(rc));
    else if (!c->compress)
        *out = tar;
    else if ((rc = ocipush_source_new_compressed(out, tar, c->compress, (int)c->compress_level)))
        snprintf(msg, sizeof msg, "cannot compress the directory '%.400s' with %s: %s", path,
                 compress_name(c->compress), ocipush_strerror(rc));
    if (rc) {
        fprintf(stderr, "ocipush: %s\n", msg);
        json_error(NULL, rc, msg);
        return -1;
    }
    return 0;
}

/* What a directory's layer is, unless FILE:MEDIATYPE said. */
static const char *directory_media_type(const cli *c)
{
    return c->compress == OCIPUSH_COMPRESS_GZIP   ? "application/vnd.oci.image.layer.v1.tar+gzip"
           : c->compress == OCIPUSH_COMPRESS_ZSTD ? "application/vnd.oci.image.layer.v1.tar+zstd"
                                                  : "application/vnd.oci.image.layer.v1.tar";
}

/* A layer's title, as oras gives it: the base name of the path; for a
 * directory named "." or "..", the name it has. */
static char *layer_title(const char *path)
{
    char *copy = strdup(path), *title = NULL;
    if (!copy)
        return NULL;
    const char *base = basename(copy);
    if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0) {
        char *real = realpath(path, NULL);
        if (real && strcmp(real, "/") != 0)
            title = strdup(basename(real));
        free(real);
    }
    if (!title)
        title = strdup(base);
    free(copy);
    return title;
}

/* A layer or the config; a layer may be a directory (`c` NULL: the config,
 * a file). */
static int add_file(const cli *c, opened *o, const char *arg, const char **media_type)
{
    char *path = NULL;
    split_file_arg(arg, &path, media_type);
    ocipush_source *src = NULL;
    int dir = c && path && is_directory(path);
    if (dir && !*media_type)
        *media_type = directory_media_type(c);
    if (!path || (dir ? open_directory(c, o, path, &src) : open_source(path, &src))) {
        free(path);
        return -1;
    }
    o->sources[o->count] = src;
    o->paths[o->count++] = path;
    return 0;
}

static int build_push(const cli *c, char **files, int nfiles, const char *tag, opened *o,
                      ocipush_push *p)
{
    const char *mt = NULL;
    int stdin_used = 0;
    if (c->config) {
        if (add_file(NULL, o, c->config, &mt))
            return -1;
        stdin_used |= strcmp(o->paths[o->count - 1], "-") == 0;
        if (ocipush_push_set_config(p, o->sources[o->count - 1],
                                    mt ? mt : "application/vnd.unknown.config.v1+json"))
            return -1;
    }
    for (int i = 0; i < nfiles; i++) {
        if (add_file(c, o, files[i], &mt))
            return -1;
        const char *path = o->paths[o->count - 1];
        int is_stdin = strcmp(path, "-") == 0;
        if (is_stdin && stdin_used) {
            fprintf(stderr, "ocipush: standard input can be used only once\n");
            json_error(NULL, OCIPUSH_E_INVALID, "standard input can be used only once");
            return -1;
        }
        stdin_used |= is_stdin;
        char *title = is_stdin ? NULL : layer_title(path);
        int rc = is_stdin || title ? ocipush_push_add_layer(p, o->sources[o->count - 1], mt, title)
                                   : OCIPUSH_E_NOMEM;
        free(title);
        if (rc) {
            char msg[512];
            snprintf(msg, sizeof msg, "cannot add layer '%.400s': %s", files[i],
                     ocipush_strerror(rc));
            fprintf(stderr, "ocipush: %s\n", msg);
            json_error(NULL, rc, msg);
            return -1;
        }
    }
    if (c->artifact_type && ocipush_push_set_artifact_type(p, c->artifact_type))
        return -1;
    if (ocipush_push_set_concurrency(p, (int)c->concurrency)) {
        fprintf(stderr, "ocipush: --concurrency takes 1 to 64\n");
        return -1;
    }
    if (c->subject && ocipush_push_set_subject(p, c->subject)) {
        fprintf(stderr, "ocipush: invalid --subject '%s' (a tag or sha256:<hex>)\n", c->subject);
        return -1;
    }
    for (size_t i = 0; i < c->annotation_count; i++) {
        const char *kv = c->annotations[i];
        const char *eq = strchr(kv, '=');
        char *key = eq ? strndup(kv, (size_t)(eq - kv)) : NULL;
        int rc = key ? ocipush_push_add_annotation(p, key, eq + 1) : OCIPUSH_E_INVALID;
        free(key);
        if (rc) {
            fprintf(stderr, "ocipush: invalid annotation '%s' (want KEY=VALUE)\n", kv);
            return -1;
        }
    }
    return tag && ocipush_push_add_tag(p, tag) ? -1 : 0;
}

static int cmd_push(const cli *c, const char *ref, char **files, int nfiles)
{
    char *registry, *repository, *tag, *digest;
    if (split_reference(c, ref, 1, &registry, &repository, &tag, &digest))
        return EXIT_USAGE;
    int status = 1;
    ocipush_push *p = NULL;
    ocipush_session *s = NULL;
    opened o = {calloc((size_t)nfiles + 1, sizeof *o.sources),
                calloc((size_t)nfiles + 1, sizeof *o.paths), 0, -1};
    int has_directory = 0;
    for (int i = 0; i < nfiles; i++) {
        char *path = NULL;
        const char *mt;
        split_file_arg(files[i], &path, &mt);
        has_directory |= path && is_directory(path);
        free(path);
    }
    if (has_directory)
        o.mtime = source_date_epoch();
    if (digest) {
        fprintf(stderr, "ocipush: push takes a tag, not a digest: the digest is the result\n");
        status = EXIT_USAGE;
    } else if (check_media_types(c, files, nfiles) || o.mtime == -2) {
        status = EXIT_USAGE;
    } else if (o.sources && o.paths && ocipush_push_new(&p) == 0 &&
               build_push(c, files, nfiles, tag, &o, p) == 0 &&
               (status = make_session(c, registry, &s)) == 0) {
        status = 1;
        char out[OCIPUSH_DIGEST_MAX];
        progress pr;
        progress_begin(&pr, (size_t)nfiles);
        ocipush_push_set_progress_callback(p, on_push_progress, &pr);
        int rc = ocipush_push_run(s, p, out, repository);
        progress_end(&pr);
        if (rc) {
            status = failed(s, rc, "push");
            /* A failure after the manifest landed (the referrers index): say
             * what is there. */
            if (*ocipush_push_landed(p))
                fprintf(stderr, "ocipush: the manifest %s is in %s nonetheless%s%s\n",
                        ocipush_push_landed(p), repository,
                        ocipush_push_tagged(p) ? ", tagged " : ", untagged",
                        ocipush_push_tagged(p) && tag ? tag : "");
        } else if (json_output) {
            json_reference(c, registry, repository, tag, out);
            json_field("repository", repository, 0);
            json_field("digest", out, 0);
            printf(",\"size\":%" PRIu64, ocipush_push_landed_size(p));
            json_field("mediaType", OCIPUSH_MEDIA_TYPE_MANIFEST, 0);
            json_tags(tag);
            json_blobs(p, NULL);
            status = 0;
        } else {
            printf("Pushed: %s%s%s%s%s\nDigest: %s\n", c->layout ? c->layout : registry,
                   c->layout ? "" : "/", c->layout ? "" : repository, tag ? ":" : "",
                   tag ? tag : "", out);
            status = 0;
        }
    }
    for (size_t i = 0; i < o.count; i++) {
        ocipush_source_free(o.sources[i]);
        free(o.paths[i]);
    }
    free(o.sources);
    free(o.paths);
    ocipush_push_free(p);
    session_done(s);
    free_reference(registry, repository, tag, digest);
    return status;
}

/* "oci://host[:port]/path": the registry and the repository path. */
static int split_oci_url(const char *url, char **registry, const char **path)
{
    if (strncmp(url, "oci://", 6) != 0) {
        fprintf(stderr, "ocipush: '%s' is not an oci:// reference (oci://HOST[:PORT]/PATH)\n", url);
        return -1;
    }
    const char *host = url + 6;
    const char *slash = strchr(host, '/');
    *registry = slash ? strndup(host, (size_t)(slash - host)) : strdup(host);
    *path = slash ? slash + 1 : "";
    return *registry ? 0 : -1;
}

/* `url` is oci://HOST[:PORT]/PATH, or, into a layout, also a bare PATH or
 * NULL (no path). */
static int cmd_chart_push(const cli *c, const char *chart, const char *url)
{
    char *registry = NULL;
    const char *path = "";
    if (c->layout && (!url || strncmp(url, "oci://", 6) != 0)) {
        registry = strdup("oci-layout.invalid");
        path = url ? url : "";
        if (!registry)
            return 1;
    } else if (split_oci_url(url, &registry, &path))
        return EXIT_USAGE;
    ocipush_session *s = NULL;
    int status = make_session(c, registry, &s);
    if (status == 0) {
        status = 1;
        char *reference = NULL;
        char digest[OCIPUSH_DIGEST_MAX];
        int rc = ocipush_chart_push(s, &reference, digest, chart, path);
        if (rc)
            status = failed(s, rc, "chart push");
        else if (json_output) {
            /* REPOSITORY:TAG, the reference as the text says it. */
            const char *colon = strchr(reference, ':');
            char ref[2048];
            snprintf(ref, sizeof ref, "%s%s%s", c->layout ? c->layout : registry,
                     c->layout ? ":" : "/", c->layout ? colon + 1 : reference);
            fputc('{', stdout);
            json_field("reference", ref, 1);
            char repo[1024];
            snprintf(repo, sizeof repo, "%.*s", (int)(colon - reference), reference);
            json_field("repository", repo, 0);
            json_field("digest", digest, 0);
            json_tags(colon + 1);
            json_blobs(NULL, s);
            status = 0;
        } else {
            printf("Pushed: %s%s%s\nDigest: %s\n", c->layout ? c->layout : registry,
                   c->layout ? ":" : "/", c->layout ? strchr(reference, ':') + 1 : reference,
                   digest);
            status = 0;
        }
        ocipush_free(reference);
    }
    session_done(s);
    free(registry);
    return status;
}

static int cmd_login(const cli *c, const char *registry)
{
    if (!c->username)
        return usage_error("login needs --username and --password or --password-stdin");
    ocipush_session *s = NULL;
    int status = make_session(c, registry, &s);
    if (status)
        return status;
    int rc = ocipush_session_ping(s, NULL);
    status = 1;
    if (rc)
        status = failed(s, rc, "login");
    else if ((rc = ocipush_credentials_store(registry, c->username, c->password)))
        fprintf(stderr, "ocipush: login failed: cannot save the credentials: %s\n",
                rc == OCIPUSH_E_IO ? strerror(errno) : ocipush_strerror(rc));
    else {
        printf("Login Succeeded\n");
        status = 0;
    }
    session_done(s);
    return status;
}

static int cmd_logout(const char *registry)
{
    int found = 0;
    int rc = ocipush_credentials_erase(&found, registry);
    if (rc) {
        fprintf(stderr, "ocipush: logout failed: %s\n",
                rc == OCIPUSH_E_IO ? strerror(errno) : ocipush_strerror(rc));
        return rc == OCIPUSH_E_INVALID ? EXIT_USAGE : 1;
    }
    printf(found ? "Removing login credentials for %s\n" : "Not logged in to %s\n", registry);
    return 0;
}

enum {
    OPT_PLAIN = 256,
    OPT_VERSION,
    OPT_INSECURE,
    OPT_CA,
    OPT_PWSTDIN,
    OPT_STRATEGY,
    OPT_CHUNK,
    OPT_NOSPOOL,
    OPT_SPOOL_MAX,
    OPT_CONFIG,
    OPT_ATYPE,
    OPT_ANNOT,
    OPT_CERT,
    OPT_KEY,
    OPT_RETRIES,
    OPT_RETRY_DELAY,
    OPT_RETRY_MAX,
    OPT_CONNECT_TIMEOUT,
    OPT_IDLE_TIMEOUT,
    OPT_SUBJECT,
    OPT_CONCURRENCY,
    OPT_LAYOUT,
    OPT_TIMEOUT,
    OPT_FORMAT,
    OPT_NO_REFERRERS,
    OPT_ALL_TAGS,
    OPT_COMPRESS,
    OPT_COMPRESS_LEVEL,
    OPT_PRESERVE_OWNER,
    OPT_MOUNT_FROM
};

/* KEY=VALUE whose key the library takes: not empty, no control character.
 * The value goes into JSON only, escaped. */
static int annotation_key_ok(const char *kv)
{
    const char *eq = strchr(kv, '=');
    if (!eq || eq == kv)
        return 0;
    for (const char *k = kv; k < eq; k++)
        if ((unsigned char)*k < 0x20 || *k == 0x7f)
            return 0;
    return 1;
}

static long *number_option(cli *c, int opt)
{
    switch (opt) {
    case OPT_RETRIES: return &c->retries;
    case OPT_RETRY_DELAY: return &c->retry_delay;
    case OPT_RETRY_MAX: return &c->retry_max_delay;
    case OPT_CONNECT_TIMEOUT: return &c->connect_timeout;
    case OPT_CONCURRENCY: return &c->concurrency;
    default: return &c->idle_timeout;
    }
}

/* The options that take a value the library would refuse later: refused
 * now, as usage errors, before anything is read or sent. */
static int check_option_value(cli *c, int opt, const char *arg)
{
    switch (opt) {
    case OPT_CHUNK:
        if (parse_size(arg, &c->chunk_size) || c->chunk_size < OCIPUSH_CHUNK_SIZE_MIN)
            return usage_error_about(
                "--chunk-size takes a byte count of at least 64K (suffixes K, M, G)", arg);
        return 0;
    case OPT_CONCURRENCY:
        if (parse_count(arg, &c->concurrency) || c->concurrency < 1 || c->concurrency > 64)
            return usage_error_about("--concurrency takes 1 to 64", arg);
        return 0;
    case OPT_MOUNT_FROM:
        if (ocipush_repository_validate(arg))
            return usage_error_about("invalid --mount-from (a repository name)", arg);
        c->mount_from = arg;
        return 0;
    case OPT_SUBJECT:
        if (ocipush_tag_validate(arg) && ocipush_digest_validate(arg))
            return usage_error_about("invalid --subject (a tag or sha256:<hex>)", arg);
        c->subject = arg;
        return 0;
    case OPT_ANNOT:
        if (!annotation_key_ok(arg))
            return usage_error("--annotation takes KEY=VALUE, the key not empty and without "
                               "control characters");
        c->annotations[c->annotation_count++] = arg;
        return 0;
    case OPT_STRATEGY:
        if (parse_strategy(arg, &c->strategy))
            return usage_error_about("--strategy takes auto, monolithic, stream or chunked", arg);
        return 0;
    default:
        if (parse_count(arg, number_option(c, opt)))
            return usage_error_about(
                "--retries, --retry-delay, --retry-max-delay and the timeouts take a number", arg);
        return 0;
    }
}

static int parse_options(cli *c, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"plain-http", no_argument, NULL, OPT_PLAIN},
        {"insecure", no_argument, NULL, OPT_INSECURE},
        {"ca-file", required_argument, NULL, OPT_CA},
        {"cert-file", required_argument, NULL, OPT_CERT},
        {"key-file", required_argument, NULL, OPT_KEY},
        {"retries", required_argument, NULL, OPT_RETRIES},
        {"retry-delay", required_argument, NULL, OPT_RETRY_DELAY},
        {"retry-max-delay", required_argument, NULL, OPT_RETRY_MAX},
        {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
        {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"no-referrers", no_argument, NULL, OPT_NO_REFERRERS},
        {"mount-from", required_argument, NULL, OPT_MOUNT_FROM},
        {"all-tags", no_argument, NULL, OPT_ALL_TAGS},
        {"compress", required_argument, NULL, OPT_COMPRESS},
        {"compress-level", required_argument, NULL, OPT_COMPRESS_LEVEL},
        {"preserve-owner", no_argument, NULL, OPT_PRESERVE_OWNER},
        {"username", required_argument, NULL, 'u'},
        {"password", required_argument, NULL, 'p'},
        {"password-stdin", no_argument, NULL, OPT_PWSTDIN},
        {"strategy", required_argument, NULL, OPT_STRATEGY},
        {"chunk-size", required_argument, NULL, OPT_CHUNK},
        {"no-spool", no_argument, NULL, OPT_NOSPOOL},
        {"spool-max", required_argument, NULL, OPT_SPOOL_MAX},
        {"config", required_argument, NULL, OPT_CONFIG},
        {"artifact-type", required_argument, NULL, OPT_ATYPE},
        {"annotation", required_argument, NULL, OPT_ANNOT},
        {"subject", required_argument, NULL, OPT_SUBJECT},
        {"concurrency", required_argument, NULL, OPT_CONCURRENCY},
        {"oci-layout", required_argument, NULL, OPT_LAYOUT},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION},
        {NULL, 0, NULL, 0}};
    int opt;
    /* ':' first: getopt says nothing itself, and a missing value is told
     * apart from an unknown option. */
    while ((opt = getopt_long(argc, argv, ":u:p:vh", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_PLAIN: c->plain_http = 1; break;
        case OPT_INSECURE: c->insecure = 1; break;
        case OPT_CA: c->ca_file = optarg; break;
        case OPT_CERT: c->cert_file = optarg; break;
        case OPT_KEY: c->key_file = optarg; break;
        case OPT_RETRIES:
        case OPT_RETRY_DELAY:
        case OPT_RETRY_MAX:
        case OPT_CONNECT_TIMEOUT:
        case OPT_IDLE_TIMEOUT:
        case OPT_CONCURRENCY:
        case OPT_STRATEGY:
        case OPT_CHUNK:
        case OPT_SUBJECT:
        case OPT_MOUNT_FROM:
        case OPT_ANNOT:
            if (check_option_value(c, opt, optarg))
                return EXIT_USAGE;
            break;
        case OPT_TIMEOUT:
            if (parse_duration(optarg, &c->timeout_ms))
                return usage_error("--timeout takes a duration: seconds, or 90s, 5m, 1h; 0 for "
                                   "none");
            break;
        case 'u': c->username = optarg; break;
        case 'p': c->password = optarg; break;
        case OPT_PWSTDIN: c->password_stdin = 1; break;
        case OPT_NOSPOOL: c->no_spool = 1; break;
        case OPT_SPOOL_MAX:
            if (parse_size(optarg, &c->spool_max))
                return usage_error_about("--spool-max takes a byte count (suffixes K, M, G)",
                                         optarg);
            c->spool_max_set = 1;
            c->no_spool |= c->spool_max == 0;
            break;
        case OPT_CONFIG: c->config = optarg; break;
        case OPT_ATYPE:
            if (ocipush_media_type_validate(optarg))
                return usage_error("--artifact-type takes a media type: type/subtype[+suffix]"
                                   "[; name=value], printable ASCII");
            c->artifact_type = optarg;
            break;
        case OPT_LAYOUT: c->layout = optarg; break;
        case OPT_NO_REFERRERS: c->no_referrers = 1; break;
        case OPT_ALL_TAGS: c->all_tags = 1; break;
        case OPT_COMPRESS:
            if (strcmp(optarg, "gzip") == 0)
                c->compress = OCIPUSH_COMPRESS_GZIP;
            else if (strcmp(optarg, "zstd") == 0)
                c->compress = OCIPUSH_COMPRESS_ZSTD;
            else if (strcmp(optarg, "none") == 0)
                c->compress = 0;
            else
                return usage_error_about("--compress takes gzip, zstd or none", optarg);
            break;
        case OPT_COMPRESS_LEVEL:
            if (parse_count(optarg, &c->compress_level) || c->compress_level > 19)
                return usage_error_about(
                    "--compress-level takes a level (gzip: 0 to 9, zstd: 0 to 19)", optarg);
            break;
        case OPT_PRESERVE_OWNER: c->preserve_owner = 1; break;
        case OPT_FORMAT:
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0)
                return usage_error_about("--format takes text or json", optarg);
            c->json = strcmp(optarg, "json") == 0;
            break;
        case 'v': c->verbose++; break;
        case 'h': c->help = 1; return 0;
        case OPT_VERSION: c->version = 1; return 0;
        case ':': return usage_error_about("option needs a value", argv[optind - 1]);
        default: {
            char short_opt[3] = {'-', (char)optopt, '\0'};
            return usage_error_about("unknown option", optopt ? short_opt : argv[optind - 1]);
        }
        }
    }
    if (c->retry_max_delay < c->retry_delay)
        return usage_error("--retry-max-delay must not be below --retry-delay");
    if (c->password_stdin && c->password)
        return usage_error("--password and --password-stdin exclude each other");
    if ((c->password || c->password_stdin) && !c->username)
        return usage_error("a password needs --username");
    if (c->username && !c->password && !c->password_stdin)
        return usage_error("--username needs --password or --password-stdin");
    if (c->key_file && !c->cert_file)
        return usage_error("--key-file needs --cert-file");
    if (c->compress_level >= 0 && c->compress == 0)
        return usage_error("--compress-level needs --compress gzip or zstd");
    if (c->compress_level > 9 && c->compress == OCIPUSH_COMPRESS_GZIP)
        return usage_error("--compress-level takes 0 to 9 for gzip");
    return 0;
}

/* How many of a push's files (the config among them) are standard input. */
static int stdin_files(const cli *c, char **files, int nfiles)
{
    int n = 0;
    for (int i = -1; i < nfiles; i++) {
        const char *arg = i < 0 ? c->config : files[i];
        char *path = NULL;
        const char *media_type;
        if (!arg)
            continue;
        split_file_arg(arg, &path, &media_type);
        n += path && strcmp(path, "-") == 0;
        free(path);
    }
    return n;
}

/* The result on standard output is what a command is for: when it cannot be
 * written (a full disk, a closed descriptor), the command failed. */
static int flush_stdout(int status)
{
    int err = fflush(stdout) == 0 ? 0 : errno;
    if (!err && !ferror(stdout))
        return status;
    fprintf(stderr, "ocipush: cannot write the result to standard output: %s\n",
            err ? strerror(err) : "write error");
    return status ? status : 1;
}

/* copy SOURCE DESTINATION: an image as users hold it (oci:DIR[:TAG]) into a
 * registry (HOST[:PORT]/REPO[:TAG]) or a layout (oci:DIR[:TAG]). */
static int cmd_copy(cli *c, const char *source, const char *dest)
{
    char *registry = NULL, *repository = NULL, *tag = NULL, *digest = NULL;
    static char layout_dir[4096]; /* c->layout points here */
    if (strncmp(source, "oci:", 4) != 0 && strncmp(source, "oci-archive:", 12) != 0 &&
        strncmp(source, "docker-archive:", 15) != 0)
        return usage_error_about(
            "copy reads oci:DIR[:TAG], oci-archive:FILE[:TAG] and docker-archive:FILE[:REPO:TAG]",
            source);
    if (c->layout)
        return usage_error("copy takes its destination as oci:DIR[:TAG], not --oci-layout");
    if (strncmp(dest, "oci:", 4) == 0) {
        /* Into a layout: DIR, and the tag after the first ':' as skopeo has it. */
        const char *colon = strchr(dest + 4, ':');
        size_t n = colon ? (size_t)(colon - dest - 4) : strlen(dest + 4);
        if (n == 0 || n >= sizeof layout_dir)
            return usage_error_about("copy writes to HOST[:PORT]/REPO[:TAG] or oci:DIR[:TAG]",
                                     dest);
        memcpy(layout_dir, dest + 4, n);
        layout_dir[n] = '\0';
        c->layout = layout_dir;
        char local[512];
        snprintf(local, sizeof local, "copy%s%s", colon ? ":" : "", colon ? colon + 1 : "");
        if (split_reference(c, local, 1, &registry, &repository, &tag, &digest))
            return EXIT_USAGE;
    } else if (split_reference(c, dest, 1, &registry, &repository, &tag, &digest)) {
        return EXIT_USAGE;
    }
    int status = 1;
    ocipush_session *s = NULL;
    if (digest) {
        fprintf(stderr, "ocipush: copy takes a tag, not a digest: the digest is the source's\n");
        status = EXIT_USAGE;
    } else if ((status = make_session(c, registry, &s)) == 0) {
        char out[OCIPUSH_DIGEST_MAX];
        progress pr;
        progress_begin(&pr, 1);
        ocipush_session_set_progress_callback(s, on_blob_progress, &pr);
        /* A docker archive's layers: compressed as --compress says. */
        int set_rc = ocipush_session_set_layer_compression(s, c->compress, (int)c->compress_level);
        set_rc = set_rc ? set_rc : ocipush_session_set_copy_concurrency(s, (int)c->concurrency);
        set_rc = set_rc ? set_rc : ocipush_session_set_copy_mount_from(s, c->mount_from);
        int rc = set_rc;
        if (rc == 0)
            rc = ocipush_copy(s, out, source, repository, tag,
                              (c->no_referrers ? OCIPUSH_COPY_NO_REFERRERS : 0) |
                                  (c->all_tags ? OCIPUSH_COPY_ALL_TAGS : 0));
        else
            fprintf(stderr, "ocipush: --compress %s, --concurrency %ld or --mount-from: %s\n",
                    compress_name(c->compress), c->concurrency, ocipush_strerror(rc));
        progress_end(&pr);
        if (set_rc) {
            status = 1;
        } else if (rc) {
            status = failed(s, rc, "copy");
        } else if (json_output) {
            fputc('{', stdout);
            json_field("source", source, 1);
            json_field("destination", dest, 0);
            json_field("digest", out, 0);
            fputs("}\n", stdout);
        } else {
            printf("Copied: %s\nTo: %s\nDigest: %s\n", source, dest, out);
        }
    }
    session_done(s);
    free_reference(registry, repository, tag, digest);
    return status;
}

static int run_command(cli *c, char **args, int nargs)
{
    int chart = nargs >= 2 && strcmp(args[0], "chart") == 0 && strcmp(args[1], "push") == 0;
    /* The push commands print JSON; login and logout stay text. */
    json_output = c->json && nargs >= 1 &&
                  (chart || strcmp(args[0], "push") == 0 || strcmp(args[0], "copy") == 0 ||
                   (nargs >= 2 && strcmp(args[1], "push") == 0 &&
                    (strcmp(args[0], "blob") == 0 || strcmp(args[0], "manifest") == 0)));
    if (nargs == 4 && strcmp(args[0], "blob") == 0 && strcmp(args[1], "push") == 0) {
        default_to_layout(c, args[2]);
        return cmd_blob_push(c, args[2], args[3]);
    }
    if (nargs == 4 && strcmp(args[0], "manifest") == 0 && strcmp(args[1], "push") == 0) {
        default_to_layout(c, args[2]);
        return cmd_manifest_push(c, args[2], args[3]);
    }
    if (nargs >= 3 && strcmp(args[0], "push") == 0) {
        if (stdin_files(c, args + 2, nargs - 2) > 1)
            return usage_error("standard input can be used only once");
        default_to_layout(c, args[1]);
        return cmd_push(c, args[1], args + 2, nargs - 2);
    }
    if (chart && nargs == 3) {
        default_to_layout(c, NULL);
        return cmd_chart_push(c, args[2], NULL);
    }
    if (chart && nargs == 4)
        return cmd_chart_push(c, args[2], args[3]);
    if (nargs == 3 && strcmp(args[0], "copy") == 0)
        return cmd_copy(c, args[1], args[2]);
    if (nargs == 2 && strcmp(args[0], "login") == 0)
        return cmd_login(c, args[1]);
    if (nargs == 2 && strcmp(args[0], "logout") == 0)
        return cmd_logout(args[1]);
    return usage_error(nargs == 0 ? "no command given" : "unknown command or wrong arguments");
}

int main(int argc, char **argv)
{
    catch_signals(); /* before any library call or thread */
    cli c = {.strategy = OCIPUSH_STRATEGY_AUTO,
             .retries = 3,
             .retry_delay = 500,
             .retry_max_delay = 10000,
             .concurrency = 4,
             .compress = OCIPUSH_COMPRESS_GZIP,
             .compress_level = -1,
             .timeout_ms = -1};
    c.annotations = calloc((size_t)argc, sizeof *c.annotations);
    if (!c.annotations)
        return 1;
    int status = parse_options(&c, argc, argv);
    char **args = argv + optind;
    int nargs = argc - optind;
    int uses_stdin = c.config && (strcmp(c.config, "-") == 0 || strncmp(c.config, "-:", 2) == 0);
    for (int i = 0; i < nargs; i++)
        uses_stdin |= strcmp(args[i], "-") == 0 || strncmp(args[i], "-:", 2) == 0;
    if (status == 0 && c.help)
        fputs(usage_text, stdout);
    else if (status == 0 && c.version)
        print_version();
    else if (status == 0 && c.password_stdin && uses_stdin)
        status = usage_error("--password-stdin and '-' both want standard input");
    else if (status == 0 && c.password_stdin && read_password_stdin(&c)) {
        fprintf(stderr, "ocipush: no password on standard input\n");
        status = 1;
    } else if (status == 0)
        status = run_command(&c, args, nargs);
    free(c.annotations);
    if (c.password_buf)
        explicit_bzero(c.password_buf, c.password_cap);
    free(c.password_buf);
    stop_signals();
    return flush_stdout(status);
}
