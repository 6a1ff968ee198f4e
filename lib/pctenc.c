/* Percent-encoding; see pctenc.h. */
#include "pctenc.h"

#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>

static int hex_digit(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  c = (char)tolower((unsigned char)c);
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

int pct_decode(const char *in, size_t in_len, char *out, size_t out_size, size_t *out_len)
{
  size_t o = 0;

  for (size_t i = 0; i < in_len; i++) {
    char c = in[i];
    if (c == '%') {
      int hi, lo;
      if (in_len - i < 3)
        return -EINVAL;
      hi = hex_digit(in[i + 1]);
      lo = hex_digit(in[i + 2]);
      if (hi < 0 || lo < 0)
        return -EINVAL;
      c = (char)(hi << 4 | lo);
      if (c == '\0')
        return -EINVAL;
      i += 2;
    } else if (c == '\0') {
      return -EINVAL;
    }
    if (o + 1 >= out_size)
      return -E2BIG;
    out[o++] = c;
  }
  if (out_size == 0)
    return -E2BIG;
  out[o] = '\0';
  if (out_len)
    *out_len = o;
  return 0;
}

static bool is_unreserved(unsigned char c)
{
  return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == ':';
}

char *pct_encode(const char *in)
{
  static const char digits[] = "0123456789ABCDEF";
  size_t len = strlen(in);
  char *out = xmalloc(3 * len + 1), *p = out;

  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)in[i];
    if (is_unreserved(c)) {
      *p++ = (char)c;
    } else {
      *p++ = '%';
      *p++ = digits[c >> 4];
      *p++ = digits[c & 0xf];
    }
  }
  *p = '\0';
  return out;
}
