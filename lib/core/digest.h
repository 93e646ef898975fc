/* SHA-256 digests. The one file that talks to the crypto library, so the
 * backend (mbedTLS's PSA API today) can change without touching callers. */
#ifndef OP_DIGEST_H
#define OP_DIGEST_H

#include <stddef.h>
#include <stdint.h>

typedef struct op_sha256 op_sha256;

/* 0 or OCIPUSH_E_NOMEM / OCIPUSH_E_INVALID (crypto init failed). */
int op_sha256_new(op_sha256 **out);
int op_sha256_update(op_sha256 *h, const void *data, size_t len);
/* Writes "sha256:<hex>" into out (OCIPUSH_DIGEST_MAX bytes). The hash
 * cannot be updated afterwards. */
int op_sha256_finish(op_sha256 *h, char *out);
void op_sha256_free(op_sha256 *h);

/* One-shot digest of a buffer into out (OCIPUSH_DIGEST_MAX bytes). */
int op_sha256_digest(char *out, const void *data, size_t len);

/* Copy the NUL-terminated digest string `digest` into out (OCIPUSH_DIGEST_MAX
 * bytes), cut to fit: only its own bytes are read, never a whole buffer's
 * worth, since it may be a caller's string shorter than that. */
void op_digest_copy(char *out, const char *digest);

/* Base64 (standard alphabet, padded) of len bytes; *out freed with free(). */
int op_base64_encode(char **out, const void *data, size_t len);

/* Decode standard base64; *out (malloc'd, NUL-terminated) and *out_len.
 * 0, OCIPUSH_E_INVALID, OCIPUSH_E_NOMEM. */
int op_base64_decode(char **out, size_t *out_len, const char *text);

/* The digest backend's one-time initialisation (mbedTLS's PSA crypto),
 * made by the first hash if not before. 0 or OCIPUSH_E_INVALID. */
int op_digest_init(void);

#endif
