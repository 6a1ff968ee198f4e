/* A phone's life in the daemon: identify → local check → remote check →
 * decision, as decide.c rules, with the I/O done here. */
#include "terminal.h"

#include "account.h"
#include "clock.h"
#include "config.h"
#include "hub.h"
#include "identity_helper.h"
#include "log.h"
#include "registry_client.h"
#include "release.h"
#include "renew.h"
#include "seq.h"
#include "store.h"
#include "untrusted_text.h"
#include "xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void terminal_feed(struct terminal *terminal, enum decide_input input);
static void ask_registry(struct terminal *terminal, bool claim);

/* A known phone is connected at once and its binding confirmed with the
 * registry in the background: this long after its Decision, so that the
 * claim's work (ours, libcurl's, the registry's, on the same cores) does
 * not hold the Decision back on its way to the clients (it did, by a
 * quarter of a millisecond at the median: bench/peers, docs/performance.md).
 * Meanwhile the claim counts as in flight for the machine, as when sent. */
#define CONFIRM_DELAY_US 5000

/* A short log name: the handle once known, else the USB bus position. */
static const char *terminal_name(const struct terminal *terminal)
{
  return terminal->handle[0] ? terminal->handle : terminal->syspath;
}

static void compute_handle(struct terminal *terminal)
{
  const struct handle_key *key = terminal->hub->handle_key;

  if (terminal->kind != TERMINAL_ID_NONE)
    handle_of_id(key, terminal->id, terminal->handle);
  else
    handle_of_unidentified(key, terminal->info.vendor_id, terminal->syspath, terminal->handle);
}

/* The descriptor strings as the phone sent them could forge a log line
 * (a newline) or repaint the terminal of whoever reads the log. */
static void log_attached(const struct terminal *terminal)
{
  _cleanup_free_ char *vendor_id = text_sanitize(terminal->info.vendor_id);
  _cleanup_free_ char *product_id = text_sanitize(terminal->info.product_id);
  _cleanup_free_ char *vendor = text_sanitize(terminal->info.vendor);
  _cleanup_free_ char *model = text_sanitize(terminal->info.model);

  log_info("%s: attached %s %s (%s %s), %s", terminal->handle, vendor_id, product_id, vendor, model,
           terminal->kind == TERMINAL_ID_USB    ? "identified by USB serial"
           : terminal->kind == TERMINAL_ID_IMEI ? "identified by IMEI"
                                                : "unidentified");
}

static void local_check(struct terminal *terminal)
{
  struct store *store = terminal->hub->store;
  struct store_entry entry = {0};
  int r = 0;

  if (terminal->kind == TERMINAL_ID_NONE) {
    terminal_feed(terminal, INPUT_NO_IDENTIFIER);
    return;
  }
  if (store)
    r = store_lookup_terminal(store, terminal->id, &entry);
  if (r < 0)
    log_warn("%s: local store lookup failed (%s); asking the registry", terminal_name(terminal),
             strerror(-r));
  if (r == 1) {
    terminal->first_seen = entry.first_seen;
    store_entry_clear(&entry);
  }
  terminal_feed(terminal, r == 1 ? INPUT_LOCAL_HIT : INPUT_LOCAL_MISS);
  /* LastSeen written after the Decision: a write transaction was a
   * sixth of the instructions between a known phone's uevent and it. */
  if (r == 1)
    store_touch_terminal(store, terminal->id, terminal->last_seen);
}

static void finish_forget(struct terminal *terminal, int error)
{
  bus_done_fn done = terminal->forget_done;

  terminal->forget_done = NULL;
  if (done)
    done(error, terminal->forget_call);
}

/* The releaser's word on this phone's release, for the Forget's caller
 * first, then for the machine. */
static void on_release(enum release_outcome outcome, int error, void *userdata)
{
  static const struct {
    int reply;
    enum decide_input input;
  } map[] = {
    [RELEASE_FREED] = {0, INPUT_RELEASED},
    [RELEASE_TAKEN] = {-EPERM, INPUT_RELEASE_TAKEN},
    [RELEASE_NOT_DONE] = {-EHOSTUNREACH, INPUT_RELEASE_NOT_DONE},
    [RELEASE_UNCONFIRMED] = {-ETIMEDOUT, INPUT_RELEASE_UNCONFIRMED},
    [RELEASE_DROPPED] = {0, INPUT_RELEASE_DROPPED},
  };
  struct terminal *terminal = userdata;

  finish_forget(terminal, outcome == RELEASE_NOT_DONE && error ? error : map[outcome].reply);
  terminal_feed(terminal, map[outcome].input);
}

