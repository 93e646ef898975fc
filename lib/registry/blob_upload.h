/* Pushing one blob's bytes to a registry: the upload strategy (one PUT,
 * chunks, or a stream), new upload sessions for passing failures, and the
 * fallback from a refused stream to a length-delimited body. */
#ifndef OP_BLOB_UPLOAD_H
#define OP_BLOB_UPLOAD_H

#include "client.h"
#include "target.h"

/* The registry target's put_blob (target.h): a mount first when
 * put->mount_from is set, else (or when it is not mounted) an upload of
 * put->source with cl's settings. *stream_rejected is the registry's memory
 * that it refused a streamed body: set here, read by later pushes. */
int op_blob_upload(op_client *cl, int *stream_rejected, op_blob_put *put);

#endif
