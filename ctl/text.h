/* Untrusted text on a terminal. Vendor, model and serial come from the
 * phone's USB descriptors; text output shows them through text_sanitize()
 * (untrusted_text.h) and lines them up by the columns they take. */
#pragma once

#include <stddef.h>

/* Columns s takes on a terminal (wcwidth under the current LC_CTYPE; a
 * character it does not know counts 1). */
size_t ctl_text_width(const char *s);
