/* Status texts, the version, and the free that matches ocipush's own
 * allocations. */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "ocipush.h"
#include "digest.h"
#include "reference.h"
#include "transport.h"

const char *ocipush_strerror(int code)
{
    switch (code) {
    case OCIPUSH_OK: return "success";
    case OCIPUSH_E_INVALID: return "invalid argument";
    case OCIPUSH_E_NOMEM: return "out of memory";
    case OCIPUSH_E_IO: return "local I/O error";
    case OCIPUSH_E_NETWORK: return "network error";
    case OCIPUSH_E_HTTP: return "registry error";
    case OCIPUSH_E_AUTH: return "authentication failed";
    case OCIPUSH_E_DIGEST_MISMATCH: return "digest mismatch";
    case OCIPUSH_E_SOURCE: return "source failed";
    case OCIPUSH_E_NOT_REPLAYABLE: return "upload cannot be replayed";
    case OCIPUSH_E_ABORTED: return "aborted by callback";
    case OCIPUSH_E_PROTOCOL: return "registry protocol violation";
    case OCIPUSH_E_UNSUPPORTED: return "not supported by this build";
    case OCIPUSH_E_NOT_MOUNTED: return "blob not mounted";
    default: return "unknown error";
    }
}

int ocipush_global_init(void)
{
    int rc = op_transport_global_init();
    if (rc == 0 && op_digest_init()) {
        op_transport_global_cleanup();
        rc = OCIPUSH_E_NOMEM;
    }
    return rc;
}

void ocipush_global_cleanup(void)
{
    op_transport_global_cleanup();
}

unsigned ocipush_version_num(void)
{
    return OCIPUSH_VERSION_NUM;
}

int ocipush_feature(const char *feature)
{
    static const struct {
        const char *name;
        int built;
    } features[] = {
#ifdef OCIPUSH_HAVE_HELM
        {"helm", 1},
#else
        {"helm", 0},
#endif
#ifdef OCIPUSH_HAVE_ARCHIVE
        {"oci-archive", 1},
#else
        {"oci-archive", 0},
#endif
#ifdef OCIPUSH_HAVE_ARCHIVE /* the tar writer */
        {"directory-layers", 1},
#else
        {"directory-layers", 0},
#endif
#ifdef OCIPUSH_HAVE_ZSTD
        {"zstd", 1},
#else
        {"zstd", 0},
#endif
#ifdef OCIPUSH_DIGEST_OPENSSL
        {"openssl", 1},
        {"mbedtls", 0},
#else
        {"openssl", 0},
        {"mbedtls", 1},
#endif
    };
    for (size_t i = 0; feature && i < sizeof features / sizeof features[0]; i++)
        if (strcmp(feature, features[i].name) == 0)
            return features[i].built;
    return 0;
}

const char *ocipush_libcurl_version(void)
{
    return op_transport_libcurl_version();
}

const char *ocipush_version(void)
{
    return OCIPUSH_VERSION_STRING;
}

void ocipush_free(void *ptr)
{
    op_free(ptr);
}

int ocipush_reference_parse(char **out_registry, char **out_repository, char **out_tag,
                            char **out_digest, const char **out_why, const char *reference)
{
    op_reference ref;
    if (!out_registry || !out_repository)
        return OCIPUSH_E_INVALID;
    int rc = op_reference_parse(&ref, reference, out_why);
    if (rc)
        return rc;
    *out_registry = ref.registry;
    *out_repository = ref.repository;
    if (out_tag)
        *out_tag = ref.tag;
    else
        op_free(ref.tag);
    if (out_digest)
        *out_digest = ref.digest;
    else
        op_free(ref.digest);
    return OCIPUSH_OK;
}
