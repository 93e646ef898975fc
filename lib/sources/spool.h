/* The spool: a copy of a non-rewindable stream's bytes, so they can be sent
 * again. In memory up to a cap, then in an unlinked temporary file, so memory
 * stays bounded whatever the blob size. */
#ifndef OP_SPOOL_H
#define OP_SPOOL_H

#include <stddef.h>
#include <stdint.h>

typedef struct op_spool op_spool;

int op_spool_new(op_spool **out, uint64_t memory_cap);
void op_spool_free(op_spool *sp);
/* Append bytes at the end. 0, OCIPUSH_E_NOMEM, OCIPUSH_E_IO (errno set). */
int op_spool_append(op_spool *sp, const void *data, size_t len);
/* Read up to len bytes at offset; *out_len 0 only at the end. */
int op_spool_read_at(op_spool *sp, uint64_t offset, void *buf, size_t len, size_t *out_len);
uint64_t op_spool_size(const op_spool *sp);
/* 1 once the spool has moved to a file. */
int op_spool_on_disk(const op_spool *sp);

#endif
