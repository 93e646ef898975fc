/* Credentials from the stores docker and helm keep: config.json files and
 * docker-credential-* helpers. The public ocipush_credentials_store/erase
 * (docker's format, written safely) are here too. */
#ifndef OP_CREDS_H
#define OP_CREDS_H

#include "ctx.h"

/* Look for credentials for c->set.registry in docker's config (with its
 * helpers), then helm's; what is found becomes the settings' credentials.
 * *out_found 0 when none; an absent file is not an error, one that cannot
 * be read is. 0 or an OCIPUSH_E_* code with the reason on the context. */
int op_creds_load(op_ctx *c, int *out_found);

#endif
