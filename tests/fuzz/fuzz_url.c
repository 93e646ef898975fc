/* Upload URLs and headers: the input is "base\nlocation" (or NUL-separated).
 * Resolves the location against the base, adds a query parameter, compares
 * origins, checks both halves are http(s) URLs and parses both as a Range
 * header. */
#include <strings.h>

#include "fuzz.h"
#include "ocipush.h"
#include "url.h"

/* RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */
static int has_scheme(const char *s)
{
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    if (!*s || !strchr(alpha, *s))
        return 0;
    s += strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-.");
    return *s == ':';
}

/* An absolute http(s) URL with a host and nothing a URL cannot hold. */
static int is_http_url(const char *s)
{
    size_t n = strncasecmp(s, "http://", 7) == 0 ? 7 : strncasecmp(s, "https://", 8) == 0 ? 8 : 0;
    if (n == 0 || !s[n] || strchr("/?#", s[n]))
        return 0;
    /* Printable ASCII only: a Location or URL with anything else is refused. */
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
            return 0;
    return 1;
}

static void check_is_http(const char *s)
{
    FUZZ_CHECK(op_url_is_http(s) == is_http_url(s));
}

static void check_same_origin(const char *a, const char *b)
{
    int ab = op_url_same_origin(a, b);
    FUZZ_CHECK(ab == 0 || ab == 1);
    FUZZ_CHECK(ab == op_url_same_origin(b, a));
    FUZZ_CHECK(!ab || (op_url_same_origin(a, a) && op_url_same_origin(b, b)));
}

static int hexval(char c)
{
    const char *hex = "0123456789ABCDEF", *p = c ? strchr(hex, c) : NULL;
    return p ? (int)(p - hex) : -1;
}

/* url (less its fragment) + "?" or "&" (unless it ends with "?") +
 * "digest=" + value percent-encoded to unreserved characters. */
static void check_add_query(const char *url, const char *value)
{
    char *q = NULL;
    int rc = op_url_add_query(&q, url, "digest", value);
    FUZZ_CHECK(rc == 0 && q != NULL);
    size_t keep = strcspn(url, "#");
    FUZZ_CHECK(strncmp(q, url, keep) == 0);
    const char *p = q + keep + (q[keep] == '?' || q[keep] == '&');
    FUZZ_CHECK(p > q && (p[-1] == '?' || p[-1] == '&') && memchr(q, '?', (size_t)(p - q)));
    FUZZ_CHECK(strncmp(p, "digest=", 7) == 0);
    const char *v = value;
    for (p += 7; *p; v++) {
        if (*p == '%') {
            int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
            FUZZ_CHECK(lo >= 0 && (unsigned char)*v == hi * 16 + lo);
            FUZZ_CHECK(!strchr("-._~", *v) && !(*v >= '0' && *v <= '9') &&
                       !((*v | 0x20) >= 'a' && (*v | 0x20) <= 'z'));
            p += 3;
        } else {
            FUZZ_CHECK(*p == *v && (strchr("-._~", *p) || (*p >= '0' && *p <= '9') ||
                                    ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z')));
            p++;
        }
    }
    FUZZ_CHECK(*v == '\0');
    ocipush_free(q);
}

/* Independent of op_range_parse: the forms it accepts are
 * " *(bytes=)?0+-(-1|[0-9]+ *)" (case-insensitive "bytes="). Returns 1 on a
 * match with *next = end + 1 (0 for "-1"); *big when end >= 10^18, where
 * *next is not computed and the parser may refuse the value. */
static int range_matches(const char *v, uint64_t *next, int *big)
{
    v += strspn(v, " ");
    if (strncasecmp(v, "bytes=", 6) == 0)
        v += 6;
    size_t zeros = strspn(v, "0");
    if (zeros == 0 || v[zeros] != '-')
        return 0;
    v += zeros + 1;
    *big = 0;
    *next = 0;
    if (strcmp(v, "-1") == 0)
        return 1;
    size_t digits = strspn(v, "0123456789");
    if (digits == 0 || v[digits + strspn(v + digits, " ")] != '\0')
        return 0;
    uint64_t end = 0;
    for (size_t i = 0; i < digits; i++) {
        if (end >= 100000000000000000u)
            *big = 1;
        else
            end = end * 10 + (uint64_t)(v[i] - '0');
    }
    *next = end + 1;
    return 1;
}

static void check_range(const char *value)
{
    uint64_t next = 42, want = 0;
    int big = 0, rc = op_range_parse(&next, value), match = range_matches(value, &want, &big);
    FUZZ_CHECK(rc == 0 || rc == OCIPUSH_E_INVALID);
    FUZZ_CHECK(rc != 0 || (match && (big || next == want)));
    FUZZ_CHECK(!match || big || (rc == 0 && next == want));
    FUZZ_CHECK(rc == 0 || next == 42);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t cut = 0;
    while (cut < size && data[cut] != '\0' && data[cut] != '\n')
        cut++;
    char *base = fuzz_strndup(data, cut);
    char *loc = cut < size ? fuzz_strndup(data + cut + 1, size - cut - 1) : fuzz_strndup("", 0);
    char *out = NULL;
    if (op_url_resolve(&out, base, loc) == 0) {
        /* Every form ends with the location as sent: an absolute one is the
         * answer, a path or relative one stays on the base's origin. */
        size_t n = strlen(out), ln = strlen(loc);
        FUZZ_CHECK(n >= ln && strcmp(out + n - ln, loc) == 0);
        if (has_scheme(loc))
            FUZZ_CHECK(strcmp(out, loc) == 0);
        else if (strncmp(loc, "//", 2) != 0)
            FUZZ_CHECK(op_url_same_origin(out, base) == op_url_same_origin(base, base));
        check_same_origin(out, base);
        check_same_origin(out, loc);
        check_add_query(out, "sha256:0123");
        ocipush_free(out);
    } else if (is_http_url(loc) && op_url_resolve(&out, base, "/") == 0) {
        /* A good base and an absolute http(s) location: never refused. */
        ocipush_free(out);
        FUZZ_CHECK(!"absolute http(s) location refused");
    }
    check_is_http(base);
    check_is_http(loc);
    check_same_origin(base, loc);
    check_add_query(base, loc);
    check_range(base);
    check_range(loc);
    free(base);
    free(loc);
    return 0;
}
