/* Untrusted text on a terminal. Vendor, model and serial come from the
 * phone's USB descriptors: a hostile device can put escape sequences there
 * that would repaint or retitle the user's terminal, so text output shows
 * them neutralised. Pure functions over UTF-8 strings. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Length of the UTF-8 sequence at s (1 for a byte that starts none, with
 * *out_cp = U+FFFD). s must not be at its terminating NUL. */
size_t ctl_utf8_next(const char *s, uint32_t *out_cp);

/* A copy with control characters (C0, DEL, C1), bidirectional overrides
 * and invalid UTF-8 replaced by '?'. Owned by the caller. */
char *ctl_text_sanitize(const char *s);

/* Columns s takes on a terminal (wcwidth under the current LC_CTYPE; a
 * character it does not know counts 1). */
size_t ctl_text_width(const char *s);
