/* phonebindd's signals on the system bus, as phonebind-notify needs them:
 * Decision and TerminalDetached sent by the owner of org.phonebind1 (a
 * signal anyone else sends under that interface is not listened to), and
 * for each Decision worth showing the terminal's Vendor and Model, read
 * from its properties. Reported in the order the signals came, so a
 * detach never overtakes the decision before it. */
#pragma once

#include <gio/gio.h>
#include <stdbool.h>

struct bus_decision {
  const char *path;           /* the terminal's object path */
  const char *decision;       /* "connect", ... */
  const char *reason;         /* "new-binding", ... */
  const char *vendor, *model; /* as the daemon reports them; NULL when unknown */
};

struct bus_watch_handlers {
  /* Whether a decision is to be reported at all (and its names read). */
  bool (*wanted)(const char *decision, const char *reason, void *userdata);
  void (*decision)(const struct bus_decision *decision, void *userdata);
  void (*detached)(const char *path, void *userdata);
  void *userdata;
};

/* Subscribes on bus; returns once the bus has the match rules, so that no
 * signal sent after it returns is missed. Never NULL. */
struct bus_watch *bus_watch_new(GDBusConnection *bus, const struct bus_watch_handlers *handlers);

/* Unsubscribes; property reads in flight are cancelled (and waited for:
 * their replies come through the main context). Reports nothing more. */
void bus_watch_free(struct bus_watch *watch);
