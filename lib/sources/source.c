#include "alloc.h"
#include "source.h"

#include <stdlib.h>

int ocipush_source_new_callback(ocipush_source **out, ocipush_source_read_fn read,
                                ocipush_source_rewind_fn rewind, ocipush_source_close_fn close,
                                int64_t size, void *user_data)
{
    int rc = OCIPUSH_OK;
    ocipush_source *src = NULL;
    if (!out || !read || size < -1)
        rc = OCIPUSH_E_INVALID;
    else if (!(src = op_calloc(1, sizeof *src)))
        rc = OCIPUSH_E_NOMEM;
    if (rc) {
        /* The header promises close exactly once, failure included. */
        if (close)
            close(user_data);
        return rc;
    }
    src->read = read;
    src->rewind = rewind;
    src->close = close;
    src->size = size;
    src->user_data = user_data;
    src->file_fd = -1;
    *out = src;
    return OCIPUSH_OK;
}

int op_source_open(ocipush_source *src, const char **why)
{
    *why = "";
    return src->open ? src->open(src->user_data, why) : 0;
}

const char *op_source_why(const ocipush_source *src)
{
    const char *why = src && src->why ? src->why(src->user_data) : NULL;
    return why ? why : "";
}

void op_source_release(ocipush_source *src)
{
    if (src && src->release)
        src->release(src->user_data);
}

int64_t ocipush_source_size(const ocipush_source *source)
{
    return source ? source->size : -1;
}

void ocipush_source_free(ocipush_source *source)
{
    if (!source)
        return;
    if (source->close)
        source->close(source->user_data);
    op_free(source);
}
