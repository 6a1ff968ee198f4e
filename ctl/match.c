/* Resolving TERMINAL arguments; see match.h. */
#include "match.h"

#include <string.h>

int ctl_match_terminal(const struct ctl_terminal *terminals, size_t count, const char *wanted)
{
  size_t len = strlen(wanted);
  int found = CTL_MATCH_NONE;

  for (size_t i = 0; i < count; i++)
    if (strcmp(terminals[i].id, wanted) == 0 || strcmp(terminals[i].path, wanted) == 0)
      return (int)i;
  if (len == 0)
    return CTL_MATCH_NONE;
  for (size_t i = 0; i < count; i++) {
    if (strncmp(terminals[i].id, wanted, len) != 0)
      continue;
    if (found != CTL_MATCH_NONE)
      return CTL_MATCH_AMBIGUOUS;
    found = (int)i;
  }
  return found;
}
