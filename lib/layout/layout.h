/* The OCI image layout target (target.h): a session opened on a directory
 * writes blobs under blobs/sha256/ and tags into index.json, the same bytes
 * a registry would get. */
#ifndef OP_LAYOUT_H
#define OP_LAYOUT_H

#include "ctx.h"
#include "target.h"

/* Make the layout at `directory` where it is missing: its missing parents
 * as mkdir -p makes them (0777 less the umask), the directory and blobs/sha256/
 * (0755 less the umask), the oci-layout file. 0, OCIPUSH_E_IO with errno
 * set, OCIPUSH_E_NOMEM. */
int op_layout_create(const char *directory);

/* A target writing into the layout at `directory`, made where it is
 * missing (op_layout_create). 0, OCIPUSH_E_IO, OCIPUSH_E_NOMEM. */
int op_layout_target_new(op_target **out, op_ctx *c, const char *directory);

#endif
