/* Untrusted text made safe to show; see untrusted_text.h. */
#include "untrusted_text.h"

#include "xalloc.h"

#include <stdbool.h>
#include <string.h>

size_t utf8_next(const char *s, uint32_t *out_cp)
{
  const unsigned char *u = (const unsigned char *)s;
  size_t len;
  uint32_t cp, min;

  if (u[0] < 0x80) {
    *out_cp = u[0];
    return 1;
  }
  if ((u[0] & 0xe0) == 0xc0)
    len = 2, cp = u[0] & 0x1fu, min = 0x80;
  else if ((u[0] & 0xf0) == 0xe0)
    len = 3, cp = u[0] & 0x0fu, min = 0x800;
  else if ((u[0] & 0xf8) == 0xf0)
    len = 4, cp = u[0] & 0x07u, min = 0x10000;
  else
    goto invalid;
  for (size_t i = 1; i < len; i++) {
    if ((u[i] & 0xc0) != 0x80) /* also stops at the NUL */
      goto invalid;
    cp = cp << 6 | (u[i] & 0x3fu);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    goto invalid;
  *out_cp = cp;
  return len;
invalid:
  *out_cp = 0xfffd;
  return 1;
}

static bool is_unsafe(uint32_t cp)
{
  return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || (cp >= 0x202a && cp <= 0x202e) ||
         (cp >= 0x2066 && cp <= 0x2069);
}

char *text_sanitize(const char *s)
{
  char *out = xmalloc(strlen(s) + 1), *w = out;

  while (*s) {
    uint32_t cp;
    size_t len = utf8_next(s, &cp);

    bool invalid = len == 1 && (unsigned char)*s >= 0x80;

    if (invalid || is_unsafe(cp)) {
      *w++ = '?';
    } else {
      memcpy(w, s, len);
      w += len;
    }
    s += len;
  }
  *w = '\0';
  return out;
}
