/* phonebindd: the seed's method on a PC. main.c builds the parts and
 * wires them: every edge (udev, bus, account, registry, store) is handed
 * the handlers of the hub (terminals.c) and nothing else. Start-up order
 * matters: the bus name first (clients and systemd wait for it), then
 * the account, then the coldplug enumeration, then READY=1. */
#include "account.h"
#include "bus.h"
#include "clock.h"
#include "config.h"
#include "handle.h"
#include "hash.h"
#include "log.h"
#include "registry_client.h"
#include "release.h"
#include "renew.h"
#include "secret_file.h"
#include "seq.h"
#include "store.h"
#include "terminals.h"
#include "udev_watch.h"
#include "uri_mask.h"
#include "version.h"
#include "xalloc.h"

#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

struct daemon {
  struct event_base *base;
  struct daemon_config config;
  int config_argc; /* the command line, to reload the config */
  char **config_argv;
  struct handle_key key; /* keys the store's hashes and terminal handles */
  struct store *store;   /* NULL: degraded, every phone asks the registry */
  struct seq_counter seq;
  struct registry_client *registry;
  struct account *account;
  struct releaser *releaser;
  struct renewer *renewer;
  struct bus *bus;
  struct terminals *terminals;
  struct udev_watch *watch;
  struct event *sigterm, *sigint, *sighup, *watchdog;
};

/* The store and its key. Any failure leaves the daemon degraded, not
 * dead: without a local check every phone goes to the registry, which
 * never binds wrongly. */
static void open_store(struct daemon *daemon)
{
  const char *dir = daemon->config.state_dir;
  _cleanup_free_ char *key_path = xasprintf("%s/store.key", dir);
  _cleanup_free_ char *db_path = xasprintf("%s/store.db", dir);
  uint8_t *key = daemon->key.bytes;
  int r;

  if (mkdir(dir, 0700) < 0 && errno != EEXIST)
    log_err("cannot create the state directory %s: %s", dir, strerror(errno));
  r = secret_file_load_or_create(key_path, key, HANDLE_KEY_LEN);
  if (r < 0) {
    log_err("cannot load the store key %s: %s; running without a local store", key_path,
            r == -EBADMSG ? "wrong size" : strerror(-r));
    hash_random_bytes(key, HANDLE_KEY_LEN);
    return;
  }
  r = store_open(db_path, key, HANDLE_KEY_LEN, &daemon->store);
  if (r < 0)
    log_err(
      "cannot open the local store %s: %s; running degraded: every phone is checked with "
      "the registry",
      db_path, r == -EBADMSG ? "not a phonebind store (corrupt or newer)" : strerror(-r));
}

static void on_signal(evutil_socket_t signo, short events, void *arg)
{
  struct daemon *daemon = arg;

  (void)events;
  log_info("%s: shutting down", signo == SIGTERM ? "SIGTERM" : "SIGINT");
  sd_notify(0, "STOPPING=1\nSTATUS=Shutting down");
  event_base_loopbreak(daemon->base);
}

/* SIGHUP: settings that can change under a running daemon (the hub reads
 * them where they are), and a configured account's token. The registry,
 * state directory and account need a restart. */
static void on_reload(evutil_socket_t signo, short events, void *arg)
{
  struct daemon *daemon = arg;
  struct daemon_config fresh;

  (void)signo;
  (void)events;
  sd_notify(0, "RELOADING=1");
  if (daemon_config_parse(daemon->config_argc, daemon->config_argv, &fresh) == 0) {
    daemon->config.log_level = fresh.log_level;
    daemon->config.retry_initial_s = fresh.retry_initial_s;
    daemon->config.retry_max_s = fresh.retry_max_s;
    daemon->config.helper_timeout_ms = fresh.helper_timeout_ms;
    free(daemon->config.identity_helper);
    daemon->config.identity_helper = fresh.identity_helper;
    fresh.identity_helper = NULL;
    log_set_max_level(fresh.log_level);
    log_info("configuration reloaded");
    account_reload(daemon->account);
  } else {
    log_err("configuration not reloaded: it has errors");
  }
  daemon_config_clear(&fresh);
  sd_notify(0, "READY=1");
}

static void on_watchdog(evutil_socket_t fd, short events, void *arg)
{
  (void)fd;
  (void)events;
  (void)arg;
  sd_notify(0, "WATCHDOG=1");
}

