/* op_json_manifest_media_type on a manifest or index, of exactly its length. */
#include "fuzz.h"
#include "manifest_type.h"
#include "ocipush.h"

static int contains(const uint8_t *data, size_t size, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i + n <= size; i++)
        if (memcmp(data + i, s, n) == 0)
            return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *type = NULL;
    int rc = op_json_manifest_media_type(&type, (const char *)data, size);
    FUZZ_CHECK(rc == 0 || rc == OCIPUSH_E_INVALID);
    FUZZ_CHECK((rc == 0) == (type != NULL));
    if (rc == 0) {
        /* A JSON object's braces; a type that is not one of the two implied
         * by the shape comes from the text (when it has no escapes). */
        FUZZ_CHECK(*type && memchr(data, '{', size) && memchr(data, '}', size));
        FUZZ_CHECK(memchr(data, '\\', size) || !strcmp(type, OCIPUSH_MEDIA_TYPE_INDEX) ||
                   !strcmp(type, OCIPUSH_MEDIA_TYPE_MANIFEST) || contains(data, size, type));
        ocipush_free(type);
    }
    return 0;
}
