/* phonebind-notify: a desktop notification for each decision of
 * phonebindd a person should see. Parses, connects to the system bus,
 * wires the bus watch to the notifier and the notifier to the desktop,
 * and runs GLib's loop until a signal or the bus ends it. */
#include "bus_watch.h"
#include "desktop.h"
#include "log.h"
#include "notifier.h"
#include "options.h"

#include <gio/gio.h>
#include <glib-unix.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>

struct run {
  GMainLoop *loop;
  int status;
};

static gboolean on_signal(gpointer userdata)
{
  struct run *run = userdata;

  g_main_loop_quit(run->loop);
  return G_SOURCE_CONTINUE;
}

/* Without the system bus there is nothing to listen to: end, and let the
 * session (or systemd --user) decide whether to start again. */
static void on_closed(GDBusConnection *bus, gboolean remote_peer_vanished, GError *error,
                      gpointer userdata)
{
  struct run *run = userdata;

  (void)bus, (void)remote_peer_vanished;
  log_err("the system bus closed the connection%s%s", error ? ": " : "",
          error ? error->message : "");
  run->status = 1;
  g_main_loop_quit(run->loop);
}

static int run_notifier(GDBusConnection *bus, const struct notify_options *options)
{
  struct run run = {g_main_loop_new(NULL, FALSE), 0};
  struct desktop *desktop = desktop_new(options->print, stdout);
  struct notifier *notifier = notifier_new(desktop, options->show_known);
  const struct bus_watch_handlers handlers = {notifier_wants, notifier_decided, notifier_detached,
                                              notifier};
  struct bus_watch *watch = bus_watch_new(bus, &handlers);
  guint sources[] = {g_unix_signal_add(SIGINT, on_signal, &run),
                     g_unix_signal_add(SIGTERM, on_signal, &run),
                     g_unix_signal_add(SIGHUP, on_signal, &run)};
  gulong closed = g_signal_connect(bus, "closed", G_CALLBACK(on_closed), &run);

  log_info("watching phonebindd's decisions on the system bus%s",
           options->print ? " (printing them)" : "");
  g_main_loop_run(run.loop);
  g_signal_handler_disconnect(bus, closed);
  for (size_t i = 0; i < G_N_ELEMENTS(sources); i++)
    g_source_remove(sources[i]);
  bus_watch_free(watch);
  notifier_free(notifier);
  desktop_free(desktop);
  g_main_loop_unref(run.loop);
  return run.status;
}

int main(int argc, char **argv)
{
  struct notify_options options;
  GDBusConnection *bus;
  GError *error = NULL;
  int r;

  setlocale(LC_ALL, "");
  log_init("phonebind-notify");
  r = notify_options_parse(argc, argv, &options);
  if (r != 0)
    return r < 0 ? 2 : 0;
  setvbuf(stdout, NULL, _IOLBF, 0); /* --print: a line as soon as it is shown */
  bus = g_bus_get_sync(G_BUS_TYPE_SYSTEM, NULL, &error);
  if (!bus) {
    log_err("cannot connect to the system bus: %s", error->message);
    g_error_free(error);
    return 1;
  }
  g_dbus_connection_set_exit_on_close(bus, FALSE);
  r = run_notifier(bus, &options);
  g_object_unref(bus);
  return r;
}
