#include "validate.h"

#include <string.h>

#include "ocipush.h"

static int is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* NUL is in no set: strchr would find the terminator. */
static int in_set(unsigned char c, const char *set)
{
    return c && strchr(set, c) != NULL;
}

/* RFC 6838 restricted-name: an alphanumeric, then up to 126 of alphanumerics
 * and "!#$&-^_.+". The length, or 0 when there is none. */
static size_t restricted_name(const char *s)
{
    if (!is_alnum((unsigned char)s[0]))
        return 0;
    size_t n = 1;
    while (is_alnum((unsigned char)s[n]) || in_set((unsigned char)s[n], "!#$&-^_.+"))
        n++;
    return n <= 127 ? n : 0;
}

/* RFC 9110 token: 1*tchar. The length, or 0. */
static size_t token(const char *s)
{
    size_t n = 0;
    while (is_alnum((unsigned char)s[n]) || in_set((unsigned char)s[n], "!#$%&'*+-.^_`|~"))
        n++;
    return n;
}

/* RFC 9110 quoted-string, without the tab and the bytes above 0x7e it also
 * allows: printable ASCII and quoted pairs of it. The length with both
 * quotes, or 0. */
static size_t quoted_string(const char *s)
{
    if (s[0] != '"')
        return 0;
    for (size_t n = 1;; n++) {
        unsigned char c = (unsigned char)s[n];
        if (c == '"')
            return n + 1;
        if (c == '\\')
            c = (unsigned char)s[++n];
        if (c < 0x20 || c > 0x7e)
            return 0; /* a control character, or the end before the quote */
    }
}

int op_media_type_check(const char *text)
{
    if (!text || strnlen(text, OP_MEDIA_TYPE_MAX + 1) > OP_MEDIA_TYPE_MAX)
        return OCIPUSH_E_INVALID;
    size_t n = restricted_name(text);
    if (!n || text[n] != '/')
        return OCIPUSH_E_INVALID;
    const char *p = text + n + 1;
    if (!(n = restricted_name(p)))
        return OCIPUSH_E_INVALID;
    for (p += n; *p; p += n) {
        p += strspn(p, " ");
        if (*p++ != ';')
            return OCIPUSH_E_INVALID;
        p += strspn(p, " ");
        if (!(n = token(p)) || p[n] != '=')
            return OCIPUSH_E_INVALID;
        p += n + 1;
        if (!(n = *p == '"' ? quoted_string(p) : token(p)))
            return OCIPUSH_E_INVALID;
    }
    return 0;
}

int ocipush_media_type_validate(const char *media_type)
{
    return op_media_type_check(media_type) ? OCIPUSH_E_INVALID : OCIPUSH_OK;
}

int op_header_text_check(const char *text)
{
    if (!text || !*text)
        return OCIPUSH_E_INVALID;
    for (const unsigned char *c = (const unsigned char *)text; *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            return OCIPUSH_E_INVALID;
    return 0;
}

int op_b64token_check(const char *text)
{
    if (!text)
        return OCIPUSH_E_INVALID;
    size_t n = 0;
    while (is_alnum((unsigned char)text[n]) || in_set((unsigned char)text[n], "-._~+/"))
        n++;
    if (n == 0)
        return OCIPUSH_E_INVALID;
    n += strspn(text + n, "=");
    return text[n] ? OCIPUSH_E_INVALID : 0;
}
