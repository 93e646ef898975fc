#include "sanitize.h"

#include <string.h>

/* The length of the valid, shortest-form UTF-8 sequence at p (a scalar
 * value: no surrogate, at most U+10FFFF) and its code point; 0 if none. */
static size_t utf8_sequence(const unsigned char *p, size_t left, unsigned long *cp)
{
    unsigned char c = p[0];
    size_t n;
    unsigned long v, min;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, v = c & 0x1fu, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, v = c & 0x0fu, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, v = c & 0x07u, min = 0x10000;
    else
        return 0;
    if (left < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (p[i] & 0x3fu);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return n;
}

/* Code points a terminal acts on (C1 controls: CSI is U+009B) or that make
 * a line look other than it is (separators, bidirectional controls). */
static int acts_on_display(unsigned long cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0x200e || cp == 0x200f || cp == 0x2028 ||
           cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

static size_t escape_bytes(char *unit, const unsigned char *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        unit[4 * i] = '\\';
        unit[4 * i + 1] = 'x';
        unit[4 * i + 2] = hex[p[i] >> 4];
        unit[4 * i + 3] = hex[p[i] & 15];
    }
    return 4 * n;
}

/* The next character of the input as it is shown (at most 16 bytes, into
 * unit, its length into *unit_len); returns the input bytes it takes. */
static size_t next_unit(const unsigned char *p, size_t left, char unit[16], size_t *unit_len)
{
    unsigned long cp = 0;
    if (p[0] >= 0x20 && p[0] < 0x7f) {
        unit[0] = (char)p[0];
        *unit_len = 1;
        return 1;
    }
    size_t n = p[0] >= 0x80 ? utf8_sequence(p, left, &cp) : 0;
    if (n && !acts_on_display(cp)) {
        memcpy(unit, p, n);
        *unit_len = n;
        return n;
    }
    n = n ? n : 1;
    *unit_len = escape_bytes(unit, p, n);
    return n;
}

size_t op_sanitize(char *out, size_t cap, const void *text, size_t len)
{
    static const char more[] = "...";
    if (cap == 0)
        return 0;
    const unsigned char *p = text;
    size_t max = cap - 1, o = 0, i = 0;
    /* The output length after the last character that still leaves room
     * for "...", where the text is cut if the rest does not fit. */
    size_t cut = 0;
    while (i < len) {
        char unit[16];
        size_t unit_len;
        size_t used = next_unit(p + i, len - i, unit, &unit_len);
        if (o + unit_len > max) {
            size_t dots = max - cut < 3 ? max - cut : 3;
            memcpy(out + cut, more, dots);
            o = cut + dots;
            break;
        }
        memcpy(out + o, unit, unit_len);
        o += unit_len;
        i += used;
        if (o + 3 <= max)
            cut = o;
    }
    out[o] = '\0';
    return o;
}

int op_buf_put_sanitized(op_buf *b, const void *text, size_t len, size_t max)
{
    char clean[4097];
    if (max > sizeof clean - 1)
        max = sizeof clean - 1;
    size_t n = op_sanitize(clean, max + 1, text, len);
    return n ? op_buf_append(b, clean, n) : 0;
}
