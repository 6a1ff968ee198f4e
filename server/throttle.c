/* Abuse limits; see limits.h. */
#include "throttle.h"

#include "config.h"
#include "connections.h"
#include "rate_limit.h"
#include "xalloc.h"

#include <event2/http.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* Buckets per limit: 16384 × 24 bytes, whatever the number of clients. */
#define RATE_SLOTS 16384

static double monotonic_seconds(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct throttle {
  struct rate_limit *accounts; /* rate-accounts, by client address; NULL: none */
  struct rate_limit *requests; /* rate-requests, by account */
};

struct throttle *throttle_new(const struct registry_config *config,
                              unsigned *out_connections_per_thread)
{
  struct throttle *throttle = xcalloc(1, sizeof *throttle);
  unsigned threads = config->threads > 0 ? (unsigned)config->threads : 1;

  throttle->accounts = rate_limit_new(config->rate_accounts, RATE_SLOTS);
  throttle->requests = rate_limit_new(config->rate_requests, RATE_SLOTS);
  *out_connections_per_thread = (config->max_connections + threads - 1) / threads;
  connections_reserve_fds(config->max_connections);
  return throttle;
}

void throttle_free(struct throttle *throttle)
{
  if (!throttle)
    return;
  rate_limit_free(throttle->accounts);
  rate_limit_free(throttle->requests);
  free(throttle);
}

/* The client's address as a key: an IPv4 address, an IPv6 /64 (an
 * IPv4-mapped one is its IPv4 address). */
static size_t address_key(struct evhttp_request *req, uint8_t key[9])
{
  struct evhttp_connection *evcon = evhttp_request_get_connection(req);
  const struct sockaddr *sa = evcon ? evhttp_connection_get_addr(evcon) : NULL;

  if (sa && sa->sa_family == AF_INET) {
    key[0] = 4;
    memcpy(key + 1, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
    return 5;
  }
  if (sa && sa->sa_family == AF_INET6) {
    const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(a)) {
      key[0] = 4;
      memcpy(key + 1, a->s6_addr + 12, 4);
      return 5;
    }
    key[0] = 6;
    memcpy(key + 1, a->s6_addr, 8);
    return 9;
  }
  key[0] = 0; /* no address known: one bucket for all such */
  return 1;
}

unsigned throttle_account_creation(struct throttle *throttle, struct evhttp_request *req)
{
  uint8_t key[9];
  size_t len;

  if (!throttle->accounts)
    return 0;
  len = address_key(req, key);
  return rate_limit_take(throttle->accounts, key, len, monotonic_seconds());
}

unsigned throttle_terminal_call(struct throttle *throttle, const char *account)
{
  return rate_limit_take(throttle->requests, account, strlen(account), monotonic_seconds());
}
