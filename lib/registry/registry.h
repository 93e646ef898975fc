/* The registry target (target.h): blobs and manifests over the OCI
 * distribution API, through the authorized client. */
#ifndef OP_REGISTRY_H
#define OP_REGISTRY_H

#include "ctx.h"
#include "target.h"

/* A target for c->set's registry. 0 or OCIPUSH_E_NOMEM. */
int op_registry_target_new(op_target **out, op_ctx *c);

#endif
