#include "alloc.h"
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocipush.h"

static int buf_reserve(op_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return 0;
    if (extra > ((size_t)-1) / 2 - b->len)
        return OCIPUSH_E_NOMEM;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *data;
    if (b->secret) {
        data = op_malloc(cap);
        if (data && b->data)
            memcpy(data, b->data, b->len + 1);
        if (data)
            op_free_secret(b->data, b->cap);
    } else {
        data = op_realloc(b->data, cap);
    }
    if (!data)
        return OCIPUSH_E_NOMEM;
    b->data = data;
    b->cap = cap;
    return 0;
}

int op_buf_append(op_buf *b, const void *data, size_t len)
{
    if (buf_reserve(b, len))
        return OCIPUSH_E_NOMEM;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int op_buf_puts(op_buf *b, const char *s)
{
    return op_buf_append(b, s, strlen(s));
}

int op_buf_printf(op_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return OCIPUSH_E_INVALID;
    if (buf_reserve(b, (size_t)n))
        return OCIPUSH_E_NOMEM;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

int op_buf_take(op_buf *b, char **out)
{
    if (!b->data && op_buf_append(b, "", 0))
        return OCIPUSH_E_NOMEM;
    *out = b->data;
    b->data = NULL;
    b->len = b->cap = 0;
    return 0;
}

void op_buf_reset(op_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void op_buf_free(op_buf *b)
{
    if (b->secret)
        op_free_secret(b->data, b->cap);
    else
        op_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

char *op_strdup(const char *s)
{
    return s ? op_strndup(s, strlen(s)) : NULL;
}

char *op_strndup(const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *d = op_malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

int op_replace_string(char **slot, const char *value, int secret)
{
    char *copy = NULL;
    if (value && !(copy = op_strdup(value)))
        return OCIPUSH_E_NOMEM;
    if (secret)
        op_free_secret_string(*slot);
    else
        op_free(*slot);
    *slot = copy;
    return OCIPUSH_OK;
}
