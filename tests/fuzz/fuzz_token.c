/* op_json_token on a token server's answer, of exactly its length. */
#include "fuzz.h"
#include "token_json.h"
#include "ocipush.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *token = NULL;
    long expires_in = -1;
    int rc = op_json_token(&token, &expires_in, (const char *)data, size);
    FUZZ_CHECK(rc == 0 || rc == OCIPUSH_E_PROTOCOL);
    if (rc == 0) {
        /* A token is never empty; its lifetime is sane, 60 by default. */
        FUZZ_CHECK(token && *token);
        FUZZ_CHECK(expires_in >= 1 && expires_in < 1000000000);
        ocipush_free(token);
    } else {
        FUZZ_CHECK(token == NULL && expires_in == -1);
    }
    return 0;
}
