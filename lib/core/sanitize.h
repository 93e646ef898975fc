/* Text from outside (a registry's error code and message, a plain error body,
 * a header value, a URL it sent) made fit for an error message, a log line
 * and a terminal: one line, nothing a terminal would act on, bounded.
 * Pure, so it can be fuzzed. */
#ifndef OP_SANITIZE_H
#define OP_SANITIZE_H

#include <stddef.h>

#include "buf.h"

/* The longest a single outside field (a message, a code) may take in an
 * error message: enough for any real registry's message. */
#define OP_SANITIZE_FIELD_MAX 300

/*
 * Write `text` (len bytes, NULs allowed) into out[0..cap) as a NUL-terminated
 * string: printable ASCII and valid UTF-8 kept; every other byte written as
 * \xNN (lower-case hex): C0 controls (so CR, LF, TAB, ESC), DEL, bytes of
 * invalid or overlong UTF-8, surrogates, and the code points that change how
 * a terminal or viewer shows the text: the C1 controls U+0080..U+009F, the
 * line and paragraph separators U+2028 and U+2029, and the bidirectional
 * controls U+200E, U+200F, U+202A..U+202E and U+2066..U+2069 (each of their
 * bytes escaped). A backslash is kept as it is, so sanitizing the result
 * again changes nothing. When the result does not fit in cap - 1 bytes it is
 * cut between two characters (never inside an escape or a UTF-8 sequence)
 * and ends with "...". Returns the length written. cap 0 writes nothing.
 */
size_t op_sanitize(char *out, size_t cap, const void *text, size_t len);

/* Append `text` sanitized as op_sanitize() does, in at most `max` bytes
 * (at most 4096). 0 or OCIPUSH_E_NOMEM (the buffer left as it was). */
int op_buf_put_sanitized(op_buf *b, const void *text, size_t len, size_t max);

#endif
