#include "alloc.h"
#include "transport.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <pthread.h>

#include <curl/curl.h>

#include "registry_errors.h"
#include "retry.h"
#include "url.h"

/* A registry's error body is a few hundred bytes, and a success body that
 * is read (a manifest, a token) at most 4 MiB, distribution's manifest
 * limit. A body past its cap ends the request, so an endless one cannot hold
 * it and a manifest is never taken cut. */
#define ERROR_BODY_CAP ((size_t)64 << 10)
#define SUCCESS_BODY_CAP ((size_t)4 << 20)

struct op_transport {
    CURL *easy;          /* kept for the session's life so connections are reused */
    int warned_insecure; /* the skip-verify warning is logged once */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_status = CURLE_FAILED_INIT;

static void curl_init_once(void)
{
    curl_init_status = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* ocipush_global_init()'s calls of curl_global_init, counted so that
 * ocipush_global_cleanup() undoes no more than they did (libcurl counts its
 * own too). The lock makes them safe on a libcurl before 7.84, whose global
 * init is not thread-safe. */
static pthread_mutex_t global_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned global_inits;

/* curl_version_info() fills static data of libcurl's on every call (7.88
 * rebuilds its feature list each time), so two threads asking at once race:
 * ask once, keep a copy. */
static pthread_once_t libcurl_version_once = PTHREAD_ONCE_INIT;
static char libcurl_version[64] = "unknown";

static void read_libcurl_version(void)
{
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
    if (v && v->version)
        snprintf(libcurl_version, sizeof libcurl_version, "%s", v->version);
}

const char *op_transport_libcurl_version(void)
{
    pthread_once(&libcurl_version_once, read_libcurl_version);
    return libcurl_version;
}

int op_transport_global_init(void)
{
    pthread_mutex_lock(&global_lock);
    int rc = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : OCIPUSH_E_NOMEM;
    global_inits += rc == 0;
    pthread_mutex_unlock(&global_lock);
    return rc;
}

void op_transport_global_cleanup(void)
{
    pthread_mutex_lock(&global_lock);
    if (global_inits) {
        global_inits--;
        curl_global_cleanup();
    }
    pthread_mutex_unlock(&global_lock);
}

int op_transport_new(op_transport **out, const op_transport *like)
{
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_status != CURLE_OK)
        return OCIPUSH_E_NOMEM;
    op_transport *h = op_calloc(1, sizeof *h);
    if (!h)
        return OCIPUSH_E_NOMEM;
    h->easy = curl_easy_init();
    if (!h->easy) {
        op_free(h);
        return OCIPUSH_E_NOMEM;
    }
    /* From the start: without it, curl_easy_cleanup() of a handle that made
     * no request sets SIGPIPE's disposition, process-wide, and back. */
    curl_easy_setopt(h->easy, CURLOPT_NOSIGNAL, 1L);
    h->warned_insecure = like && like->warned_insecure;
    *out = h;
    return OCIPUSH_OK;
}

void op_transport_free(op_transport *h)
{
    if (!h)
        return;
    curl_easy_cleanup(h->easy);
    op_free(h);
}

static void clear_headers(op_response *r)
{
    op_free(r->location);
    op_free(r->range);
    op_free(r->content_digest);
    op_free(r->chunk_min);
    op_free(r->content_length);
    op_free(r->www_authenticate);
    op_free(r->retry_after);
    op_free(r->content_type);
    op_free(r->oci_subject);
    r->location = r->range = r->content_digest = r->chunk_min = r->content_length = NULL;
    r->www_authenticate = r->retry_after = r->content_type = r->oci_subject = NULL;
}

void op_response_clear(op_response *r)
{
    clear_headers(r);
    op_buf_free(&r->body);
    r->status = 0;
    r->error_code[0] = '\0';
    r->transient = 0;
    r->authorization_withheld = 0;
    r->from_origin = 0;
}

/* State shared with curl's callbacks during one exchange. */
typedef struct exchange {
    op_transport *t;
    op_ctx *c;
    const op_request *req;
    op_response *resp;
    int reader_rc;  /* the body reader's failure, if any */
    int reader_eof; /* the reader gave its last byte */
    int nomem;
    size_t too_large; /* the cap a response body went past, or 0 */
    /* CURLOPT_TIMEOUT_MS as the call's deadline set it, or 0: a timeout at
     * that mark is the deadline's, however the transfer stood. */
    int64_t deadline_timeout_ms;
} exchange;

static int keep_header(char **slot, const char *value, size_t len)
{
    op_free(*slot);
    *slot = op_strndup(value, len);
    return *slot ? 0 : -1;
}

static size_t on_header(char *data, size_t size, size_t nitems, void *userdata)
{
    exchange *x = userdata;
    size_t len = size * nitems;
    op_response *r = x->resp;
    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        clear_headers(r); /* a new status line: forget an interim 100's headers */
        return len;
    }
    const char *colon = memchr(data, ':', len);
    if (!colon)
        return len;
    size_t name_len = (size_t)(colon - data);
    const char *v = colon + 1;
    const char *end = data + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    static const struct {
        const char *name;
        size_t offset;
    } wanted[] = {
        {"location", offsetof(op_response, location)},
        {"range", offsetof(op_response, range)},
        {"docker-content-digest", offsetof(op_response, content_digest)},
        {"oci-chunk-min-length", offsetof(op_response, chunk_min)},
        {"content-length", offsetof(op_response, content_length)},
        {"retry-after", offsetof(op_response, retry_after)},
        {"content-type", offsetof(op_response, content_type)},
        {"oci-subject", offsetof(op_response, oci_subject)},
    };
    if (name_len == 16 && strncasecmp(data, "www-authenticate", 16) == 0) {
        /* Several challenge headers make one list (RFC 7235). */
        op_buf all = {0};
        int rc = op_buf_printf(&all, "%s%s%.*s", r->www_authenticate ? r->www_authenticate : "",
                               r->www_authenticate ? ", " : "", (int)(end - v), v);
        op_free(r->www_authenticate);
        r->www_authenticate = NULL;
        if (rc || op_buf_take(&all, &r->www_authenticate)) {
            op_buf_free(&all);
            x->nomem = 1;
            return 0;
        }
        return len;
    }
    for (size_t i = 0; i < sizeof wanted / sizeof wanted[0]; i++) {
        if (strlen(wanted[i].name) == name_len &&
            strncasecmp(data, wanted[i].name, name_len) == 0) {
            char **slot = (char **)((char *)r + wanted[i].offset);
            if (keep_header(slot, v, (size_t)(end - v))) {
                x->nomem = 1;
                return 0;
            }
        }
    }
    return len;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    exchange *x = userdata;
    size_t len = size * nmemb;
    long status = 0;
    curl_easy_getinfo(x->t->easy, CURLINFO_RESPONSE_CODE, &status);
    size_t cap = status >= 200 && status < 300 ? SUCCESS_BODY_CAP : ERROR_BODY_CAP;
    if (len > cap - x->resp->body.len) {
        x->too_large = cap;
        return 0;
    }
    if (len && op_buf_append(&x->resp->body, data, len)) {
        x->nomem = 1;
        return 0;
    }
    return len;
}

