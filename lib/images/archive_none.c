/* Built without libarchive: no OCI or docker archives to read. */
#include "image_source.h"
#include "tar_members.h"

int op_tar_open(op_tar **out, op_diag *d, const char *path)
{
    (void)out;
    return op_fail(d, OCIPUSH_E_UNSUPPORTED,
                   "cannot read the archive %s: this ocipush is built without libarchive", path);
}

/* Never reached: there is no op_tar to ask. */
const op_tar_member *op_tar_find(const op_tar *t, const char *path)
{
    (void)t, (void)path;
    return NULL;
}

int op_tar_open_member(const op_tar *t, const op_tar_member *m, ocipush_source **out)
{
    (void)t, (void)m, (void)out;
    return OCIPUSH_E_UNSUPPORTED;
}

int op_tar_read_small(const op_tar *t, const op_tar_member *m, size_t cap, op_buf *out, op_diag *d)
{
    (void)t, (void)m, (void)cap, (void)out, (void)d;
    return OCIPUSH_E_UNSUPPORTED;
}

const char *op_tar_path(const op_tar *t)
{
    (void)t;
    return "";
}

void op_tar_free(op_tar *t)
{
    (void)t;
}

int op_image_source_from_tar(op_image_source **out, op_diag *d, op_tar *tar, const char *kind)
{
    (void)out, (void)tar;
    return op_fail(d, OCIPUSH_E_UNSUPPORTED, "cannot read a %s: no libarchive", kind);
}

int op_image_source_open_archive(op_image_source **out, op_diag *d, const char *path)
{
    (void)out;
    return op_fail(d, OCIPUSH_E_UNSUPPORTED,
                   "cannot read the OCI archive %s: this ocipush is built without libarchive",
                   path);
}
