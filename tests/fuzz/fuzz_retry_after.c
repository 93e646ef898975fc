/* The retry parsers: Retry-After (seconds or an HTTP date) and whether an
 * answer is worth another try (its status and its registry error body). */
#include "fuzz.h"
#include "ocipush.h"
#include "retry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_strndup(data, size);
    long ms = -1;
    int rc = op_retry_after_parse(&ms, text, 1700000000);
    FUZZ_CHECK(rc == 0 || rc == OCIPUSH_E_INVALID);
    /* A wait is never negative, nor past the cap. */
    FUZZ_CHECK(rc != 0 || (ms >= 0 && ms <= OP_RETRY_AFTER_MAX_MS));
    FUZZ_CHECK(rc == 0 || ms == -1);
    /* The body as a registry error: 401/403/404 are never retried. */
    long statuses[] = {400, 401, 403, 404, 409, 503};
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        int t = op_retry_transient_status(statuses[i], (const char *)data, size);
        FUZZ_CHECK(t == 0 || t == 1);
        FUZZ_CHECK(!(t && (statuses[i] == 401 || statuses[i] == 403 || statuses[i] == 404)));
        FUZZ_CHECK(statuses[i] != 503 || t == 1);
    }
    free(text);
    return 0;
}
