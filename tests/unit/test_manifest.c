/* The manifest builder and serializer, registry error bodies, and media type
 * detection. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "check.h"
#include "registry_errors.h"
#include "manifest_type.h"
#include "manifest_json.h"
#include "ocipush.h"

#define D_EMPTY "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
#define D_ABC "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define D_NONE "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define MT_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_EMPTY "application/vnd.oci.empty.v1+json"
#define MT_LAYER "application/vnd.oci.image.layer.v1.tar"

/* Serialize m and compare with want, byte for byte and length. */
static void expect_json(const ocipush_manifest *m, const char *want)
{
    char *out = NULL;
    size_t len = 0;
    int rc = ocipush_manifest_serialize(m, &out, &len);
    if (CHECK_EQ_INT(rc, OCIPUSH_OK)) {
        CHECK_EQ_STR(out, want);
        CHECK_EQ_INT(len, strlen(want));
    }
    ocipush_free(out);
}

static void test_image_manifest(void)
{
    ocipush_descriptor *config = NULL, *layer = NULL, *subject = NULL;
    ocipush_manifest *m = NULL;
    CHECK_EQ_INT(ocipush_descriptor_new(&config, MT_EMPTY, D_EMPTY, 2), OCIPUSH_OK);
    CHECK_EQ_INT(ocipush_descriptor_new(&layer, OCIPUSH_MEDIA_TYPE_LAYER, D_ABC, 3), OCIPUSH_OK);
    CHECK_EQ_INT(
        ocipush_descriptor_add_annotation(layer, "org.opencontainers.image.title", "hello.txt"),
        OCIPUSH_OK);
    CHECK_EQ_INT(ocipush_descriptor_set_artifact_type(layer, "application/vnd.example.layer"),
                 OCIPUSH_OK);
    CHECK_EQ_INT(ocipush_descriptor_new(&subject, MT_MANIFEST, D_NONE, 1234), OCIPUSH_OK);
    CHECK_EQ_INT(ocipush_manifest_new(&m, OCIPUSH_MANIFEST_IMAGE), OCIPUSH_OK);
    if (!config || !layer || !subject || !m)
        goto out;

    /* No config yet: nothing to serialize. */
    char sentinel[] = "untouched";
    char *text = sentinel;
    size_t len = 777;
    CHECK_EQ_INT(ocipush_manifest_serialize(m, &text, &len), OCIPUSH_E_INVALID);
    CHECK(text == sentinel);
    CHECK_EQ_INT(len, 777);

    /* Config only: layers is still there, empty. */
    CHECK_EQ_INT(ocipush_manifest_set_config(m, config), OCIPUSH_OK);
    expect_json(m, "{\"schemaVersion\":2,\"mediaType\":\"" MT_MANIFEST
                   "\",\"config\":{\"mediaType\":\"" MT_EMPTY "\",\"digest\":\"" D_EMPTY
                   "\",\"size\":2},\"layers\":[]}");

    CHECK_EQ_INT(ocipush_manifest_set_artifact_type(m, "application/vnd.example.thing.v1"),
                 OCIPUSH_OK);
    CHECK_EQ_INT(ocipush_manifest_add_layer(m, layer), OCIPUSH_OK);
    CHECK_EQ_INT(ocipush_manifest_set_subject(m, subject), OCIPUSH_OK);
    CHECK_EQ_INT(ocipush_manifest_add_annotation(m, "org.opencontainers.image.created",
                                                 "2024-01-01T00:00:00Z"),
                 OCIPUSH_OK);
    CHECK_EQ_INT(ocipush_manifest_add_annotation(m, "com.example.key", "va\"l\\ue\n/"), OCIPUSH_OK);

    /* The builder copied the descriptors: changing or freeing ours later
     * changes nothing in the manifest. */
    CHECK_EQ_INT(ocipush_descriptor_add_annotation(layer, "late", "x"), OCIPUSH_OK);
    ocipush_descriptor_free(config);
    config = NULL;
    ocipush_descriptor_free(subject);
    subject = NULL;

    static const char want[] =
        "{\"schemaVersion\":2,\"mediaType\":\"" MT_MANIFEST "\","
        "\"artifactType\":\"application/vnd.example.thing.v1\","
        "\"config\":{\"mediaType\":\"" MT_EMPTY "\",\"digest\":\"" D_EMPTY "\",\"size\":2},"
        "\"layers\":[{\"mediaType\":\"" MT_LAYER
        "\",\"artifactType\":\"application/vnd.example.layer\","
        "\"digest\":\"" D_ABC "\",\"size\":3,"
        "\"annotations\":{\"org.opencontainers.image.title\":\"hello.txt\"}}],"
        "\"subject\":{\"mediaType\":\"" MT_MANIFEST "\",\"digest\":\"" D_NONE "\",\"size\":1234},"
        "\"annotations\":{\"org.opencontainers.image.created\":\"2024-01-01T00:00:00Z\","
        "\"com.example.key\":\"va\\\"l\\\\ue\\n/\"}}";
    expect_json(m, want);

    /* Clearing the optional parts removes them. */
    CHECK_EQ_INT(ocipush_manifest_set_subject(m, NULL), OCIPUSH_OK);
    CHECK_EQ_INT(ocipush_manifest_set_artifact_type(m, NULL), OCIPUSH_OK);
    static const char want_cleared[] =
        "{\"schemaVersion\":2,\"mediaType\":\"" MT_MANIFEST "\","
        "\"config\":{\"mediaType\":\"" MT_EMPTY "\",\"digest\":\"" D_EMPTY "\",\"size\":2},"
        "\"layers\":[{\"mediaType\":\"" MT_LAYER
        "\",\"artifactType\":\"application/vnd.example.layer\","
        "\"digest\":\"" D_ABC "\",\"size\":3,"
        "\"annotations\":{\"org.opencontainers.image.title\":\"hello.txt\"}}],"
        "\"annotations\":{\"org.opencontainers.image.created\":\"2024-01-01T00:00:00Z\","
        "\"com.example.key\":\"va\\\"l\\\\ue\\n/\"}}";
    expect_json(m, want_cleared);

out:
    ocipush_descriptor_free(config);
    ocipush_descriptor_free(layer);
    ocipush_descriptor_free(subject);
    ocipush_manifest_free(m);
}

