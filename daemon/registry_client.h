/* The remote check: an asynchronous client of phonebind-registry, driven by
 * libcurl's multi-socket interface inside the daemon's libevent loop. The
 * daemon never blocks on the network: every call returns at once and its
 * answer arrives later through a callback run from the loop. */
#pragma once

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

#include "registry_answer.h"

struct registry_client;
struct registry_call;

typedef void (*registry_done_fn)(const struct registry_answer *answer, void *userdata);

struct registry_client_options {
  const char *url;        /* base URL, e.g. "http://127.0.0.1:8470"; copied */
  const char *token;      /* bearer token; NULL until an account exists; copied */
  long timeout_ms;        /* whole request; 0 means 5000 */
  unsigned max_in_flight; /* concurrent requests; more are queued in order; 0 means 32 */
  const char *ca_file;    /* verify https:// by this CA instead of the system's; copied */
  const char *pinned_key; /* and its public key (libcurl's sha256//BASE64 form); copied */
};

/* True when url names a loopback host (127.0.0.0/8, ::1, localhost):
 * plain http:// is allowed there only, unless the administrator says. */
bool registry_url_is_loopback(const char *url);
/* True for an https:// URL. */
bool registry_url_is_tls(const char *url);

int registry_client_new(struct event_base *base, const struct registry_client_options *options,
                        struct registry_client **out_client);
/* Cancels every outstanding call (their callbacks are not run), then frees. */
void registry_client_free(struct registry_client *client);
int registry_client_set_token(struct registry_client *client, const char *token);
/* Called for every answered or failed call but info's (which carries no
 * token), before its own callback: the one place that sees the
 * registry's health and the token's fate. */
typedef void (*registry_observe_fn)(const struct registry_answer *answer, void *userdata);
void registry_client_set_observer(struct registry_client *client, registry_observe_fn observe,
                                  void *userdata);

/* Each starts one call. 0 or -errno (then done is never run). done runs
 * exactly once, from the event loop, never from inside the starting call,
 * unless the call is cancelled first. out_call may be NULL. */
int registry_client_lookup(struct registry_client *client, const char *terminal_id,
                           registry_done_fn done, void *userdata, struct registry_call **out_call);
/* seq: the request's Phonebind-Seq; 0 sends none. */
int registry_client_claim(struct registry_client *client, const char *terminal_id, uint64_t seq,
                          registry_done_fn done, void *userdata, struct registry_call **out_call);
int registry_client_release(struct registry_client *client, const char *terminal_id, uint64_t seq,
                            registry_done_fn done, void *userdata, struct registry_call **out_call);
int registry_client_create_account(struct registry_client *client, registry_done_fn done,
                                   void *userdata, struct registry_call **out_call);
/* GET /v1/info: the registry's binding TTL (answer->binding_ttl_s). */
int registry_client_info(struct registry_client *client, registry_done_fn done, void *userdata,
                         struct registry_call **out_call);

/* Drops a call whose answer nobody wants any more (the phone went away):
 * its callback is not run. Must not be called after the callback ran. */
void registry_call_cancel(struct registry_call *call);