static size_t on_read(char *buffer, size_t size, size_t nitems, void *userdata)
{
    exchange *x = userdata;
    size_t got = 0;
    int rc = x->req->reader(x->req->reader_ctx, (uint8_t *)buffer, size * nitems, &got);
    if (rc) {
        x->reader_rc = rc;
        return CURL_READFUNC_ABORT;
    }
    x->reader_eof |= got == 0;
    return got;
}

/* Bodies come from sources that ocipush rewinds itself, in a new request:
 * curl must never try to resend one on its own. */
static int on_seek(void *userdata, curl_off_t offset, int origin)
{
    (void)userdata;
    (void)offset;
    (void)origin;
    return CURL_SEEKFUNC_CANTSEEK;
}

static int add_header(struct curl_slist **list, const char *name, const char *value)
{
    op_buf line = {0};
    int rc = op_buf_printf(&line, "%s: %s", name, value);
    struct curl_slist *grown = rc ? NULL : curl_slist_append(*list, line.data);
    op_buf_free(&line);
    if (!grown)
        return OCIPUSH_E_NOMEM;
    *list = grown;
    return 0;
}

static int build_headers(const op_request *req, const char *authorization, struct curl_slist **out)
{
    struct curl_slist *h = NULL;
    int rc = 0;
    if (authorization && *authorization)
        rc = add_header(&h, "Authorization", authorization);
    if (!rc && req->content_type)
        rc = add_header(&h, "Content-Type", req->content_type);
    else if (!rc && (req->body || req->reader || strcmp(req->method, "POST") == 0))
        rc = add_header(&h, "Content-Type", "application/octet-stream");
    if (!rc && req->content_range)
        rc = add_header(&h, "Content-Range", req->content_range);
    if (!rc && req->accept)
        rc = add_header(&h, "Accept", req->accept);
    if (!rc && req->reader && req->reader_len < 0) {
        /* Ask before streaming, so a proxy that refuses chunked bodies says so
         * before any byte of the blob is sent. */
        rc = add_header(&h, "Expect", "100-continue");
        rc = rc ? rc : add_header(&h, "Transfer-Encoding", "chunked");
    }
    if (rc) {
        curl_slist_free_all(h);
        return rc;
    }
    *out = h;
    return 0;
}

