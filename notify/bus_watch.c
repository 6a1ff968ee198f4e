/* phonebindd's signals through GDBus; see bus_watch.h. */
#include "bus_watch.h"

#include "log.h"

#define BUS_NAME "org.phonebind1"
#define MANAGER_PATH "/org/phonebind1"
#define MANAGER_INTERFACE "org.phonebind1.Manager"
#define TERMINAL_INTERFACE "org.phonebind1.Terminal"
#define PROPERTIES_TIMEOUT_MS 5000

struct watch_event {
  struct bus_watch *watch;
  bool is_decision, ready; /* ready: its names are read (or not needed) */
  char *path, *decision, *reason, *vendor, *model;
};

struct bus_watch {
  GDBusConnection *bus;
  guint decision_subscription, detached_subscription;
  GQueue events; /* struct watch_event, oldest first */
  GCancellable *cancellable;
  unsigned reading; /* property reads in flight */
  bool closing;     /* in bus_watch_free: report nothing more */
  struct bus_watch_handlers handlers;
};

static void event_free(struct watch_event *event)
{
  g_free(event->path);
  g_free(event->decision);
  g_free(event->reason);
  g_free(event->vendor);
  g_free(event->model);
  g_free(event);
}

/* Reports the events at the head of the queue that are ready. */
static void flush(struct bus_watch *watch)
{
  struct watch_event *event;

  while ((event = g_queue_peek_head(&watch->events)) && event->ready) {
    g_queue_pop_head(&watch->events);
    if (event->is_decision) {
      const struct bus_decision decision = {event->path, event->decision, event->reason,
                                            event->vendor, event->model};
      watch->handlers.decision(&decision, watch->handlers.userdata);
    } else {
      watch->handlers.detached(event->path, watch->handlers.userdata);
    }
    event_free(event);
  }
}

/* A string property out of GetAll's dictionary, or NULL. */
static char *lookup_string(GVariant *properties, const char *name)
{
  char *value = NULL;

  if (!g_variant_lookup(properties, name, "s", &value))
    return NULL;
  return value;
}

static void on_properties(GObject *source, GAsyncResult *result, gpointer userdata)
{
  struct watch_event *event = userdata;
  struct bus_watch *watch = event->watch;
  GError *error = NULL;
  GVariant *reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);

  watch->reading--;
  if (watch->closing) { /* bus_watch_free frees the event */
    g_clear_error(&error);
    g_clear_pointer(&reply, g_variant_unref);
    return;
  }
  if (reply) {
    GVariant *properties = g_variant_get_child_value(reply, 0);
    event->vendor = lookup_string(properties, "Vendor");
    event->model = lookup_string(properties, "Model");
    g_variant_unref(properties);
    g_variant_unref(reply);
  } else {
    /* detached meanwhile, or an older daemon: shown without a name */
    log_debug("cannot read the properties of %s: %s", event->path, error->message);
    g_error_free(error);
  }
  event->ready = true;
  flush(watch);
}

static void read_names(struct bus_watch *watch, struct watch_event *event)
{
  watch->reading++;
  g_dbus_connection_call(watch->bus, BUS_NAME, event->path, "org.freedesktop.DBus.Properties",
                         "GetAll", g_variant_new("(s)", TERMINAL_INTERFACE),
                         G_VARIANT_TYPE("(a{sv})"), G_DBUS_CALL_FLAGS_NO_AUTO_START,
                         PROPERTIES_TIMEOUT_MS, watch->cancellable, on_properties, event);
}

static void on_decision(GDBusConnection *bus, const char *sender, const char *path,
                        const char *interface, const char *member, GVariant *parameters,
                        gpointer userdata)
{
  struct bus_watch *watch = userdata;
  struct watch_event *event;
  const char *terminal, *decision, *reason;

  (void)bus, (void)sender, (void)path, (void)interface, (void)member;
  if (!g_variant_is_of_type(parameters, G_VARIANT_TYPE("(oss)")))
    return;
  g_variant_get(parameters, "(&o&s&s)", &terminal, &decision, &reason);
  if (!watch->handlers.wanted(decision, reason, watch->handlers.userdata))
    return;
  event = g_new(struct watch_event, 1);
  *event = (struct watch_event){.watch = watch,
                                .is_decision = true,
                                .path = g_strdup(terminal),
                                .decision = g_strdup(decision),
                                .reason = g_strdup(reason)};
  g_queue_push_tail(&watch->events, event);
  read_names(watch, event);
}

static void on_detached(GDBusConnection *bus, const char *sender, const char *path,
                        const char *interface, const char *member, GVariant *parameters,
                        gpointer userdata)
{
  struct bus_watch *watch = userdata;
  struct watch_event *event;
  const char *terminal;

  (void)bus, (void)sender, (void)path, (void)interface, (void)member;
  if (!g_variant_is_of_type(parameters, G_VARIANT_TYPE("(o)")))
    return;
  g_variant_get(parameters, "(&o)", &terminal);
  event = g_new(struct watch_event, 1);
  *event = (struct watch_event){.watch = watch, .ready = true, .path = g_strdup(terminal)};
  g_queue_push_tail(&watch->events, event);
  flush(watch);
}

static guint subscribe(struct bus_watch *watch, const char *member, GDBusSignalCallback callback)
{
  return g_dbus_connection_signal_subscribe(watch->bus, BUS_NAME, MANAGER_INTERFACE, member,
                                            MANAGER_PATH, NULL, G_DBUS_SIGNAL_FLAGS_NONE, callback,
                                            watch, NULL);
}

/* A call to the bus itself: its reply comes after the bus has taken the
 * AddMatch calls sent before it (and GDBus's lookup of the name's owner,
 * without which it drops the owner's signals). */
static void round_trip(GDBusConnection *bus)
{
  GError *error = NULL;
  GVariant *reply = g_dbus_connection_call_sync(
    bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetId", NULL,
    NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);

  if (reply) {
    g_variant_unref(reply);
    return;
  }
  log_warn("the bus did not answer: %s", error->message);
  g_error_free(error);
}

struct bus_watch *bus_watch_new(GDBusConnection *bus, const struct bus_watch_handlers *handlers)
{
  struct bus_watch *watch = g_new0(struct bus_watch, 1);

  watch->bus = g_object_ref(bus);
  watch->handlers = *handlers;
  watch->cancellable = g_cancellable_new();
  g_queue_init(&watch->events);
  watch->decision_subscription = subscribe(watch, "Decision", on_decision);
  watch->detached_subscription = subscribe(watch, "TerminalDetached", on_detached);
  round_trip(bus);
  return watch;
}

void bus_watch_free(struct bus_watch *watch)
{
  if (!watch)
    return;
  g_dbus_connection_signal_unsubscribe(watch->bus, watch->decision_subscription);
  g_dbus_connection_signal_unsubscribe(watch->bus, watch->detached_subscription);
  watch->closing = true;
  g_cancellable_cancel(watch->cancellable);
  while (watch->reading > 0)
    g_main_context_iteration(NULL, TRUE);
  g_queue_clear_full(&watch->events, (GDestroyNotify)event_free);
  g_object_unref(watch->cancellable);
  g_object_unref(watch->bus);
  g_free(watch);
}