/* Under its handle on the bus. A phone shown while it did not trust this
 * PC yet had a provisional handle: now that it has its identity, that
 * object goes and the phone's own comes. */
static void publish(struct terminal *terminal, const char *old_handle)
{
  struct hub *hub = terminal->hub;

  if (terminal->published && strcmp(old_handle, terminal->handle) == 0)
    return;
  if (terminal->published) {
    bus_emit_detached(hub->bus, old_handle);
    hub->unpublish(hub, terminal, old_handle);
    decide_init(&terminal->state);
  }
  if (!hub->publish(hub, terminal)) {
    /* Two attached devices with one identity: a cloned serial. The
     * second is not bound, so data never goes to the wrong phone. */
    log_warn("%s: a second device with the same identity is attached; not binding it",
             terminal->syspath);
    terminal->kind = TERMINAL_ID_NONE;
    terminal->id[0] = '\0';
    compute_handle(terminal);
    hub->publish(hub, terminal);
  }
  terminal->published = true;
  bus_emit_attached(hub->bus, terminal->handle); /* the signal first, the log line after */
  log_attached(terminal);
}

/* Identified (or known to be unidentifiable): publish, then check. */
static void identified(struct terminal *terminal, const char *imei)
{
  struct hub *hub = terminal->hub;
  char old_handle[HANDLE_LEN + 1];

  memcpy(old_handle, terminal->handle, sizeof old_handle);
  terminal->kind = identify_choose(hub->config->identifier, &terminal->info, imei, terminal->id,
                                   sizeof terminal->id);
  compute_handle(terminal);
  publish(terminal, old_handle);
  if (terminal->kind != TERMINAL_ID_NONE && releaser_is_pending(hub->releaser, terminal->id)) {
    /* Forgotten before, not confirmed yet: not claimed until settled. */
    releaser_watch(hub->releaser, terminal->id, on_release, terminal);
    terminal_feed(terminal, INPUT_RELEASE_PENDING);
    return;
  }
  local_check(terminal);
}

/* The phone has not trusted this PC yet (adb "unauthorized", an iPhone's
 * pairing dialog): shown, pending, until the helper can tell. */
static void awaiting_trust(struct terminal *terminal)
{
  char old_handle[HANDLE_LEN + 1];

  memcpy(old_handle, terminal->handle, sizeof old_handle);
  terminal->kind = TERMINAL_ID_NONE;
  terminal->id[0] = '\0';
  compute_handle(terminal);
  publish(terminal, old_handle);
  terminal_feed(terminal, INPUT_AWAITING_TRUST);
}

static void on_identity(const char *imei, bool later, void *userdata)
{
  struct terminal *terminal = userdata;

  terminal->query = NULL;
  if (later)
    awaiting_trust(terminal);
  else
    identified(terminal, imei);
}

static void identify(struct terminal *terminal)
{
  const struct daemon_config *config = terminal->hub->config;
  const struct phone_info *info = &terminal->info;
  const struct identity_device device = {
    .syspath = terminal->syspath,
    .devnode = info->devnode,
    .vendor = info->vendor_id,
    .product = info->product_id,
    .serial = info->serial,
    .busnum = info->busnum,
    .devnum = info->devnum,
  };
  int r;

  if (!config->identity_helper || !identify_needs_imei(config->identifier, info)) {
    identified(terminal, NULL);
    return;
  }
  r = identity_helper_run(terminal->hub->base, config->identity_helper, &device,
                          config->helper_timeout_ms, on_identity, terminal, &terminal->query);
  if (r < 0) {
    log_warn("%s: cannot run the identity helper: %s", terminal->syspath, strerror(-r));
    identified(terminal, NULL);
  }
}

static void on_retry_timer(evutil_socket_t fd, short events, void *arg)
{
  (void)fd;
  (void)events;
  terminal_feed(arg, INPUT_RETRY_DUE);
}

