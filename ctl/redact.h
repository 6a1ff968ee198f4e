/* How identifiers are shown: shortened (tables, --short) or redacted
 * (--redact, for pasting into bug reports). Pure functions. */
#pragma once

#include <stddef.h>

/* Characters of a handle that tables and --short show at the least. */
#define CTL_SHORT_ID_LEN 8
/* Characters --redact leaves visible at the end of a serial or account. */
#define CTL_REDACT_KEEP 4

/* s with all but its last `keep` characters replaced by '*'. A string of
 * `keep` characters or fewer is masked whole: showing all of it would not
 * be redacting it. Owned by the caller. */
char *ctl_redact(const char *s, size_t keep);

/* The first len characters of id (all of it when shorter, or when len
 * is 0). */
char *ctl_shorten(const char *id, size_t len);

/* The fewest characters, at least min, that tell each of the ids from the
 * others, so that a shortened Id in a table can be typed back as TERMINAL. */
size_t ctl_unique_prefix_len(const char *const *ids, size_t count, size_t min);
