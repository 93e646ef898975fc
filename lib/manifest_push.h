/* Putting manifests into a session's target, for the public manifest calls
 * and for push.c: the internal functions, with no call scope of their own
 * (the caller's public call has it). */
#ifndef OP_MANIFEST_PUSH_H
#define OP_MANIFEST_PUSH_H

#include <stddef.h>

#include "buf.h"
#include "ocipush.h"
#include "retry.h"
#include "target.h"

/* The target's put_manifest (target.h): `reference` a tag or the digest. */
int op_manifest_put(ocipush_session *s, op_retry_budget *budget, const char *repository,
                    const char *reference, const char *media_type, const void *data, size_t len,
                    const char *digest, op_manifest_answer *out);

/* The target's get_manifest (target.h). */
int op_manifest_get(ocipush_session *s, const char *repository, const char *reference, op_buf *body,
                    char **out_media_type, char *out_digest, int *out_found);

/* ocipush_manifest_push_raw() inside a public call already in progress;
 * *answer (may be NULL) says what the registry's answer said. */
int op_manifest_push_raw(ocipush_session *s, const char *repository, const char *reference,
                         const char *media_type, const void *data, size_t len, char *out_digest,
                         op_manifest_answer *answer);

#endif
