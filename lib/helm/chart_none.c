/* Built without libarchive or libyaml (-Dhelm=disabled): charts are not
 * supported, and say so. */
#include "session.h"

int ocipush_chart_push(ocipush_session *s, char **out_reference, char *out_digest,
                       const char *chart_path, const char *repository_prefix)
{
    (void)chart_path;
    (void)repository_prefix;
    (void)out_reference;
    (void)out_digest;
    if (!s)
        return OCIPUSH_E_INVALID;
    op_call_scope(s);
    return op_sfail(s, OCIPUSH_E_UNSUPPORTED,
                    "this ocipush was built without Helm chart support (libarchive, libyaml)");
}