static void test_index(void)
{
    ocipush_descriptor *arm = NULL, *amd = NULL;
    ocipush_manifest *idx = NULL;
    CHECK_EQ_INT(ocipush_descriptor_new(&arm, MT_MANIFEST, D_ABC, 500), OCIPUSH_OK);
    CHECK_EQ_INT(ocipush_descriptor_new(&amd, MT_MANIFEST, D_EMPTY, 7), OCIPUSH_OK);
    CHECK_EQ_INT(ocipush_manifest_new(&idx, OCIPUSH_MANIFEST_INDEX), OCIPUSH_OK);
    if (!arm || !amd || !idx)
        goto out;
    CHECK_EQ_INT(ocipush_descriptor_set_platform(arm, "linux", "arm64", "v8"), OCIPUSH_OK);
    CHECK_EQ_INT(ocipush_descriptor_set_platform(amd, "windows", "386", "x"), OCIPUSH_OK);
    /* Replaced whole, variant dropped. */
    CHECK_EQ_INT(ocipush_descriptor_set_platform(amd, "linux", "amd64", NULL), OCIPUSH_OK);
    CHECK_EQ_INT(ocipush_descriptor_set_platform(amd, NULL, "amd64", NULL), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_descriptor_set_platform(amd, "linux", "", NULL), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_descriptor_set_platform(NULL, "linux", "amd64", NULL), OCIPUSH_E_INVALID);

    /* An index has no config and no layers. */
    CHECK_EQ_INT(ocipush_manifest_set_config(idx, arm), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_manifest_add_layer(idx, arm), OCIPUSH_E_INVALID);
    expect_json(idx, "{\"schemaVersion\":2,\"mediaType\":\"" MT_INDEX "\",\"manifests\":[]}");

    CHECK_EQ_INT(ocipush_manifest_add_manifest(idx, arm), OCIPUSH_OK);
    CHECK_EQ_INT(ocipush_manifest_add_manifest(idx, amd), OCIPUSH_OK);
    CHECK_EQ_INT(ocipush_manifest_add_annotation(idx, "k", "v"), OCIPUSH_OK);
    CHECK_EQ_INT(ocipush_manifest_set_artifact_type(idx, "application/vnd.example.set"),
                 OCIPUSH_OK);
    static const char want[] =
        "{\"schemaVersion\":2,\"mediaType\":\"" MT_INDEX "\","
        "\"artifactType\":\"application/vnd.example.set\",\"manifests\":["
        "{\"mediaType\":\"" MT_MANIFEST "\",\"digest\":\"" D_ABC "\",\"size\":500,"
        "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}},"
        "{\"mediaType\":\"" MT_MANIFEST "\",\"digest\":\"" D_EMPTY "\",\"size\":7,"
        "\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}],"
        "\"annotations\":{\"k\":\"v\"}}";
    expect_json(idx, want);

out:
    ocipush_descriptor_free(arm);
    ocipush_descriptor_free(amd);
    ocipush_manifest_free(idx);
}

