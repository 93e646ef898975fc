#include "url.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "ocipush.h"

/* Splits "scheme://authority/rest" into its parts; 0 or OCIPUSH_E_INVALID. */
typedef struct url_parts {
    const char *scheme;
    size_t scheme_len;
    const char *authority;
    size_t authority_len;
    const char *path; /* "/..." (may include the query), or "" */
} url_parts;

static int url_split(url_parts *p, const char *url)
{
    const char *sep = strstr(url, "://");
    if (!sep || sep == url)
        return OCIPUSH_E_INVALID;
    for (const char *c = url; c < sep; c++)
        if (!isalpha((unsigned char)*c))
            return OCIPUSH_E_INVALID;
    p->scheme = url;
    p->scheme_len = (size_t)(sep - url);
    p->authority = sep + 3;
    p->authority_len = strcspn(p->authority, "/?#");
    if (p->authority_len == 0)
        return OCIPUSH_E_INVALID;
    p->path = p->authority + p->authority_len;
    return 0;
}

/* "scheme:" at the start (RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )).
 * A "://" later on, in a query say, does not make a URL absolute. */
size_t op_url_scheme_len(const char *s)
{
    if (!isalpha((unsigned char)s[0]))
        return 0;
    const char *c = s;
    while (isalnum((unsigned char)*c) || *c == '+' || *c == '-' || *c == '.')
        c++;
    return *c == ':' ? (size_t)(c - s) : 0;
}

static int has_scheme(const char *s)
{
    return op_url_scheme_len(s) > 0;
}

/* Printable ASCII only (no space, control or non-ASCII byte): what may reach
 * curl's request line, and what an error message may quote. */
static int printable_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
            return 0;
    return 1;
}

int op_url_resolve(char **out, const char *base, const char *location)
{
    url_parts b;
    op_buf r = {0};
    int rc = 0;
    if (!location || !*location || !printable_ascii(location) || url_split(&b, base))
        return OCIPUSH_E_INVALID;
    /* Without a scheme, a ':' in the first segment is malformed (RFC 3986
     * 4.2), e.g. "://x" or a scheme with a bad character. */
    size_t first = strcspn(location, "/?#");
    if (!has_scheme(location) && memchr(location, ':', first))
        return OCIPUSH_E_INVALID;
    if (has_scheme(location)) {
        url_parts l;
        if (url_split(&l, location))
            return OCIPUSH_E_INVALID;
        rc = op_buf_puts(&r, location);
    } else if (location[0] == '/' && location[1] == '/') {
        rc = op_buf_append(&r, b.scheme, b.scheme_len);
        rc = rc ? rc : op_buf_printf(&r, ":%s", location);
    } else if (location[0] == '/') {
        rc = op_buf_append(&r, base, (size_t)(b.path - base));
        rc = rc ? rc : op_buf_puts(&r, location);
    } else {
        /* Relative to the directory of the base path (RFC 3986 merge; dot
         * segments are left to the server, registries never send them). */
        size_t path_len = strcspn(b.path, "?#");
        const char *dir_end = b.path;
        for (const char *c = b.path; c < b.path + path_len; c++)
            if (*c == '/')
                dir_end = c + 1;
        if (dir_end == b.path) {
            rc = op_buf_append(&r, base, (size_t)(b.path - base));
            rc = rc ? rc : op_buf_puts(&r, "/");
        } else {
            rc = op_buf_append(&r, base, (size_t)(dir_end - base));
        }
        rc = rc ? rc : op_buf_puts(&r, location);
    }
    if (rc) {
        op_buf_free(&r);
        return rc;
    }
    return op_buf_take(&r, out);
}

int op_url_encode(op_buf *out, const char *value)
{
    int rc = 0;
    for (const char *c = value; rc == 0 && *c; c++) {
        if (isalnum((unsigned char)*c) || strchr("-._~", *c))
            rc = op_buf_append(out, c, 1);
        else
            rc = op_buf_printf(out, "%%%02X", (unsigned char)*c);
    }
    return rc;
}

