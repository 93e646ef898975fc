/* The hashing thread gives the digest a plain hash gives, whatever the
 * splits of the input, and is run under TSan by tests/run-tests.sh. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "digest.h"
#include "hasher.h"
#include "ocipush.h"

static void hash_in_splits(const unsigned char *data, size_t len, int threaded, size_t step,
                           const char *want)
{
    op_hasher *h = NULL;
    char got[OCIPUSH_DIGEST_MAX];
    if (!CHECK_EQ_INT(op_hasher_new(&h, threaded), 0))
        return;
    for (size_t off = 0, n = step; off < len; off += n, n = n * 3 % 1048573 + 1)
        CHECK_EQ_INT(op_hasher_update(h, data + off, len - off < n ? len - off : n), 0);
    if (CHECK_EQ_INT(op_hasher_finish(h, got), 0))
        CHECK_EQ_STR(got, want);
    op_hasher_free(h);
}

int main(void)
{
    size_t len = 10 * 1024 * 1024 + 12345;
    unsigned char *data = malloc(len);
    char want[OCIPUSH_DIGEST_MAX];
    if (!CHECK(data != NULL))
        return check_done();
    for (size_t i = 0; i < len; i++)
        data[i] = (unsigned char)((i * 2654435761u) >> 11);
    op_sha256_digest(want, data, len);
    size_t steps[] = {1, 4095, 65536, 524288, 524289, 3000000};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        hash_in_splits(data, len, 1, steps[i], want);
        hash_in_splits(data, len, 0, steps[i], want);
    }
    /* Freed without finishing: the thread stops, nothing leaks. */
    op_hasher *h = NULL;
    if (CHECK_EQ_INT(op_hasher_new(&h, 1), 0)) {
        CHECK_EQ_INT(op_hasher_update(h, data, 3 * 1024 * 1024), 0);
        op_hasher_free(h);
    }
    /* Nothing at all. */
    char empty[OCIPUSH_DIGEST_MAX];
    if (CHECK_EQ_INT(op_hasher_new(&h, 1), 0)) {
        if (CHECK_EQ_INT(op_hasher_finish(h, empty), 0))
            CHECK_EQ_STR(empty,
                         "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        op_hasher_free(h);
    }
    free(data);
    return check_done();
}
