/* SHA-256 throughput of the two digest backends ocipush can be built with,
 * over the same in-memory buffer, fed in 256 KiB pieces as lib/hasher.c
 * feeds them. bench/run builds and runs it to show what hashing alone costs
 * per GiB next to the push figures.
 *
 * usage: sha256-speed [MIB]   (default 256; prints one line per backend)
 *        sha256-speed --file PATH mbedtls|openssl
 *                               (hashes PATH, read in 256 KiB pieces, with that
 *                               backend and prints the hex digest: what a client
 *                               that hashes beside curl would spend) */
#include <mbedtls/sha256.h>
#include <mbedtls/version.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PIECE (256u * 1024u)

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int hash_mbedtls(const unsigned char *buf, size_t n, unsigned char out[32])
{
    mbedtls_sha256_context c;
    mbedtls_sha256_init(&c);
    int rc = mbedtls_sha256_starts_ret(&c, 0);
    for (size_t o = 0; rc == 0 && o < n; o += PIECE)
        rc = mbedtls_sha256_update_ret(&c, buf + o, n - o < PIECE ? n - o : PIECE);
    rc = rc ? rc : mbedtls_sha256_finish_ret(&c, out);
    mbedtls_sha256_free(&c);
    return rc;
}

static int hash_openssl(const unsigned char *buf, size_t n, unsigned char out[32])
{
    EVP_MD_CTX *e = EVP_MD_CTX_new();
    unsigned int len = 0;
    int ok = e && EVP_DigestInit_ex(e, EVP_sha256(), NULL);
    for (size_t o = 0; ok && o < n; o += PIECE)
        ok = EVP_DigestUpdate(e, buf + o, n - o < PIECE ? n - o : PIECE);
    ok = ok && EVP_DigestFinal_ex(e, out, &len);
    EVP_MD_CTX_free(e);
    return ok ? 0 : -1;
}

static int hash_file(const char *path, const char *backend)
{
    FILE *f = fopen(path, "rb");
    static unsigned char piece[PIECE];
    unsigned char out[32];
    int mbed = strcmp(backend, "mbedtls") == 0;
    if (!mbed && strcmp(backend, "openssl") != 0) {
        fprintf(stderr, "sha256-speed: unknown backend %s (mbedtls or openssl)\n", backend);
        if (f)
            fclose(f);
        return 1;
    }
    if (!f) {
        perror(path);
        return 1;
    }
    mbedtls_sha256_context m;
    EVP_MD_CTX *e = mbed ? NULL : EVP_MD_CTX_new();
    int ok = 1;
    size_t n;
    mbedtls_sha256_init(&m);
    if (mbed)
        ok = mbedtls_sha256_starts_ret(&m, 0) == 0;
    else
        ok = e && EVP_DigestInit_ex(e, EVP_sha256(), NULL);
    while (ok && (n = fread(piece, 1, sizeof piece, f)) > 0)
        ok = mbed ? mbedtls_sha256_update_ret(&m, piece, n) == 0 : EVP_DigestUpdate(e, piece, n);
    ok = ok && !ferror(f);
    if (ok)
        ok = mbed ? mbedtls_sha256_finish_ret(&m, out) == 0 : EVP_DigestFinal_ex(e, out, NULL);
    mbedtls_sha256_free(&m);
    EVP_MD_CTX_free(e);
    fclose(f);
    if (!ok) {
        fprintf(stderr, "sha256-speed: hashing %s failed\n", path);
        return 1;
    }
    for (int i = 0; i < 32; i++)
        printf("%02x", out[i]);
    printf("\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--file") == 0)
        return hash_file(argv[2], argv[3]);
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 256;
    size_t n = mib << 20;
    unsigned char *buf = n ? malloc(n) : NULL;
    if (!buf) {
        fprintf(stderr, "sha256-speed: cannot allocate %zu MiB\n", mib);
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        buf[i] = (unsigned char)(i * 2654435761u >> 13);
    struct {
        const char *name;
        int (*fn)(const unsigned char *, size_t, unsigned char *);
    } backends[] = {{"mbedtls " MBEDTLS_VERSION_STRING, hash_mbedtls},
                    {OPENSSL_VERSION_TEXT, hash_openssl}};
    unsigned char first[32], out[32];
    for (size_t b = 0; b < 2; b++) {
        double best_wall = 0, best_cpu = 0;
        for (int r = 0; r < 3; r++) { /* best of three */
            double w = now(), c = cpu_now();
            if (backends[b].fn(buf, n, out)) {
                fprintf(stderr, "sha256-speed: %s failed\n", backends[b].name);
                return 1;
            }
            w = now() - w;
            c = cpu_now() - c;
            if (r == 0 || w < best_wall)
                best_wall = w, best_cpu = c;
        }
        if (b == 0)
            memcpy(first, out, 32);
        else if (memcmp(first, out, 32) != 0) {
            fprintf(stderr, "sha256-speed: the backends disagree\n");
            return 1;
        }
        printf("%s\t%.0f MB/s\t%.2f s/GiB\t(cpu %.2f s/GiB)\n", backends[b].name,
               (double)n / best_wall / 1e6, best_wall * 1073741824.0 / (double)n,
               best_cpu * 1073741824.0 / (double)n);
    }
    free(buf);
    return 0;
}