static void set_method_and_body(CURL *c, const op_request *req, exchange *x)
{
    const char *m = req->method;
    if (strcmp(m, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (strcmp(m, "GET") == 0) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(m, "DELETE") == 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
    } else if (req->reader) {
        curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(c, CURLOPT_READDATA, x);
        curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, on_seek);
        curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->reader_len);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
    } else {
        /* An in-memory body, possibly empty: Content-Length is always sent,
         * which some registries require even on an empty POST. */
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        if (strcmp(m, "POST") != 0)
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
    }
}

/* http and https only, for the request and for any redirect curl would
 * follow (it follows none: op_transport_perform does), so a URL naming file://,
 * ftp:// or gopher:// is never fetched even past a missed check. A libcurl
 * that refuses the setting fails the request rather than going on without
 * it. */
static CURLcode restrict_protocols(CURL *c)
{
#if LIBCURL_VERSION_NUM >= 0x075500
    CURLcode cc = curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    return cc != CURLE_OK ? cc : curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    const long http = (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS);
    CURLcode cc = curl_easy_setopt(c, CURLOPT_PROTOCOLS, http);
    return cc != CURLE_OK ? cc : curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, http);
#endif
}

/* ocipush_session_cancel(): curl stops the exchange at its next progress
 * call (xferinfo), or before it sends the request at all (prereq, as a
 * reused connection would send it before any progress call). */
static int cancel_exchange(exchange *x)
{
    if (!op_cancelled(x->c))
        return 0;
    if (!x->reader_rc)
        x->reader_rc = op_check_cancel(x->c);
    return 1;
}

static int on_xferinfo(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    return cancel_exchange(userdata);
}

#if LIBCURL_VERSION_NUM >= 0x075000
static int on_prereq(void *userdata, char *conn_primary_ip, char *conn_local_ip,
                     int conn_primary_port, int conn_local_port)
{
    (void)conn_primary_ip;
    (void)conn_local_ip;
    (void)conn_primary_port;
    (void)conn_local_port;
    return cancel_exchange(userdata) ? CURL_PREREQFUNC_ABORT : CURL_PREREQFUNC_OK;
}
#endif

static void set_transport(op_ctx *ctx, CURL *c, exchange *x, char *errbuf)
{
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    /* HTTP/1.1: the chunked-body path and its fallback are what ocipush is
     * about, and HTTP/2 has no Transfer-Encoding. */
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ctx->set.connect_ms);
    long idle_s = ctx->set.idle_ms / 1000 > 0 ? ctx->set.idle_ms / 1000 : 1;
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, idle_s);
    curl_easy_setopt(c, CURLOPT_USERAGENT,
                     ctx->set.user_agent ? ctx->set.user_agent : "ocipush/" OCIPUSH_VERSION_STRING);
    if (ctx->set.ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, ctx->set.ca_file);
    if (ctx->set.client_cert) {
        curl_easy_setopt(c, CURLOPT_SSLCERT, ctx->set.client_cert);
        curl_easy_setopt(c, CURLOPT_SSLKEY,
                         ctx->set.client_key ? ctx->set.client_key : ctx->set.client_cert);
    }
    if (ctx->set.insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
    /* What is left of the call's deadline bounds the whole exchange. */
    int64_t left = op_deadline_left_ms(ctx);
    if (left > 0) {
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, left < LONG_MAX ? (long)left : LONG_MAX);
        x->deadline_timeout_ms = ctx->cleaning_up ? 0 : left;
    }
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_xferinfo);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
#if LIBCURL_VERSION_NUM >= 0x075000
    curl_easy_setopt(c, CURLOPT_PREREQFUNCTION, on_prereq);
    curl_easy_setopt(c, CURLOPT_PREREQDATA, x);
