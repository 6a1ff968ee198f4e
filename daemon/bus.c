/* org.phonebind1 on the system bus: the connection and the signals. sd-bus
 * runs without sd-event: after every dispatch and every send we read its
 * fd, events and (absolute, CLOCK_MONOTONIC) timeout again and re-arm the
 * libevent events. The objects are bus_manager.c's and bus_terminals.c's. */
#include "bus_private.h"

#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void bus_dispatch(struct bus *bus)
{
  int r;

  while ((r = sd_bus_process(bus->bus, NULL)) > 0)
    ;
  if (r < 0) {
    log_err("lost the D-Bus connection: %s", strerror(-r));
    event_base_loopbreak(bus->base);
    return;
  }
  bus_arm(bus);
}

static void on_bus_event(evutil_socket_t fd, short events, void *arg)
{
  (void)fd;
  (void)events;
  bus_dispatch(arg);
}

static uint64_t monotonic_usec(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Re-armed only when something changed: bus_arm runs after every send
 * and dispatch, and re-adding the same fd cost two epoll_ctl calls each
 * time, on the way of every signal. */
void bus_arm(struct bus *bus)
{
  int events = sd_bus_get_events(bus->bus);
  short flags = EV_PERSIST;
  uint64_t deadline = UINT64_MAX;

  if (events < 0)
    return;
  flags |= (short)((events & POLLIN ? EV_READ : 0) | (events & POLLOUT ? EV_WRITE : 0));
  if (flags != bus->io_flags || !event_pending(bus->io, EV_READ | EV_WRITE, NULL)) {
    event_del(bus->io);
    event_assign(bus->io, bus->base, sd_bus_get_fd(bus->bus), flags, on_bus_event, bus);
    event_add(bus->io, NULL);
    bus->io_flags = flags;
  }
  if (sd_bus_get_timeout(bus->bus, &deadline) < 0)
    deadline = UINT64_MAX;
  if (deadline == bus->timer_deadline &&
      (deadline == UINT64_MAX || evtimer_pending(bus->timer, NULL)))
    return;
  bus->timer_deadline = deadline;
  if (deadline != UINT64_MAX) {
    uint64_t now = monotonic_usec(), delay = deadline > now ? deadline - now : 0;
    struct timeval tv = {(time_t)(delay / 1000000u), (suseconds_t)(delay % 1000000u)};
    evtimer_add(bus->timer, &tv);
  } else {
    evtimer_del(bus->timer);
  }
}

const char *bus_handle_of_path(const char *path)
{
  const size_t prefix = strlen(BUS_TERMINAL_PREFIX "/");

  if (!path || strncmp(path, BUS_TERMINAL_PREFIX "/", prefix) != 0 || !path[prefix])
    return NULL;
  return path + prefix;
}

char *bus_path_of_handle(const char *handle)
{
  return xasprintf(BUS_TERMINAL_PREFIX "/%s", handle);
}

/* Resume from suspend: phones may have come and gone while the machine
 * slept, and udev's events of that time may never arrive. */
static int on_prepare_for_sleep(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
  struct bus *bus = userdata;
  int sleeping = 0;

  (void)error;
  if (sd_bus_message_read(message, "b", &sleeping) < 0 || sleeping || !bus->handlers.resumed)
    return 0;
  bus->handlers.resumed(bus->handlers.resumed_userdata);
  return 0;
}

int bus_open(struct event_base *base, struct bus **out_bus)
{
  struct bus *bus = xcalloc(1, sizeof *bus);
  int r = sd_bus_open_system(&bus->bus);

  bus->base = base;
  if (r < 0) {
    bus_free(bus);
    return r;
  }
  bus->io = event_new(base, sd_bus_get_fd(bus->bus), EV_READ | EV_PERSIST, on_bus_event, bus);
  bus->timer = evtimer_new(base, on_bus_event, bus);
  bus->timer_deadline = UINT64_MAX;
  bus_arm(bus);
  *out_bus = bus;
  return 0;
}

int bus_serve(struct bus *bus, const struct bus_handlers *handlers,
              const struct bus_options *options)
{
  int r;

  bus->handlers = *handlers;
  bus->options = *options;
  r = bus_manager_export(bus);
  if (r >= 0 && options->hide_serials)
    r = bus_callers_watch(bus);
  if (r >= 0)
    r = bus_terminals_export(bus);
  if (r >= 0)
    r = sd_bus_match_signal_async(bus->bus, NULL, "org.freedesktop.login1",
                                  "/org/freedesktop/login1", "org.freedesktop.login1.Manager",
                                  "PrepareForSleep", on_prepare_for_sleep, NULL, bus);
  if (r >= 0)
    r = sd_bus_request_name(bus->bus, BUS_NAME, 0);
  bus_arm(bus);
  return r < 0 ? r : 0;
}

void bus_free(struct bus *bus)
{
  if (!bus)
    return;
  if (bus->bus)
    sd_bus_flush_close_unref(bus->bus);
  if (bus->io)
    event_free(bus->io);
  if (bus->timer)
    event_free(bus->timer);
  bus_callers_free(bus);
  free(bus);
}

static void emit_manager_signal(struct bus *bus, const char *member, const char *handle)
{
  _cleanup_free_ char *path = NULL;

  if (!bus)
    return;
  path = bus_path_of_handle(handle);
  sd_bus_emit_signal(bus->bus, BUS_MANAGER_PATH, BUS_MANAGER_IFACE, member, "o", path);
  bus_arm(bus);
}

void bus_emit_attached(struct bus *bus, const char *handle)
{
  emit_manager_signal(bus, "TerminalAttached", handle);
}

void bus_emit_detached(struct bus *bus, const char *handle)
{
  emit_manager_signal(bus, "TerminalDetached", handle);
}

void bus_emit_decision(struct bus *bus, const char *handle, const char *decision,
                       const char *reason)
{
  _cleanup_free_ char *path = NULL;

  if (!bus)
    return;
  path = bus_path_of_handle(handle);
  sd_bus_emit_signal(bus->bus, BUS_MANAGER_PATH, BUS_MANAGER_IFACE, "Decision", "oss", path,
                     decision, reason);
  sd_bus_emit_properties_changed(bus->bus, path, BUS_TERMINAL_IFACE, "Decision", "Reason", NULL);
  bus_arm(bus);
}

void bus_emit_last_seen(struct bus *bus, const char *handle)
{
  _cleanup_free_ char *path = NULL;

  if (!bus)
    return;
  path = bus_path_of_handle(handle);
  sd_bus_emit_properties_changed(bus->bus, path, BUS_TERMINAL_IFACE, "LastSeen", NULL);
  bus_arm(bus);
}

void bus_emit_account_changed(struct bus *bus)
{
  if (!bus)
    return;
  sd_bus_emit_properties_changed(bus->bus, BUS_MANAGER_PATH, BUS_MANAGER_IFACE, "Account",
                                 "AccountState", NULL);
  bus_arm(bus);
}
