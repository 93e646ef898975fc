/* Hashing beside the upload: for a large blob the SHA-256 runs on a thread of
 * its own, fed copies of the bytes as they are read, so it overlaps the
 * sending instead of holding it up (the registry is the slow side of a local
 * push, and its work and ours then go on at once). Small blobs are hashed
 * inline. No callback of the caller ever runs on the hashing thread. */
#ifndef OP_HASHER_H
#define OP_HASHER_H

#include <stddef.h>

typedef struct op_hasher op_hasher;

/* `threaded` asks for the hashing thread (falls back to inline if one cannot
 * be started). 0, OCIPUSH_E_NOMEM, OCIPUSH_E_INVALID (crypto init). */
int op_hasher_new(op_hasher **out, int threaded);
/* Feed bytes in order. 0, OCIPUSH_E_NOMEM, OCIPUSH_E_INVALID. */
int op_hasher_update(op_hasher *h, const void *data, size_t len);
/* Wait for the hashing to catch up and write "sha256:<hex>" into out. */
int op_hasher_finish(op_hasher *h, char *out);
void op_hasher_free(op_hasher *h);

#endif
