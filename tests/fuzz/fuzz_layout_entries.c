/* A layout's index.json as ocipush copy reads it (images/layout_source.c:
 * op_layout_entries_parse), of exactly its length: every entry it hands out
 * has a valid digest and a size of -1 or more, whatever the text. */
#include <cjson/cJSON.h>

#include "alloc.h"
#include "fuzz.h"
#include "image_source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    op_diag d = {0};
    cJSON *index = NULL;
    op_image_entry *entries = NULL;
    size_t count = 99;
    int rc =
        op_layout_entries_parse(&index, &entries, &count, &d, "fuzz", (const char *)data, size);
    FUZZ_CHECK(rc == 0 || rc == OCIPUSH_E_INVALID || rc == OCIPUSH_E_NOMEM);
    if (rc) {
        FUZZ_CHECK(d.errmsg[0] != '\0');
        return 0;
    }
    for (size_t i = 0; i < count; i++) {
        FUZZ_CHECK(ocipush_digest_validate(entries[i].digest) == 0);
        FUZZ_CHECK(entries[i].size >= -1);
        FUZZ_CHECK(entries[i].media_type != NULL);
    }
    op_free(entries);
    cJSON_Delete(index);
    return 0;
}
