/* Pending releases and their DELETEs; see release.h. */
#include "release.h"

#include "backoff.h"
#include "clock.h"
#include "log.h"
#include "registry_client.h"
#include "seq.h"
#include "store.h"
#include "strmap.h"
#include "xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NAME_LEN 32

struct release {
  struct releaser *owner;
  char *terminal_id, *account;
  char name[NAME_LEN];
  struct registry_call *call;
  struct event *timer;
  struct backoff backoff;
  bool first; /* its first DELETE: the Forget's caller waits for it */
  release_fn fn;
  void *userdata;
};

struct releaser {
  struct releaser_options options;
  char *account;
  struct strmap *by_id; /* struct release * */
};

static void release_send(struct release *release);

static void on_timer(evutil_socket_t fd, short events, void *arg)
{
  (void)fd;
  (void)events;
  release_send(arg);
}

static struct release *release_new(struct releaser *releaser, const char *terminal_id,
                                   const char *account)
{
  struct release *release = xcalloc(1, sizeof *release);

  release->owner = releaser;
  release->terminal_id = xstrdup(terminal_id);
  release->account = xstrdup(account);
  releaser->options.name_of(terminal_id, release->name, sizeof release->name,
                            releaser->options.userdata);
  release->timer = evtimer_new(releaser->options.base, on_timer, release);
  backoff_init(&release->backoff, releaser->options.retry_initial_s, releaser->options.retry_max_s);
  strmap_put(releaser->by_id, terminal_id, release);
  return release;
}

static void release_free(struct release *release)
{
  strmap_remove(release->owner->by_id, release->terminal_id);
  registry_call_cancel(release->call);
  event_free(release->timer);
  free(release->terminal_id);
  free(release->account);
  free(release);
}

/* Gone from the store, then told, then freed: the listener may start
 * anything, even another release of the same phone. */
static void finish(struct release *release, enum release_outcome outcome, int error)
{
  struct store *store = release->owner->options.store;
  release_fn fn = release->fn;
  void *userdata = release->userdata;

  if (store && store_drop_release(store, release->terminal_id) < 0)
    log_err("%s: cannot drop the settled release from the local store", release->name);
  if (store && (outcome == RELEASE_FREED || outcome == RELEASE_TAKEN) &&
      store_forget_terminal(store, release->terminal_id) < 0)
    log_err("%s: cannot drop the local record of the released binding", release->name);
  release->call = NULL;
  release_free(release);
  if (fn)
    fn(outcome, error, userdata);
}

/* The backoff, or the registry's Retry-After when longer. */
static void schedule(struct release *release, unsigned retry_after_s)
{
  const struct releaser_options *options = &release->owner->options;
  double delay = backoff_next_delay(&release->backoff, clock_random(options->clock));
  struct timeval tv = clock_timeval(delay > retry_after_s ? delay : retry_after_s);

  evtimer_add(release->timer, &tv);
}

/* Neither freed nor refused: the first failure the caller hears of. */
static void not_settled(struct release *release, const struct registry_answer *answer)
{
  int error = answer->http_status == 401 ? -EACCES : -EHOSTUNREACH;
  bool certain = answer->not_done || answer->http_status == 401;

  if (release->first && certain) {
    log_info("%s: release not sent (%s); nothing changed", release->name, answer->error);
    finish(release, RELEASE_NOT_DONE, error);
    return;
  }
  if (release->first) {
    release->first = false;
    log_warn("%s: the registry did not confirm the release (%s); repeating it until it answers",
             release->name, answer->error);
    if (release->fn)
      release->fn(RELEASE_UNCONFIRMED, 0, release->userdata);
  }
  schedule(release, answer->retry_after_s);
}

static void on_answer(const struct registry_answer *answer, void *userdata)
{
  struct release *release = userdata;
  long status = answer->outcome == REGISTRY_ANSWERED ? answer->http_status : 0;

  release->call = NULL;
  if (status == 204 || status == 404) {
    log_info("%s: binding released", release->name);
    finish(release, RELEASE_FREED, 0);
  } else if (status == 403) {
    log_info("%s: released; another client holds the phone now", release->name);
    finish(release, RELEASE_TAKEN, 0);
  } else if (status == 409 && answer->stale_seq) {
    /* a later request of ours was taken: go above it, say it again */
    seq_counter_raise(release->owner->options.seq, answer->stale_seq);
    release_send(release);
  } else {
    not_settled(release, answer);
  }
}

