/* Running a docker-credential-NAME helper: a child process that gets one
 * line on its standard input and answers on its standard output, under a
 * deadline and a cap on what it prints, without touching the process's
 * signal dispositions (other threads share them). */
#ifndef OP_HELPER_H
#define OP_HELPER_H

#include <stddef.h>

#include "ctx.h"

/* Default for ocipush_session_set_helper_timeout(). */
#define OP_HELPER_TIMEOUT_MS 30000
/* More than this on its standard output and the helper is stopped. */
#define OP_HELPER_MAX_ANSWER (64 * 1024)

/* Run `docker-credential-NAME get` with `input` on its standard input and
 * its standard output into *out_answer (op_malloc'd, NUL-ended, to be wiped
 * before it is freed: it holds a secret) and *out_len. *out_found is 1 when
 * it exited 0, -1 when how it ended is unknown (a host that ignores SIGCHLD
 * reaped it: only its answer can tell "found" from "not found"); a helper
 * that cannot be started, or says "not found" (exit status non-zero) is not
 * an error: *out_found 0 and no answer. Fails,
 * killing and reaping it, when it does not finish within the session's
 * helper timeout (c->set) (OCIPUSH_E_IO) or prints more than OP_HELPER_MAX_ANSWER
 * bytes (OCIPUSH_E_INVALID); also OCIPUSH_E_INVALID (a name that is not
 * [A-Za-z0-9._-]+), OCIPUSH_E_IO (no pipe), OCIPUSH_E_NOMEM. */
int op_helper_get(op_ctx *c, const char *name, const char *input, char **out_answer,
                  size_t *out_len, int *out_found);

#endif
