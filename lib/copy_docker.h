/* ocipush_copy's half for legacy docker archives (copy_docker.c), called
 * by copy.c inside the public call. */
#ifndef OP_COPY_DOCKER_H
#define OP_COPY_DOCKER_H

#include "ocipush.h"
#include "tar_members.h"

/* The image of the archive `tar` (already read through) that `reference`
 * names ("REPO:TAG", "@N", or NULL for the only one) into `repository`,
 * under `tag` (NULL: the image's own; "": by digest). The codes and
 * messages of ocipush_copy() for a docker archive; the message on the
 * session. */
int op_copy_docker(ocipush_session *s, const op_tar *tar, const char *reference,
                   const char *repository, const char *tag, char *out_digest);

#endif
