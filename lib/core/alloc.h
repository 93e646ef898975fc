/* Every allocation of ocipush goes through here, so a host can supply its
 * own allocator (ocipush_set_allocator) and tests can make the Nth one fail.
 * cJSON's and libcurl's own allocations are theirs: their process-wide hooks
 * belong to the host program, and ocipush never sets them. */
#ifndef OP_ALLOC_H
#define OP_ALLOC_H

#include <stddef.h>

void *op_malloc(size_t size);
void *op_calloc(size_t count, size_t size);
void *op_realloc(void *ptr, size_t size);
void op_free(void *ptr);
/* Room in the array *list (of `used` of *alloc items of `size` bytes) for
 * one more: doubled when full, from `first` items. 0, or OCIPUSH_E_NOMEM
 * (the array as it was). */
int op_grow(void **list, size_t used, size_t *alloc, size_t size, size_t first);
/* op_free of what held a secret, its `len` bytes wiped first (explicit_bzero:
 * a store the compiler may not drop as dead). */
void op_free_secret(void *ptr, size_t len);
/* op_free_secret of a NUL-terminated string (NULL: nothing). */
void op_free_secret_string(char *str);

#endif
