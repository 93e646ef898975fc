/* A whole artifact pushed, for the callers inside the library (chart.c):
 * ocipush_push_run (ocipush.h) inside a public call already in progress. */
#ifndef OP_PUSH_H
#define OP_PUSH_H

#include "ocipush.h"

int op_push_run(ocipush_session *s, ocipush_push *p, const char *repository, char *out_digest);

#endif