static void on_confirm_timer(evutil_socket_t fd, short events, void *arg)
{
  (void)fd;
  (void)events;
  ask_registry(arg, true);
}

struct terminal *terminal_new(struct hub *hub, const char *syspath, const struct phone_info *info,
                              uint64_t generation)
{
  struct terminal *terminal = xcalloc(1, sizeof *terminal);
  const struct daemon_config *config = hub->config;

  terminal->hub = hub;
  terminal->syspath = xstrdup(syspath);
  terminal->first_seen = terminal->last_seen = clock_now_s(hub->clock);
  terminal->generation = generation;
  phone_info_copy(info, &terminal->info);
  decide_init(&terminal->state);
  backoff_init(&terminal->backoff, config->retry_initial_s, config->retry_max_s);
  terminal->retry_timer = evtimer_new(hub->base, on_retry_timer, terminal);
  terminal->confirm_timer = evtimer_new(hub->base, on_confirm_timer, terminal);
  return terminal;
}

void terminal_start(struct terminal *terminal)
{
  identify(terminal);
}

void terminal_seen_again(struct terminal *terminal, uint64_t generation)
{
  uint64_t now = clock_now_s(terminal->hub->clock);

  terminal->generation = generation;
  if (now == terminal->last_seen)
    return;
  terminal->last_seen = now;
  if (terminal->published)
    bus_emit_last_seen(terminal->hub->bus, terminal->handle);
}

/* Drops what is under way. A request already sent cannot be taken back:
 * a Forget waits for its answer instead of cancelling it. */
static void cancel_work(struct terminal *terminal)
{
  registry_call_cancel(terminal->call);
  terminal->call = NULL;
  identity_query_cancel(terminal->query);
  terminal->query = NULL;
  evtimer_del(terminal->retry_timer);
  evtimer_del(terminal->confirm_timer);
}

void terminal_free(struct terminal *terminal)
{
  cancel_work(terminal);
  renewer_untrack(terminal->hub->renewer, terminal->syspath);
  /* a release goes on without the phone; nobody hears its end */
  if (terminal->kind != TERMINAL_ID_NONE)
    releaser_watch(terminal->hub->releaser, terminal->id, NULL, NULL);
  finish_forget(terminal, -ENODEV);
  event_free(terminal->retry_timer);
  event_free(terminal->confirm_timer);
  phone_info_clear(&terminal->info);
  free(terminal->syspath);
  free(terminal);
}

/* Registry answers turned into the machine's inputs. */
static enum decide_input lookup_input(const struct registry_answer *answer)
{
  if (answer->outcome != REGISTRY_ANSWERED)
    return INPUT_REMOTE_FAILED;
  if (answer->http_status == 401)
    return INPUT_REMOTE_REFUSED;
  switch (answer->status) {
  case REGISTRY_STATUS_UNBOUND:
    return INPUT_REMOTE_UNBOUND;
  case REGISTRY_STATUS_BOUND_TO_YOU:
    return INPUT_REMOTE_BOUND_TO_YOU;
  case REGISTRY_STATUS_BOUND_TO_OTHER:
    return INPUT_REMOTE_BOUND_TO_OTHER;
  default:
    return INPUT_REMOTE_FAILED;
  }
}

static enum decide_input claim_input(const struct registry_answer *answer)
{
  if (answer->outcome != REGISTRY_ANSWERED)
    return INPUT_REMOTE_FAILED;
  switch (answer->http_status) {
  case 201:
    return INPUT_CLAIM_BOUND;
  case 200:
    return INPUT_CLAIM_RENEWED;
  case 409:
    return answer->stale_seq ? INPUT_CLAIM_STALE : INPUT_CLAIM_CONFLICT;
  case 401:
    return INPUT_REMOTE_REFUSED;
  default:
    return INPUT_REMOTE_FAILED;
  }
}

/* Failures are logged once per change by the account's observer, not
 * here for every phone and every retry. */
static void on_registry_answer(const struct registry_answer *answer, void *userdata,
                               enum decide_input input)
{
  struct terminal *terminal = userdata;

  terminal->call = NULL;
  terminal->retry_after_s = answer->retry_after_s;
  if (input == INPUT_REMOTE_FAILED || input == INPUT_REMOTE_REFUSED)
    log_debug("%s: registry: %s", terminal->handle, answer->error);
  if (answer->stale_seq)
    seq_counter_raise(terminal->hub->seq, answer->stale_seq);
  terminal_feed(terminal, input);
}

