/* The members of a tar archive (plain, gzip, zstd or any filter libarchive
 * knows, found by its content), for the image sources that live in one: an
 * OCI archive, a docker archive. The archive is read once through when it is
 * opened, listing every member by path, keeping the bytes of the small JSON
 * ones (manifests, configs, index.json, manifest.json) and failing on a
 * truncated or corrupt archive before anything is pushed. A large member is
 * read later by a source of its own, which opens the archive again and reads
 * on to it: nothing is unpacked to disk, and a rewind opens it again. */
#ifndef OP_TAR_MEMBERS_H
#define OP_TAR_MEMBERS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "diag.h"
#include "ocipush.h"

typedef struct op_tar op_tar;

/* The most bytes a manifest or a config may have (op_tar_read_small), and
 * index.json or manifest.json at the top. */
#define OP_TAR_SMALL_MAX (4u << 20)
#define OP_TAR_TOP_MAX (16u << 20)

typedef struct op_tar_member {
    char *path;      /* as listed, without a leading "./" */
    int64_t size;    /* of its data; that of the member a link points to */
    char *data;      /* its bytes and a NUL, when kept; else NULL */
    size_t ordinal;  /* its place in the archive, counting every header */
    uint64_t offset; /* where its data starts in the (uncompressed) archive, about */
} op_tar_member;

/* Read the archive at `path` through once. 0, or OCIPUSH_E_IO (unreadable,
 * truncated, corrupt: the message says which), OCIPUSH_E_NOMEM,
 * OCIPUSH_E_UNSUPPORTED (built without libarchive), the message on `d`. */
int op_tar_open(op_tar **out, op_diag *d, const char *path);

/* The regular member at `path` ("./" or not), following symbolic and hard
 * links inside the archive (8 at most; a link out of it, or to nothing,
 * finds nothing). The first member of a name counts. NULL if none. Constant
 * time on average (a hash table). */
const op_tar_member *op_tar_find(const op_tar *t, const char *path);

/* A source over the member's bytes: the kept ones, borrowed (valid while
 * `t` is), else the archive opened again at the member on the first read.
 * It rewinds. 0 or OCIPUSH_E_NOMEM. */
int op_tar_open_member(const op_tar *t, const op_tar_member *m, ocipush_source **out);

/* The member's bytes, at most `cap` of them, copied into `out` (reset
 * first): the kept ones, or read from the archive for one that was not kept
 * (the budget for kept members was spent, or it does not start as JSON
 * does). Such reads together may read the archive again about four times
 * over, no more. 0, or OCIPUSH_E_INVALID (over the cap, or over that
 * budget), OCIPUSH_E_IO (the archive changed or cannot be read),
 * OCIPUSH_E_NOMEM, the message on `d` naming the archive and the member.
 * Not thread-safe with itself on one `t` (it counts what it reads). */
int op_tar_read_small(const op_tar *t, const op_tar_member *m, size_t cap, op_buf *out, op_diag *d);

/* The archive's path, as given. */
const char *op_tar_path(const op_tar *t);

void op_tar_free(op_tar *t);

#endif