#endif
    /* Last, over the call's deadline: a cleanup goes out after a cancel or
     * once the deadline passed, and is bounded on its own. */
    if (ctx->cleaning_up)
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, OP_CLEANUP_MS);
}

/* "PATCH http://host:port/v2/name/blobs/uploads/ID": the query is left out,
 * as it may carry upload state tokens. */
static void describe(char *out, size_t cap, const char *method, const char *url)
{
    size_t n = strcspn(url, "?#");
    snprintf(out, cap, "%s %.*s", method, (int)n, url);
}

/* A refused, reset or stalled connection may work next time; a certificate
 * that does not verify will not. */
static int transient_transport_error(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM: return 1;
    default: return 0;
    }
}

/* Did the whole answer arrive: a body as long as its Content-Length, or
 * none to wait for? */
static int answer_complete(const op_request *req, const op_response *r)
{
    if (strcmp(req->method, "HEAD") == 0 || r->status == 204 || r->status == 304)
        return 1;
    const char *v = r->content_length;
    if (!v || *v < '0' || *v > '9')
        return 0;
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    return errno == 0 && *end == '\0' && n == r->body.len;
}

/* Had the request's whole body gone out when the transfer failed? */
static int request_sent(CURL *c, const op_request *req, const exchange *x)
{
    if (req->reader && req->reader_len < 0)
        return x->reader_eof;
    int none = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0 ||
               strcmp(req->method, "DELETE") == 0;
    int64_t want = req->reader ? req->reader_len : none ? 0 : (int64_t)req->body_len;
    curl_off_t sent = 0;
    curl_easy_getinfo(c, CURLINFO_SIZE_UPLOAD_T, &sent);
    return sent >= want;
}

/* curl's timer and ours read the clock apart: this close counts as there. */
#define DEADLINE_SLACK_MS 50

/* curl ended the transfer at the timeout the call's deadline set (not at
 * the idle timeout, which ends it sooner). */
static int deadline_stopped(const exchange *x, CURLcode cc)
{
    curl_off_t us = 0;
    if (cc != CURLE_OPERATION_TIMEDOUT || !x->deadline_timeout_ms ||
        curl_easy_getinfo(x->t->easy, CURLINFO_TOTAL_TIME_T, &us) != CURLE_OK)
        return 0;
    return us / 1000 + DEADLINE_SLACK_MS >= x->deadline_timeout_ms;
}

/* The transfer failed. An answer that came whole counts (a registry that
 * refuses a body early answers, then closes while the body is still going
 * out: the fallback of a streamed upload depends on it), and so does the
 * status of one that came while the request was still being sent, without
 * its body. An answer cut short once the request was sent is a failure, as
 * is a body past its cap: what a fragment says is not trusted. */
static int transfer_failed(op_ctx *c, const op_request *req, const exchange *x, CURLcode cc,
                           const char *why, const char *what)
{
    op_response *resp = x->resp;
    long status = resp->status;
    size_t got = resp->body.len;
    if (x->too_large) {
        op_response_clear(resp);
        return op_fail(&c->diag, OCIPUSH_E_PROTOCOL,
                       "%s answered HTTP %ld with a body of more than %zu bytes: not read further",
                       what, status, x->too_large);
    }
    if (deadline_stopped(x, cc))
        op_deadline_expire(c); /* the clock may read a few ms short of it */
    if (op_deadline_left_ms(c) == 0 && !c->cleaning_up) {
        op_response_clear(resp);
        return op_deadline_fail(c, "during", what, why);
    }
    if (status >= 200 && answer_complete(req, resp)) {
        op_log(&c->diag, OCIPUSH_LOG_DEBUG, "< %ld (then: %s)", status, why);
        return OCIPUSH_OK;
    }
    if (status >= 200 && (cc == CURLE_SEND_ERROR || !request_sent(x->t->easy, req, x))) {
        op_log(&c->diag, OCIPUSH_LOG_DEBUG, "< %ld (then, while sending: %s; its body is dropped)",
               status, why);
        op_buf_free(&resp->body);
        return OCIPUSH_OK;
    }
    int transient = transient_transport_error(cc);
    op_response_clear(resp);
    resp->transient = transient;
    if (status >= 200)
        return op_fail(&c->diag, OCIPUSH_E_NETWORK,
                       "%s: the answer (HTTP %ld) was cut short after %zu bytes of its body: %s",
                       what, status, got, why);
    return op_fail(&c->diag, OCIPUSH_E_NETWORK, "%s: %s", what, why);
}

