/* The referrers tag index (OCI distribution spec 1.1) kept for a registry
 * without the referrers API. */
#ifndef OP_REFERRERS_H
#define OP_REFERRERS_H

#include "manifest.h"
#include "ocipush.h"

/* List `entry` (a manifest whose subject is `subject_digest`) in the index
 * tagged sha256-<hex of the subject> in `repository`, made when absent and
 * left as it is when it lists the entry already. 0 or an error, with the
 * message on the session. */
int op_referrers_tag_add(ocipush_session *s, const char *repository, const char *subject_digest,
                         const ocipush_descriptor *entry);

#endif
