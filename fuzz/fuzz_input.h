/* Small helpers for the fuzz targets: an input as a C string, or cut into
 * fields at newlines. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The input as a NUL-terminated copy (the caller frees it). */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
  char *s = malloc(size + 1);

  if (!s)
    abort();
  memcpy(s, data, size);
  s[size] = '\0';
  return s;
}

/* The next field of *cursor up to a newline (or the end), NUL-terminated
 * in place; "" once the input is used up. */
static inline char *fuzz_field(char **cursor)
{
  char *field = *cursor, *newline = strchr(field, '\n');

  if (newline) {
    *newline = '\0';
    *cursor = newline + 1;
  } else {
    *cursor = field + strlen(field);
  }
  return field;
}
