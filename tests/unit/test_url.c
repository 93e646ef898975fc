/* Upload Location resolution, query parameters, origins, paths and Range. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ocipush.h"
#include "url.h"

#define UPLOADS "http://h:5000/v2/r/blobs/uploads/"
#define DIGEST "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
#define DIGEST_Q "sha256%3A44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"

static void expect_resolve(const char *base, const char *location, const char *want)
{
    char *out = NULL;
    int rc = op_url_resolve(&out, base, location);
    if (!CHECK_EQ_INT(rc, OCIPUSH_OK))
        fprintf(stderr, "    op_url_resolve(\"%s\", \"%s\")\n", base, location);
    else if (!CHECK_EQ_STR(out, want))
        fprintf(stderr, "    op_url_resolve(\"%s\", \"%s\")\n", base, location);
    free(out);
}

static void expect_resolve_fails(const char *base, const char *location)
{
    char sentinel[] = "untouched";
    char *out = sentinel;
    int rc = op_url_resolve(&out, base, location);
    if (!CHECK_EQ_INT(rc, OCIPUSH_E_INVALID))
        fprintf(stderr, "    op_url_resolve(\"%s\", \"%s\") gave \"%s\"\n", base,
                location ? location : "(null)", out);
    CHECK(out == sentinel);
    if (out != sentinel)
        free(out);
}

static void test_resolve(void)
{
    /* Absolute: taken as it is, query included. */
    expect_resolve(UPLOADS, "https://other.example:8443/upload/abc?x=1&y=%2F",
                   "https://other.example:8443/upload/abc?x=1&y=%2F");
    expect_resolve(UPLOADS, "http://h:5000/v2/r/blobs/uploads/u?_state=a%2Bb%3D%3D",
                   "http://h:5000/v2/r/blobs/uploads/u?_state=a%2Bb%3D%3D");
    /* Absolute path: the base's scheme and authority. */
    expect_resolve(UPLOADS, "/v2/x/blobs/uploads/uuid?_state=abc",
                   "http://h:5000/v2/x/blobs/uploads/uuid?_state=abc");
    expect_resolve("https://u:p@h/v2/r/blobs/uploads/old?_state=q", "/new", "https://u:p@h/new");
    /* Relative: against the base's directory, the base's query dropped. */
    expect_resolve(UPLOADS, "uuid?x=1", UPLOADS "uuid?x=1");
    expect_resolve("http://h/v2/r/blobs/uploads/old?_state=q/z", "new",
                   "http://h/v2/r/blobs/uploads/new");
    expect_resolve("https://h", "u", "https://h/u");
    expect_resolve("https://h?q=1", "u?v=2", "https://h/u?v=2");
    /* Scheme-relative: the base's scheme only. */
    expect_resolve(UPLOADS, "//other:1/p", "http://other:1/p");
    expect_resolve("https://h/v2/", "//cdn.example/x?sig=1", "https://cdn.example/x?sig=1");
    /* Query strings are kept byte for byte (no decoding, no re-encoding). */
    expect_resolve(UPLOADS,
                   "/p?_state=a%2Bb%3D%3D&x=y+z&e=", "http://h:5000/p?_state=a%2Bb%3D%3D&x=y+z&e=");
    expect_resolve(UPLOADS, "u?a=%zz&b=%%", UPLOADS "u?a=%zz&b=%%");
    /* A URL is allowed in a query ("://" there does not make the reference
     * absolute: RFC 3986 section 4.2, the scheme ends at the first ':' before
     * any '/', '?' or '#'). */
    expect_resolve(UPLOADS, "/v2/r/blobs/uploads/u?next=http://x/y",
                   "http://h:5000/v2/r/blobs/uploads/u?next=http://x/y");
    expect_resolve(UPLOADS, "u?redirect=https://cdn.example/z",
                   UPLOADS "u?redirect=https://cdn.example/z");

    /* Printable ASCII only: a raw non-ASCII byte (UTF-8 here) or DEL never
     * reaches a request line. */
    expect_resolve_fails(UPLOADS, "/v2/r/blobs/uploads/\xc3\xa9");
    expect_resolve_fails(UPLOADS, "/v2/r/blobs/uploads/a\x7f");
    expect_resolve_fails(UPLOADS, NULL);
    expect_resolve_fails(UPLOADS, "");
    expect_resolve_fails(UPLOADS, "/a b");
    expect_resolve_fails(UPLOADS, " /a");
    expect_resolve_fails(UPLOADS, "/a\tb");
    expect_resolve_fails(UPLOADS, "/a\x01");
    expect_resolve_fails(UPLOADS, "/a\x7f");
    expect_resolve_fails(UPLOADS, "u\r\nX-Injected: 1");
    expect_resolve_fails(UPLOADS, "://x/y");
    expect_resolve_fails(UPLOADS, "http:///y");
    expect_resolve_fails("not a url", "u");
    expect_resolve_fails("/v2/relative/base", "u");
    expect_resolve_fails("http://", "u");
}

