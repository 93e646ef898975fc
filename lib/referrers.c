/* The referrers tag schema (OCI distribution spec 1.1), for a registry
 * without the referrers API (no OCI-Subject in its answer to the manifest
 * PUT): the index tagged sha256-<hex> of the subject lists each manifest
 * that refers to it, once. Used by a push with a subject and by a copy that
 * brings referrers along. */
#include "referrers.h"

#include <stdio.h>

#include "alloc.h"
#include "buf.h"
#include "digest.h"
#include "manifest_json.h"
#include "manifest_push.h"
#include "session.h"

int op_referrers_tag_add(ocipush_session *s, const char *repository, const char *subject_digest,
                         const ocipush_descriptor *entry)
{
    char tag[OCIPUSH_DIGEST_MAX];
    snprintf(tag, sizeof tag, "sha256-%s", subject_digest + 7);
    op_buf old = {0};
    char *old_type = NULL, *index = NULL;
    char old_digest[OCIPUSH_DIGEST_MAX];
    size_t index_len = 0;
    int found = 0, present = 0;
    int rc = op_manifest_get(s, repository, tag, &old, &old_type, old_digest, &found);
    if (!rc &&
        (rc = op_json_referrers_add(&index, &index_len, &present,
                                    found ? (old.data ? old.data : "") : NULL, old.len, entry)))
        rc = op_sfail(
            s, rc, rc == OCIPUSH_E_NOMEM ? "out of memory" : "the referrers tag %s is not an index",
            tag);
    if (!rc && !present) {
        char index_digest[OCIPUSH_DIGEST_MAX];
        rc = op_sha256_digest(index_digest, index, index_len);
        rc = rc ? op_sfail(s, rc, "hashing the referrers index failed")
                : op_manifest_put(s, NULL, repository, tag, OCIPUSH_MEDIA_TYPE_INDEX, index,
                                  index_len, index_digest, NULL);
        if (!rc)
            op_slog(s, OCIPUSH_LOG_INFO, "listed %s in the referrers index %s", entry->digest, tag);
    }
    op_buf_free(&old);
    op_free(old_type);
    op_free(index);
    return rc;
}
