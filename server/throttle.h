/* The registry's abuse limits as requests meet them: rate-accounts by
 * client address (an IPv6 client by its /64, which one host commonly
 * holds whole), rate-requests by account, and the connection cap each
 * HTTP thread keeps (connections.h). Limits are per instance (DESIGN.md):
 * a deployment-wide one belongs to the load balancer. */
#pragma once

struct evhttp_request;
struct registry_config;
struct throttle;

/* The limits config sets, and the connection cap shared out among its
 * threads (*out_connections_per_thread). */
struct throttle *throttle_new(const struct registry_config *config,
                              unsigned *out_connections_per_thread);
void throttle_free(struct throttle *throttle);

/* Takes one of the limit's tokens for this request: 0 when it may go on,
 * else the seconds for its 429's Retry-After. */
unsigned throttle_account_creation(struct throttle *throttle, struct evhttp_request *req);
unsigned throttle_terminal_call(struct throttle *throttle, const char *account);
