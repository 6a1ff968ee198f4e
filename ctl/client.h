/* phonebindctl's side of the D-Bus API (DESIGN.md, contract): thin calls
 * over sd-bus that fill the records of records.h. Each returns 0 or a
 * negative errno with *error set when the bus or the daemon said why. */
#pragma once

#include "records.h"

#include <systemd/sd-bus.h>

#define CTL_BUS_NAME "org.phonebind1"
#define CTL_MANAGER_PATH "/org/phonebind1"
#define CTL_MANAGER_IFACE "org.phonebind1.Manager"
#define CTL_TERMINAL_IFACE "org.phonebind1.Terminal"

/* The system bus (which honours DBUS_SYSTEM_BUS_ADDRESS), or the bus at
 * address. Lets polkit ask for a password when stdin is a terminal. */
int ctl_client_open(const char *address, sd_bus **out_bus);

/* Every attached terminal with its properties. Calls through the
 * well-known name, so D-Bus activation starts the daemon if need be. A
 * terminal detached while it was being read is left out. The array is
 * the caller's (ctl_terminals_free). */
int ctl_client_list(sd_bus *bus, struct ctl_terminal **out_terminals, size_t *out_count,
                    sd_bus_error *error);

/* Whether the daemon runs, and if so its properties (AccountState "" from
 * a daemon older than it) and the number of attached terminals. Never
 * starts the daemon: a status must not change what it reports. Not
 * running is a result (running false), not an error. */
int ctl_client_status(sd_bus *bus, struct ctl_status *out_status, sd_bus_error *error);

/* Forget or Retry one terminal's object path. */
int ctl_client_manage(sd_bus *bus, const char *method, const char *path, sd_bus_error *error);

/* ResetAccount(): a refused shadow account replaced by a new one. */
int ctl_client_reset_account(sd_bus *bus, sd_bus_error *error);