static void test_big_sizes(void)
{
    ocipush_descriptor *config = NULL, *big = NULL, *max = NULL;
    ocipush_manifest *m = NULL;
    CHECK_EQ_INT(ocipush_descriptor_new(&config, MT_EMPTY, D_EMPTY, 0), OCIPUSH_OK);
    CHECK_EQ_INT(ocipush_descriptor_new(&big, MT_LAYER, D_ABC, UINT64_C(9007199254740993)),
                 OCIPUSH_OK);
    CHECK_EQ_INT(ocipush_descriptor_new(&max, MT_LAYER, D_NONE, UINT64_MAX), OCIPUSH_OK);
    CHECK_EQ_INT(ocipush_manifest_new(&m, OCIPUSH_MANIFEST_IMAGE), OCIPUSH_OK);
    if (config && big && max && m) {
        CHECK_EQ_INT(ocipush_manifest_set_config(m, config), OCIPUSH_OK);
        CHECK_EQ_INT(ocipush_manifest_add_layer(m, big), OCIPUSH_OK);
        CHECK_EQ_INT(ocipush_manifest_add_layer(m, max), OCIPUSH_OK);
        expect_json(m, "{\"schemaVersion\":2,\"mediaType\":\"" MT_MANIFEST "\","
                       "\"config\":{\"mediaType\":\"" MT_EMPTY "\",\"digest\":\"" D_EMPTY
                       "\",\"size\":0},"
                       "\"layers\":[{\"mediaType\":\"" MT_LAYER "\",\"digest\":\"" D_ABC
                       "\",\"size\":9007199254740993},"
                       "{\"mediaType\":\"" MT_LAYER "\",\"digest\":\"" D_NONE
                       "\",\"size\":18446744073709551615}]}");
    }
    ocipush_descriptor_free(config);
    ocipush_descriptor_free(big);
    ocipush_descriptor_free(max);
    ocipush_manifest_free(m);
}

