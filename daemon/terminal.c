/* A phone's life in the daemon: identify → local check → remote check →
 * decision, as decide.c rules, with the I/O done here. */
#include "terminal.h"

#include "bus.h"
#include "daemon.h"
#include "identity_helper.h"
#include "log.h"
#include "registry_client.h"
#include "store.h"
#include "strmap.h"
#include "untrusted_text.h"
#include "xalloc.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void terminal_feed(struct terminal *terminal, enum decide_input input);

/* A short log name: the handle once known, else the USB bus position. */
static const char *terminal_name(const struct terminal *terminal)
{
  return terminal->handle[0] ? terminal->handle : terminal->syspath;
}

/* Keyed, so the handle says nothing of the identifier; stable, so the
 * same phone has the same object path every time on this PC. */
static void compute_handle(struct terminal *terminal)
{
  uint8_t mac[HASH_SHA256_LEN];
  char hex[2 * HASH_SHA256_LEN + 1];
  _cleanup_free_ char *seed = NULL;

  if (terminal->kind != TERMINAL_ID_NONE)
    seed = xasprintf("id:%s", terminal->id);
  else
    seed = xasprintf("unidentified:%s:%s", terminal->info.vendor_id, terminal->syspath);
  hash_hmac_sha256(terminal->daemon->key, sizeof terminal->daemon->key, seed, strlen(seed), mac);
  hash_hex_encode(mac, TERMINAL_HANDLE_LEN / 2, hex);
  memcpy(terminal->handle, hex, TERMINAL_HANDLE_LEN + 1);
}

/* The descriptor strings as the phone sent them could forge a log line
 * (a newline) or repaint the terminal of whoever reads the log. */
static void log_attached(const struct terminal *terminal)
{
  _cleanup_free_ char *vendor_id = text_sanitize(terminal->info.vendor_id);
  _cleanup_free_ char *product_id = text_sanitize(terminal->info.product_id);
  _cleanup_free_ char *vendor = text_sanitize(terminal->info.vendor);
  _cleanup_free_ char *model = text_sanitize(terminal->info.model);

  log_info("%s: attached %s %s (%s %s), %s", terminal->handle, vendor_id, product_id, vendor,
           model,
           terminal->kind == TERMINAL_ID_USB    ? "identified by USB serial"
           : terminal->kind == TERMINAL_ID_IMEI ? "identified by IMEI"
                                                : "unidentified");
}

static void local_check(struct terminal *terminal)
{
  struct daemon *daemon = terminal->daemon;
  struct store_entry entry = {0};
  int r = 0;

  if (terminal->kind == TERMINAL_ID_NONE) {
    terminal_feed(terminal, INPUT_NO_IDENTIFIER);
    return;
  }
  if (daemon->store)
    r = store_lookup_terminal(daemon->store, terminal->id, &entry);
  if (r < 0)
    log_warn("%s: local store lookup failed (%s); asking the registry", terminal_name(terminal),
             strerror(-r));
  if (r == 1) {
    terminal->first_seen = entry.first_seen;
    store_touch_terminal(daemon->store, terminal->id, terminal->last_seen);
    store_entry_clear(&entry);
  }
  terminal_feed(terminal, r == 1 ? INPUT_LOCAL_HIT : INPUT_LOCAL_MISS);
}

/* Identified (or known to be unidentifiable): publish, then check. */
static void identified(struct terminal *terminal, const char *imei)
{
  struct daemon *daemon = terminal->daemon;
  struct terminal *twin;

  terminal->kind = identify_choose(daemon->config.identifier, &terminal->info, imei, terminal->id,
                                   sizeof terminal->id);
  compute_handle(terminal);
  twin = strmap_get(daemon->by_handle, terminal->handle);
  if (twin && twin != terminal) {
    /* Two attached devices with one identity: a cloned serial. The
     * second is not bound, so data never goes to the wrong phone. */
    log_warn("%s: a second device with the same identity is attached; not binding it",
             terminal->syspath);
    terminal->kind = TERMINAL_ID_NONE;
    terminal->id[0] = '\0';
    compute_handle(terminal);
  }
  free(terminal->object_path);
  terminal->object_path = xasprintf("/org/phonebind1/terminal/%s", terminal->handle);
  strmap_put(daemon->by_handle, terminal->handle, terminal);
  log_attached(terminal);
  bus_emit_attached(daemon->bus, terminal);
  local_check(terminal);
}

static void on_identity(const char *imei, void *userdata)
{
  struct terminal *terminal = userdata;

  terminal->query = NULL;
  identified(terminal, imei);
}

