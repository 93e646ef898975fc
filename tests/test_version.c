/* The header's version macros against the running library and the version
 * meson builds (OCIPUSH_TEST_VERSION), and ocipush_feature() against the
 * build's options (OCIPUSH_TEST_HELM, OCIPUSH_TEST_OPENSSL). The public
 * header only. */
#include <stdio.h>
#include <string.h>

#include "ocipush.h"

static int failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);               \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

int main(void)
{
    char numbers[32];
    snprintf(numbers, sizeof numbers, "%d.%d.%d", OCIPUSH_VERSION_MAJOR, OCIPUSH_VERSION_MINOR,
             OCIPUSH_VERSION_PATCH);
    CHECK(strcmp(numbers, OCIPUSH_TEST_VERSION) == 0); /* the header is meson's version */
    CHECK(strcmp(ocipush_version(), numbers) == 0);    /* and the library's */
    CHECK(ocipush_version_num() == OCIPUSH_VERSION_NUM);
    CHECK(OCIPUSH_VERSION_NUM == ((unsigned)OCIPUSH_VERSION_MAJOR << 16 |
                                  (unsigned)OCIPUSH_VERSION_MINOR << 8 | OCIPUSH_VERSION_PATCH));
    CHECK(ocipush_feature("helm") == OCIPUSH_TEST_HELM);
    CHECK(ocipush_feature("openssl") == OCIPUSH_TEST_OPENSSL);
    CHECK(ocipush_feature("oci-archive") == OCIPUSH_TEST_ARCHIVE);
    CHECK(ocipush_feature("directory-layers") == OCIPUSH_TEST_ARCHIVE);
    CHECK(ocipush_feature("mbedtls") == !OCIPUSH_TEST_OPENSSL);
    CHECK(ocipush_feature("nonsense") == 0);
    CHECK(ocipush_feature("") == 0);
    CHECK(ocipush_feature("HELM") == 0);
    CHECK(ocipush_feature(NULL) == 0);
    const char *curl = ocipush_libcurl_version();
    CHECK(curl && curl[0] >= '0' && curl[0] <= '9' && strchr(curl, '.'));
    printf("%s, libcurl %s: %d failed\n", numbers, curl ? curl : "(null)", failures);
    return failures ? 1 : 0;
}
