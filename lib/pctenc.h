/* Percent-encoding of terminal identifiers in URL path segments. */
#pragma once

#include <stddef.h>

/* Decodes in[0..in_len) into out (NUL-terminated, out_size bytes).
 * 0 on success; -EINVAL for a malformed escape or an encoded NUL;
 * -E2BIG when the result does not fit. */
int pct_decode(const char *in, size_t in_len, char *out, size_t out_size, size_t *out_len);

/* Encodes every byte but RFC 3986's unreserved characters and ':'.
 * Returns a malloc'd string owned by the caller (aborts on OOM). */
char *pct_encode(const char *in);
