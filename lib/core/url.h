/* Pure helpers for the URLs and headers of the upload protocol: resolving an
 * upload Location, adding a query parameter, comparing origins, parsing Range.
 * No I/O, so they can be fuzzed. */
#ifndef OP_URL_H
#define OP_URL_H

#include <stdint.h>

#include "buf.h"

/* Resolve `location` (absolute, scheme-relative, absolute-path or relative)
 * against the absolute URL `base`, keeping its query string exactly.
 * *out is malloc'd. 0, OCIPUSH_E_INVALID, OCIPUSH_E_NOMEM. */
int op_url_resolve(char **out, const char *base, const char *location);

/* Append value percent-encoded (all but unreserved characters). */
int op_url_encode(op_buf *out, const char *value);

/* url + ("?" or "&") + key=percent-encoded value. *out malloc'd. */
int op_url_add_query(char **out, const char *url, const char *key, const char *value);

/* 1 when both absolute URLs have the same scheme, host and port (default
 * ports made explicit, host compared case-insensitively), else 0. */
int op_url_same_origin(const char *a, const char *b);

/* 1 when `url` is an absolute http or https URL with a host, all of it
 * printable ASCII (no space, control or non-ASCII byte), else 0: the only
 * URLs ocipush ever requests (upload Locations, redirects, token realms). */
int op_url_is_http(const char *url);

/* The length of the RFC 3986 scheme `url` starts with (before its ':'), 0
 * when it has none. */
size_t op_url_scheme_len(const char *url);

/* Parse an upload Range header: "0-N", "bytes=0-N", and Quay's "0--1" or
 * "bytes=0--1" for an empty upload. On success *out_next is the offset of
 * the next byte the registry expects (N+1, or 0 for an empty upload).
 * 0 or OCIPUSH_E_INVALID. */
int op_range_parse(uint64_t *out_next, const char *value);

#endif
