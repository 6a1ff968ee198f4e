/* Shortening and redacting identifiers; see redact.h. Lengths count
 * characters, not bytes, so a cut never splits a UTF-8 sequence. */
#include "redact.h"

#include "untrusted_text.h"
#include "xalloc.h"

#include <stdint.h>
#include <string.h>

static size_t count_chars(const char *s, size_t bytes)
{
  size_t n = 0;

  for (size_t i = 0; i < bytes && s[i];) {
    uint32_t cp;
    i += utf8_next(s + i, &cp);
    n++;
  }
  return n;
}

/* Byte offset of the n-th character of s (its length when shorter). */
static size_t offset_of_char(const char *s, size_t n)
{
  size_t i = 0;

  while (n-- > 0 && s[i]) {
    uint32_t cp;
    i += utf8_next(s + i, &cp);
  }
  return i;
}

char *ctl_redact(const char *s, size_t keep)
{
  size_t chars = count_chars(s, SIZE_MAX), masked = chars > keep ? chars - keep : chars;
  const char *tail = s + offset_of_char(s, masked);
  char *out = xmalloc(masked + strlen(tail) + 1);

  memset(out, '*', masked);
  strcpy(out + masked, tail);
  return out;
}

char *ctl_shorten(const char *id, size_t len)
{
  return len ? xstrndup(id, offset_of_char(id, len)) : xstrdup(id);
}

size_t ctl_unique_prefix_len(const char *const *ids, size_t count, size_t min)
{
  size_t need = min;

  for (size_t i = 0; i < count; i++)
    for (size_t j = i + 1; j < count; j++) {
      size_t common = 0, chars;

      while (ids[i][common] && ids[i][common] == ids[j][common])
        common++;
      /* back to the start of the character in which they differ */
      while (common > 0 && (ids[i][common] & 0xc0) == 0x80)
        common--;
      chars = count_chars(ids[i], common) + 1;
      if (chars > need)
        need = chars;
    }
  return need;
}
