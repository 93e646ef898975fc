/* An image index from outside (a layout's index.json, a registry's
 * referrers tag), of exactly its length: op_json_layout_index_put and
 * op_json_layout_index_find (layout/layout_index.h), op_json_referrers_add
 * (manifest_json.h). What they write back must read back. */
#include <string.h>

#include "fuzz.h"
#include "layout_index.h"
#include "manifest_json.h"
#include "ocipush.h"

#define DIGEST "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void layout_index(const char *text, size_t len)
{
    char *out = NULL;
    int rc =
        op_json_layout_index_put(&out, text, len, OCIPUSH_MEDIA_TYPE_MANIFEST, DIGEST, 2, "v1");
    FUZZ_CHECK(rc == 0 || rc == OCIPUSH_E_PROTOCOL);
    if (rc == 0) {
        /* The tag now names the manifest, whatever the index held. */
        char found[OCIPUSH_DIGEST_MAX];
        FUZZ_CHECK(op_json_layout_index_find(found, out, strlen(out), "v1") == 0);
        FUZZ_CHECK(strcmp(found, DIGEST) == 0);
        ocipush_free(out);
    }
    char found[OCIPUSH_DIGEST_MAX];
    rc = op_json_layout_index_find(found, text, len, "latest");
    FUZZ_CHECK(rc == 0 || rc == OCIPUSH_E_INVALID);
    if (rc == 0)
        FUZZ_CHECK(ocipush_digest_validate(found) == 0);
}

static void referrers(const char *text, size_t len)
{
    ocipush_descriptor *d = NULL;
    FUZZ_CHECK(ocipush_descriptor_new(&d, OCIPUSH_MEDIA_TYPE_MANIFEST, DIGEST, 2) == 0);
    char *out = NULL;
    size_t out_len = 0;
    int present = -1;
    int rc = op_json_referrers_add(&out, &out_len, &present, text, len, d);
    FUZZ_CHECK(rc == 0 || rc == OCIPUSH_E_PROTOCOL);
    if (rc == 0 && !present) {
        /* Added once: adding it again finds it there. */
        char *again = NULL;
        size_t again_len = 0;
        FUZZ_CHECK(out && out_len == strlen(out));
        FUZZ_CHECK(op_json_referrers_add(&again, &again_len, &present, out, out_len, d) == 0);
        FUZZ_CHECK(present == 1 && again == NULL);
        ocipush_free(out);
    }
    ocipush_descriptor_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    layout_index((const char *)data, size);
    referrers((const char *)data, size);
    return 0;
}