static void test_annotation_replace(void)
{
    ocipush_descriptor *config = NULL;
    ocipush_manifest *m = NULL;
    CHECK_EQ_INT(ocipush_descriptor_new(&config, MT_EMPTY, D_EMPTY, 2), OCIPUSH_OK);
    CHECK_EQ_INT(ocipush_manifest_new(&m, OCIPUSH_MANIFEST_IMAGE), OCIPUSH_OK);
    if (config && m) {
        CHECK_EQ_INT(ocipush_descriptor_add_annotation(config, "x", "1"), OCIPUSH_OK);
        CHECK_EQ_INT(ocipush_descriptor_add_annotation(config, "y", "2"), OCIPUSH_OK);
        CHECK_EQ_INT(ocipush_descriptor_add_annotation(config, "x", "3"), OCIPUSH_OK);
        CHECK_EQ_INT(ocipush_descriptor_add_annotation(config, "z", ""), OCIPUSH_OK);
        CHECK_EQ_INT(ocipush_manifest_set_config(m, config), OCIPUSH_OK);
        CHECK_EQ_INT(ocipush_manifest_add_annotation(m, "a", "1"), OCIPUSH_OK);
        CHECK_EQ_INT(ocipush_manifest_add_annotation(m, "b", "2"), OCIPUSH_OK);
        CHECK_EQ_INT(ocipush_manifest_add_annotation(m, "c", "3"), OCIPUSH_OK);
        CHECK_EQ_INT(ocipush_manifest_add_annotation(m, "a", "replaced"), OCIPUSH_OK);
        CHECK_EQ_INT(ocipush_manifest_add_annotation(m, "b", "again"), OCIPUSH_OK);
        expect_json(m, "{\"schemaVersion\":2,\"mediaType\":\"" MT_MANIFEST "\","
                       "\"config\":{\"mediaType\":\"" MT_EMPTY "\",\"digest\":\"" D_EMPTY
                       "\",\"size\":2,"
                       "\"annotations\":{\"x\":\"3\",\"y\":\"2\",\"z\":\"\"}},\"layers\":[],"
                       "\"annotations\":{\"a\":\"replaced\",\"b\":\"again\",\"c\":\"3\"}}");
        /* A second config replaces the first. */
        ocipush_descriptor *other = NULL;
        if (CHECK_EQ_INT(ocipush_descriptor_new(&other, "application/json", D_ABC, 3),
                         OCIPUSH_OK)) {
            CHECK_EQ_INT(ocipush_manifest_set_config(m, other), OCIPUSH_OK);
            ocipush_descriptor_free(other);
            expect_json(m, "{\"schemaVersion\":2,\"mediaType\":\"" MT_MANIFEST "\","
                           "\"config\":{\"mediaType\":\"application/json\",\"digest\":\"" D_ABC
                           "\",\"size\":3},\"layers\":[],"
                           "\"annotations\":{\"a\":\"replaced\",\"b\":\"again\",\"c\":\"3\"}}");
        }
    }
    ocipush_descriptor_free(config);
    ocipush_manifest_free(m);
}

static void test_errors(void)
{
    ocipush_descriptor *d = NULL, *bad = NULL;
    ocipush_manifest *img = NULL, *idx = NULL;

    /* Descriptors: media type and digest checked; nothing written on failure. */
    CHECK_EQ_INT(ocipush_descriptor_new(&bad, MT_LAYER, "sha256:abc", 1), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_descriptor_new(
                     &bad, MT_LAYER,
                     "sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", 1),
                 OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_descriptor_new(&bad, MT_LAYER, "md5:900150983cd24fb0d6963f7d28e17f72", 1),
                 OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_descriptor_new(&bad, MT_LAYER, NULL, 1), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_descriptor_new(&bad, NULL, D_ABC, 1), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_descriptor_new(&bad, "", D_ABC, 1), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_descriptor_new(NULL, MT_LAYER, D_ABC, 1), OCIPUSH_E_INVALID);
    CHECK(bad == NULL);

    CHECK_EQ_INT(ocipush_descriptor_new(&d, MT_LAYER, D_ABC, 3), OCIPUSH_OK);
    CHECK_EQ_INT(ocipush_manifest_new(&img, OCIPUSH_MANIFEST_IMAGE), OCIPUSH_OK);
    CHECK_EQ_INT(ocipush_manifest_new(&idx, OCIPUSH_MANIFEST_INDEX), OCIPUSH_OK);
    ocipush_manifest *none = NULL;
    CHECK_EQ_INT(ocipush_manifest_new(&none, (ocipush_manifest_kind)2), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_manifest_new(&none, (ocipush_manifest_kind)-1), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_manifest_new(NULL, OCIPUSH_MANIFEST_IMAGE), OCIPUSH_E_INVALID);
    CHECK(none == NULL);
    if (!d || !img || !idx)
        goto out;

    /* The wrong kind of document. */
    CHECK_EQ_INT(ocipush_manifest_set_config(idx, d), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_manifest_add_layer(idx, d), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_manifest_add_manifest(img, d), OCIPUSH_E_INVALID);

    /* NULL handles and arguments. */
    CHECK_EQ_INT(ocipush_manifest_set_config(NULL, d), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_manifest_set_config(img, NULL), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_manifest_add_layer(NULL, d), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_manifest_add_layer(img, NULL), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_manifest_add_manifest(NULL, d), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_manifest_add_manifest(idx, NULL), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_manifest_set_subject(NULL, d), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_manifest_set_artifact_type(NULL, "a/b"), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_manifest_set_artifact_type(img, ""), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_manifest_add_annotation(NULL, "k", "v"), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_manifest_add_annotation(img, NULL, "v"), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_manifest_add_annotation(img, "", "v"), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_manifest_add_annotation(img, "k", NULL), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_descriptor_add_annotation(NULL, "k", "v"), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_descriptor_add_annotation(d, "", "v"), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_descriptor_add_annotation(d, "k", NULL), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_descriptor_set_artifact_type(NULL, "a/b"), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_descriptor_set_artifact_type(d, ""), OCIPUSH_E_INVALID);

    char *text = NULL;
    size_t len = 0;
    CHECK_EQ_INT(ocipush_manifest_serialize(NULL, &text, &len), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_manifest_serialize(idx, NULL, &len), OCIPUSH_E_INVALID);
    CHECK_EQ_INT(ocipush_manifest_serialize(idx, &text, NULL), OCIPUSH_E_INVALID);
    CHECK(text == NULL);
    /* None of the failures above changed either document. */
    expect_json(idx, "{\"schemaVersion\":2,\"mediaType\":\"" MT_INDEX "\",\"manifests\":[]}");
    CHECK_EQ_INT(ocipush_manifest_serialize(img, &text, &len), OCIPUSH_E_INVALID);
    CHECK(text == NULL);

out:
    ocipush_descriptor_free(d);
    ocipush_manifest_free(img);
    ocipush_manifest_free(idx);
    /* _free(NULL) does nothing (a crash here fails the test). */
    ocipush_descriptor_free(NULL);
    ocipush_manifest_free(NULL);
    ocipush_free(NULL);
}

