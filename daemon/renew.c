/* Renewing bindings before they lapse; see renew.h. */
#include "renew.h"

#include "backoff.h"
#include "clock.h"
#include "log.h"
#include "registry_client.h"
#include "strmap.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

#define INFO_REFRESH_MAX_S 3600u

struct tracked {
  char *key;
  uint64_t renewed_us;
};

struct renewer {
  struct renewer_options options;
  struct renewer_handlers handlers;
  struct strmap *tracked; /* struct tracked *, by key */
  uint64_t ttl_s;
  uint64_t next_wake_us; /* UINT64_MAX: the timer is not armed */
  struct event *timer;   /* the one timer of every phone's renewal */
  struct event *info_timer;
  struct registry_call *info_call;
  struct backoff info_backoff;
};

static uint64_t age_us(uint64_t renewed_us, uint64_t now_us)
{
  return now_us > renewed_us ? now_us - renewed_us : 0;
}

uint64_t renew_plan(struct renew_entry *entries, size_t count, uint64_t now_us,
                    uint64_t interval_us)
{
  uint64_t next = UINT64_MAX;
  bool any_due = false;

  for (size_t i = 0; i < count; i++) {
    entries[i].due = false;
    if (interval_us && age_us(entries[i].renewed_us, now_us) >= interval_us)
      any_due = true;
  }
  if (!interval_us)
    return UINT64_MAX;
  for (size_t i = 0; i < count; i++) {
    uint64_t renewed = entries[i].renewed_us;

    if (any_due && age_us(renewed, now_us) >= interval_us / 2) {
      entries[i].due = true;
      renewed = now_us;
    }
    if (renewed + interval_us < next)
      next = renewed + interval_us;
  }
  return next;
}

static uint64_t interval_us(const struct renewer *renewer)
{
  return renewer->ttl_s * 1000000u / 3;
}

static void arm(struct renewer *renewer, uint64_t wake_us)
{
  uint64_t now = clock_now_us(renewer->options.clock);
  uint64_t delay = wake_us > now ? wake_us - now : 0;
  struct timeval tv = {(time_t)(delay / 1000000u), (suseconds_t)(delay % 1000000u)};

  renewer->next_wake_us = wake_us;
  if (wake_us == UINT64_MAX || !renewer->handlers.due) {
    renewer->next_wake_us = UINT64_MAX;
    evtimer_del(renewer->timer);
    return;
  }
  evtimer_add(renewer->timer, &tv);
}

/* The due keys, copied: a handler may untrack (and so free) any entry. */
static char **plan_now(struct renewer *renewer, size_t *out_due)
{
  size_t count, due = 0;
  struct tracked **all = (struct tracked **)strmap_values(renewer->tracked, &count);
  struct renew_entry *entries = xcalloc(count ? count : 1, sizeof *entries);
  char **keys = xcalloc(count ? count : 1, sizeof *keys);
  uint64_t now = clock_now_us(renewer->options.clock), next;

  for (size_t i = 0; i < count; i++)
    entries[i].renewed_us = all[i]->renewed_us;
  next = renew_plan(entries, count, now, interval_us(renewer));
  for (size_t i = 0; i < count; i++)
    if (entries[i].due) {
      all[i]->renewed_us = now;
      keys[due++] = xstrdup(all[i]->key);
    }
  arm(renewer, next);
  free(entries);
  free(all);
  *out_due = due;
  return keys;
}

void renewer_check(struct renewer *renewer)
{
  size_t due;
  char **keys = plan_now(renewer, &due);

  if (due)
    log_debug("renewing %zu binding%s", due, due == 1 ? "" : "s");
  for (size_t i = 0; i < due; i++) {
    /* an earlier handler may have untracked it */
    if (renewer->handlers.due && renewer_is_tracked(renewer, keys[i]))
      renewer->handlers.due(keys[i], renewer->handlers.userdata);
    free(keys[i]);
  }
  free(keys);
}

static void on_timer(evutil_socket_t fd, short events, void *arg)
{
  (void)fd;
  (void)events;
  renewer_check(arg);
}

static void ask_info(struct renewer *renewer);

static void on_info_timer(evutil_socket_t fd, short events, void *arg)
{
  (void)fd;
  (void)events;
  ask_info(arg);
}

static void info_later(struct renewer *renewer, double seconds)
{
  struct timeval tv = clock_timeval(seconds);

  evtimer_add(renewer->info_timer, &tv);
}

