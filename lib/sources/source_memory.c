/* A source over bytes in memory, borrowed or copied. */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "ocipush.h"

typedef struct memory_source {
    const uint8_t *data;
    size_t len;
    size_t pos;
    uint8_t *owned; /* the copy, when copied */
} memory_source;

static int memory_read(uint8_t *buf, size_t cap, size_t *out_len, void *ud)
{
    memory_source *m = ud;
    size_t n = m->len - m->pos < cap ? m->len - m->pos : cap;
    if (n)
        memcpy(buf, m->data + m->pos, n);
    m->pos += n;
    *out_len = n;
    return 0;
}

static int memory_rewind(void *ud)
{
    ((memory_source *)ud)->pos = 0;
    return 0;
}

static void memory_close(void *ud)
{
    memory_source *m = ud;
    op_free(m->owned);
    op_free(m);
}

int ocipush_source_new_memory(ocipush_source **out, const void *data, size_t len, int copy)
{
    if (!out || (!data && len) || len > (size_t)INT64_MAX)
        return OCIPUSH_E_INVALID;
    memory_source *m = op_calloc(1, sizeof *m);
    if (!m)
        return OCIPUSH_E_NOMEM;
    m->data = data;
    m->len = len;
    if (copy && len) {
        if (!(m->owned = op_malloc(len))) {
            op_free(m);
            return OCIPUSH_E_NOMEM;
        }
        memcpy(m->owned, data, len);
        m->data = m->owned;
    }
    return ocipush_source_new_callback(out, memory_read, memory_rewind, memory_close, (int64_t)len,
                                       m);
}