/* Tokens in clear text to a host off this machine, only when asked for. */
static int check_registry_url(const struct daemon_config *config)
{
  _cleanup_free_ char *shown = uri_mask_credentials(config->registry);

  if (registry_url_is_tls(config->registry))
    return 0;
  if (config->registry_pin) {
    log_err("registry-pin needs an https:// registry, not %s", shown);
    return -EINVAL;
  }
  if (registry_url_is_loopback(config->registry) || config->allow_insecure_registry)
    return 0;
  log_err(
    "refusing the registry %s: plain http:// off this machine would carry the account's "
    "token in clear text; use https://, or set allow-insecure-registry = yes",
    shown);
  return -EINVAL;
}

static struct account *new_account(struct daemon *daemon)
{
  const struct daemon_config *config = &daemon->config;
  const struct account_options options = {
    .base = daemon->base,
    .registry = daemon->registry,
    .state_dir = config->state_dir,
    .token_file = config->token_file,
    .name = config->account,
    .registry_url = config->registry,
    .retry_initial_s = config->retry_initial_s,
    .retry_max_s = config->retry_max_s,
    .clock = &clock_system,
  };

  return account_new(&options);
}

static struct releaser *new_releaser(struct daemon *daemon)
{
  const struct releaser_options options = {
    .base = daemon->base,
    .registry = daemon->registry,
    .store = daemon->store,
    .seq = &daemon->seq,
    .retry_initial_s = daemon->config.retry_initial_s,
    .retry_max_s = daemon->config.retry_max_s,
    .clock = &clock_system,
    .name_of = handle_name_of,
    .userdata = &daemon->key,
  };

  return releaser_new(&options);
}

/* The parts, from the leaves in: nothing here talks to anyone yet. */
static int build(struct daemon *daemon)
{
  const struct daemon_config *config = &daemon->config;
  const struct registry_client_options registry = {
    .url = config->registry,
    .timeout_ms = config->registry_timeout_ms,
    .max_in_flight = config->max_in_flight,
    .ca_file = config->registry_ca,
    .pinned_key = config->registry_pin,
  };
  int r = check_registry_url(config);

  if (r < 0)
    return r;
  open_store(daemon);
  handle_key_prepare(&daemon->key);
  seq_counter_init(&daemon->seq, daemon->store);
  r = registry_client_new(daemon->base, &registry, &daemon->registry);
  if (r < 0) {
    _cleanup_free_ char *shown = uri_mask_credentials(config->registry);
    log_err("registry URL \"%s\" is not usable: expected http:// or https://", shown);
    return r;
  }
  daemon->account = new_account(daemon);
  registry_client_set_observer(daemon->registry, account_observe, daemon->account);
  daemon->releaser = new_releaser(daemon);
  daemon->renewer = renewer_new(&(struct renewer_options){
    .base = daemon->base,
    .registry = daemon->registry,
    .clock = &clock_system,
    .retry_initial_s = config->retry_initial_s,
    .retry_max_s = config->retry_max_s,
  });
  return 0;
}

static struct terminals *new_terminals(struct daemon *daemon)
{
  const struct hub deps = {
    .base = daemon->base,
    .store = daemon->store,
    .registry = daemon->registry,
    .releaser = daemon->releaser,
    .renewer = daemon->renewer,
    .seq = &daemon->seq,
    .account = daemon->account,
    .bus = daemon->bus,
    .clock = &clock_system,
    .handle_key = &daemon->key,
    .config = &daemon->config,
  };

  return terminals_new(&deps);
}

/* Resumed from suspend: uevents may have been lost, and the renewal timer
 * (on the monotonic clock, which stops while the PC sleeps) is late. */
static void on_resumed(void *userdata)
{
  struct daemon *daemon = userdata;

  udev_watch_resumed(daemon->watch);
  renewer_check(daemon->renewer);
}

/* The hub and the edges that report to it. */
static int wire(struct daemon *daemon)
{
  struct bus_handlers bus_handlers;
  struct udev_watch_handlers udev_handlers;
  int r;

  daemon->terminals = new_terminals(daemon);
  udev_handlers = (struct udev_watch_handlers){
    .attached = terminals_attached,
    .detached = terminals_detached,
    .rescan_begin = terminals_rescan_begin,
    .rescan_end = terminals_rescan_end,
    .userdata = daemon->terminals,
  };
  r = udev_watch_new(daemon->base, &udev_handlers, &daemon->watch);
  if (r < 0) {
    log_err("cannot watch udev for phones: %s", strerror(-r));
    return r;
  }
  terminals_bus_handlers(daemon->terminals, &bus_handlers);
  bus_handlers.resumed = on_resumed;
  bus_handlers.resumed_userdata = daemon;
  r = bus_serve(daemon->bus, &bus_handlers,
                &(struct bus_options){.hide_serials = daemon->config.hide_serials});
  if (r < 0)
    log_err("cannot take org.phonebind1 on the system bus: %s", strerror(-r));
  return r;
}

