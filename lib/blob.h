/* The blob calls of the public API, for the callers inside the library
 * (push.c, parallel.c): the same contracts as ocipush_blob_exists,
 * ocipush_blob_push and ocipush_blob_push_mount (ocipush.h), inside a
 * public call already in progress (no call scope of their own), `s` and
 * the out pointers non-NULL. */
#ifndef OP_BLOB_H
#define OP_BLOB_H

#include <stdint.h>

#include "ocipush.h"

int op_blob_exists(ocipush_session *s, int *out_exists, const char *repository, const char *digest);
/* *out_status (may be NULL) is what was done, an ocipush_blob_status. */
int op_blob_push(ocipush_session *s, const char *repository, ocipush_source *source,
                 const char *expected_digest, char *out_digest, uint64_t *out_size,
                 int *out_status);
int op_blob_push_mount(ocipush_session *s, const char *repository, ocipush_source *source,
                       const char *digest, const char *from_repository, uint64_t *out_size,
                       int *out_status);

#endif
