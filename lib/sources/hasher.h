/* Hashing beside the upload: for a large blob the SHA-256 runs on a thread of
 * its own, so it overlaps the sending instead of holding it up (the registry
 * is the slow side of a local push, and its work and ours then go on at
 * once). Small blobs are hashed inline. No callback of the caller ever runs on
 * the hashing thread.
 *
 * Two ways to feed the thread. A stream is fed copies of the bytes as they
 * are read (a ring of bounded slots, so the sender waits when the thread
 * lags). A regular file is read by the thread itself, with pread at its own
 * offset: neither side then waits for the other, which on a machine whose
 * CPUs the registry shares keeps the upload at the registry's pace (see
 * BENCHMARKS.md); what is hashed is then the file, not the copy sent, so a
 * file that changes while it is pushed is caught by its size and times. */
#ifndef OP_HASHER_H
#define OP_HASHER_H

#include <stddef.h>
#include <stdint.h>

typedef struct op_hasher op_hasher;

/* `threaded` asks for the hashing thread (falls back to inline if one cannot
 * be started). 0, OCIPUSH_E_NOMEM, OCIPUSH_E_INVALID (crypto init). */
int op_hasher_new(op_hasher **out, int threaded);
/* Hash `size` bytes of the regular file `fd` from offset `start` on a thread
 * that reads them itself (op_hasher_update is then a no-op). The descriptor
 * must stay open until op_hasher_free. 0, OCIPUSH_E_NOMEM, OCIPUSH_E_INVALID
 * (crypto init), OCIPUSH_E_IO (no stat or no thread): the caller then feeds
 * an op_hasher_new hasher instead. */
int op_hasher_new_file(op_hasher **out, int fd, int64_t start, int64_t size);
/* Feed bytes in order. 0, OCIPUSH_E_NOMEM, OCIPUSH_E_INVALID. */
int op_hasher_update(op_hasher *h, const void *data, size_t len);
/* Wait for the hashing to catch up and write "sha256:<hex>" into out.
 * OCIPUSH_E_SOURCE when a file hashed by its own thread could not be read to
 * its size or changed (op_hasher_why says which). */
int op_hasher_finish(op_hasher *h, char *out);
/* For a file hashed by its own thread: OCIPUSH_E_SOURCE if it has changed
 * (size, modification or change time) since hashing began, else 0; 0 for
 * other hashers. */
int op_hasher_check_file(op_hasher *h);
/* What went wrong with the file, for a message; "" if nothing did. */
const char *op_hasher_why(const op_hasher *h);
void op_hasher_free(op_hasher *h);

#endif
