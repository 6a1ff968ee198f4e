/* phonebindd: the seed's method on a PC. Start-up order matters: the bus
 * name first (clients and systemd wait for it), then the account, then the
 * udev monitor with its coldplug enumeration, then READY=1. */
#include "account.h"
#include "bus.h"
#include "config.h"
#include "daemon.h"
#include "log.h"
#include "registry_client.h"
#include "release.h"
#include "secret_file.h"
#include "store.h"
#include "strmap.h"
#include "terminal.h"
#include "udev_watch.h"
#include "version.h"
#include "xalloc.h"

#include <curl/curl.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>

struct main_events {
  struct event *sigterm, *sigint, *sighup, *watchdog;
};

double daemon_random_unit(void)
{
  return (double)arc4random() / 4294967296.0;
}

uint64_t daemon_now(void)
{
  return (uint64_t)time(NULL);
}

uint64_t daemon_now_us(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The store and its key. Any failure leaves the daemon degraded, not
 * dead: without a local check every phone goes to the registry, which
 * never binds wrongly. */
static void open_store(struct daemon *daemon)
{
  const char *dir = daemon->config.state_dir;
  _cleanup_free_ char *key_path = xasprintf("%s/store.key", dir);
  _cleanup_free_ char *db_path = xasprintf("%s/store.db", dir);
  int r;

  if (mkdir(dir, 0700) < 0 && errno != EEXIST)
    log_err("cannot create the state directory %s: %s", dir, strerror(errno));
  r = secret_file_load_or_create(key_path, daemon->key, sizeof daemon->key);
  if (r < 0) {
    log_err("cannot load the store key %s: %s; running without a local store", key_path,
            r == -EBADMSG ? "wrong size" : strerror(-r));
    hash_random_bytes(daemon->key, sizeof daemon->key);
    return;
  }
  r = store_open(db_path, daemon->key, sizeof daemon->key, &daemon->store);
  if (r < 0)
    log_err("cannot open the local store %s: %s; running degraded: every phone is checked with "
            "the registry",
            db_path, r == -EBADMSG ? "not a phonebind store (corrupt or newer)" : strerror(-r));
}

static void on_attached(struct udev_device *device, void *userdata)
{
  terminal_attach(userdata, device);
}

static void on_detached(const char *syspath, void *userdata)
{
  terminal_detach(userdata, syspath);
}

/* After lost events: whatever the rescan did not see again is gone. Each
 * enumeration has a generation; a terminal carries the one that last saw
 * it (seconds would keep a phone added and removed within the second). */
static void on_rescan_begin(void *userdata)
{
  struct daemon *daemon = userdata;

  daemon->generation++;
}

static void on_rescan_end(void *userdata)
{
  struct daemon *daemon = userdata;

  terminal_detach_older(daemon, daemon->generation);
}

static void on_signal(evutil_socket_t signo, short events, void *arg)
{
  struct daemon *daemon = arg;

  (void)events;
  log_info("%s: shutting down", signo == SIGTERM ? "SIGTERM" : "SIGINT");
  sd_notify(0, "STOPPING=1\nSTATUS=Shutting down");
  event_base_loopbreak(daemon->base);
}

/* SIGHUP: settings that can change under a running daemon. The registry,
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
    account_reload(daemon);
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

static void release_name(const char *terminal_id, char *out, size_t out_size, void *userdata)
{
  terminal_handle_of(userdata, terminal_id, out, out_size);
}

static void start_releaser(struct daemon *daemon)
{
  const struct releaser_options options = {
    .base = daemon->base, .registry = daemon->registry, .store = daemon->store,
    .seq = &daemon->seq, .retry_initial_s = daemon->config.retry_initial_s,
    .retry_max_s = daemon->config.retry_max_s, .random_unit = daemon_random_unit,
    .now_us = daemon_now_us, .name_of = release_name, .userdata = daemon,
  };

  daemon->releaser = releaser_new(&options);
}

static int start(struct daemon *daemon)
{
  const struct registry_client_options options = {
    .url = daemon->config.registry,
    .timeout_ms = daemon->config.registry_timeout_ms,
    .max_in_flight = daemon->config.max_in_flight,
  };
  const struct udev_watch_handlers handlers = {
    .attached = on_attached, .detached = on_detached, .rescan_begin = on_rescan_begin,
    .rescan_end = on_rescan_end, .userdata = daemon,
  };
  int r;

  open_store(daemon);
  seq_counter_init(&daemon->seq, daemon->store);
  r = registry_client_new(daemon->base, &options, &daemon->registry);
  if (r < 0) {
    log_err("registry URL \"%s\" is not usable: expected http:// or https://",
            daemon->config.registry);
    return r;
  }
  registry_client_set_observer(daemon->registry, account_observe, daemon);
  start_releaser(daemon);
  r = bus_open(daemon, &daemon->bus);
  if (r < 0) {
    log_err("cannot take org.phonebind1 on the system bus: %s", strerror(-r));
    return r;
  }
  r = account_start(daemon);
  if (r < 0)
    return r;
  r = udev_watch_start(daemon->base, &handlers, &daemon->watch);
  if (r < 0)
    log_err("cannot watch udev for phones: %s", strerror(-r));
  return r;
}

static void add_signal(struct event **slot, struct daemon *daemon, int signo,
                       event_callback_fn callback)
{
  *slot = evsignal_new(daemon->base, signo, callback, daemon);
  evsignal_add(*slot, NULL);
}

static void start_watchdog(struct main_events *events, struct daemon *daemon)
{
  uint64_t usec = 0;
  struct timeval half;

  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
    return;
  half = (struct timeval){(time_t)(usec / 2 / 1000000u), (suseconds_t)(usec / 2 % 1000000u)};
  events->watchdog = event_new(daemon->base, -1, EV_PERSIST, on_watchdog, daemon);
  event_add(events->watchdog, &half);
}

static void stop(struct daemon *daemon, struct main_events *events)
{
  terminal_free_all(daemon);
  releaser_free(daemon->releaser);
  udev_watch_free(daemon->watch);
  account_stop(daemon);
  registry_client_free(daemon->registry);
  bus_free(daemon->bus);
  store_close(daemon->store);
  strmap_free(daemon->by_syspath);
  strmap_free(daemon->by_handle);
  struct event *all[] = {events->sigterm, events->sigint, events->sighup, events->watchdog};
  for (size_t i = 0; i < sizeof all / sizeof *all; i++)
    if (all[i])
      event_free(all[i]);
  event_base_free(daemon->base);
  daemon_config_clear(&daemon->config);
}

int main(int argc, char **argv)
{
  struct daemon daemon = {.config_argc = argc, .config_argv = argv};
  struct main_events events = {0};
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
  daemon.by_syspath = strmap_new();
  daemon.by_handle = strmap_new();
  add_signal(&events.sigterm, &daemon, SIGTERM, on_signal);
  add_signal(&events.sigint, &daemon, SIGINT, on_signal);
  add_signal(&events.sighup, &daemon, SIGHUP, on_reload);
  r = start(&daemon);
  if (r == 0) {
    start_watchdog(&events, &daemon);
    log_info("phonebindd %s ready: %zu phone%s attached, registry %s%s", PHONEBIND_VERSION,
             strmap_size(daemon.by_syspath), strmap_size(daemon.by_syspath) == 1 ? "" : "s",
             daemon.config.registry, daemon.store ? "" : ", no local store (degraded)");
    sd_notifyf(0, "READY=1\nSTATUS=Watching for phones (%zu attached at start)",
               strmap_size(daemon.by_syspath));
    event_base_dispatch(daemon.base);
  }
  stop(&daemon, &events);
  curl_global_cleanup();
  return r == 0 ? 0 : 1;
}