static void on_info(const struct registry_answer *answer, void *userdata)
{
  struct renewer *renewer = userdata;
  uint64_t refresh;

  renewer->info_call = NULL;
  if (answer->outcome != REGISTRY_ANSWERED) {
    double delay = backoff_next_delay(&renewer->info_backoff, clock_random(renewer->options.clock));
    log_debug("registry: no binding TTL yet (%s); asking again in %.1f s", answer->error, delay);
    info_later(renewer, delay > answer->retry_after_s ? delay : answer->retry_after_s);
    return;
  }
  backoff_reset(&renewer->info_backoff);
  if (answer->binding_ttl_s != renewer->ttl_s) {
    if (answer->binding_ttl_s)
      log_info("registry: bindings lapse %llu s after their last renewal; renewing every %llu s",
               (unsigned long long)answer->binding_ttl_s,
               (unsigned long long)(answer->binding_ttl_s / 3));
    else
      log_info("registry: bindings do not lapse; no renewals");
    renewer_set_ttl(renewer, answer->binding_ttl_s);
  }
  refresh =
    renewer->ttl_s && renewer->ttl_s < INFO_REFRESH_MAX_S ? renewer->ttl_s : INFO_REFRESH_MAX_S;
  info_later(renewer, (double)refresh);
}

static void ask_info(struct renewer *renewer)
{
  int r;

  if (!renewer->options.registry || renewer->info_call)
    return;
  r = registry_client_info(renewer->options.registry, on_info, renewer, &renewer->info_call);
  if (r < 0) {
    log_err("registry: cannot ask for the binding TTL: %s", strerror(-r));
    info_later(renewer, renewer->options.retry_max_s);
  }
}

struct renewer *renewer_new(const struct renewer_options *options)
{
  struct renewer *renewer = xcalloc(1, sizeof *renewer);

  renewer->options = *options;
  renewer->tracked = strmap_new();
  renewer->next_wake_us = UINT64_MAX;
  renewer->timer = evtimer_new(options->base, on_timer, renewer);
  renewer->info_timer = evtimer_new(options->base, on_info_timer, renewer);
  backoff_init(&renewer->info_backoff, options->retry_initial_s, options->retry_max_s);
  return renewer;
}

static void free_tracked(const char *key, void *value, void *userdata)
{
  struct tracked *tracked = value;

  (void)key;
  (void)userdata;
  free(tracked->key);
  free(tracked);
}

void renewer_free(struct renewer *renewer)
{
  if (!renewer)
    return;
  registry_call_cancel(renewer->info_call);
  event_free(renewer->timer);
  event_free(renewer->info_timer);
  strmap_foreach(renewer->tracked, free_tracked, NULL);
  strmap_free(renewer->tracked);
  free(renewer);
}

void renewer_start(struct renewer *renewer, const struct renewer_handlers *handlers)
{
  renewer->handlers = *handlers;
  ask_info(renewer);
  renewer_check(renewer);
}

void renewer_set_ttl(struct renewer *renewer, uint64_t ttl_s)
{
  renewer->ttl_s = ttl_s;
  renewer_check(renewer); /* a shorter TTL may make phones due now */
}

uint64_t renewer_ttl_s(const struct renewer *renewer)
{
  return renewer->ttl_s;
}

void renewer_track(struct renewer *renewer, const char *key, uint64_t renewed_us)
{
  struct tracked *tracked;
  uint64_t interval;

  if (!renewer)
    return;
  tracked = strmap_get(renewer->tracked, key);
  interval = interval_us(renewer);
  if (!tracked) {
    tracked = xcalloc(1, sizeof *tracked);
    tracked->key = xstrdup(key);
    strmap_put(renewer->tracked, key, tracked);
  }
  tracked->renewed_us = renewed_us;
  if (interval && renewed_us + interval < renewer->next_wake_us)
    arm(renewer, renewed_us + interval);
}

void renewer_untrack(struct renewer *renewer, const char *key)
{
  struct tracked *tracked = renewer ? strmap_remove(renewer->tracked, key) : NULL;

  if (!renewer)
    return;
  if (tracked)
    free_tracked(key, tracked, NULL);
  if (strmap_size(renewer->tracked) == 0)
    arm(renewer, UINT64_MAX);
}

bool renewer_is_tracked(const struct renewer *renewer, const char *key)
{
  return strmap_get(renewer->tracked, key) != NULL;
}

uint64_t renewer_next_wake_us(const struct renewer *renewer)
{
  return renewer->next_wake_us;
}