static void identify(struct terminal *terminal)
{
  struct daemon *daemon = terminal->daemon;
  const struct phone_info *info = &terminal->info;
  const struct identity_device device = {
    .syspath = terminal->syspath, .devnode = info->devnode, .vendor = info->vendor_id,
    .product = info->product_id,  .serial = info->serial,   .busnum = info->busnum,
    .devnum = info->devnum,
  };
  int r;

  if (!daemon->config.identity_helper || !identify_needs_imei(daemon->config.identifier, info)) {
    identified(terminal, NULL);
    return;
  }
  r = identity_helper_run(daemon->base, daemon->config.identity_helper, &device,
                          daemon->config.helper_timeout_ms, on_identity, terminal,
                          &terminal->query);
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

void terminal_attach(struct daemon *daemon, struct udev_device *device)
{
  const char *syspath = udev_device_get_syspath(device);
  struct terminal *terminal = strmap_get(daemon->by_syspath, syspath);

  if (terminal) { /* seen twice: monitor and enumeration overlap */
    terminal->last_seen = daemon_now();
    return;
  }
  terminal = xcalloc(1, sizeof *terminal);
  terminal->daemon = daemon;
  terminal->syspath = xstrdup(syspath);
  terminal->first_seen = terminal->last_seen = daemon_now();
  identify_read_device(device, &terminal->info);
  decide_init(&terminal->state);
  backoff_init(&terminal->backoff, daemon->config.retry_initial_s, daemon->config.retry_max_s);
  terminal->retry_timer = evtimer_new(daemon->base, on_retry_timer, terminal);
  strmap_put(daemon->by_syspath, syspath, terminal);
  identify(terminal);
}

static void cancel_work(struct terminal *terminal)
{
  terminal->awaiting_account = false;
  registry_call_cancel(terminal->call);
  terminal->call = NULL;
  identity_query_cancel(terminal->query);
  terminal->query = NULL;
  evtimer_del(terminal->retry_timer);
}

static void finish_forget(struct terminal *terminal, int error)
{
  void (*done)(int, void *) = terminal->forget_done;

  terminal->forget_done = NULL;
  if (done)
    done(error, terminal->forget_userdata);
}

static void terminal_free(struct terminal *terminal)
{
  struct daemon *daemon = terminal->daemon;

  cancel_work(terminal);
  registry_call_cancel(terminal->forget_call);
  terminal->forget_call = NULL;
  finish_forget(terminal, -ENODEV);
  strmap_remove(daemon->by_syspath, terminal->syspath);
  if (terminal->handle[0] && strmap_get(daemon->by_handle, terminal->handle) == terminal)
    strmap_remove(daemon->by_handle, terminal->handle);
  event_free(terminal->retry_timer);
  phone_info_clear(&terminal->info);
  free(terminal->object_path);
  free(terminal->syspath);
  free(terminal);
}

void terminal_detach(struct daemon *daemon, const char *syspath)
{
  struct terminal *terminal = strmap_get(daemon->by_syspath, syspath);

  if (!terminal)
    return; /* not a phone of ours */
  log_info("%s: detached", terminal_name(terminal));
  if (terminal->object_path)
    bus_emit_detached(daemon->bus, terminal);
  terminal_free(terminal);
}

static void collect(const char *key, void *value, void *userdata)
{
  struct terminal ***cursor = userdata;

  (void)key;
  *(*cursor)++ = value;
}

void terminal_free_all(struct daemon *daemon)
{
  size_t count = strmap_size(daemon->by_syspath);
  struct terminal **all = xcalloc(count, sizeof *all), **cursor = all;

  strmap_foreach(daemon->by_syspath, collect, &cursor);
  for (size_t i = 0; i < count; i++)
    terminal_free(all[i]);
  free(all);
}

/* Registry answers turned into the machine's inputs. */
static enum decide_input lookup_input(const struct registry_answer *answer)
{
  if (answer->outcome != REGISTRY_ANSWERED || answer->http_status != 200)
    return INPUT_REMOTE_FAILED;
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
    return INPUT_CLAIM_CONFLICT;
  default:
    return INPUT_REMOTE_FAILED;
  }
}

static void on_registry_answer(const struct registry_answer *answer, void *userdata,
                               enum decide_input input)
{
  struct terminal *terminal = userdata;

