/* The checks on text bound for a request line or header (lib/validate.c):
 * the input, as a C string, goes through each, and what they accept is held
 * against independent statements of the rules. */
#include "fuzz.h"
#include "ocipush.h"
#include "validate.h"

#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
#define RESTRICTED ALNUM "!#$&-^_.+"

static int has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
            return 1;
    return 0;
}

/* [alnum][restricted]{0,126}: its length, or 0. */
static size_t name_len(const char *s, size_t n)
{
    if (n == 0 || n > 127 || !strchr(ALNUM, s[0]) || !s[0])
        return 0;
    return strspn(s, RESTRICTED) >= n ? n : 0;
}

static void check_media_type(const char *s)
{
    int rc = op_media_type_check(s);
    FUZZ_CHECK(rc == 0 || rc == OCIPUSH_E_INVALID);
    FUZZ_CHECK((ocipush_media_type_validate(s) == OCIPUSH_OK) == (rc == 0));
    size_t len = strlen(s);
    size_t head = strcspn(s, "; ");
    const char *slash = memchr(s, '/', head);
    if (rc == 0) {
        /* Printable ASCII, bounded, one '/' in type/subtype, both names. */
        FUZZ_CHECK(len <= OP_MEDIA_TYPE_MAX);
        for (const char *c = s; *c; c++)
            FUZZ_CHECK((unsigned char)*c >= 0x20 && (unsigned char)*c <= 0x7e);
        FUZZ_CHECK(slash != NULL && !memchr(slash + 1, '/', head - (size_t)(slash + 1 - s)));
        FUZZ_CHECK(name_len(s, (size_t)(slash - s)) &&
                   name_len(slash + 1, head - (size_t)(slash + 1 - s)));
        FUZZ_CHECK(s[head] == '\0' || strchr(s + head, ';'));
        FUZZ_CHECK(len == 0 || s[len - 1] != ' ');
        /* Nothing may ride along after it. */
        char *crlf = malloc(len + 3);
        FUZZ_CHECK(crlf != NULL);
        memcpy(crlf, s, len);
        memcpy(crlf + len, "\r\n", 3);
        FUZZ_CHECK(op_media_type_check(crlf) == OCIPUSH_E_INVALID);
        free(crlf);
    } else if (s[head] == '\0' && slash && name_len(s, (size_t)(slash - s)) &&
               name_len(slash + 1, len - (size_t)(slash + 1 - s))) {
        FUZZ_CHECK(!"a bare type/subtype of restricted names refused");
    }
}

static void check_header_text(const char *s)
{
    int rc = op_header_text_check(s);
    FUZZ_CHECK(rc == 0 || rc == OCIPUSH_E_INVALID);
    FUZZ_CHECK((rc == 0) == (*s && !has_control(s)));
}

static void check_b64token(const char *s)
{
    int rc = op_b64token_check(s);
    FUZZ_CHECK(rc == 0 || rc == OCIPUSH_E_INVALID);
    size_t body = strspn(s, ALNUM "-._~+/");
    size_t pad = strspn(s + body, "=");
    FUZZ_CHECK((rc == 0) == (body > 0 && s[body + pad] == '\0'));
    FUZZ_CHECK(rc != 0 || (!has_control(s) && !strchr(s, ' ')));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_strndup(data, size);
    check_media_type(s);
    check_header_text(s);
    check_b64token(s);
    free(s);
    return 0;
}