static void on_lookup(const struct registry_answer *answer, void *userdata)
{
  on_registry_answer(answer, userdata, lookup_input(answer));
}

static void on_claim(const struct registry_answer *answer, void *userdata)
{
  on_registry_answer(answer, userdata, claim_input(answer));
}

/* Starts a lookup or a claim; without an account it waits or fails. */
static void ask_registry(struct terminal *terminal, bool claim)
{
  struct hub *hub = terminal->hub;
  int r;

  if (!account_id(hub->account)) {
    /* The first shadow account on its way is no registry failure. */
    terminal_feed(terminal, account_state(hub->account) == ACCOUNT_REQUESTING
                              ? INPUT_NO_ACCOUNT
                              : INPUT_REMOTE_FAILED);
    return;
  }
  if (claim)
    r = registry_client_claim(hub->registry, terminal->id,
                              seq_counter_next(hub->seq, clock_now_us(hub->clock)), on_claim,
                              terminal, &terminal->call);
  else
    r = registry_client_lookup(hub->registry, terminal->id, on_lookup, terminal, &terminal->call);
  if (r < 0) {
    log_err("%s: cannot start a registry request: %s", terminal->handle, strerror(-r));
    terminal_feed(terminal, INPUT_REMOTE_FAILED);
  }
}

static void record_local(struct terminal *terminal)
{
  struct hub *hub = terminal->hub;
  const struct store_entry entry = {
    .vendor = terminal->info.vendor_id,
    .model = terminal->info.model,
    .serial = terminal->info.serial,
    .first_seen = terminal->first_seen,
    .last_seen = terminal->last_seen,
    .bound_since = clock_now_s(hub->clock),
  };
  int r = hub->store ? store_record_binding(hub->store, terminal->id, &entry) : -ENODEV;

  if (r < 0)
    log_err("%s: cannot record the binding locally (%s); the registry keeps it", terminal->handle,
            r == -ENODEV ? "no store" : strerror(-r));
}

static void drop_local(struct terminal *terminal)
{
  struct store *store = terminal->hub->store;
  int r = store ? store_forget_terminal(store, terminal->id) : 0;

  if (r < 0)
    log_err("%s: cannot drop the local record: %s", terminal->handle, strerror(-r));
}

/* The backoff, or the registry's Retry-After (429, 503) when longer. */
static void schedule_retry(struct terminal *terminal)
{
  double delay = backoff_next_delay(&terminal->backoff, clock_random(terminal->hub->clock));
  struct timeval tv;

  if (delay < terminal->retry_after_s)
    delay = terminal->retry_after_s;
  terminal->retry_after_s = 0;
  tv = clock_timeval(delay);
  log_debug("%s: retrying in %.2f s", terminal->handle, delay);
  evtimer_add(terminal->retry_timer, &tv);
}

static void start_release(struct terminal *terminal)
{
  int r = releaser_start(terminal->hub->releaser, terminal->id, on_release, terminal);

  if (r < 0) { /* no account: nothing could be sent */
    finish_forget(terminal, -EHOSTUNREACH);
    terminal_feed(terminal, INPUT_RELEASE_NOT_DONE);
  }
}

/* Afresh: the machine reset, then identification (the helper asked
 * again where it is needed) and the local check. */
static void start_over(struct terminal *terminal)
{
  cancel_work(terminal);
  decide_init(&terminal->state);
  backoff_reset(&terminal->backoff);
  log_info("%s: checking again", terminal->handle);
  identify(terminal);
}

static void announce(struct terminal *terminal)
{
  const char *decision = decision_name(terminal->state.decision);
  const char *reason = reason_name(terminal->state.reason);

  bus_emit_decision(terminal->hub->bus, terminal->handle, decision, reason);
  log_info("%s: decision %s (%s)", terminal->handle, decision, reason);
}

/* A connected phone's binding is renewed while it stays attached: from
 * an answered claim on, or at once after a lookup found it ours. */
