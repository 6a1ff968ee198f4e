/* Renewing the bindings of attached phones (binding-ttl, DESIGN.md
 * "Lifecycle"): the registry lets a binding lapse when its owner has not
 * renewed it (PUT) for the TTL that GET /v1/info tells. While a phone is
 * attached and connected, its binding is renewed at least every third of
 * the TTL.
 *
 * One timer for every phone: when the first phone is due, every phone
 * past half its interval goes along, so that however many phones are
 * attached the daemon wakes at most twice per interval, not once per
 * phone. A leaf: phones are the hub's keys, and a renewal goes out
 * through the handler (the hub makes the confirming claim). */
#pragma once

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct clock;
struct registry_client;
struct renewer;

/* One phone, for renew_plan. */
struct renew_entry {
  uint64_t renewed_us; /* when its binding was last renewed; 0: unknown, renew at once */
  bool due;            /* out: renew it now */
};

/* Pure: marks the entries to renew at now_us and returns when to look
 * again (UINT64_MAX: never). An entry is due once interval_us has passed
 * since its renewal; when one is, every entry past half its interval
 * goes along (so wake-ups are at least half an interval apart). A due
 * entry counts as renewed at now_us. interval_us 0: bindings never
 * lapse, nothing is due. */
uint64_t renew_plan(struct renew_entry *entries, size_t count, uint64_t now_us,
                    uint64_t interval_us);

struct renewer_options {
  struct event_base *base;
  struct registry_client *registry; /* asked for /v1/info; NULL: only renewer_set_ttl */
  const struct clock *clock;
  double retry_initial_s, retry_max_s; /* while /v1/info cannot be had */
};

struct renewer_handlers {
  /* key's binding is due: claim it again. May untrack any key. */
  void (*due)(const char *key, void *userdata);
  void *userdata;
};

struct renewer *renewer_new(const struct renewer_options *options);
void renewer_free(struct renewer *renewer);
/* Asks the registry for its TTL (again every hour, or every interval
 * when that is shorter, so that a changed TTL is followed); handlers
 * hear of due phones from now on. */
void renewer_start(struct renewer *renewer, const struct renewer_handlers *handlers);
/* The TTL in seconds (0: bindings never lapse), as /v1/info says. */
void renewer_set_ttl(struct renewer *renewer, uint64_t ttl_s);
uint64_t renewer_ttl_s(const struct renewer *renewer);

/* key's binding was renewed at renewed_us (0: not known: renew at once);
 * it is renewed from now on while tracked. Both do nothing on a NULL
 * renewer (no renewals). */
void renewer_track(struct renewer *renewer, const char *key, uint64_t renewed_us);
void renewer_untrack(struct renewer *renewer, const char *key);
bool renewer_is_tracked(const struct renewer *renewer, const char *key);
/* Renews what is due now and sets the timer (a resume from suspend, or
 * the timer itself). */
void renewer_check(struct renewer *renewer);
/* When the timer fires next, wall-clock microseconds (UINT64_MAX: not
 * armed): one timer, whatever the number of phones. */
uint64_t renewer_next_wake_us(const struct renewer *renewer);
