/* The checks on text that goes into a request line, a header or a manifest
 * (lib/validate.c), and the setters that use them. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ocipush.h"
#include "validate.h"

#define HEX64 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define DIGEST "sha256:" HEX64

/* "a/" followed by n copies of c, or n copies then "/b" (static buffer). */
static const char *long_type(size_t n, int subtype)
{
    static char buf[2100];
    size_t at = 0;
    if (subtype)
        buf[at++] = 'a', buf[at++] = '/';
    memset(buf + at, 'x', n);
    at += n;
    if (!subtype)
        buf[at++] = '/', buf[at++] = 'b';
    buf[at] = '\0';
    return buf;
}

static void test_media_type(void)
{
    static const char *const valid[] = {
        OCIPUSH_MEDIA_TYPE_MANIFEST,
        OCIPUSH_MEDIA_TYPE_INDEX,
        OCIPUSH_MEDIA_TYPE_EMPTY,
        OCIPUSH_MEDIA_TYPE_LAYER,
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.cncf.helm.chart.provenance.v1.prov",
        "application/spdx+json",
        "text/plain",
        "a/b",
        "0/9",
        "x-a/y-b",
        "application/a!#$&-^_.+z",
        "text/plain; charset=utf-8",
        "text/plain;charset=utf-8",
        "text/plain ; charset=utf-8 ; format=flowed",
        "application/x; a=\"quoted; value with / and = \\\" and \\\\\"",
        "application/x; a=\"\"",
        "application/x; tok=!#$%&'*+-.^_`|~09AZaz",
    };
    static const char *const invalid[] = {
        "",
        "application",
        "application/",
        "/json",
        "application/vnd/x",
        "application /json",
        "application/ json",
        " application/json",
        "application/json ",
        "application/json;",
        "application/json; ",
        "application/json; a",
        "application/json; a=",
        "application/json; =b",
        "application/json; a=b c",
        "application/json; a=\"open",
        "application/json; a=\"x\"y",
        "application/json; a=\"x\\\"",
        "application/json, text/plain",
        "-application/json",
        "application/+json",
        "application/.json",
        "appli*cation/json",
        "application/js%on",
        "application/json\r\nX-Injected: 1",
        "application/json\nX-Injected: 1",
        "application/json\r",
        "application/json\t",
        "application/vnd\x1b[31m",
        "application/json; a=\"\r\n\"",
        "application/json; a=\"\t\"",
        "application/json; a=\"\\\r\"",
        "application/json; a=\"\x7f\"",
        "application/j\x7fson",
        "application/caf\xc3\xa9",
        "application/json; a=\"caf\xc3\xa9\"",
    };
    EXPECT_ALL(op_media_type_check, valid, 0);
    EXPECT_ALL(op_media_type_check, invalid, OCIPUSH_E_INVALID);
    EXPECT_ALL(ocipush_media_type_validate, valid, OCIPUSH_OK);
    EXPECT_ALL(ocipush_media_type_validate, invalid, OCIPUSH_E_INVALID);
    CHECK_EQ_INT(op_media_type_check(NULL), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_media_type_validate(NULL), OCIPUSH_E_INVALID);
    /* RFC 6838: type and subtype at most 127 characters each. */
    CHECK_EQ_INT(op_media_type_check(long_type(127, 0)), 0);
    CHECK_EQ_INT(op_media_type_check(long_type(128, 0)), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(op_media_type_check(long_type(127, 1)), 0);
    CHECK_EQ_INT(op_media_type_check(long_type(128, 1)), OCIPUSH_E_INVALID);
    /* The whole, parameters included, at most OP_MEDIA_TYPE_MAX bytes. */
    char big[OP_MEDIA_TYPE_MAX + 2];
    strcpy(big, "a/b; p=");
    size_t at = strlen(big);
    memset(big + at, 'v', OP_MEDIA_TYPE_MAX - at);
    big[OP_MEDIA_TYPE_MAX] = '\0';
    CHECK_EQ_INT(op_media_type_check(big), 0);
    big[OP_MEDIA_TYPE_MAX] = 'v';
    big[OP_MEDIA_TYPE_MAX + 1] = '\0';
    CHECK_EQ_INT(op_media_type_check(big), OCIPUSH_E_INVALID);
}

static void test_header_text(void)
{
    static const char *const valid[] = {
        "ocipush/1.0",  "a", "x y (z; w) \"q\"", "caf\xc3\xa9", "org.opencontainers.image.title",
        "~!@#$%^&*()=+"};
    static const char *const invalid[] = {"",      "a\r",   "a\nb",     "\r\nX-Injected: 1",
                                          "a\tb",  "a\x7f", "\x1b[31m", "\x01",
                                          "x\x1f", "ok\rok"};
    EXPECT_ALL(op_header_text_check, valid, 0);
    EXPECT_ALL(op_header_text_check, invalid, OCIPUSH_E_INVALID);
    CHECK_EQ_INT(op_header_text_check(NULL), OCIPUSH_E_INVALID);
}

static void test_b64token(void)
{
    static const char *const valid[] = {
        "a",
        "abc123",
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl",
        "A-._~+/z",
        "abc=",
        "abc==",
        "/",
        "ya29.a0AfH6SMB-x_y",
    };
    static const char *const invalid[] = {
        "",      "=",    "==abc", "abc=d", "abc def", " abc", "abc ",        "abc\r\nX-Injected: 1",
        "abc\n", "a\tb", "a,b",   "a\"b",  "a;b",     "a:b",  "caf\xc3\xa9", "a\x7f",
        "a%20b",
    };
    EXPECT_ALL(op_b64token_check, valid, 0);
    EXPECT_ALL(op_b64token_check, invalid, OCIPUSH_E_INVALID);
    CHECK_EQ_INT(op_b64token_check(NULL), OCIPUSH_E_INVALID);
}

/* The user agent goes into a header as it is: refused with a message. */
static void test_user_agent_setter(void)
{
    ocipush_session *s = NULL;
    if (!CHECK_EQ_INT(ocipush_session_new(&s, "127.0.0.1:1"), OCIPUSH_OK))
        return;
    CHECK_EQ_INT(ocipush_session_set_user_agent(s, "tool/1.0 (x)"), OCIPUSH_OK);
    CHECK_EQ_STR(ocipush_session_errmsg(s), "");
    static const char *const bad[] = {
        "tool/1.0\r\nX-Injected: 1", "tool\n", "tool\r", "a\tb", "\x1b[31mred", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(ocipush_session_set_user_agent(s, bad[i]), OCIPUSH_E_INVALID);
        CHECK(strstr(ocipush_session_errmsg(s), "user agent") != NULL);
    }
    CHECK_EQ_INT(ocipush_session_set_user_agent(s, NULL), OCIPUSH_OK);
    CHECK_EQ_STR(ocipush_session_errmsg(s), "");
    ocipush_session_free(s);
}

/* Every setter that takes a media type or an annotation key checks it. */
static void test_setters(void)
{
    const char *evil = "application/x\r\nX-Injected: 1";
    ocipush_descriptor *d = NULL;
    CHECK_EQ_INT(ocipush_descriptor_new(&d, evil, DIGEST, 1), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_descriptor_new(&d, "nodash", DIGEST, 1), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_descriptor_new(&d, "", DIGEST, 1), OCIPUSH_E_INVALID);
    CHECK(d == NULL);
    if (CHECK_EQ_INT(ocipush_descriptor_new(&d, OCIPUSH_MEDIA_TYPE_LAYER, DIGEST, 1), OCIPUSH_OK)) {
        CHECK_EQ_INT(ocipush_descriptor_set_artifact_type(d, evil), OCIPUSH_E_INVALID);
        CHECK_EQ_INT(ocipush_descriptor_set_artifact_type(d, "text/plain"), OCIPUSH_OK);
        CHECK_EQ_INT(ocipush_descriptor_add_annotation(d, "k\r\nX", "v"), OCIPUSH_E_INVALID);
        CHECK_EQ_INT(ocipush_descriptor_add_annotation(d, "k", "v\r\nfine in JSON"), OCIPUSH_OK);
    }
    ocipush_manifest *m = NULL;
    if (CHECK_EQ_INT(ocipush_manifest_new(&m, OCIPUSH_MANIFEST_IMAGE), OCIPUSH_OK)) {
        CHECK_EQ_INT(ocipush_manifest_set_artifact_type(m, evil), OCIPUSH_E_INVALID);
        CHECK_EQ_INT(ocipush_manifest_set_artifact_type(m, "application/vnd.x+json"), OCIPUSH_OK);
        CHECK_EQ_INT(ocipush_manifest_add_annotation(m, "k\x01", "v"), OCIPUSH_E_INVALID);
        CHECK_EQ_INT(ocipush_manifest_add_annotation(m, "k", "v"), OCIPUSH_OK);
    }
    ocipush_push *p = NULL;
    ocipush_source *src = NULL;
    if (CHECK_EQ_INT(ocipush_push_new(&p), OCIPUSH_OK) &&
        CHECK_EQ_INT(ocipush_source_new_memory(&src, "x", 1, 0), OCIPUSH_OK)) {
        CHECK_EQ_INT(ocipush_push_set_config(p, src, evil), OCIPUSH_E_INVALID);
        CHECK_EQ_INT(ocipush_push_set_config(p, src, "application/vnd.x.config.v1+json"),
                     OCIPUSH_OK);
        CHECK_EQ_INT(ocipush_push_add_layer(p, src, evil, NULL), OCIPUSH_E_INVALID);
        CHECK_EQ_INT(ocipush_push_add_layer_digest(p, src, "a b/c", NULL, DIGEST),
                     OCIPUSH_E_INVALID);
        CHECK_EQ_INT(ocipush_push_add_layer(p, src, NULL, NULL), OCIPUSH_OK);
        CHECK_EQ_INT(ocipush_push_set_artifact_type(p, evil), OCIPUSH_E_INVALID);
        CHECK_EQ_INT(ocipush_push_set_artifact_type(p, "application/vnd.x"), OCIPUSH_OK);
        CHECK_EQ_INT(ocipush_push_add_annotation(p, "a\nb", "v"), OCIPUSH_E_INVALID);
        CHECK_EQ_INT(ocipush_push_add_annotation(p, "", "v"), OCIPUSH_E_INVALID);
        CHECK_EQ_INT(ocipush_push_add_annotation(p, "a.b", "\n"), OCIPUSH_OK);
    }
    ocipush_push_free(p);
    ocipush_source_free(src);
    ocipush_manifest_free(m);
    ocipush_descriptor_free(d);
}

/* A raw manifest's media type becomes the Content-Type: refused before any
 * request (none is made: the session's registry is never contacted, and a
 * request would fail otherwise). */
static void test_manifest_push_raw_media_type(void)
{
    ocipush_session *s = NULL;
    if (!CHECK_EQ_INT(ocipush_session_new(&s, "127.0.0.1:1"), OCIPUSH_OK))
        return;
    static const char doc[] =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\\r\\n"
        "X-Injected: 1\",\"config\":{},\"layers\":[]}";
    CHECK_EQ_INT(ocipush_manifest_push_raw(s, NULL, "a/b", "t", NULL, doc, strlen(doc)),
                 OCIPUSH_E_INVALID);
    CHECK(strstr(ocipush_session_errmsg(s), "the manifest's mediaType") != NULL);
    static const char plain[] = "{\"schemaVersion\":2,\"config\":{},\"layers\":[]}";
    CHECK_EQ_INT(ocipush_manifest_push_raw(s, NULL, "a/b", "t", "text/x\nX-Injected: 1", plain,
                                           strlen(plain)),
                 OCIPUSH_E_INVALID);
    CHECK(strstr(ocipush_session_errmsg(s), "the media type given") != NULL);
    ocipush_session_free(s);
}

int main(void)
{
    test_media_type();
    test_header_text();
    test_b64token();
    test_user_agent_setter();
    test_setters();
    test_manifest_push_raw_media_type();
    return check_done();
}