/* What a final answer says besides its headers, read once: the registry's
 * first error code, and whether it is worth another try. A success's body
 * (a manifest, a token) is its reader's to parse: only an error's is read
 * here. */
static void parse_answer(op_response *r)
{
    int coded =
        r->status >= 400 && op_json_registry_codes(r->body.data, r->body.len, r->error_code,
                                                   sizeof r->error_code, op_retry_transient_codes);
    r->transient = op_retry_transient_answer(r->status, coded);
}

/* One request and its answer, nothing more. */
static int perform_once(op_transport *t, op_ctx *c, const op_request *req, const char *url,
                        const char *authorization, op_response *resp)
{
    CURL *easy = t->easy;
    char errbuf[CURL_ERROR_SIZE] = "";
    char what[512];
    struct curl_slist *headers = NULL;
    exchange x = {.t = t, .c = c, .req = req, .resp = resp};

    op_response_clear(resp);
    describe(what, sizeof what, req->method, url);
    if (op_deadline_left_ms(c) == 0 && !c->cleaning_up)
        return op_deadline_fail(c, "before", what, NULL);
    if (build_headers(req, authorization, &headers))
        return op_fail(&c->diag, OCIPUSH_E_NOMEM, "out of memory building %s", what);
    if (c->set.insecure && !t->warned_insecure && strncmp(url, "https:", 6) == 0) {
        t->warned_insecure = 1;
        op_log(&c->diag, OCIPUSH_LOG_WARN, "TLS certificate verification is off for %s",
               c->set.registry);
    }

    /* Reset clears options but keeps the connection cache. */
    curl_easy_reset(easy);
    CURLcode pc = restrict_protocols(easy);
    if (pc != CURLE_OK) {
        curl_slist_free_all(headers);
        return op_fail(&c->diag, OCIPUSH_E_NETWORK,
                       "%s: libcurl cannot limit it to http and https: %s", what,
                       curl_easy_strerror(pc));
    }
    set_transport(c, easy, &x, errbuf);
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    set_method_and_body(easy, req, &x);

    op_log(&c->diag, OCIPUSH_LOG_DEBUG, "> %s", what);
    CURLcode cc = curl_easy_perform(easy);
    curl_slist_free_all(headers);
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    resp->status = status;

    if (x.reader_rc)
        return x.reader_rc; /* the reader already said why */
    if (x.nomem)
        return op_fail(&c->diag, OCIPUSH_E_NOMEM, "out of memory reading the answer to %s", what);
    int rc = OCIPUSH_OK;
    if (cc != CURLE_OK)
        rc = transfer_failed(c, req, &x, cc, errbuf[0] ? errbuf : curl_easy_strerror(cc), what);
    else
        op_log(&c->diag, OCIPUSH_LOG_DEBUG, "< %ld", status);
    if (rc == OCIPUSH_OK)
        parse_answer(resp);
    return rc;
}

/* Can the request's body be sent again? Then put it back at its start. */
static int replay_body(const op_request *req)
{
    if (!req->reader)
        return 1; /* none, or in memory */
    return req->rewind && req->rewind(req->reader_ctx) == 0;
}

/* The scheme of a URL that is not http(s), for a message: quoted only when
 * it is made of the characters a scheme may hold. */
static int refuse_scheme(op_ctx *c, const char *doing, const char *url)
{
    size_t n = op_url_scheme_len(url);
    int quotable = n > 0 && n <= 32;
    return op_fail(&c->diag, OCIPUSH_E_PROTOCOL,
                   "refusing %s to a URL that is not http or https%s%.*s%s: ocipush only "
                   "follows http and https",
                   doing, quotable ? " (" : "", quotable ? (int)n : 0, url, quotable ? ":)" : "");
}

#define MAX_REDIRECTS 5

