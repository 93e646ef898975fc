/* The OCI image layout as a push target: a session opened on a directory
 * writes blobs under blobs/sha256/ and tags into index.json, the same bytes
 * a registry would get. */
#ifndef OP_LAYOUT_H
#define OP_LAYOUT_H

#include <stdint.h>

#include "buf.h"
#include "reader.h"
#include "session.h"

/* Make the layout at `directory` where it is missing: its missing parents
 * as mkdir -p makes them (0777 less the umask), the directory and blobs/sha256/
 * (0755 less the umask), the oci-layout file. 0, OCIPUSH_E_IO with errno
 * set, OCIPUSH_E_NOMEM. */
int op_layout_create(const char *directory);

/* Whether the blob is there, and its size. */
int op_layout_blob_exists(ocipush_session *s, const char *digest, int *out_exists,
                          int64_t *out_size);
/* Write what the reader gives into the blob of its digest, checked against
 * `expected` (may be NULL) before it is made visible. */
int op_layout_put_blob(ocipush_session *s, op_reader *r, const char *expected);
/* A manifest's bytes as a blob, and `tag` (may be NULL) pointing at it in
 * index.json. */
int op_layout_put_manifest(ocipush_session *s, const char *tag, const char *media_type,
                           const void *data, size_t len, const char *digest);
/* A manifest by tag or digest: *out_found 0 when absent. */
int op_layout_get_manifest(ocipush_session *s, const char *reference, op_buf *body,
                           char **out_media_type, char *out_digest, int *out_found);

#endif
