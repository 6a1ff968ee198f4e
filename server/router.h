/* The registry's request router: method and path in, route and terminal
 * identifier out. Pure: no I/O, table-tested. */
#pragma once

#include <stddef.h>

#include "terminal_id.h"

enum route {
  ROUTE_NONE,     /* unknown path: 404 */
  ROUTE_ACCOUNTS, /* /v1/accounts */
  ROUTE_TERMINAL, /* /v1/terminals/{id} */
  ROUTE_BINDING,  /* /v1/terminals/{id}/binding */
  ROUTE_HEALTHZ,  /* /healthz */
  ROUTE_METRICS,  /* /metrics */
  ROUTE_INFO,     /* /v1/info */
  ROUTE_COUNT,
};

enum http_method {
  METHOD_GET,
  METHOD_POST,
  METHOD_PUT,
  METHOD_DELETE,
  METHOD_OTHER,
};

enum route_verdict {
  ROUTE_OK,
  ROUTE_NOT_FOUND,  /* 404 */
  ROUTE_BAD_METHOD, /* 405 */
  ROUTE_BAD_ID,     /* 400: malformed percent-encoding or an unacceptable id */
};

struct route_match {
  enum route route;
  char terminal_id[TERMINAL_ID_MAX + 1]; /* decoded; set for terminal routes */
  size_t terminal_id_len;
};

/* Matches path (without query string; len bytes) and method. */
enum route_verdict router_match(enum http_method method, const char *path, size_t len,
                                struct route_match *out_match);

/* The route's template for logs and metric labels: never a raw path. */
const char *router_template(enum route route);
/* "GET, HEAD" style list for the Allow header of a 405. */
const char *router_allowed_methods(enum route route);