static void expect_query(const char *url, const char *key, const char *value, const char *want)
{
    char *out = NULL;
    int rc = op_url_add_query(&out, url, key, value);
    if (CHECK_EQ_INT(rc, OCIPUSH_OK) && !CHECK_EQ_STR(out, want))
        fprintf(stderr, "    op_url_add_query(\"%s\", \"%s\", \"%s\")\n", url, key, value);
    free(out);
}

static void test_add_query(void)
{
    expect_query(UPLOADS "u", "digest", DIGEST, UPLOADS "u?digest=" DIGEST_Q);
    expect_query(UPLOADS "u?_state=abc", "digest", DIGEST, UPLOADS "u?_state=abc&digest=" DIGEST_Q);
    expect_query(UPLOADS "u?", "digest", DIGEST, UPLOADS "u?digest=" DIGEST_Q);
    expect_query("http://h", "k", "", "http://h?k=");
    /* Unreserved characters stay, everything else is %XX with uppercase hex. */
    expect_query("http://h/p", "k", "aZ09-._~ /+?&=%\xff",
                 "http://h/p?k=aZ09-._~%20%2F%2B%3F%26%3D%25%FF");
}

static void expect_origin(const char *a, const char *b, int want)
{
    int got = op_url_same_origin(a, b);
    if (!CHECK_EQ_INT(got, want))
        fprintf(stderr, "    op_url_same_origin(\"%s\", \"%s\")\n", a, b);
    got = op_url_same_origin(b, a);
    if (!CHECK_EQ_INT(got, want))
        fprintf(stderr, "    op_url_same_origin(\"%s\", \"%s\")\n", b, a);
}

static void test_same_origin(void)
{
    expect_origin("http://h/v2/", "http://h/v2/r/blobs/uploads/u?x=1", 1);
    expect_origin("http://h", "http://h:80/x", 1);
    expect_origin("https://h/", "https://h:443/x", 1);
    expect_origin("https://h:443/", "https://h:443", 1);
    expect_origin("http://h:/a", "http://h/b", 1);
    expect_origin("http://Registry.Example.COM:5000/", "http://registry.example.com:5000/v2/", 1);
    expect_origin("HTTP://h/", "http://h/", 1);
    expect_origin("http://user:pw@h:5000/", "http://h:5000/", 1);
    expect_origin("http://user@h/", "http://other@h:80/", 1);
    expect_origin("http://[::1]:5000/v2/", "http://[::1]:5000/x", 1);
    expect_origin("http://[::1]/", "http://[::1]:80/", 1);
    expect_origin("https://[::1]/", "https://[::1]:443/", 1);

    expect_origin("http://h:5000/", "http://h:5001/", 0);
    expect_origin("http://h/", "http://h:8080/", 0);
    expect_origin("http://h/", "https://h/", 0);
    expect_origin("http://h:443/", "https://h/", 0);
    expect_origin("https://h:80/", "http://h/", 0);
    expect_origin("http://h/", "http://g/", 0);
    expect_origin("http://h/", "http://hh/", 0);
    expect_origin("http://h.example/", "http://h.example.evil/", 0);
    expect_origin("http://h:5000/", "http://h:5000@evil:5000/", 0);
    expect_origin("http://[::1]:5000/", "http://[::2]:5000/", 0);
    expect_origin("http://[::1]:5000/", "http://[::1]:5001/", 0);
    expect_origin("http://[::1]/", "http://[::1]:8080/", 0);
    expect_origin("http://h/", "/relative", 0);
    expect_origin("http://h/", "", 0);
    /* A port past 65535 is not port 80 however it wraps. */
    expect_origin("http://h/", "http://h:18446744073709551696/", 0);
    expect_origin("http://h/", "http://h:4294967376/", 0);
}