static void expect_registry_errors(const char *body, size_t len, const char *want)
{
    op_buf b = {0};
    op_json_registry_errors(&b, body, len);
    CHECK_EQ_INT(b.len, strlen(want));
    CHECK_EQ_STR(b.len ? b.data : "", want);
    op_buf_free(&b);
}

/* The first code and a lookup, from one parse of the body. */
static void test_registry_codes(void)
{
    static const char *const transient[] = {"UNAVAILABLE", "TOOMANYREQUESTS", NULL};
    const char *body =
        "{\"errors\":[{\"code\":\"DIGEST_INVALID\"},{\"code\":\"TOOMANYREQUESTS\"}]}";
    char first[32];
    CHECK_EQ_INT(op_json_registry_codes(body, strlen(body), first, sizeof first, transient), 1);
    CHECK_EQ_STR(first, "DIGEST_INVALID");
    const char *other = "{\"errors\":[{\"code\":\"MANIFEST_BLOB_UNKNOWN\"}]}";
    CHECK_EQ_INT(op_json_registry_codes(other, strlen(other), first, sizeof first, transient), 0);
    CHECK_EQ_STR(first, "MANIFEST_BLOB_UNKNOWN");
    /* A code longer than the buffer is cut, never overrun. */
    const char *lng = "{\"errors\":[{\"code\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}]}";
    char small[8];
    CHECK_EQ_INT(op_json_registry_codes(lng, strlen(lng), small, sizeof small, NULL), 0);
    CHECK_EQ_STR(small, "AAAAAAA");
    CHECK_EQ_INT(op_json_registry_codes("<html>", 6, first, sizeof first, transient), 0);
    CHECK_EQ_STR(first, "");
}

