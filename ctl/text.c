/* Measuring untrusted text; see text.h. */
#include "text.h"

#include "untrusted_text.h"

#include <wchar.h>

size_t ctl_text_width(const char *s)
{
  size_t width = 0;

  while (*s) {
    uint32_t cp;
    int w;

    s += utf8_next(s, &cp);
    w = wcwidth((wchar_t)cp);
    width += w < 0 ? 1 : (size_t)w;
  }
  return width;
}
