/* The spool: a window over a non-rewindable stream's bytes, so they can be
 * sent again. The first bytes of the window are kept in memory (up to a
 * memory cap), the rest in an unlinked temporary file (up to a disk cap), so
 * memory and disk stay bounded whatever the blob size. Bytes the registry has
 * acknowledged leave the window (op_spool_drop), which then starts again
 * empty.
 *
 * Appending never fails: bytes that do not fit (a cap reached, or the file
 * cannot be written: ENOSPC, EIO) are kept once more in memory, up to one
 * append's worth, and the spool is then full: it keeps nothing more until a
 * drop empties it. Whoever reads it asks what it holds (op_spool_base,
 * op_spool_end) and fails a replay that needs more. */
#ifndef OP_SPOOL_H
#define OP_SPOOL_H

#include <stddef.h>
#include <stdint.h>

typedef struct op_spool op_spool;

/* 0 or OCIPUSH_E_NOMEM. disk_cap UINT64_MAX: no cap but the disk's. */
int op_spool_new(op_spool **out, uint64_t memory_cap, uint64_t disk_cap);
void op_spool_free(op_spool *sp);

/* Append bytes at the end of the window. 0 when all were kept; 1 when the
 * spool is full and some (or all) of them were not: the window then ends
 * at op_spool_end() and the caller must stop relying on later bytes. */
int op_spool_append(op_spool *sp, const void *data, size_t len);

/* Read up to len bytes at stream offset `offset`; *out_len 0 at or past the
 * end of the window. 0, OCIPUSH_E_IO (errno set), OCIPUSH_E_INVALID (an
 * offset before the window, dropped). */
int op_spool_read_at(op_spool *sp, uint64_t offset, void *buf, size_t len, size_t *out_len);

/* The window: stream offsets [base, end) are kept. */
uint64_t op_spool_base(const op_spool *sp);
uint64_t op_spool_end(const op_spool *sp);

/* The bytes before `upto` are not needed any more (the registry has them).
 * When that is the whole window, it is emptied and the next byte appended
 * is stream offset `upto`; the spool is no longer full. The file keeps its
 * size, within the disk cap, and the next bytes are written over it. */
void op_spool_drop(op_spool *sp, uint64_t upto);

/* New caps, for what is appended from now on; a file larger than the new
 * disk cap is cut down to it (or to the window's bytes in it). */
void op_spool_set_caps(op_spool *sp, uint64_t memory_cap, uint64_t disk_cap);
/* The window's bytes in the file (the rest are in memory). */
uint64_t op_spool_file_bytes(const op_spool *sp);
/* Bytes the file occupies now (at least the window's bytes in it). */
uint64_t op_spool_disk_used(const op_spool *sp);

/* Bytes in the window (end - base). */
uint64_t op_spool_size(const op_spool *sp);
/* 1 once the spool has used its file. */
int op_spool_on_disk(const op_spool *sp);
/* The most bytes the file held at once. */
uint64_t op_spool_disk_peak(const op_spool *sp);
/* 1 when an append did not keep everything. */
int op_spool_full(const op_spool *sp);
/* Why the spool became full: the errno of the failed file write or open, or
 * 0 when a cap was reached. */
int op_spool_errno(const op_spool *sp);
/* The directory the file is (or would be) in: $TMPDIR, else /tmp. */
const char *op_spool_dir(void);

#endif
