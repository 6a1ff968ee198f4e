/* A phone's display name; see device_name.h. */
#include "device_name.h"

#include "untrusted_text.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

#define NAME_MAX_CHARS 40

/* s without surrounding spaces, sanitised; NULL when nothing is left. */
static char *clean(const char *s)
{
  char *safe, *start, *end;

  if (!s)
    return NULL;
  safe = text_sanitize(s);
  start = safe + strspn(safe, " ");
  end = start + strlen(start);
  while (end > start && end[-1] == ' ')
    end--;
  if (end == start) {
    free(safe);
    return NULL;
  }
  *end = '\0';
  memmove(safe, start, (size_t)(end - start) + 1);
  return safe;
}

/* Cuts a name of more than NAME_MAX_CHARS characters (code points, not
 * bytes: a cut inside a UTF-8 sequence would make it invalid). */
static char *shorten(char *name)
{
  size_t chars = 0, at = 0, cut = 0;
  uint32_t cp;
  char *out;

  while (name[at]) {
    if (chars == NAME_MAX_CHARS - 1)
      cut = at;
    at += utf8_next(name + at, &cp);
    chars++;
  }
  if (chars <= NAME_MAX_CHARS)
    return name;
  name[cut] = '\0';
  out = xasprintf("%s…", name);
  free(name);
  return out;
}

char *device_name(const char *vendor, const char *model)
{
  char *name = clean(model), *maker;

  if (name)
    return shorten(name);
  maker = clean(vendor);
  if (!maker)
    return xstrdup("A phone");
  name = shorten(maker);
  maker = xasprintf("%s phone", name);
  free(name);
  return maker;
}
