/* Pure checks for text that ocipush puts into a request line, a header or a
 * manifest on someone's behalf: what a caller, a file or a server supplies
 * is refused here before it can forge a header or reach a terminal. No I/O,
 * so they can be fuzzed. Each returns 0 when the text passes, else
 * OCIPUSH_E_INVALID; NULL never passes. */
#ifndef OP_VALIDATE_H
#define OP_VALIDATE_H

/* Longest media type accepted, parameters included: RFC 6838 caps type and
 * subtype at 127 characters each; the cap keeps parameters from making a
 * header without bound. */
#define OP_MEDIA_TYPE_MAX 1024

/* RFC 6838 type "/" subtype (restricted names, so "+suffix" and facets are
 * in), then any "; name=value" parameters (RFC 9110: a token name, a token or
 * quoted-string value), printable ASCII only: ocipush_media_type_validate. */
int op_media_type_check(const char *text);

/* Text for a header value or a JSON key: at least one byte, none of them a
 * control character (0x00-0x1f, 0x7f). Bytes from 0x80 up pass (UTF-8). */
int op_header_text_check(const char *text);

/* An RFC 6750 b64token, as a Bearer token must be:
 * 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=". */
int op_b64token_check(const char *text);

#endif