static void expect_range(const char *value, uint64_t want)
{
    uint64_t next = 12345;
    int rc = op_range_parse(&next, value);
    if (!CHECK_EQ_INT(rc, OCIPUSH_OK) || !CHECK_EQ_U64(next, want))
        fprintf(stderr, "    op_range_parse(\"%s\")\n", value);
}

static void expect_range_fails(const char *value)
{
    uint64_t next = 12345;
    int rc = op_range_parse(&next, value);
    if (!CHECK_EQ_INT(rc, OCIPUSH_E_INVALID))
        fprintf(stderr, "    op_range_parse(\"%s\")\n", value ? value : "(null)");
    CHECK_EQ_U64(next, 12345);
}

static void test_range(void)
{
    expect_range("0-99", 100);
    expect_range("bytes=0-99", 100);
    expect_range("0-0", 1);
    expect_range("0--1", 0);
    expect_range("bytes=0--1", 0);
    expect_range("0-18446744073709551598", UINT64_C(18446744073709551599));
    expect_range("0-1048575", 1048576);

    expect_range_fails(NULL);
    expect_range_fails("");
    expect_range_fails("5-9");
    expect_range_fails("1-99");
    expect_range_fails("0-");
    expect_range_fails("bytes=0-");
    expect_range_fails("abc");
    expect_range_fails("bytes=");
    expect_range_fails("-1");
    expect_range_fails("0");
    expect_range_fails("0-18446744073709551615");
    expect_range_fails("0-99999999999999999999999");
    expect_range_fails("0-99x");
    expect_range_fails("0-99-");
    expect_range_fails("0-99,100-199");
    expect_range_fails("0--1x");
    expect_range_fails("0--2");
    expect_range_fails("0-+5");
    expect_range_fails("bytes 0-99");
}

static void expect_http(const char *url, int want)
{
    if (!CHECK_EQ_INT(op_url_is_http(url), want))
        fprintf(stderr, "    op_url_is_http(\"%s\")\n", url ? url : "(null)");
}

/* Only http and https are ever requested; anything else a registry names is
 * refused before a request is made. */
static void test_is_http(void)
{
    expect_http("http://h/v2/", 1);
    expect_http("https://h:5000/v2/r/blobs/uploads/u?_state=a%20b", 1);
    expect_http("HTTPS://H", 1);
    expect_http("http://[::1]:5000/token", 1);

    expect_http(NULL, 0);
    expect_http("", 0);
    expect_http("file:///etc/passwd", 0);
    expect_http("file://localhost/etc/passwd", 0);
    expect_http("ftp://127.0.0.1:21/", 0);
    expect_http("gopher://127.0.0.1:70/_x", 0);
    expect_http("dict://127.0.0.1:2628/d:x", 0);
    expect_http("httpx://h/", 0);
    expect_http("htt://h/", 0);
    expect_http("http:/h/", 0);
    expect_http("http:///p", 0);
    expect_http("/v2/r/blobs/uploads/u", 0);
    expect_http("http://h/a b", 0);
    expect_http("http://h/\r\nX-Evil: 1", 0);
    expect_http("http://h/\x1b[31m", 0);
    expect_http("http://h/\x7f", 0);
    expect_http("http://h/\xc3\xa9", 0);
}

int main(void)
{
    test_is_http();
    test_resolve();
    test_add_query();
    test_same_origin();
    test_range();
    return check_done();
}
