/* Built without libarchive: no OCI archives to read. */
#include "image_source.h"

int op_image_source_open_archive(op_image_source **out, op_diag *d, const char *path)
{
    (void)out;
    return op_fail(d, OCIPUSH_E_UNSUPPORTED,
                   "cannot read the OCI archive %s: this ocipush is built without libarchive",
                   path);
}
