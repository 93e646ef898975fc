/* op_reference_parse and the name validators, on one line of text. */
#include "fuzz.h"
#include "ocipush.h"
#include "reference.h"

static int all_of(const char *s, const char *set)
{
    return s[strspn(s, set)] == '\0';
}

/* What a validator accepted parses inside a reference: prefix s suffix. */
static void parse_agrees(const char *prefix, const char *s, const char *suffix)
{
    size_t n = strlen(prefix) + strlen(s) + strlen(suffix) + 1;
    char *text = malloc(n);
    FUZZ_CHECK(text != NULL);
    snprintf(text, n, "%s%s%s", prefix, s, suffix);
    op_reference ref;
    FUZZ_CHECK(op_reference_parse(&ref, text, NULL) == 0);
    op_reference_clear(&ref);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char lower[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    char *s = fuzz_strndup(data, size);
    op_reference ref;
    const char *why = NULL;
    int rc = op_reference_parse(&ref, s, &why);
    FUZZ_CHECK(rc == 0 || rc == OCIPUSH_E_INVALID);
    FUZZ_CHECK((rc == 0) == (why == NULL));
    if (rc == 0) {
        /* The parts joined again give the input back, and each is valid. */
        size_t n = strlen(s) + 1;
        char *joined = malloc(n);
        FUZZ_CHECK(joined != NULL);
        int len =
            snprintf(joined, n, "%s/%s%s%s%s%s", ref.registry, ref.repository, ref.tag ? ":" : "",
                     ref.tag ? ref.tag : "", ref.digest ? "@" : "", ref.digest ? ref.digest : "");
        FUZZ_CHECK(len >= 0 && (size_t)len + 1 == n && strcmp(joined, s) == 0);
        free(joined);
        FUZZ_CHECK(op_registry_validate(ref.registry) == 0);
        FUZZ_CHECK(ocipush_repository_validate(ref.repository) == 0);
        FUZZ_CHECK(!ref.tag || ocipush_tag_validate(ref.tag) == 0);
        FUZZ_CHECK(!ref.digest || ocipush_digest_validate(ref.digest) == 0);
        op_reference_clear(&ref);
    }

    /* The validators on the whole input: what they accept has their
     * character set, and parses inside a reference. */
    if (op_registry_validate(s) == 0) {
        FUZZ_CHECK(strlen(s) <= 255 && !strchr(s, '/'));
        parse_agrees("", s, "/repo");
    }
    if (ocipush_repository_validate(s) == 0) {
        FUZZ_CHECK(strlen(s) <= 255 && s[0] != '/' &&
                   all_of(s, "abcdefghijklmnopqrstuvwxyz"
                             "0123456789._-/"));
        FUZZ_CHECK(strchr(lower, s[0]) && strchr(lower, s[strlen(s) - 1]));
        parse_agrees("registry.example:5000/", s, ":tag");
    }
    if (ocipush_tag_validate(s) == 0) {
        FUZZ_CHECK(strlen(s) <= 128 && s[0] != '.' && s[0] != '-');
        FUZZ_CHECK(all_of(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"));
        parse_agrees("localhost/a/b:", s, "");
    }
    if (ocipush_digest_validate(s) == 0) {
        FUZZ_CHECK(strlen(s) == 71 && all_of(s + 7, "0123456789abcdef"));
        parse_agrees("[::1]:443/x@", s, "");
    }
    free(s);
    return 0;
}
