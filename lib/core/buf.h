/* A growable byte buffer, always NUL-terminated, used for URLs, messages and
 * response bodies. */
#ifndef OP_BUF_H
#define OP_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct op_buf {
    char *data; /* NULL until the first append; NUL-terminated after it */
    size_t len;
    size_t cap;
    /* It holds a secret: it grows by copy and wipe (never realloc, which
     * may leave the old bytes behind), and op_buf_free wipes it. Set it
     * before the first append: op_buf b = {.secret = 1}. */
    int secret;
} op_buf;

/* Each returns 0, or OCIPUSH_E_NOMEM leaving the buffer as it was. */
int op_buf_append(op_buf *b, const void *data, size_t len);
int op_buf_puts(op_buf *b, const char *s);
int op_buf_printf(op_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hand the string over to the caller (never NULL on success: "" for empty). */
int op_buf_take(op_buf *b, char **out);
void op_buf_reset(op_buf *b);
void op_buf_free(op_buf *b);

/* strdup that returns NULL for NULL. */
char *op_strdup(const char *s);
char *op_strndup(const char *s, size_t n);

/* *slot becomes a copy of value (NULL: none), the old one freed (wiped
 * first when `secret`). 0 or OCIPUSH_E_NOMEM, *slot unchanged. */
int op_replace_string(char **slot, const char *value, int secret);

#endif
