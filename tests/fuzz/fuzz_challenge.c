/* op_challenges_parse and op_challenge_find on a WWW-Authenticate value. */
#include <strings.h>

#include "challenge.h"
#include "fuzz.h"
#include "ocipush.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *value = fuzz_strndup(data, size);
    op_challenge *list = NULL;
    size_t count = 0;
    int rc = op_challenges_parse(&list, &count, value);
    FUZZ_CHECK(rc == 0 || rc == OCIPUSH_E_INVALID);
    FUZZ_CHECK(rc != 0 || (list != NULL && count >= 1));
    for (size_t i = 0; rc == 0 && i < count; i++) {
        /* A scheme is a non-empty RFC 7230 token, found case-insensitively,
         * the first of its name first. */
        const char *s = list[i].scheme;
        FUZZ_CHECK(s && *s &&
                   !s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                "0123456789!#$%&'*+-.^_`|~")]);
        const op_challenge *found = op_challenge_find(list, count, s);
        FUZZ_CHECK(found && found <= &list[i] && strcasecmp(found->scheme, s) == 0);
        for (const op_challenge *c = list; c < found; c++)
            FUZZ_CHECK(strcasecmp(c->scheme, s) != 0);
    }
    if (rc == 0) {
        const op_challenge *bearer = op_challenge_find(list, count, "Bearer");
        FUZZ_CHECK(!bearer || strcasecmp(bearer->scheme, "bearer") == 0);
        FUZZ_CHECK(!op_challenge_find(list, count, "no such scheme"));
        op_challenges_free(list, count);
    }
    free(value);
    return 0;
}