  terminal->call = NULL;
  if (input == INPUT_REMOTE_FAILED)
    log_warn("%s: registry: %s%s", terminal->handle, answer->error,
             answer->http_status == 401 ? " (the account's token was refused)" : "");
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

/* Starts a lookup or a claim; without an account it fails at once. */
static void ask_registry(struct terminal *terminal, bool claim)
{
  struct daemon *daemon = terminal->daemon;
  int r = -ENOKEY;

  if (!daemon->account && !daemon->account_failed) {
    /* The first shadow account is on its way: not a registry failure. */
    terminal->awaiting_account = true;
    return;
  }
  if (daemon->account)
    r = claim ? registry_client_claim(daemon->registry, terminal->id, on_claim, terminal,
                                      &terminal->call)
              : registry_client_lookup(daemon->registry, terminal->id, on_lookup, terminal,
                                       &terminal->call);
  if (r < 0) {
    log_debug("%s: registry not asked: %s", terminal->handle,
              r == -ENOKEY ? "no account yet" : strerror(-r));
    terminal_feed(terminal, INPUT_REMOTE_FAILED);
  }
}

static void record_local(struct terminal *terminal)
{
  struct daemon *daemon = terminal->daemon;
  const struct store_entry entry = {
    .vendor = terminal->info.vendor_id, .model = terminal->info.model,
    .serial = terminal->info.serial,    .first_seen = terminal->first_seen,
    .last_seen = terminal->last_seen,   .bound_since = daemon_now(),
  };
  int r = daemon->store ? store_record_binding(daemon->store, terminal->id, &entry) : -ENODEV;

  if (r < 0)
    log_err("%s: cannot record the binding locally (%s); the registry keeps it",
            terminal->handle, r == -ENODEV ? "no store" : strerror(-r));
}

static void drop_local(struct terminal *terminal)
{
  struct daemon *daemon = terminal->daemon;
  int r = daemon->store ? store_forget_terminal(daemon->store, terminal->id) : 0;

  if (r < 0)
    log_err("%s: cannot drop the local record: %s", terminal->handle, strerror(-r));
}

static void schedule_retry(struct terminal *terminal)
{
  double delay = backoff_next_delay(&terminal->backoff, daemon_random_unit());
  struct timeval tv = {(time_t)delay, (suseconds_t)((delay - floor(delay)) * 1e6)};

  log_debug("%s: retrying in %.2f s", terminal->handle, delay);
  evtimer_add(terminal->retry_timer, &tv);
}

static void terminal_feed(struct terminal *terminal, enum decide_input input)
{
  struct decide_output out;

  decide_step(&terminal->state, input, &out);
  if (out.actions & ACTION_RECORD_LOCAL)
    record_local(terminal);
  if (out.actions & ACTION_DROP_LOCAL)
    drop_local(terminal);
  if (out.actions & ACTION_RESET_BACKOFF)
    backoff_reset(&terminal->backoff);
  if (out.announce) {
    log_info("%s: decision %s (%s)", terminal->handle, terminal_decision(terminal),
             terminal_reason(terminal));
    bus_emit_decision(terminal->daemon->bus, terminal);
  }
  if (out.actions & ACTION_SCHEDULE_RETRY)
    schedule_retry(terminal);
  if (out.actions & (ACTION_LOOKUP | ACTION_CLAIM))
    ask_registry(terminal, out.actions & ACTION_CLAIM);
}

void terminal_retry(struct terminal *terminal)
{
  cancel_work(terminal);
  decide_init(&terminal->state);
  backoff_reset(&terminal->backoff);
  log_info("%s: checking again", terminal->handle);
  local_check(terminal);
}

static void on_release(const struct registry_answer *answer, void *userdata)
{
  struct terminal *terminal = userdata;
  int error = -EHOSTUNREACH;

  terminal->forget_call = NULL;
  if (answer->outcome == REGISTRY_ANSWERED && answer->http_status == 403)
    error = -EPERM;
  else if (answer->outcome == REGISTRY_ANSWERED &&
           (answer->http_status == 204 || answer->http_status == 404))
    error = 0;
  if (error < 0) {
    log_warn("%s: forget refused: %s", terminal->handle,
             error == -EPERM ? "bound to another client" : answer->error);
    finish_forget(terminal, error);
    return;
  }
  cancel_work(terminal);
  drop_local(terminal);
  log_info("%s: binding released", terminal->handle);
  finish_forget(terminal, 0); /* reply first, then the Decision */
  terminal_feed(terminal, INPUT_FORGOTTEN);
}

void terminal_forget(struct terminal *terminal, void (*done)(int error, void *userdata),
                     void *userdata)
{
  struct daemon *daemon = terminal->daemon;
  int r;

  if (terminal->forget_done) {
    done(-EBUSY, userdata);
    return;
  }
  if (terminal->kind == TERMINAL_ID_NONE || !daemon->account) {
    done(terminal->kind == TERMINAL_ID_NONE ? -ENOKEY : -EHOSTUNREACH, userdata);
    return;
  }
  terminal->forget_done = done;
  terminal->forget_userdata = userdata;
  r = registry_client_release(daemon->registry, terminal->id, on_release, terminal,
                              &terminal->forget_call);
  if (r < 0)
    finish_forget(terminal, -EHOSTUNREACH);
}

static void kick(const char *key, void *value, void *userdata)
{
  struct terminal *terminal = value;

  (void)key;
  (void)userdata;
  if (terminal->awaiting_account) {
    terminal->awaiting_account = false;
    ask_registry(terminal, terminal->state.phase != PHASE_LOOKING_UP);
    return;
  }
  if (terminal->state.phase == PHASE_WAITING || terminal->state.phase == PHASE_CONFIRM_WAITING) {
    const struct timeval now = {0, 0};
    evtimer_del(terminal->retry_timer);
    /* through the timer, so no terminal changes the map mid-walk */
    evtimer_add(terminal->retry_timer, &now);
  }
}

void terminal_kick_waiting(struct daemon *daemon)
{
  strmap_foreach(daemon->by_syspath, kick, NULL);
}

const char *terminal_decision(const struct terminal *terminal)
{
  return decision_name(terminal->state.decision);
}

const char *terminal_reason(const struct terminal *terminal)
{
  return reason_name(terminal->state.reason);
}
