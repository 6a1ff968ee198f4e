/* What a failed D-Bus call means to a script (the exit code) and to a
 * person (the message). Pure: functions of the error, no I/O. */
#pragma once

#include "args.h"

#include <systemd/sd-bus.h>

#define CTL_ERROR_PREFIX "org.phonebind1.Error."
#define CTL_ERROR_NO_SUCH_TERMINAL CTL_ERROR_PREFIX "NoSuchTerminal"
#define CTL_ERROR_RELEASE_UNCONFIRMED CTL_ERROR_PREFIX "ReleaseUnconfirmed"
#define CTL_ERROR_BUSY CTL_ERROR_PREFIX "Busy"
#define CTL_ERROR_ACCOUNT_REFUSED CTL_ERROR_PREFIX "AccountRefused"
#define CTL_ERROR_NOT_SHADOW_ACCOUNT CTL_ERROR_PREFIX "NotShadowAccount"
#define CTL_ERROR_ACCOUNT_NOT_REFUSED CTL_ERROR_PREFIX "AccountNotRefused"

/* r is the negative errno the call returned, error its D-Bus error (may
 * be unset: then the bus itself could not be reached). */
enum ctl_exit ctl_exit_for(int r, const sd_bus_error *error);

/* The message, without the "phonebindctl: " prefix; bus names the bus
 * ("the system bus", "the bus at unix:path=..."). The daemon's own text,
 * but for the errors phonebindctl(1) words itself (what to do next).
 * Owned by the caller. */
char *ctl_error_message(int r, const sd_bus_error *error, const char *bus);