static int start(struct daemon *daemon)
{
  int r = build(daemon);

  if (r == 0) {
    r = bus_open(daemon->base, &daemon->bus);
    if (r < 0)
      log_err("cannot connect to the system bus: %s", strerror(-r));
  }
  if (r == 0)
    r = wire(daemon);
  if (r == 0)
    r = account_start(daemon->account,
                      &(struct account_handlers){.changed = terminals_account_changed,
                                                 .userdata = daemon->terminals});
  if (r == 0)
    renewer_start(daemon->renewer, &(struct renewer_handlers){.due = terminals_renew_due,
                                                              .userdata = daemon->terminals});
  if (r == 0) {
    r = udev_watch_enumerate(daemon->watch); /* the monitor already listens: nothing is missed */
    if (r < 0)
      log_err("cannot enumerate the attached phones: %s", strerror(-r));
  }
  return r;
}

static struct event *add_signal(struct daemon *daemon, int signo, event_callback_fn callback)
{
  struct event *event = evsignal_new(daemon->base, signo, callback, daemon);

  evsignal_add(event, NULL);
  return event;
}

static void start_watchdog(struct daemon *daemon)
{
  uint64_t usec = 0;
  struct timeval half;

  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
    return;
  half = (struct timeval){(time_t)(usec / 2 / 1000000u), (suseconds_t)(usec / 2 % 1000000u)};
  daemon->watchdog = event_new(daemon->base, -1, EV_PERSIST, on_watchdog, daemon);
  event_add(daemon->watchdog, &half);
}

/* In reverse: the hub before the edges it holds. */
static void stop(struct daemon *daemon)
{
  struct event *events[] = {daemon->sigterm, daemon->sigint, daemon->sighup, daemon->watchdog};

  terminals_free(daemon->terminals);
  renewer_free(daemon->renewer);
  releaser_free(daemon->releaser);
  udev_watch_free(daemon->watch);
  account_free(daemon->account);
  registry_client_free(daemon->registry);
  bus_free(daemon->bus);
  store_close(daemon->store);
  handle_key_clear(&daemon->key);
  for (size_t i = 0; i < sizeof events / sizeof *events; i++)
    if (events[i])
      event_free(events[i]);
  event_base_free(daemon->base);
  daemon_config_clear(&daemon->config);
}

static void announce_ready(struct daemon *daemon)
{
  size_t attached = terminals_count(daemon->terminals);
  _cleanup_free_ char *registry = uri_mask_credentials(daemon->config.registry);

  log_info("phonebindd %s ready: %zu phone%s attached, registry %s%s", PHONEBIND_VERSION, attached,
           attached == 1 ? "" : "s", registry, daemon->store ? "" : ", no local store (degraded)");
  sd_notifyf(0, "READY=1\nSTATUS=Watching for phones (%zu attached at start)", attached);
}

int main(int argc, char **argv)
{
  struct daemon daemon = {.config_argc = argc, .config_argv = argv};
  int r;

  log_init("phonebindd");
  r = daemon_config_parse(argc, argv, &daemon.config);
  if (r != 0) {
    daemon_config_clear(&daemon.config);
    return r > 0 ? 0 : 2;
  }
  log_set_max_level(daemon.config.log_level);
  umask(077);
  signal(SIGPIPE, SIG_IGN);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  daemon.base = event_base_new();
  daemon.sigterm = add_signal(&daemon, SIGTERM, on_signal);
  daemon.sigint = add_signal(&daemon, SIGINT, on_signal);
  daemon.sighup = add_signal(&daemon, SIGHUP, on_reload);
  r = start(&daemon);
  if (r == 0) {
    start_watchdog(&daemon);
    announce_ready(&daemon);
    event_base_dispatch(daemon.base);
  }
  stop(&daemon);
  curl_global_cleanup();
  return r == 0 ? 0 : 1;
}