static void follow_renewal(struct terminal *terminal, enum decide_input input)
{
  struct hub *hub = terminal->hub;

  if (terminal->state.decision != DECISION_CONNECT)
    renewer_untrack(hub->renewer, terminal->syspath);
  else if (input == INPUT_CLAIM_BOUND || input == INPUT_CLAIM_RENEWED)
    renewer_track(hub->renewer, terminal->syspath, clock_now_us(hub->clock));
  else if (input == INPUT_REMOTE_BOUND_TO_YOU)
    renewer_track(hub->renewer, terminal->syspath, 0);
}

static void terminal_feed(struct terminal *terminal, enum decide_input input)
{
  struct decide_output out;

  decide_step(&terminal->state, input, &out);
  follow_renewal(terminal, input);
  if (out.actions & ACTION_DROP_LOCAL)
    drop_local(terminal);
  if (out.actions & ACTION_RESET_BACKOFF)
    backoff_reset(&terminal->backoff);
  if (out.actions & ACTION_CANCEL_RETRY)
    evtimer_del(terminal->retry_timer);
  if (out.announce)
    announce(terminal);
  /* After the Decision: a new binding's row (an insert, 30k instructions
   * and two writes) is no part of it; lost in a crash just then, the next
   * attach asks the registry and finds the phone ours ("restored"). */
  if (out.actions & ACTION_RECORD_LOCAL)
    record_local(terminal);
  if (out.actions & ACTION_SCHEDULE_RETRY)
    schedule_retry(terminal);
  if (out.actions & ACTION_RELEASE)
    start_release(terminal);
  if ((out.actions & ACTION_CLAIM) && out.announce && terminal->state.phase == PHASE_CONFIRMING) {
    const struct timeval delay = {0, CONFIRM_DELAY_US};
    evtimer_add(terminal->confirm_timer, &delay);
  } else if (out.actions & (ACTION_LOOKUP | ACTION_CLAIM)) {
    ask_registry(terminal, out.actions & ACTION_CLAIM);
  }
  if (out.actions & ACTION_RECHECK)
    start_over(terminal);
  if (out.actions & ACTION_IDENTIFY)
    identify(terminal);
}

int terminal_retry(struct terminal *terminal)
{
  if (decide_is_releasing(&terminal->state) || terminal->forget_done)
    return -EBUSY;
  terminal_feed(terminal, INPUT_RECHECK); /* after a claim in flight */
  return 0;
}

void terminal_forget(struct terminal *terminal, bus_done_fn done, void *call)
{
  if (terminal->forget_done || decide_is_releasing(&terminal->state)) {
    done(-EBUSY, call);
    return;
  }
  if (terminal->kind == TERMINAL_ID_NONE || !account_id(terminal->hub->account)) {
    done(terminal->kind == TERMINAL_ID_NONE ? -ENOKEY : -EHOSTUNREACH, call);
    return;
  }
  log_info("%s: forget requested", terminal->handle);
  terminal->forget_done = done;
  terminal->forget_call = call;
  terminal_feed(terminal, INPUT_FORGET); /* waits for a call in flight */
}

void terminal_renew(struct terminal *terminal)
{
  terminal_feed(terminal, INPUT_RENEW_DUE);
}

void terminal_kick(struct terminal *terminal)
{
  const struct timeval now = {0, 0};
  enum decide_phase phase = terminal->state.phase;

  if (phase == PHASE_AWAITING_ACCOUNT) {
    terminal_feed(terminal,
                  account_id(terminal->hub->account) ? INPUT_ACCOUNT_READY : INPUT_REMOTE_FAILED);
  } else if (phase == PHASE_WAITING || phase == PHASE_CONFIRM_WAITING) {
    /* through the timer, so the machine runs from the loop as it always does */
    evtimer_del(terminal->retry_timer);
    evtimer_add(terminal->retry_timer, &now);
  }
}

void terminal_view(const struct terminal *terminal, struct bus_terminal_view *out_view)
{
  const struct phone_info *info = &terminal->info;

  *out_view = (struct bus_terminal_view){
    .handle = terminal->handle,
    .vendor = *info->vendor ? info->vendor : info->vendor_id,
    .model = info->model,
    .serial = info->serial,
    .decision = decision_name(terminal->state.decision),
    .reason = reason_name(terminal->state.reason),
    .first_seen = terminal->first_seen,
    .last_seen = terminal->last_seen,
  };
}
