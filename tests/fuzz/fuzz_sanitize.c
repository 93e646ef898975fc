/* op_sanitize on any bytes, into buffers of several sizes: the result is a
 * bounded line with no control byte, sanitizing it again changes nothing
 * (so every byte left is printable ASCII or allowed UTF-8), and text that
 * needs no escape and fits comes back as it was. */
#include "buf.h"
#include "fuzz.h"
#include "sanitize.h"

static int needs_nothing(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < size; i++)
        if (data[i] < 0x20 || data[i] > 0x7e)
            return 0;
    return 1;
}

/* `full`: the input sanitized without a bound (4 bytes per byte at most). */
static void one_cap(const uint8_t *data, size_t size, size_t cap, const char *full, size_t full_len)
{
    char out[1100], again[1100];
    size_t n = op_sanitize(out, cap, data, size);
    FUZZ_CHECK(n < cap && n == strlen(out));
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK((unsigned char)out[i] >= 0x20 && (unsigned char)out[i] != 0x7f);
    FUZZ_CHECK(op_sanitize(again, sizeof again, out, n) == n && memcmp(again, out, n) == 0);
    if (needs_nothing(data, size) && size < cap)
        FUZZ_CHECK(n == size && memcmp(out, data, size) == 0);
    /* Whole when it fits; else a prefix of the whole, then "...". */
    if (full_len < cap) {
        FUZZ_CHECK(n == full_len && memcmp(out, full, n) == 0);
    } else if (cap >= 4) {
        FUZZ_CHECK(n >= 3 && memcmp(out + n - 3, "...", 3) == 0);
        FUZZ_CHECK(memcmp(out, full, n - 3) == 0);
        FUZZ_CHECK(n + 16 >= cap); /* cut at most one unit (16 bytes) early */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t caps[] = {1, 2, 3, 4, 5, 8, 17, 64, 301, 1025};
    size_t full_cap = 4 * size + 1;
    char *full = malloc(full_cap);
    FUZZ_CHECK(full != NULL);
    size_t full_len = op_sanitize(full, full_cap, data, size);
    FUZZ_CHECK(full_len < full_cap && full_len >= size);
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++)
        one_cap(data, size, caps[i], full, full_len);
    free(full);
    op_buf b = {0};
    FUZZ_CHECK(op_buf_puts(&b, "x: ") == 0);
    FUZZ_CHECK(op_buf_put_sanitized(&b, data, size, OP_SANITIZE_FIELD_MAX) == 0);
    FUZZ_CHECK(b.len <= 3 + OP_SANITIZE_FIELD_MAX && b.len == strlen(b.data));
    op_buf_free(&b);
    return 0;
}
