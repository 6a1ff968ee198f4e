/* Text that comes from a device (USB vendor, model and serial strings):
 * a hostile or broken phone can put escape sequences there that repaint a
 * terminal, newlines that forge log lines, or bytes that are not UTF-8,
 * which D-Bus refuses. Pure functions over NUL-terminated strings. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Length of the UTF-8 sequence at s (1 for a byte that starts none, with
 * *out_cp = U+FFFD). s must not be at its terminating NUL. */
size_t utf8_next(const char *s, uint32_t *out_cp);

/* A copy with control characters (C0, DEL, C1), bidirectional overrides
 * and invalid UTF-8 replaced by '?': valid UTF-8, one line, safe to show.
 * Owned by the caller. */
char *text_sanitize(const char *s);
