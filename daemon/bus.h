/* The daemon on the D-Bus system bus (org.phonebind1), with sd-bus driven
 * by the libevent loop. The bus edge: it knows D-Bus, not the daemon.
 * What it shows and does it asks of handlers (the terminals' hub), and
 * what it announces it is told in plain values. */
#pragma once

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bus;

/* What the Manager object shows; strings borrowed for the call. */
struct bus_manager_view {
  const char *account, *account_state, *registry_url;
};

/* What a terminal object shows; strings borrowed for the call. Vendor,
 * Model and Serial come from the phone: the bus sanitises them. */
struct bus_terminal_view {
  const char *handle, *vendor, *model, *serial, *decision, *reason;
  uint64_t first_seen, last_seen;
};

/* The reply to a Forget, later: 0 or -errno (see docs/dbus-api.md). */
typedef void (*bus_done_fn)(int error, void *call);

struct bus_handlers {
  void (*manager)(void *userdata, struct bus_manager_view *out_view);
  /* false when no terminal has that handle */
  bool (*terminal)(void *userdata, const char *handle, struct bus_terminal_view *out_view);
  size_t (*terminal_count)(void *userdata);
  void (*foreach_terminal)(void *userdata, void (*fn)(const char *handle, void *arg), void *arg);
  /* the privileged methods, once authorized: done is run exactly once */
  void (*forget)(void *userdata, const char *handle, bus_done_fn done, void *call);
  int (*retry)(void *userdata, const char *handle);
  int (*reset_account)(void *userdata);
  void *userdata;
  /* logind's PrepareForSleep(false) */
  void (*resumed)(void *userdata);
  void *resumed_userdata;
};

struct bus_options {
  bool hide_serials; /* Serial only to root (hide-serials = yes) */
};

/* Connects (DBUS_SYSTEM_BUS_ADDRESS or the system bus). 0 or -errno. */
int bus_open(struct event_base *base, struct bus **out_bus);
/* Exports the objects and takes the name; calls are answered from now on.
 * 0 or -errno. */
int bus_serve(struct bus *bus, const struct bus_handlers *handlers,
              const struct bus_options *options);
void bus_free(struct bus *bus);

/* All of these do nothing when bus is NULL. */
void bus_emit_attached(struct bus *bus, const char *handle);
void bus_emit_detached(struct bus *bus, const char *handle);
/* The Decision signal and PropertiesChanged for Decision and Reason. */
void bus_emit_decision(struct bus *bus, const char *handle, const char *decision,
                       const char *reason);
void bus_emit_last_seen(struct bus *bus, const char *handle);
/* PropertiesChanged for Account and AccountState. */
void bus_emit_account_changed(struct bus *bus);
