/* phonebindctl monitor: the daemon's signals as they come, one line each. */
#pragma once

#include "format.h"

#include <systemd/sd-bus.h>

/* Subscribes to TerminalAttached, TerminalDetached and Decision (from the
 * owner of org.phonebind1 only, so no other client can inject lines) and
 * to the name's owner changing, makes sure the daemon runs (activating it
 * if need be), then prints events to stdout until SIGINT or SIGTERM (0)
 * or until the bus fails (negative errno). A daemon that stops and comes
 * back is reported, not fatal. */
int ctl_monitor_run(sd_bus *bus, const struct ctl_format *format, sd_bus_error *error);
