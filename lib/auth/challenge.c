#include "alloc.h"
#include "challenge.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "ocipush.h"

/* RFC 7230 tchar. */
static int is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* A token at p: its length, 0 if none. */
static size_t token_len(const char *p)
{
    size_t n = 0;
    while (is_tchar(p[n]))
        n++;
    return n;
}

/* A quoted string at p (p[0] == '"'): its unescaped value into out, and
 * the position after the closing quote; NULL if unterminated. */
static const char *quoted(const char *p, op_buf *out, int *nomem)
{
    for (p++; *p && *p != '"'; p++) {
        if (*p == '\\' && p[1])
            p++;
        if (op_buf_append(out, p, 1)) {
            *nomem = 1;
            return NULL;
        }
    }
    return *p == '"' ? p + 1 : NULL;
}

static void challenge_clear(op_challenge *c)
{
    op_free(c->scheme);
    op_free(c->realm);
    op_free(c->service);
    op_free(c->scope);
    op_free(c->error);
    memset(c, 0, sizeof *c);
}

void op_challenges_free(op_challenge *list, size_t count)
{
    for (size_t i = 0; i < count; i++)
        challenge_clear(&list[i]);
    op_free(list);
}

/* Store a parameter the client uses; others are ignored. */
static int keep_param(op_challenge *c, const char *name, size_t name_len, op_buf *value)
{
    static const char *const names[] = {"realm", "service", "scope", "error"};
    char **slots[] = {&c->realm, &c->service, &c->scope, &c->error};
    for (size_t i = 0; i < 4; i++) {
        if (strlen(names[i]) == name_len && strncasecmp(names[i], name, name_len) == 0) {
            char *v = op_strdup(value->data ? value->data : "");
            if (!v)
                return OCIPUSH_E_NOMEM;
            op_free(*slots[i]);
            *slots[i] = v;
        }
    }
    return 0;
}

/* Parameters after a scheme, up to the next challenge or the end. Returns the
 * position of the next challenge's scheme (or the end), NULL when malformed. */
static const char *parse_params(const char *p, op_challenge *c, int *rc)
{
    for (;;) {
        p = skip_ws(p);
        while (*p == ',')
            p = skip_ws(p + 1);
        if (!*p)
            return p;
        size_t n = token_len(p);
        const char *after = skip_ws(p + n);
        if (n == 0)
            return NULL;
        if (*after != '=') /* a token without '=': the next challenge's scheme */
            return p;
        const char *v = skip_ws(after + 1);
        if (*v == '=') { /* token68 such as "Negotiate abc==": nothing for us */
            while (*v == '=')
                v++;
            p = skip_ws(v);
            if (*p && *p != ',')
                return NULL;
            continue;
        }
        op_buf value = {0};
        int nomem = 0;
        if (*v == '"') {
            v = quoted(v, &value, &nomem);
        } else {
            size_t vn = token_len(v);
            if (op_buf_append(&value, v, vn))
                nomem = 1;
            v += vn;
        }
        if (nomem || !v) {
            op_buf_free(&value);
            *rc = nomem ? OCIPUSH_E_NOMEM : OCIPUSH_E_INVALID;
            return NULL;
        }
        *rc = keep_param(c, p, n, &value);
        op_buf_free(&value);
        if (*rc)
            return NULL;
        p = skip_ws(v);
        if (*p && *p != ',')
            return NULL;
    }
}

int op_challenges_parse(op_challenge **out, size_t *out_count, const char *value)
{
    op_challenge *list = NULL;
    size_t count = 0;
    int rc = 0;
    const char *p = value ? value : "";
    for (;;) {
        p = skip_ws(p);
        while (*p == ',')
            p = skip_ws(p + 1);
        if (!*p)
            break;
        size_t n = token_len(p);
        if (n == 0) {
            rc = OCIPUSH_E_INVALID;
            break;
        }
        op_challenge *grown = op_realloc(list, (count + 1) * sizeof *grown);
        if (!grown) {
            rc = OCIPUSH_E_NOMEM;
            break;
        }
        list = grown;
        memset(&list[count], 0, sizeof list[count]);
        if (!(list[count].scheme = op_strndup(p, n))) {
            rc = OCIPUSH_E_NOMEM;
            break;
        }
        count++;
        p = parse_params(p + n, &list[count - 1], &rc);
        if (!p) {
            rc = rc ? rc : OCIPUSH_E_INVALID;
            break;
        }
    }
    if (!rc && count == 0)
        rc = OCIPUSH_E_INVALID;
    if (rc) {
        op_challenges_free(list, count);
        return rc;
    }
    *out = list;
    *out_count = count;
    return 0;
}

const op_challenge *op_challenge_find(const op_challenge *list, size_t count, const char *scheme)
{
    for (size_t i = 0; i < count; i++)
        if (strcasecmp(list[i].scheme, scheme) == 0)
            return &list[i];
    return NULL;
}
