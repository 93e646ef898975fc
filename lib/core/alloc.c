#include "alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ocipush.h"

static ocipush_malloc_fn malloc_fn;
static ocipush_realloc_fn realloc_fn;
static ocipush_free_fn free_fn;
static void *alloc_user_data;

int ocipush_set_allocator(ocipush_malloc_fn m, ocipush_realloc_fn r, ocipush_free_fn f,
                          void *user_data)
{
    if ((m || r || f) && !(m && r && f))
        return OCIPUSH_E_INVALID;
    malloc_fn = m;
    realloc_fn = r;
    free_fn = f;
    alloc_user_data = user_data;
    return OCIPUSH_OK;
}

void *op_malloc(size_t size)
{
    return malloc_fn ? malloc_fn(size ? size : 1, alloc_user_data) : malloc(size ? size : 1);
}

void *op_calloc(size_t count, size_t size)
{
    if (size && count > (size_t)-1 / size)
        return NULL;
    void *p = op_malloc(count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void *op_realloc(void *ptr, size_t size)
{
    if (!size)
        size = 1;
    return realloc_fn ? realloc_fn(ptr, size, alloc_user_data) : realloc(ptr, size);
}

int op_grow(void **list, size_t used, size_t *alloc, size_t size, size_t first)
{
    if (used < *alloc)
        return 0;
    size_t more = *alloc ? *alloc * 2 : first;
    if (more < *alloc || more > SIZE_MAX / size)
        return OCIPUSH_E_NOMEM;
    void *grown = op_realloc(*list, more * size);
    if (!grown)
        return OCIPUSH_E_NOMEM;
    *list = grown;
    *alloc = more;
    return 0;
}

void op_free(void *ptr)
{
    if (!ptr)
        return;
    if (free_fn)
        free_fn(ptr, alloc_user_data);
    else
        free(ptr);
}

void op_free_secret(void *ptr, size_t len)
{
    if (!ptr)
        return;
    explicit_bzero(ptr, len);
    op_free(ptr);
}

void op_free_secret_string(char *str)
{
    op_free_secret(str, str ? strlen(str) : 0);
}