static void test_registry_errors(void)
{
    static const char distribution[] =
        "{\"errors\":[{\"code\":\"BLOB_UNKNOWN\",\"message\":\"blob unknown to registry\","
        "\"detail\":{\"digest\":\"" D_ABC "\"}},"
        "{\"code\":\"DENIED\",\"message\":\"requested access to the resource is denied\"},"
        "{\"code\":\"UNSUPPORTED\"}]}\n";
    expect_registry_errors(distribution, strlen(distribution),
                           "BLOB_UNKNOWN: blob unknown to registry; "
                           "DENIED: requested access to the resource is denied; UNSUPPORTED");

    static const char nginx[] =
        "<html>\r\n<head><title>400 Bad Request</title></head>\r\n<body>\r\n"
        "<center><h1>400 Bad Request</h1></center>\r\n"
        "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
    expect_registry_errors(nginx, strlen(nginx), "400 Bad Request");
    static const char nginx413[] = "<html><head><title>413 Request Entity Too Large</title></head>"
                                   "<body>x</body></html>";
    expect_registry_errors(nginx413, strlen(nginx413), "413 Request Entity Too Large");

    expect_registry_errors("upstream connect error\nsecond line",
                           strlen("upstream connect error\nsecond line"), "upstream connect error");
    expect_registry_errors("", 0, "");
    expect_registry_errors(NULL, 0, "");
    expect_registry_errors("{\"errors\":[]}", 13, "");

    /* The body is not NUL-terminated: only len bytes are looked at. */
    static const char unterminated[4] = {'B', 'a', 'd', '!'};
    expect_registry_errors(unterminated, 3, "Bad");
    static const char cut_title[] = "<title>Gateway Timeout</title>";
    expect_registry_errors(cut_title, 14, "Gateway");
}

static void expect_media_type(const char *doc, int want_rc, const char *want)
{
    char sentinel[] = "untouched";
    char *out = sentinel;
    int rc = op_json_manifest_media_type(&out, doc, strlen(doc));
    if (!CHECK_EQ_INT(rc, want_rc))
        fprintf(stderr, "    op_json_manifest_media_type(%s)\n", doc);
    if (rc == OCIPUSH_OK) {
        CHECK_EQ_STR(out, want);
        free(out);
    } else {
        CHECK(out == sentinel);
    }
}

static void test_media_type(void)
{
    expect_media_type("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution."
                      "manifest.v2+json\",\"layers\":[]}",
                      OCIPUSH_OK, "application/vnd.docker.distribution.manifest.v2+json");
    expect_media_type("{\"mediaType\":\"" MT_INDEX "\",\"layers\":[]}", OCIPUSH_OK, MT_INDEX);
    expect_media_type("{\"schemaVersion\":2,\"manifests\":[]}", OCIPUSH_OK, MT_INDEX);
    expect_media_type("{\"schemaVersion\":2,\"config\":{},\"layers\":[]}", OCIPUSH_OK, MT_MANIFEST);
    expect_media_type("{\"layers\":[]}", OCIPUSH_OK, MT_MANIFEST);
    expect_media_type("{\"config\":{}}", OCIPUSH_OK, MT_MANIFEST);
    expect_media_type("{\"mediaType\":\"\",\"manifests\":[]}", OCIPUSH_OK, MT_INDEX);
    expect_media_type("{\"mediaType\":5,\"layers\":[]}", OCIPUSH_OK, MT_MANIFEST);

    expect_media_type("not json", OCIPUSH_E_INVALID, NULL);
    expect_media_type("", OCIPUSH_E_INVALID, NULL);
    expect_media_type("[]", OCIPUSH_E_INVALID, NULL);
    expect_media_type("\"" MT_MANIFEST "\"", OCIPUSH_E_INVALID, NULL);
    expect_media_type("{}", OCIPUSH_E_INVALID, NULL);
    expect_media_type("{\"schemaVersion\":2}", OCIPUSH_E_INVALID, NULL);
    expect_media_type("{\"mediaType\":\"\"}", OCIPUSH_E_INVALID, NULL);
    expect_media_type("{\"layers\":[]", OCIPUSH_E_INVALID, NULL);

    /* Only len bytes are parsed. */
    static const char doc[] = "{\"manifests\":[]}{\"layers\"";
    char *out = NULL;
    if (CHECK_EQ_INT(op_json_manifest_media_type(&out, doc, 16), OCIPUSH_OK))
        CHECK_EQ_STR(out, MT_INDEX);
    free(out);
}

int main(void)
{
    test_image_manifest();
    test_index();
    test_big_sizes();
    test_annotation_replace();
    test_errors();
    test_registry_errors();
    test_registry_codes();
    test_media_type();
    return check_done();
}
