/* Masking credentials in URIs; see uri_mask.h. */
#include "uri_mask.h"

#include "xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The end of the authority: the first '/', '?' or '#' after the scheme. */
static const char *authority_end(const char *authority)
{
  return authority + strcspn(authority, "/?#");
}

/* The copy with every "password=" value of the query masked. */
static char *mask_password_params(char *uri)
{
  char *query = strchr(uri, '?');

  for (char *p = query; p; p = strchr(p + 1, '&')) {
    char *value = p + 1, *masked;
    size_t len;
    if (strncasecmp(value, "password=", 9) != 0)
      continue;
    value += 9;
    len = strcspn(value, "&#");
    masked = xasprintf("%.*s****%s", (int)(value - uri), uri, value + len);
    p = masked + (p - uri);
    free(uri);
    uri = masked;
  }
  return uri;
}

char *uri_mask_credentials(const char *uri)
{
  const char *scheme_end = strstr(uri, "://");
  const char *authority = scheme_end ? scheme_end + 3 : uri;
  const char *end = authority_end(authority);
  const char *at = NULL;
  char *masked;

  for (const char *p = authority; p < end; p++)
    if (*p == '@')
      at = p;
  if (at)
    masked = xasprintf("%.*s****%s", (int)(authority - uri), uri, at);
  else
    masked = xstrdup(uri);
  return mask_password_params(masked);
}
