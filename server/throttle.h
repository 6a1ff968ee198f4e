/* The registry's abuse limits as requests meet them: rate-accounts by
 * client address (an IPv6 client by its /64, which one host commonly
 * holds whole), rate-requests by account, and the connection cap each
 * HTTP thread keeps (connections.h). Limits are per instance (DESIGN.md):
 * a deployment-wide one belongs to the load balancer. */
#pragma once

struct evhttp_request;
struct registry;
struct registry_config;

/* Sets registry's limits from config. */
void throttle_open(struct registry *registry, const struct registry_config *config);
void throttle_close(struct registry *registry);

/* Takes one of the limit's tokens for this request: 0 when it may go on,
 * else the seconds for its 429's Retry-After. */
unsigned throttle_account_creation(struct registry *registry, struct evhttp_request *req);
unsigned throttle_terminal_call(struct registry *registry, const char *account);
