/* Built without libarchive: no tar to make of a directory. */
#include "ocipush.h"

int ocipush_source_new_tar_dir(ocipush_source **out, const char *dir, int flags, int64_t mtime)
{
    (void)dir;
    (void)flags;
    (void)mtime;
    if (out)
        *out = NULL;
    return OCIPUSH_E_UNSUPPORTED;
}
