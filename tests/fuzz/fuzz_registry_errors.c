/* op_json_registry_errors and op_json_registry_codes on a response body, of
 * exactly its length (not NUL-terminated, so reading past it is caught). */
#include "buf.h"
#include "fuzz.h"
#include "registry_errors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    op_buf out = {0};
    op_json_registry_errors(&out, (const char *)data, size);
    /* A summary is text: no NUL inside, and nothing for an empty body. */
    FUZZ_CHECK(out.len == (out.data ? strlen(out.data) : 0));
    FUZZ_CHECK(size > 0 || out.len == 0);
    /* Into a buffer that already holds something: it is kept in front. */
    size_t first = out.len;
    op_buf_reset(&out);
    FUZZ_CHECK(op_buf_puts(&out, "HTTP 400: ") == 0);
    op_json_registry_errors(&out, (const char *)data, size);
    FUZZ_CHECK(strncmp(out.data, "HTTP 400: ", 10) == 0 && out.len == strlen(out.data));
    FUZZ_CHECK(out.len >= first + 10);
    op_buf_free(&out);
    /* The codes, read once: the first one is a bounded string, and the
     * answer to "is one of these there" is the same with or without it. */
    static const char *const codes[] = {"UNKNOWN", "TOOMANYREQUESTS", NULL};
    char code[32];
    memset(code, 'x', sizeof code);
    int found = op_json_registry_codes((const char *)data, size, code, sizeof code, codes);
    FUZZ_CHECK(memchr(code, '\0', sizeof code) != NULL);
    FUZZ_CHECK(found == 0 || found == 1);
    FUZZ_CHECK(found == op_json_registry_has_code((const char *)data, size, codes));
    FUZZ_CHECK(op_json_registry_codes((const char *)data, size, NULL, 0, NULL) == 0);
    return 0;
}
