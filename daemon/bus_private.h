/* What the bus's files share: the connection and the object names. Only
 * bus.c, bus_manager.c, bus_terminals.c and bus_callers.c include this. */
#pragma once

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "bus.h"

#define BUS_NAME "org.phonebind1"
#define BUS_MANAGER_PATH "/org/phonebind1"
#define BUS_MANAGER_IFACE "org.phonebind1.Manager"
#define BUS_TERMINAL_PREFIX "/org/phonebind1/terminal"
#define BUS_TERMINAL_IFACE "org.phonebind1.Terminal"

struct strmap;

struct bus {
  struct event_base *base;
  sd_bus *bus;
  struct event *io, *timer;
  short io_flags;          /* what bus->io was last armed with */
  uint64_t timer_deadline; /* and bus->timer, UINT64_MAX for none */
  struct bus_handlers handlers;
  struct bus_options options;
  struct strmap *caller_uids; /* unique name → uid + 1, for hide-serials */
};

/* After every dispatch and every send: sd-bus's fd, events and timeout
 * again into the libevent events. */
void bus_arm(struct bus *bus);
/* "/org/phonebind1/terminal/HANDLE" → "HANDLE", else NULL. */
const char *bus_handle_of_path(const char *path);
/* The object path of a handle; malloc'd. */
char *bus_path_of_handle(const char *handle);

/* Whether the caller of the message being handled is root (bus_callers.c):
 * asked of the bus driver once per client, remembered until it leaves. */
bool bus_caller_is_root(struct bus *bus);
int bus_callers_watch(struct bus *bus);
void bus_callers_free(struct bus *bus);

int bus_manager_export(struct bus *bus);
int bus_terminals_export(struct bus *bus);
