/* Request routing; see router.h. */
#include "router.h"

#include "pctenc.h"

#include <string.h>

#define TERMINALS_PREFIX "/v1/terminals/"
#define BINDING_SUFFIX "/binding"

static const struct {
  const char *template;
  const char *allowed;
  unsigned methods; /* bit per enum http_method */
} routes[ROUTE_COUNT] = {
  [ROUTE_NONE] = {"other", "", 0},
  [ROUTE_ACCOUNTS] = {"/v1/accounts", "POST", 1u << METHOD_POST},
  [ROUTE_TERMINAL] = {"/v1/terminals/{id}", "GET", 1u << METHOD_GET},
  [ROUTE_BINDING] = {"/v1/terminals/{id}/binding", "PUT, DELETE",
                     1u << METHOD_PUT | 1u << METHOD_DELETE},
  [ROUTE_HEALTHZ] = {"/healthz", "GET", 1u << METHOD_GET},
  [ROUTE_METRICS] = {"/metrics", "GET", 1u << METHOD_GET},
  [ROUTE_INFO] = {"/v1/info", "GET", 1u << METHOD_GET},
};

static enum route match_fixed(const char *path, size_t len)
{
  static const struct {
    const char *path;
    enum route route;
  } fixed[] = {
    {"/v1/accounts", ROUTE_ACCOUNTS},
    {"/healthz", ROUTE_HEALTHZ},
    {"/metrics", ROUTE_METRICS},
    {"/v1/info", ROUTE_INFO},
  };
  for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++)
    if (strlen(fixed[i].path) == len && memcmp(fixed[i].path, path, len) == 0)
      return fixed[i].route;
  return ROUTE_NONE;
}

/* Splits "/v1/terminals/{id}[/binding]"; the id segment holds no '/'. */
static enum route match_terminal(const char *path, size_t len, const char **out_id,
                                 size_t *out_id_len)
{
  const size_t prefix = strlen(TERMINALS_PREFIX), suffix = strlen(BINDING_SUFFIX);
  const char *id = path + prefix, *slash;
  size_t rest;

  if (len <= prefix || memcmp(path, TERMINALS_PREFIX, prefix) != 0)
    return ROUTE_NONE;
  rest = len - prefix;
  slash = memchr(id, '/', rest);
  if (!slash) {
    *out_id = id;
    *out_id_len = rest;
    return ROUTE_TERMINAL;
  }
  if ((size_t)(path + len - slash) != suffix || memcmp(slash, BINDING_SUFFIX, suffix) != 0 ||
      slash == id)
    return ROUTE_NONE;
  *out_id = id;
  *out_id_len = (size_t)(slash - id);
  return ROUTE_BINDING;
}

enum route_verdict router_match(enum http_method method, const char *path, size_t len,
                                struct route_match *out_match)
{
  const char *id = NULL;
  size_t id_len = 0;
  enum route route = match_fixed(path, len);

  out_match->terminal_id[0] = '\0';
  out_match->terminal_id_len = 0;
  if (route == ROUTE_NONE)
    route = match_terminal(path, len, &id, &id_len);
  out_match->route = route;
  if (route == ROUTE_NONE)
    return ROUTE_NOT_FOUND;
  if (!(routes[route].methods & (1u << method)))
    return ROUTE_BAD_METHOD;
  if (!id)
    return ROUTE_OK;
  if (pct_decode(id, id_len, out_match->terminal_id, sizeof out_match->terminal_id,
                 &out_match->terminal_id_len) < 0 ||
      !terminal_id_is_acceptable(out_match->terminal_id, out_match->terminal_id_len))
    return ROUTE_BAD_ID;
  return ROUTE_OK;
}

const char *router_template(enum route route)
{
  return routes[route].template;
}

const char *router_allowed_methods(enum route route)
{
  return routes[route].allowed;
}