/* A redirect to follow: the next URL into *next, or an error. */
static int redirect_target(op_ctx *c, const op_request *req, const char *url,
                           const op_response *resp, char **next)
{
    long st = resp->status;
    int safe_method = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    if ((st == 301 || st == 302 || st == 303) && !safe_method)
        return op_fail(&c->diag, OCIPUSH_E_PROTOCOL,
                       "refusing to follow a %ld redirect for %s: it would turn it into a GET", st,
                       req->method);
    if (!resp->location || op_url_resolve(next, url, resp->location))
        return op_fail(&c->diag, OCIPUSH_E_PROTOCOL, "a %ld redirect without a usable Location",
                       st);
    int rc = 0;
    char doing[64];
    snprintf(doing, sizeof doing, "a %ld redirect of %s", st, req->method);
    if (!op_url_is_http(*next))
        rc = refuse_scheme(c, doing, *next);
    else if (strncasecmp(url, "https:", 6) == 0 && strncasecmp(*next, "https:", 6) != 0)
        rc = op_fail(&c->diag, OCIPUSH_E_PROTOCOL, "refusing a redirect from https to plain http");
    else if (req->secret_body && !op_url_same_origin(*next, req->url))
        /* Refused, not sent without its body: the form is the request (a
         * refresh token's exchange), and an empty one to a host the user
         * never named could only fail, later and less clearly. */
        rc = op_fail(&c->diag, OCIPUSH_E_PROTOCOL,
                     "refusing %s to another origin: its body holds a secret", doing);
    if (rc) {
        op_free(*next);
        *next = NULL;
    }
    return rc;
}

int op_transport_perform(op_transport *t, op_ctx *c, const op_request *req, op_response *resp)
{
    /* The Authorization goes to its own origin only, as curl does without
     * CURLOPT_UNRESTRICTED_AUTH: an upload Location, a redirect or a token
     * realm may point anywhere. */
    const char *origin = req->authorization_origin ? req->authorization_origin : req->url;
    char *url = op_strdup(req->url);
    int hops = 0, at_origin = 0;
    int rc = url ? 0 : op_fail(&c->diag, OCIPUSH_E_NOMEM, "out of memory");
    if (rc == 0 && !op_url_is_http(url)) {
        op_response_clear(resp); /* no answer: nothing was sent */
        rc = refuse_scheme(c, req->method, url);
    }
    while (rc == 0) {
        at_origin = op_url_same_origin(url, origin);
        const char *sent = at_origin ? req->authorization : NULL;
        if ((rc = perform_once(t, c, req, url, sent, resp)))
            break;
        long st = resp->status;
        if (st != 307 && st != 308 && st != 301 && st != 302 && st != 303)
            break;
        char *next = NULL;
        if (++hops > MAX_REDIRECTS) {
            rc = op_fail(&c->diag, OCIPUSH_E_PROTOCOL, "more than %d redirects", MAX_REDIRECTS);
        } else if ((rc = redirect_target(c, req, url, resp, &next)) == 0) {
            op_log(&c->diag, OCIPUSH_LOG_DEBUG, "following a %ld redirect", st);
            op_free(url);
            url = next;
            if (!replay_body(req))
                rc = op_fail(&c->diag, OCIPUSH_E_PROTOCOL,
                             "a %ld redirect needs the body sent again, and it cannot be", st);
        }
    }
    resp->authorization_withheld =
        rc == 0 && !at_origin && req->authorization && *req->authorization;
    resp->from_origin = rc == 0 && at_origin;
    op_free(url);
    return rc;
}

int op_transport_rewind_body(const op_request *req)
{
    return replay_body(req);
}

int op_response_fail(op_ctx *c, const char *what, const op_request *req, const op_response *resp)
{
    char desc[512];
    op_buf detail = {0};
    describe(desc, sizeof desc, req->method, req->url);
    op_json_registry_errors(&detail, resp->body.data, resp->body.len);
    int code = (resp->status == 401 || resp->status == 403) ? OCIPUSH_E_AUTH : OCIPUSH_E_HTTP;
    op_fail(&c->diag, code, "%s: %s answered HTTP %ld%s%s%s", what, desc, resp->status,
            detail.len ? ": " : "", detail.len ? detail.data : "",
            code == OCIPUSH_E_AUTH && !c->set.basic_auth && !c->set.identity_token
                ? " (no credentials were given)"
                : "");
    op_diag_answer(&c->diag, resp->status, resp->error_code);
    op_buf_free(&detail);
    return code;
}