static void release_send(struct release *release)
{
  const struct releaser_options *options = &release->owner->options;
  uint64_t seq = seq_counter_next(options->seq, clock_now_us(options->clock));
  int r = registry_client_release(options->registry, release->terminal_id, seq, on_answer, release,
                                  &release->call);

  if (r < 0) { /* no request made: try again later, from the loop */
    log_err("%s: cannot start the release request: %s", release->name, strerror(-r));
    schedule(release, 0);
  }
}

static void load_one(const char *terminal_id, const char *account, uint64_t since, void *userdata)
{
  (void)since;
  release_new(userdata, terminal_id, account);
}

struct releaser *releaser_new(const struct releaser_options *options)
{
  struct releaser *releaser = xcalloc(1, sizeof *releaser);
  int r;

  releaser->options = *options;
  releaser->by_id = strmap_new();
  r = options->store ? store_foreach_release(options->store, load_one, releaser) : 0;
  if (r < 0)
    log_err("cannot read the pending releases from the local store: %s", strerror(-r));
  if (strmap_size(releaser->by_id) > 0)
    log_info(
      "%zu release%s not confirmed before the last stop; repeating once the account is "
      "known",
      strmap_size(releaser->by_id), strmap_size(releaser->by_id) == 1 ? "" : "s");
  return releaser;
}

/* A snapshot, so that the walk may free or start releases. */
static struct release **all_releases(struct releaser *releaser, size_t *out_count)
{
  return (struct release **)strmap_values(releaser->by_id, out_count);
}

void releaser_free(struct releaser *releaser)
{
  size_t count;
  struct release **all;

  if (!releaser)
    return;
  all = all_releases(releaser, &count);
  for (size_t i = 0; i < count; i++)
    release_free(all[i]);
  free(all);
  strmap_free(releaser->by_id);
  free(releaser->account);
  free(releaser);
}

static void resume_or_drop(struct releaser *releaser, struct release *release)
{
  if (release->call || evtimer_pending(release->timer, NULL))
    return; /* under way */
  if (strcmp(release->account, releaser->account) == 0) {
    release_send(release);
    return;
  }
  log_warn(
    "%s: a release made under the account %s is dropped: that account is not this PC's "
    "any more",
    release->name, release->account);
  finish(release, RELEASE_DROPPED, -EACCES);
}

void releaser_set_account(struct releaser *releaser, const char *account)
{
  size_t count;
  struct release **all;

  free(releaser->account);
  releaser->account = account ? xstrdup(account) : NULL;
  if (!account)
    return;
  all = all_releases(releaser, &count);
  for (size_t i = 0; i < count; i++)
    resume_or_drop(releaser, all[i]);
  free(all);
}

int releaser_start(struct releaser *releaser, const char *terminal_id, release_fn fn,
                   void *userdata)
{
  struct store *store = releaser->options.store;
  struct release *release;
  int r;

  if (strmap_get(releaser->by_id, terminal_id))
    return -EBUSY;
  if (!releaser->account)
    return -ENOKEY;
  /* first on disk: a DELETE whose answer is lost must be repeated even
   * after a restart. Without the record it is still repeated while the
   * daemon runs; a restart re-checks the phone from its local record. */
  r = store ? store_add_release(store, terminal_id, releaser->account,
                                clock_now_s(releaser->options.clock))
            : 0;
  release = release_new(releaser, terminal_id, releaser->account);
  if (r < 0)
    log_err(
      "%s: cannot record the release in the local store (%s); it will not survive a "
      "restart",
      release->name, strerror(-r));
  release->first = true;
  release->fn = fn;
  release->userdata = userdata;
  release_send(release);
  return 0;
}

bool releaser_is_pending(const struct releaser *releaser, const char *terminal_id)
{
  return strmap_get(releaser->by_id, terminal_id) != NULL;
}

void releaser_watch(struct releaser *releaser, const char *terminal_id, release_fn fn,
                    void *userdata)
{
  struct release *release = strmap_get(releaser->by_id, terminal_id);

  if (release) {
    release->fn = fn;
    release->userdata = userdata;
  }
}
