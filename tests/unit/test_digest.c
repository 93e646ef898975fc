/* SHA-256 digests and Base64. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "digest.h"
#include "ocipush.h"

#define MIB (1024u * 1024u)

/* xorshift32, top byte: the same bytes every run (and in the expected digest
 * below, computed independently with Python's hashlib). */
static void fill_pseudo_random(uint8_t *buf, size_t len)
{
    uint32_t x = 0x12345678u;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        buf[i] = (uint8_t)(x >> 24);
    }
}

static void expect_digest(const char *text, const char *want)
{
    char out[OCIPUSH_DIGEST_MAX];
    memset(out, 'X', sizeof out);
    int rc = op_sha256_digest(out, text, strlen(text));
    if (CHECK_EQ_INT(rc, OCIPUSH_OK)) {
        CHECK_EQ_INT(strlen(out), 71);
        CHECK_EQ_STR(out, want);
        CHECK_EQ_INT(ocipush_digest_validate(out), OCIPUSH_OK);
    }
}

static void test_known_digests(void)
{
    expect_digest("", "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect_digest("abc", "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect_digest("{}", "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
    /* Two blocks (the FIPS 180-2 448-bit message). */
    expect_digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                  "sha256:248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");

    /* NULL data with length 0 is the empty message. */
    char out[OCIPUSH_DIGEST_MAX];
    if (CHECK_EQ_INT(op_sha256_digest(out, NULL, 0), OCIPUSH_OK))
        CHECK_EQ_STR(out,
                     "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_incremental(void)
{
    static const char want[] =
        "sha256:6cb4ea2316f36630654b2786b8917268d28a357b8758134a8fbd1e270f50b968";
    uint8_t *data = malloc(MIB);
    if (!CHECK(data != NULL))
        return;
    fill_pseudo_random(data, MIB);

    char one_shot[OCIPUSH_DIGEST_MAX];
    if (CHECK_EQ_INT(op_sha256_digest(one_shot, data, MIB), OCIPUSH_OK))
        CHECK_EQ_STR(one_shot, want);

    /* Odd splits: single bytes, block boundaries +-1, primes, empty updates. */
    static const size_t splits[] = {1, 0, 3, 63, 64, 65, 0, 127, 4095, 7919, 1, 65537, 31};
    op_sha256 *h = NULL;
    if (!CHECK_EQ_INT(op_sha256_new(&h), OCIPUSH_OK)) {
        free(data);
        return;
    }
    size_t pos = 0, i = 0;
    int update_rc = 0;
    while (pos < MIB) {
        size_t n = splits[i++ % (sizeof splits / sizeof splits[0])];
        if (n > MIB - pos)
            n = MIB - pos;
        update_rc |= op_sha256_update(h, data + pos, n);
        pos += n;
    }
    CHECK_EQ_INT(update_rc, OCIPUSH_OK);
    char incremental[OCIPUSH_DIGEST_MAX];
    if (CHECK_EQ_INT(op_sha256_finish(h, incremental), OCIPUSH_OK))
        CHECK_EQ_STR(incremental, want);

    /* A finished hash takes nothing more. */
    CHECK_EQ_INT(op_sha256_update(h, "x", 1), OCIPUSH_E_INVALID);
    char again[OCIPUSH_DIGEST_MAX] = "untouched";
    CHECK_EQ_INT(op_sha256_finish(h, again), OCIPUSH_E_INVALID);
    CHECK_EQ_STR(again, "untouched");
    op_sha256_free(h);

    /* An unfinished hash can be freed (valgrind: nothing leaks). */
    h = NULL;
    if (CHECK_EQ_INT(op_sha256_new(&h), OCIPUSH_OK))
        CHECK_EQ_INT(op_sha256_update(h, data, 1000), OCIPUSH_OK);
    op_sha256_free(h);
    op_sha256_free(NULL);

    /* One byte changed: a different digest. */
    data[MIB / 2] ^= 1;
    char changed[OCIPUSH_DIGEST_MAX];
    if (CHECK_EQ_INT(op_sha256_digest(changed, data, MIB), OCIPUSH_OK))
        CHECK(strcmp(changed, want) != 0);
    free(data);
}

static void expect_base64(const void *data, size_t len, const char *want)
{
    char *out = NULL;
    int rc = op_base64_encode(&out, data, len);
    if (CHECK_EQ_INT(rc, OCIPUSH_OK))
        CHECK_EQ_STR(out, want);
    free(out);
}

static void test_base64(void)
{
    expect_base64("user:pass", 9, "dXNlcjpwYXNz");
    expect_base64("", 0, "");
    expect_base64(NULL, 0, "");
    expect_base64("a", 1, "YQ==");
    expect_base64("ab", 2, "YWI=");
    expect_base64("abc", 3, "YWJj");
    expect_base64("\xff", 1, "/w==");
    expect_base64("\xfb\xff", 2, "+/8=");
    expect_base64("\0\0\0", 3, "AAAA");
    expect_base64("Aladdin:open sesame", 19, "QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
}

int main(void)
{
    test_known_digests();
    test_incremental();
    test_base64();
    return check_done();
}
