/* org.phonebind1 on the system bus. sd-bus runs without sd-event: after
 * every dispatch and every send we read its fd, events and (absolute,
 * CLOCK_MONOTONIC) timeout again and re-arm the libevent events. */
#include "bus.h"

#include "account.h"
#include "daemon.h"
#include "log.h"
#include "polkit.h"
#include "strmap.h"
#include "terminal.h"
#include "udev_watch.h"
#include "untrusted_text.h"
#include "version.h"
#include "xalloc.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>

#define BUS_NAME "org.phonebind1"
#define MANAGER_PATH "/org/phonebind1"
#define MANAGER_IFACE "org.phonebind1.Manager"
#define TERMINAL_PREFIX "/org/phonebind1/terminal"
#define TERMINAL_IFACE "org.phonebind1.Terminal"
#define MANAGE_ACTION "org.phonebind1.manage"
#define ERROR_PREFIX "org.phonebind1.Error."

struct bus {
  struct daemon *daemon;
  sd_bus *bus;
  struct event *io, *timer;
};

static void bus_arm(struct bus *bus);

static void bus_dispatch(struct bus *bus)
{
  int r;

  while ((r = sd_bus_process(bus->bus, NULL)) > 0)
    ;
  if (r < 0) {
    log_err("lost the D-Bus connection: %s", strerror(-r));
    event_base_loopbreak(bus->daemon->base);
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

static void bus_arm(struct bus *bus)
{
  int events = sd_bus_get_events(bus->bus);
  short flags = EV_PERSIST;
  uint64_t deadline = UINT64_MAX;

  if (events < 0)
    return;
  flags |= (short)((events & POLLIN ? EV_READ : 0) | (events & POLLOUT ? EV_WRITE : 0));
  event_del(bus->io);
  event_assign(bus->io, bus->daemon->base, sd_bus_get_fd(bus->bus), flags, on_bus_event, bus);
  event_add(bus->io, NULL);
  if (sd_bus_get_timeout(bus->bus, &deadline) >= 0 && deadline != UINT64_MAX) {
    uint64_t now = monotonic_usec(), delay = deadline > now ? deadline - now : 0;
    struct timeval tv = {(time_t)(delay / 1000000u), (suseconds_t)(delay % 1000000u)};
    evtimer_add(bus->timer, &tv);
  } else {
    evtimer_del(bus->timer);
  }
}

/* Properties of the Manager. */
static int get_string(sd_bus_message *reply, const char *value)
{
  return sd_bus_message_append(reply, "s", value ? value : "");
}

static int prop_version(sd_bus *b, const char *path, const char *iface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
  (void)b, (void)path, (void)iface, (void)property, (void)userdata, (void)error;
  return get_string(reply, PHONEBIND_VERSION);
}

static int prop_account(sd_bus *b, const char *path, const char *iface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
  struct bus *bus = userdata;

  (void)b, (void)path, (void)iface, (void)property, (void)error;
  return get_string(reply, bus->daemon->account);
}

static int prop_account_state(sd_bus *b, const char *path, const char *iface,
                              const char *property, sd_bus_message *reply, void *userdata,
                              sd_bus_error *error)
{
  struct bus *bus = userdata;

  (void)b, (void)path, (void)iface, (void)property, (void)error;
  return get_string(reply, account_state_name(bus->daemon->account_state));
}

static int prop_registry(sd_bus *b, const char *path, const char *iface, const char *property,
                         sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
  struct bus *bus = userdata;

  (void)b, (void)path, (void)iface, (void)property, (void)error;
  return get_string(reply, bus->daemon->config.registry);
}

static void append_path(const char *key, void *value, void *userdata)
{
  (void)key;
  sd_bus_message_append((sd_bus_message *)userdata, "o", ((struct terminal *)value)->object_path);
}

static int method_list(sd_bus_message *request, void *userdata, sd_bus_error *error)
{
  struct bus *bus = userdata;
  sd_bus_message *reply = NULL;
  int r;

  (void)error;
  r = sd_bus_message_new_method_return(request, &reply);
  if (r >= 0)
    r = sd_bus_message_open_container(reply, 'a', "o");
  if (r >= 0)
    strmap_foreach(bus->daemon->by_handle, append_path, reply);
  if (r >= 0)
    r = sd_bus_message_close_container(reply);
  if (r >= 0)
    r = sd_bus_send(NULL, reply, NULL);
  sd_bus_message_unref(reply);
  return r < 0 ? r : 1;
}

static struct terminal *terminal_by_path(struct bus *bus, const char *path)
{
  const size_t prefix = strlen(TERMINAL_PREFIX "/");

  if (!path || strncmp(path, TERMINAL_PREFIX "/", prefix) != 0)
    return NULL;
  return strmap_get(bus->daemon->by_handle, path + prefix);
}

enum privileged_method { METHOD_FORGET, METHOD_RETRY, METHOD_RESET_ACCOUNT };

/* A privileged call waiting for polkit, then (Forget) for the registry. */
struct pending_call {
  struct bus *bus;
  sd_bus_message *request;
  char *path; /* the terminal's; NULL for ResetAccount */
  enum privileged_method method;
};

static void pending_reply(struct pending_call *call, const char *error_name, const char *message)
{
  if (error_name)
    sd_bus_reply_method_errorf(call->request, error_name, "%s", message);
  else
    sd_bus_reply_method_return(call->request, "");
  bus_arm(call->bus);
  sd_bus_message_unref(call->request);
  free(call->path);
  free(call);
}

/* The daemon's errors, by errno, as the D-Bus errors of docs/dbus-api.md. */
static const struct {
  int error;
  const char *name, *message;
} errors[] = {
  {-EHOSTUNREACH, ERROR_PREFIX "RegistryUnreachable",
   "the registry could not be reached; nothing was changed"},
  {-EACCES, ERROR_PREFIX "AccountRefused",
   "the registry refused this PC's account; nothing was changed"},
  {-ETIMEDOUT, ERROR_PREFIX "ReleaseUnconfirmed",
   "the registry did not confirm the release; it is repeated until it does (pending/releasing)"},
  {-EPERM, ERROR_PREFIX "NotOwner", "the phone is bound to another client"},
  {-ENODEV, ERROR_PREFIX "NoSuchTerminal", "the phone was detached"},
  {-EBUSY, ERROR_PREFIX "Busy", "a release of this phone is under way"},
  {-ENOKEY, ERROR_PREFIX "Unidentified", "the phone has no identifier to release"},
  {-EOPNOTSUPP, ERROR_PREFIX "NotShadowAccount",
   "the account is configured; its token is the administrator's to replace"},
  {-EALREADY, ERROR_PREFIX "AccountNotRefused",
   "the registry has not refused the account; nothing to reset"},
};

static void reply_errno(struct pending_call *call, int error)
{
  for (size_t i = 0; i < sizeof errors / sizeof *errors; i++)
    if (errors[i].error == error) {
      pending_reply(call, errors[i].name, errors[i].message);
      return;
    }
  pending_reply(call, error ? SD_BUS_ERROR_FAILED : NULL, "failed");
}

static void on_forgotten(int error, void *userdata)
{
  reply_errno(userdata, error);
}

static void run_authorized(struct pending_call *call)
{
  struct terminal *terminal = call->path ? terminal_by_path(call->bus, call->path) : NULL;

  if (call->method == METHOD_RESET_ACCOUNT)
    reply_errno(call, account_reset(call->bus->daemon));
  else if (!terminal)
    pending_reply(call, ERROR_PREFIX "NoSuchTerminal", "no such terminal");
  else if (call->method == METHOD_FORGET)
    terminal_forget(terminal, on_forgotten, call);
  else
    reply_errno(call, terminal_retry(terminal));
}

static void on_authorized(enum polkit_answer answer, void *userdata)
{
  struct pending_call *call = userdata;

  if (answer == POLKIT_NEEDS_INTERACTION)
    pending_reply(call, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
                  "org.phonebind1.manage needs authentication; call again allowing "
                  "interactive authorization");
  else if (answer != POLKIT_ALLOWED)
    pending_reply(call, SD_BUS_ERROR_ACCESS_DENIED, "not authorized for org.phonebind1.manage");
  else
    run_authorized(call);
}

static int check_then_run(sd_bus_message *request, struct bus *bus,
                          enum privileged_method method, const char *path)
{
  struct pending_call *call = xcalloc(1, sizeof *call);
  int r;

  *call = (struct pending_call){.bus = bus, .request = sd_bus_message_ref(request),
                                .path = path ? xstrdup(path) : NULL, .method = method};
  r = polkit_check(bus->bus, request, MANAGE_ACTION, on_authorized, call);
  if (r < 0)
    pending_reply(call, SD_BUS_ERROR_ACCESS_DENIED, "cannot check authorization");
  return 1; /* answered later, from on_authorized */
}

static int privileged_method(sd_bus_message *request, struct bus *bus,
                             enum privileged_method method, sd_bus_error *error)
{
  const char *path;
  int r = sd_bus_message_read(request, "o", &path);

  if (r < 0)
    return r;
  if (!terminal_by_path(bus, path))
    return sd_bus_error_setf(error, ERROR_PREFIX "NoSuchTerminal", "no terminal %s", path);
  return check_then_run(request, bus, method, path);
}

static int method_forget(sd_bus_message *request, void *userdata, sd_bus_error *error)
{
  return privileged_method(request, userdata, METHOD_FORGET, error);
}

static int method_retry(sd_bus_message *request, void *userdata, sd_bus_error *error)
{
  return privileged_method(request, userdata, METHOD_RETRY, error);
}

static int method_reset_account(sd_bus_message *request, void *userdata, sd_bus_error *error)
{
  (void)error;
  return check_then_run(request, userdata, METHOD_RESET_ACCOUNT, NULL);
}

static const sd_bus_vtable manager_vtable[] = {
  SD_BUS_VTABLE_START(0),
  SD_BUS_PROPERTY("Version", "s", prop_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  SD_BUS_PROPERTY("Account", "s", prop_account, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
  SD_BUS_PROPERTY("AccountState", "s", prop_account_state, 0,
                  SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
  SD_BUS_PROPERTY("RegistryUrl", "s", prop_registry, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  SD_BUS_METHOD("ListTerminals", "", "ao", method_list, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD("Forget", "o", "", method_forget, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD("Retry", "o", "", method_retry, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD("ResetAccount", "", "", method_reset_account, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_SIGNAL("TerminalAttached", "o", 0),
  SD_BUS_SIGNAL("TerminalDetached", "o", 0),
  SD_BUS_SIGNAL("Decision", "oss", 0),
  SD_BUS_VTABLE_END,
};

/* Terminal objects, found by their handle through a fallback vtable. */
static int find_terminal(sd_bus *b, const char *path, const char *iface, void *userdata,
                         void **found, sd_bus_error *error)
{
  struct terminal *terminal = terminal_by_path(userdata, path);

  (void)b, (void)iface, (void)error;
  if (!terminal)
    return 0;
  *found = terminal;
  return 1;
}

static void collect_path(const char *key, void *value, void *userdata)
{
  char ***cursor = userdata;

  (void)key;
  *(*cursor)++ = xstrdup(((struct terminal *)value)->object_path);
}

static bool is_terminal_dir_or_above(const char *path)
{
  size_t length = strlen(path);

  if (strcmp(path, "/") == 0)
    return true;
  return strncmp(TERMINAL_PREFIX, path, length) == 0 &&
         (TERMINAL_PREFIX[length] == '\0' || TERMINAL_PREFIX[length] == '/');
}

static int enumerate_terminals(sd_bus *b, const char *prefix, void *userdata, char ***nodes,
                               sd_bus_error *error)
{
  struct bus *bus = userdata;
  char **paths, **cursor;

  (void)b, (void)error;
  /* sd-bus asks with the path being introspected. A terminal has no
   * children: listing all the others for it, only for sd-bus to filter
   * them out, made introspecting each of 1000 terminals O(n). */
  *nodes = NULL;
  if (!is_terminal_dir_or_above(prefix))
    return 0;
  paths = xcalloc(strmap_size(bus->daemon->by_handle) + 1, sizeof *paths);
  cursor = paths;
  strmap_foreach(bus->daemon->by_handle, collect_path, &cursor);
  *nodes = paths;
  return 0;
}

/* Strings from the phone's descriptors: D-Bus refuses invalid UTF-8 (the
 * whole GetAll would fail), and clients should not have to guard against
 * escape sequences. */
static int get_device_string(sd_bus_message *reply, const char *value)
{
  _cleanup_free_ char *shown = text_sanitize(value ? value : "");

  return sd_bus_message_append(reply, "s", shown);
}

#define TERMINAL_STRING_GETTER(name, append, expr)                                                \
  static int name(sd_bus *b, const char *path, const char *iface, const char *property,          \
                  sd_bus_message *reply, void *userdata, sd_bus_error *error)                    \
  {                                                                                               \
    const struct terminal *terminal = userdata;                                                   \
    (void)b, (void)path, (void)iface, (void)property, (void)error;                                \
    return append(reply, expr);                                                                   \
  }

TERMINAL_STRING_GETTER(prop_id, get_string, terminal->handle)
TERMINAL_STRING_GETTER(prop_vendor, get_device_string,
                       *terminal->info.vendor ? terminal->info.vendor : terminal->info.vendor_id)
TERMINAL_STRING_GETTER(prop_model, get_device_string, terminal->info.model)
TERMINAL_STRING_GETTER(prop_serial, get_device_string, terminal->info.serial)
TERMINAL_STRING_GETTER(prop_decision, get_string, terminal_decision(terminal))
TERMINAL_STRING_GETTER(prop_reason, get_string, terminal_reason(terminal))

static int prop_attached(sd_bus *b, const char *path, const char *iface, const char *property,
                         sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
  (void)b, (void)path, (void)iface, (void)property, (void)userdata, (void)error;
  return sd_bus_message_append(reply, "b", 1); /* objects exist while attached */
}

static const sd_bus_vtable terminal_vtable[] = {
  SD_BUS_VTABLE_START(0),
  SD_BUS_PROPERTY("Id", "s", prop_id, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  SD_BUS_PROPERTY("Vendor", "s", prop_vendor, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  SD_BUS_PROPERTY("Model", "s", prop_model, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  SD_BUS_PROPERTY("Serial", "s", prop_serial, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  /* an object exists only while its phone is attached: never changes */
  SD_BUS_PROPERTY("Attached", "b", prop_attached, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  SD_BUS_PROPERTY("Decision", "s", prop_decision, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
  SD_BUS_PROPERTY("Reason", "s", prop_reason, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
  SD_BUS_PROPERTY("FirstSeen", "t", NULL, offsetof(struct terminal, first_seen),
                  SD_BUS_VTABLE_PROPERTY_CONST),
  SD_BUS_PROPERTY("LastSeen", "t", NULL, offsetof(struct terminal, last_seen),
                  SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
  SD_BUS_VTABLE_END,
};

/* Resume from suspend: phones may have come and gone while the machine
 * slept, and udev's events of that time may never arrive. */
static int on_prepare_for_sleep(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
  struct bus *bus = userdata;
  int sleeping = 0;

  (void)error;
  if (sd_bus_message_read(message, "b", &sleeping) < 0 || sleeping)
    return 0;
  udev_watch_rescan(bus->daemon->watch, "resumed from suspend");
  return 0;
}

static int bus_connect(struct bus *bus)
{
  int r = sd_bus_open_system(&bus->bus);

  if (r < 0)
    return r;
  r = sd_bus_add_object_vtable(bus->bus, NULL, MANAGER_PATH, MANAGER_IFACE, manager_vtable, bus);
  if (r >= 0)
    r = sd_bus_add_fallback_vtable(bus->bus, NULL, TERMINAL_PREFIX, TERMINAL_IFACE,
                                   terminal_vtable, find_terminal, bus);
  if (r >= 0)
    r = sd_bus_add_node_enumerator(bus->bus, NULL, TERMINAL_PREFIX, enumerate_terminals, bus);
  if (r >= 0)
    r = sd_bus_match_signal_async(bus->bus, NULL, "org.freedesktop.login1",
                                  "/org/freedesktop/login1", "org.freedesktop.login1.Manager",
                                  "PrepareForSleep", on_prepare_for_sleep, NULL, bus);
  if (r >= 0)
    r = sd_bus_request_name(bus->bus, BUS_NAME, 0);
  return r;
}

int bus_open(struct daemon *daemon, struct bus **out_bus)
{
  struct bus *bus = xcalloc(1, sizeof *bus);
  int r = bus_connect(bus);

  bus->daemon = daemon;
  if (r < 0) {
    bus_free(bus);
    return r;
  }
  bus->io = event_new(daemon->base, sd_bus_get_fd(bus->bus), EV_READ | EV_PERSIST, on_bus_event,
                      bus);
  bus->timer = evtimer_new(daemon->base, on_bus_event, bus);
  bus_arm(bus);
  *out_bus = bus;
  return 0;
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
  free(bus);
}

static void emit_manager_signal(struct bus *bus, const char *member, const char *path)
{
  if (!bus)
    return;
  sd_bus_emit_signal(bus->bus, MANAGER_PATH, MANAGER_IFACE, member, "o", path);
  bus_arm(bus);
}

void bus_emit_attached(struct bus *bus, const struct terminal *terminal)
{
  emit_manager_signal(bus, "TerminalAttached", terminal->object_path);
}

void bus_emit_detached(struct bus *bus, const struct terminal *terminal)
{
  emit_manager_signal(bus, "TerminalDetached", terminal->object_path);
}

void bus_emit_decision(struct bus *bus, const struct terminal *terminal)
{
  if (!bus)
    return;
  sd_bus_emit_signal(bus->bus, MANAGER_PATH, MANAGER_IFACE, "Decision", "oss",
                     terminal->object_path, terminal_decision(terminal), terminal_reason(terminal));
  sd_bus_emit_properties_changed(bus->bus, terminal->object_path, TERMINAL_IFACE, "Decision",
                                 "Reason", NULL);
  bus_arm(bus);
}

static void emit_manager_property(struct bus *bus, const char *property)
{
  if (!bus)
    return;
  sd_bus_emit_properties_changed(bus->bus, MANAGER_PATH, MANAGER_IFACE, property, NULL);
  bus_arm(bus);
}

void bus_emit_account_changed(struct bus *bus)
{
  emit_manager_property(bus, "Account");
}

void bus_emit_account_state(struct bus *bus)
{
  emit_manager_property(bus, "AccountState");
}

void bus_emit_last_seen(struct bus *bus, const struct terminal *terminal)
{
  if (!bus)
    return;
  sd_bus_emit_properties_changed(bus->bus, terminal->object_path, TERMINAL_IFACE, "LastSeen",
                                 NULL);
  bus_arm(bus);
}
