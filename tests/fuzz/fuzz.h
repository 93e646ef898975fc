/* Shared by the fuzz targets: the libFuzzer entry point, a NUL-terminated
 * copy of the input and an invariant check that aborts (a crash to libFuzzer,
 * a failed test to the replay driver). */
#ifndef OP_FUZZ_H
#define OP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond) ((cond) ? (void)0 : fuzz_fail_(#cond, __FILE__, __LINE__))

static inline void fuzz_fail_(const char *what, const char *file, int line)
{
    fprintf(stderr, "%s:%d: invariant failed: %s\n", file, line, what);
    abort();
}

/* data[0..size) as a malloc'd C string (shorter if data holds a NUL). */
static inline char *fuzz_strndup(const void *data, size_t size)
{
    char *s = malloc(size + 1);
    FUZZ_CHECK(s != NULL);
    if (size)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

#endif
