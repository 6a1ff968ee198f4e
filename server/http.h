/* The registry's HTTP layer: one evhttp per thread, all sharing one
 * struct registry, which is read-only once the threads run. */
#pragma once

#include <event2/http.h>
#include <stddef.h>
#include <stdint.h>

#include "backend.h"

#define REGISTRY_MAX_BODY 4096         /* our own limit: larger is 413 */
#define REGISTRY_MAX_EVHTTP_BODY 65536 /* evhttp drops the connection beyond this */
#define REGISTRY_MAX_HEADERS 8192
#define REGISTRY_TIMEOUT_S 10

struct account_cache;
struct hash_hmac_key;
struct throttle;
struct tls;

struct registry {
  struct backend *backend;
  struct account_cache *accounts;     /* tokens already authenticated */
  struct hash_hmac_key *terminal_mac; /* keys the hashes of terminal identifiers */
  struct tls *tls;                    /* NULL: plain HTTP */
  uint64_t binding_ttl_s;             /* told by /v1/info; 0: bindings never lapse */
  struct throttle *throttle;          /* rate-accounts, rate-requests (throttle.h) */
  unsigned connections_per_thread;    /* max-connections shared out */
};

/* Sets limits and timeouts and installs the request handler. */
void http_configure(struct evhttp *http, struct registry *registry);
