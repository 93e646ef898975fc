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

#endif
