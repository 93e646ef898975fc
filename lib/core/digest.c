#include "alloc.h"
#include "digest.h"

#include <stdlib.h>
#include <string.h>
#include <pthread.h>

#include <mbedtls/base64.h>
#ifndef OCIPUSH_DIGEST_OPENSSL
#include <psa/crypto.h>
#endif

#include "ocipush.h"

#ifdef OCIPUSH_DIGEST_OPENSSL
/* The optional backend (-Ddigest_backend=openssl): OpenSSL's SHA-256 uses the
 * CPU's SHA extensions, about four times mbedTLS 2.28's speed where they
 * exist, and hashing is the client's main cost on a large push. */
#include <openssl/evp.h>

struct op_sha256 {
    EVP_MD_CTX *ctx;
    int active;
};

int op_digest_init(void)
{
    return 0; /* OpenSSL 1.1 and later initialise themselves */
}

int op_sha256_new(op_sha256 **out)
{
    op_sha256 *h = op_calloc(1, sizeof *h);
    if (!h)
        return OCIPUSH_E_NOMEM;
    h->ctx = EVP_MD_CTX_new();
    if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(h->ctx);
        op_free(h);
        return OCIPUSH_E_NOMEM;
    }
    h->active = 1;
    *out = h;
    return 0;
}

int op_sha256_update(op_sha256 *h, const void *data, size_t len)
{
    if (!h->active)
        return OCIPUSH_E_INVALID;
    return len == 0 || EVP_DigestUpdate(h->ctx, data, len) == 1 ? 0 : OCIPUSH_E_INVALID;
}

static int finish_raw(op_sha256 *h, uint8_t raw[32])
{
    unsigned int got = 0;
    return EVP_DigestFinal_ex(h->ctx, raw, &got) == 1 && got == 32 ? 0 : OCIPUSH_E_INVALID;
}

static void release(op_sha256 *h)
{
    EVP_MD_CTX_free(h->ctx);
}
#else
struct op_sha256 {
    psa_hash_operation_t op;
    int active; /* an unfinished operation must be aborted to free it */
};

static pthread_once_t psa_once = PTHREAD_ONCE_INIT;
static psa_status_t psa_init_status = PSA_ERROR_BAD_STATE;

static void psa_init_once(void)
{
    psa_init_status = psa_crypto_init();
}

/* psa_crypto_init() is required before any psa_hash_* call (mbedTLS 3 and 4
 * enforce it). It is idempotent but not thread-safe in 2.28 without
 * MBEDTLS_THREADING, hence the once flag. */
int op_digest_init(void)
{
    pthread_once(&psa_once, psa_init_once);
    return psa_init_status == PSA_SUCCESS ? 0 : OCIPUSH_E_INVALID;
}

int op_sha256_new(op_sha256 **out)
{
    if (op_digest_init())
        return OCIPUSH_E_INVALID;
    op_sha256 *h = op_calloc(1, sizeof *h);
    if (!h)
        return OCIPUSH_E_NOMEM;
    h->op = psa_hash_operation_init();
    if (psa_hash_setup(&h->op, PSA_ALG_SHA_256) != PSA_SUCCESS) {
        op_free(h);
        return OCIPUSH_E_INVALID;
    }
    h->active = 1;
    *out = h;
    return 0;
}

int op_sha256_update(op_sha256 *h, const void *data, size_t len)
{
    if (!h->active)
        return OCIPUSH_E_INVALID;
    if (len == 0)
        return 0;
    return psa_hash_update(&h->op, data, len) == PSA_SUCCESS ? 0 : OCIPUSH_E_INVALID;
}

static int finish_raw(op_sha256 *h, uint8_t raw[32])
{
    size_t got = 0;
    return psa_hash_finish(&h->op, raw, 32, &got) == PSA_SUCCESS && got == 32 ? 0
                                                                              : OCIPUSH_E_INVALID;
}

static void release(op_sha256 *h)
{
    if (h->active)
        psa_hash_abort(&h->op);
}
#endif

static void hex_encode(char *out, const uint8_t *raw, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[2 * len] = '\0';
}

int op_sha256_finish(op_sha256 *h, char *out)
{
    uint8_t raw[32];
    if (!h->active)
        return OCIPUSH_E_INVALID;
    h->active = 0;
    if (finish_raw(h, raw))
        return OCIPUSH_E_INVALID;
    memcpy(out, "sha256:", 7);
    hex_encode(out + 7, raw, sizeof raw);
    return 0;
}

void op_sha256_free(op_sha256 *h)
{
    if (!h)
        return;
    release(h);
    op_free(h);
}

int op_sha256_digest(char *out, const void *data, size_t len)
{
    op_sha256 *h = NULL;
    int rc = op_sha256_new(&h);
    if (rc == 0)
        rc = op_sha256_update(h, data, len);
    if (rc == 0)
        rc = op_sha256_finish(h, out);
    op_sha256_free(h);
    return rc;
}

void op_digest_copy(char *out, const char *digest)
{
    size_t len = strnlen(digest, OCIPUSH_DIGEST_MAX - 1);
    memcpy(out, digest, len);
    out[len] = '\0';
}

int op_base64_encode(char **out, const void *data, size_t len)
{
    size_t need = 0;
    mbedtls_base64_encode(NULL, 0, &need, data, len); /* asks for the size */
    unsigned char *text = op_malloc(need + 1);
    if (!text)
        return OCIPUSH_E_NOMEM;
    size_t written = 0;
    if (mbedtls_base64_encode(text, need + 1, &written, data, len) != 0) {
        op_free(text);
        return OCIPUSH_E_INVALID;
    }
    text[written] = '\0';
    *out = (char *)text;
    return 0;
}

int op_base64_decode(char **out, size_t *out_len, const char *text)
{
    size_t len = strlen(text);
    size_t need = 0;
    int probe = mbedtls_base64_decode(NULL, 0, &need, (const unsigned char *)text, len);
    if (probe == MBEDTLS_ERR_BASE64_INVALID_CHARACTER)
        return OCIPUSH_E_INVALID;
    unsigned char *raw = op_malloc(need + 1);
    if (!raw)
        return OCIPUSH_E_NOMEM;
    size_t written = 0;
    if (mbedtls_base64_decode(raw, need + 1, &written, (const unsigned char *)text, len) != 0) {
        op_free(raw);
        return OCIPUSH_E_INVALID;
    }
    raw[written] = '\0';
    *out = (char *)raw;
    *out_len = written;
    return 0;
}
