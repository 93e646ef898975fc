/* Helm chart helpers reachable by the unit tests. */
#ifndef OP_CHART_H
#define OP_CHART_H

/* 1 when `version` is a Semantic Versioning 2.0.0 version (a leading "v"
 * allowed, as helm allows it), else 0. Pure. */
int op_semver_valid(const char *version);

#endif