int op_url_add_query(char **out, const char *url, const char *key, const char *value)
{
    op_buf r = {0};
    size_t base_len = strcspn(url, "#");
    int rc = op_buf_append(&r, url, base_len);
    const char *sep = memchr(url, '?', base_len) ? "&" : "?";
    if (rc == 0 && url[base_len - (base_len ? 1 : 0)] == '?' && base_len)
        sep = ""; /* "...?" already ends with the separator */
    rc = rc ? rc : op_buf_printf(&r, "%s%s=", sep, key);
    rc = rc ? rc : op_url_encode(&r, value);
    if (rc) {
        op_buf_free(&r);
        return rc;
    }
    return op_buf_take(&r, out);
}

/* Host and port of an authority, dropping userinfo; port defaulted by scheme. */
static void authority_host_port(const url_parts *p, const char **host, size_t *host_len, long *port)
{
    const char *a = p->authority;
    size_t n = p->authority_len;
    const char *at = memchr(a, '@', n);
    if (at) {
        n -= (size_t)(at + 1 - a);
        a = at + 1;
    }
    const char *colon = NULL;
    if (a[0] == '[') {
        const char *close = memchr(a, ']', n);
        if (close && (size_t)(close - a) + 1 < n && close[1] == ':')
            colon = close + 1;
    } else {
        colon = memchr(a, ':', n);
    }
    *host = a;
    *host_len = colon ? (size_t)(colon - a) : n;
    *port = -1;
    if (colon && colon + 1 < a + n) {
        long v = 0;
        for (const char *c = colon + 1; c < a + n; c++) {
            if (!isdigit((unsigned char)*c) || v > 65535) {
                v = -2; /* not a port: never the same origin as anything */
                break;
            }
            v = v * 10 + (*c - '0');
        }
        *port = v > 65535 ? -2 : v;
    }
    if (*port == -1)
        *port = (p->scheme_len == 5 && strncasecmp(p->scheme, "https", 5) == 0) ? 443 : 80;
}

int op_url_same_origin(const char *a, const char *b)
{
    url_parts pa, pb;
    if (url_split(&pa, a) || url_split(&pb, b))
        return 0;
    if (pa.scheme_len != pb.scheme_len || strncasecmp(pa.scheme, pb.scheme, pa.scheme_len))
        return 0;
    const char *ha, *hb;
    size_t la, lb;
    long porta, portb;
    authority_host_port(&pa, &ha, &la, &porta);
    authority_host_port(&pb, &hb, &lb, &portb);
    return la == lb && strncasecmp(ha, hb, la) == 0 && porta == portb && porta >= 0;
}

int op_url_is_http(const char *url)
{
    url_parts p;
    if (!url || url_split(&p, url))
        return 0;
    int http = (p.scheme_len == 4 && strncasecmp(p.scheme, "http", 4) == 0) ||
               (p.scheme_len == 5 && strncasecmp(p.scheme, "https", 5) == 0);
    return http && printable_ascii(url);
}

static int parse_u64(const char **p, uint64_t *out)
{
    const char *c = *p;
    uint64_t v = 0;
    if (!isdigit((unsigned char)*c))
        return OCIPUSH_E_INVALID;
    for (; isdigit((unsigned char)*c); c++) {
        if (v > (UINT64_MAX - 9) / 10)
            return OCIPUSH_E_INVALID;
        v = v * 10 + (uint64_t)(*c - '0');
    }
    *p = c;
    *out = v;
    return 0;
}

int op_range_parse(uint64_t *out_next, const char *value)
{
    if (!value)
        return OCIPUSH_E_INVALID;
    const char *p = value;
    while (*p == ' ')
        p++;
    if (strncasecmp(p, "bytes=", 6) == 0)
        p += 6;
    uint64_t start, end;
    if (parse_u64(&p, &start) || start != 0 || *p++ != '-')
        return OCIPUSH_E_INVALID;
    if (strcmp(p, "-1") == 0) { /* Quay: nothing received yet */
        *out_next = 0;
        return 0;
    }
    if (parse_u64(&p, &end))
        return OCIPUSH_E_INVALID;
    while (*p == ' ')
        p++;
    if (*p || end == UINT64_MAX)
        return OCIPUSH_E_INVALID;
    *out_next = end + 1;
    return 0;
}
