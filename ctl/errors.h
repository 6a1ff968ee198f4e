/* What a failed D-Bus call means to a script (the exit code) and to a
 * person (the message). Pure: functions of the error, no I/O. */
#pragma once

#include "args.h"

#include <systemd/sd-bus.h>

#define CTL_ERROR_NO_SUCH_TERMINAL "org.phonebind1.Error.NoSuchTerminal"

/* r is the negative errno the call returned, error its D-Bus error (may
 * be unset: then the bus itself could not be reached). */
enum ctl_exit ctl_exit_for(int r, const sd_bus_error *error);

/* The message, without the "phonebindctl: " prefix; bus names the bus
 * ("the system bus", "the bus at unix:path=..."). Owned by the caller. */
char *ctl_error_message(int r, const sd_bus_error *error, const char *bus);
