#include "retry.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "registry_errors.h"

static int parse_http_date(time_t *out, const char *s)
{
    /* IMF-fixdate, the only form servers must send (RFC 9110 5.6.7). */
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    char wday[4], mon[4], zone[4];
    int day, year, hh, mm, ss, used = 0;
    if (sscanf(s, "%3s, %2d %3s %4d %2d:%2d:%2d %3s%n", wday, &day, mon, &year, &hh, &mm, &ss, zone,
               &used) != 8 ||
        s[used] != '\0' || strcmp(zone, "GMT") != 0)
        return OCIPUSH_E_INVALID;
    int m = -1;
    for (int i = 0; i < 12; i++)
        if (strcmp(mon, months[i]) == 0)
            m = i;
    if (m < 0 || day < 1 || day > 31 || year < 1970 || hh > 23 || mm > 59 || ss > 60)
        return OCIPUSH_E_INVALID;
    struct tm tm = {.tm_year = year - 1900,
                    .tm_mon = m,
                    .tm_mday = day,
                    .tm_hour = hh,
                    .tm_min = mm,
                    .tm_sec = ss};
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return OCIPUSH_E_INVALID;
    *out = t;
    return 0;
}

int op_retry_after_parse(long *out_ms, const char *value, time_t now)
{
    if (!value)
        return OCIPUSH_E_INVALID;
    while (*value == ' ')
        value++;
    if (isdigit((unsigned char)*value)) {
        char *end = NULL;
        errno = 0;
        unsigned long secs = strtoul(value, &end, 10);
        while (end && *end == ' ')
            end++;
        if (errno || !end || *end)
            return OCIPUSH_E_INVALID;
        *out_ms = secs > (unsigned long)OP_RETRY_AFTER_MAX_MS / 1000 ? OP_RETRY_AFTER_MAX_MS
                                                                     : (long)secs * 1000;
        return 0;
    }
    time_t when;
    if (parse_http_date(&when, value))
        return OCIPUSH_E_INVALID;
    double diff = difftime(when, now);
    *out_ms = diff <= 0                             ? 0
              : diff * 1000 > OP_RETRY_AFTER_MAX_MS ? OP_RETRY_AFTER_MAX_MS
                                                    : (long)(diff * 1000);
    return 0;
}

const char *const op_retry_transient_codes[] = {"BLOB_UPLOAD_INVALID", "UNKNOWN", "UNAVAILABLE",
                                                "TOOMANYREQUESTS", NULL};

int op_retry_transient_answer(long status, int transient_code)
{
    switch (status) {
    case 408:
    case 429:
    case 500:
    case 502:
    case 503:
    case 504: return 1;
    case 401:
    case 403:
    case 404: return 0;
    default: return status >= 400 && transient_code;
    }
}

int op_retry_transient_status(long status, const char *body, size_t len)
{
    int coded = status >= 400 && op_json_registry_has_code(body, len, op_retry_transient_codes);
    return op_retry_transient_answer(status, coded);
}

/* xorshift64*: jitter needs no more, and each session has its own state so
 * threads with separate sessions share nothing. */
static uint64_t next_random(op_ctx *c)
{
    if (!c->rng)
        c->rng = ((uint64_t)time(NULL) << 20) ^ (uint64_t)(uintptr_t)c ^ 0x9e3779b97f4a7c15ull;
    c->rng ^= c->rng >> 12;
    c->rng ^= c->rng << 25;
    c->rng ^= c->rng >> 27;
    return c->rng * 0x2545f4914f6cdd1dull;
}

long op_retry_delay_ms(op_ctx *c, int retry, const char *retry_after)
{
    long ms;
    if (retry_after && op_retry_after_parse(&ms, retry_after, time(NULL)) == 0)
        return ms < c->set.retry_max_ms ? ms : c->set.retry_max_ms;
    ms = c->set.retry_base_ms;
    for (int i = 1; i < retry && ms < c->set.retry_max_ms; i++)
        ms *= 2;
    if (ms > c->set.retry_max_ms)
        ms = c->set.retry_max_ms;
    if (c->set.retry_jitter_percent > 0 && ms > 0) {
        long span = ms * c->set.retry_jitter_percent / 100;
        if (span > 0)
            ms += (long)(next_random(c) % (uint64_t)(2 * span + 1)) - span;
    }
    return ms < 0 ? 0 : ms;
}

op_retry_budget op_retry_budget_of(const op_ctx *c)
{
    return (op_retry_budget){.used = 1, .max = c->set.retry_attempts};
}

int op_retry_budget_left(const op_retry_budget *b)
{
    return b->used < b->max;
}

int op_retry_budget_take(op_retry_budget *b)
{
    if (!op_retry_budget_left(b))
        return 0;
    return b->used++;
}

/* A cancel ends a wait within this. */
#define CANCEL_POLL_MS 100L

static int retry_wait(op_ctx *c, long ms, const char *why, int retry, int retries, int as_asked)
{
    int64_t left = op_deadline_left_ms(c);
    if (left >= 0 && ms >= left) {
        /* Not worth waiting for a try there is no time left for; whatever
         * the caller does next fails on the deadline too. */
        op_deadline_expire(c);
        return op_fail(&c->diag, OCIPUSH_E_NETWORK,
                       "%s; no retry: the call's deadline (%lld ms) would pass during the %ld ms "
                       "wait before retry %d",
                       why, (long long)c->set.timeout_ms, ms, retry);
    }
    op_log(&c->diag, OCIPUSH_LOG_INFO, "%s; retry %d of %d in %ld ms%s", why, retry, retries, ms,
           as_asked ? ", as its Retry-After asks" : "");
    while (ms > 0 && !op_cancelled(c)) {
        long slice = ms < CANCEL_POLL_MS ? ms : CANCEL_POLL_MS;
        struct timespec ts = {.tv_sec = slice / 1000, .tv_nsec = (slice % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        ms -= slice;
    }
    return op_check_cancel(c);
}

int op_retry_next(op_ctx *c, op_retry_budget *b, const char *retry_after, const char *why)
{
    int retry = op_retry_budget_take(b);
    if (!retry)
        return OP_RETRY_SPENT;
    long asked;
    int as_asked = retry_after && op_retry_after_parse(&asked, retry_after, time(NULL)) == 0;
    return retry_wait(c, op_retry_delay_ms(c, retry, retry_after), why, retry, b->max - 1,
                      as_asked);
}
