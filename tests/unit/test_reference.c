/* Repository, tag, digest and registry validation, and reference parsing. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ocipush.h"
#include "reference.h"

#define HEX64 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define DIGEST "sha256:" HEX64

/* A string of n copies of c (static buffer, at most 300). */
static const char *repeat(char c, size_t n)
{
    static char buf[301];
    memset(buf, c, n);
    buf[n] = '\0';
    return buf;
}

static void test_repository(void)
{
    static const char *const valid[] = {
        "a",    "library/ubuntu", "a/b/c",   "a.b", "a_b",  "a__b",           "a-b",
        "a--b", "a---b",          "a1/b2-c", "0",   "9a/0", "a.b.c/d_e/f--g",
    };
    static const char *const invalid[] = {
        "",     "A",          "library/Ubuntu",
        "aB",   "a..b",       "a___b",
        "a_.b", "a.-b",       "a-.b",
        "-a",   "a-",         ".a",
        "a.",   "_a",         "a_",
        "/a",   "a/",         "a//b",
        "a b",  "a:b",        "a@b",
        "a/-b", "a/b_",       "a/./b",
        "a\tb", "a/\xc3\xa9",
    };
    EXPECT_ALL(ocipush_repository_validate, valid, OCIPUSH_OK);
    EXPECT_ALL(ocipush_repository_validate, invalid, OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_repository_validate(NULL), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_repository_validate(repeat('a', 255)), OCIPUSH_OK);
    CHECK_EQ_INT(ocipush_repository_validate(repeat('a', 256)), OCIPUSH_E_INVALID);
}

static void test_tag(void)
{
    static const char *const valid[] = {"latest", "v1.0", "_x", "A", "1", "a-b_c.d", "V1--__..x"};
    static const char *const invalid[] = {"",    ".x",  "-x",  "a b",      "a:b",
                                          "a/b", "a@b", "a+b", "\xc3\xa4", "a\n"};
    EXPECT_ALL(ocipush_tag_validate, valid, OCIPUSH_OK);
    EXPECT_ALL(ocipush_tag_validate, invalid, OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_tag_validate(NULL), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_tag_validate(repeat('a', 128)), OCIPUSH_OK);
    CHECK_EQ_INT(ocipush_tag_validate(repeat('a', 129)), OCIPUSH_E_INVALID);
}

static void test_digest(void)
{
    static const char *const valid[] = {
        DIGEST,
        "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    };
    static const char *const invalid[] = {
        "",
        HEX64,
        "sha256:",
        "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85A",
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",   /* 63 */
        "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8550", /* 65 */
        "sha256:g3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "SHA256:" HEX64,
        "sha256-" HEX64,
        " " DIGEST,
        DIGEST " ",
        "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0"
        "ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
        "sha384:" HEX64,
    };
    EXPECT_ALL(ocipush_digest_validate, valid, OCIPUSH_OK);
    EXPECT_ALL(ocipush_digest_validate, invalid, OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_digest_validate(NULL), OCIPUSH_E_INVALID);
}

static void test_registry(void)
{
    static const char *const valid[] = {
        "localhost", "localhost:5000", "registry.example.com", "127.0.0.1:1",
        "[::1]",     "[::1]:5000",     "my-registry.io:443",   "h:65535",
        "Quay.IO",   "[fe80::1]:1",
    };
    static const char *const invalid[] = {
        "",       ":5000",  "h:", "h:0", "h:65536", "h:123456", "h:abc", "h:-1", "[]",  "[::1",
        "[::1]x", "[::1]:", "-h", ".h",  "h/x",     "h h",      "h:5:0", "h_x",  "u@h", "h:5000/r",
    };
    EXPECT_ALL(op_registry_validate, valid, OCIPUSH_OK);
    EXPECT_ALL(op_registry_validate, invalid, OCIPUSH_E_INVALID);
    CHECK_EQ_INT(op_registry_validate(NULL), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(op_registry_validate(repeat('a', 255)), OCIPUSH_OK);
    CHECK_EQ_INT(op_registry_validate(repeat('a', 256)), OCIPUSH_E_INVALID);
}

/* op_reference_parse must succeed with these parts (NULL: absent). */
static void expect_ref(const char *text, const char *registry, const char *repository,
                       const char *tag, const char *digest)
{
    op_reference ref;
    const char *why = NULL;
    int rc = op_reference_parse(&ref, text, &why);
    if (!CHECK_EQ_INT(rc, OCIPUSH_OK)) {
        fprintf(stderr, "    op_reference_parse(\"%s\"): %s\n", text, why ? why : "(no why)");
        return;
    }
    CHECK_EQ_STR(ref.registry, registry);
    CHECK_EQ_STR(ref.repository, repository);
    CHECK_EQ_STR(ref.tag, tag);
    CHECK_EQ_STR(ref.digest, digest);
    op_reference_clear(&ref);
    CHECK(ref.registry == NULL && ref.repository == NULL && ref.tag == NULL && ref.digest == NULL);

    /* The public wrapper gives the same parts. */
    char *reg = NULL, *repo = NULL, *t = NULL, *d = NULL;
    rc = ocipush_reference_parse(&reg, &repo, &t, &d, NULL, text);
    if (CHECK_EQ_INT(rc, OCIPUSH_OK)) {
        CHECK_EQ_STR(reg, registry);
        CHECK_EQ_STR(repo, repository);
        CHECK_EQ_STR(t, tag);
        CHECK_EQ_STR(d, digest);
    }
    ocipush_free(reg);
    ocipush_free(repo);
    ocipush_free(t);
    ocipush_free(d);
}

/* Both parsers must fail with E_INVALID, give a reason, and write nothing. */
static void expect_bad_ref(const char *text)
{
    op_reference ref = {0};
    const char *why = NULL;
    int rc = op_reference_parse(&ref, text, &why);
    if (!CHECK_EQ_INT(rc, OCIPUSH_E_INVALID))
        fprintf(stderr, "    op_reference_parse(\"%s\")\n", text ? text : "(null)");
    CHECK(why != NULL && why[0] != '\0');
    CHECK(ref.registry == NULL && ref.repository == NULL && ref.tag == NULL && ref.digest == NULL);
    if (rc == OCIPUSH_OK)
        op_reference_clear(&ref);

    /* No reason pointer: must not crash. */
    CHECK_EQ_INT(op_reference_parse(&ref, text, NULL), OCIPUSH_E_INVALID);
    if (ref.registry)
        op_reference_clear(&ref);

    char sentinel[] = "untouched";
    char *reg = sentinel, *repo = sentinel, *t = sentinel, *d = sentinel;
    why = NULL;
    rc = ocipush_reference_parse(&reg, &repo, &t, &d, &why, text);
    CHECK_EQ_INT(rc, OCIPUSH_E_INVALID);
    CHECK(why != NULL && why[0] != '\0');
    CHECK(reg == sentinel && repo == sentinel && t == sentinel && d == sentinel);
}

static void test_reference_parse(void)
{
    expect_ref("localhost:5000/a/b:v1", "localhost:5000", "a/b", "v1", NULL);
    expect_ref("h/r@" DIGEST, "h", "r", NULL, DIGEST);
    expect_ref("h/r:t@" DIGEST, "h", "r", "t", DIGEST);
    expect_ref("h:5000/a/b/c:v1.2@" DIGEST, "h:5000", "a/b/c", "v1.2", DIGEST);
    expect_ref("[::1]:5000/r:t", "[::1]:5000", "r", "t", NULL);
    expect_ref("[::1]/r", "[::1]", "r", NULL, NULL);
    expect_ref("h:5000/r", "h:5000", "r", NULL, NULL);
    expect_ref("registry.example.com/library/ubuntu:22.04", "registry.example.com",
               "library/ubuntu", "22.04", NULL);
    expect_ref("h/a__b/c--d:_T", "h", "a__b/c--d", "_T", NULL);

    expect_bad_ref(NULL);
    expect_bad_ref("");
    expect_bad_ref("repo:tag"); /* no host */
    expect_bad_ref("repo");
    expect_bad_ref("http://h/r"); /* scheme */
    expect_bad_ref("https://h:5000/r:t");
    expect_bad_ref("h/R"); /* uppercase repository */
    expect_bad_ref("h/a..b");
    expect_bad_ref("h/a___b");
    expect_bad_ref("h/"); /* empty repository */
    expect_bad_ref("/r"); /* empty registry */
    expect_bad_ref("h//r");
    expect_bad_ref("h/a//b");
    expect_bad_ref("h/r/");
    expect_bad_ref("h/r:"); /* empty tag */
    expect_bad_ref("h/r:.t");
    expect_bad_ref("h/r:-t");
    expect_bad_ref("h/r:t:u");
    expect_bad_ref("h/r@"); /* empty digest */
    expect_bad_ref("h/r@sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855");
    expect_bad_ref("h/r@sha256:abc");
    expect_bad_ref("h/r@md5:d41d8cd98f00b204e9800998ecf8427e");
    expect_bad_ref("h/r:t@");
    expect_bad_ref("h:0/r"); /* bad port */
    expect_bad_ref("h:99999/r");
    expect_bad_ref("h:/r");
    expect_bad_ref("[::1/r");
    expect_bad_ref("h h/r");

    /* A 129-character tag is refused, 128 accepted. */
    char text[310];
    snprintf(text, sizeof text, "h/r:%s", repeat('t', 129));
    expect_bad_ref(text);
    snprintf(text, sizeof text, "h/r:%s", repeat('t', 128));
    expect_ref(text, "h", "r", text + 4, NULL);

    /* Optional outputs may be NULL: the parts not asked for are freed. */
    char *reg = NULL, *repo = NULL;
    int rc = ocipush_reference_parse(&reg, &repo, NULL, NULL, NULL, "h/r:t@" DIGEST);
    CHECK_EQ_INT(rc, OCIPUSH_OK);
    CHECK_EQ_STR(reg, "h");
    CHECK_EQ_STR(repo, "r");
    ocipush_free(reg);
    ocipush_free(repo);

    /* The two required outputs. */
    char *one = NULL;
    CHECK_EQ_INT(ocipush_reference_parse(NULL, &one, NULL, NULL, NULL, "h/r"), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_reference_parse(&one, NULL, NULL, NULL, NULL, "h/r"), OCIPUSH_E_INVALID);
    CHECK(one == NULL);
}

int main(void)
{
    test_repository();
    test_tag();
    test_digest();
    test_registry();
    test_reference_parse();
    return check_done();
}
