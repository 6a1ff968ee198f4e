/* The hub: the attached terminals, by USB position and by handle, and the
 * one place the edges meet. udev_watch.c reports attaches to it, the
 * account tells it of changes, the bus asks it what to show and do; it
 * drives each terminal (terminal.c), which drives the store, the registry
 * and the bus. Its functions that take void * are handlers, in the
 * shapes udev_watch.h, account.h and bus.h ask for. */
#pragma once

#include <stddef.h>

#include "bus.h"
#include "hub.h"
#include "identify.h"

struct terminals;

/* deps: the edges; hub->publish is the manager's own and is ignored. */
struct terminals *terminals_new(const struct hub *deps);
/* Drops every terminal without announcing anything (shutdown). */
void terminals_free(struct terminals *terminals);
size_t terminals_count(const struct terminals *terminals);

/* udev_watch_handlers */
void terminals_attached(const char *syspath, const struct phone_info *info, void *terminals);
void terminals_detached(const char *syspath, void *terminals);
void terminals_rescan_begin(void *terminals);
void terminals_rescan_end(void *terminals);

/* renewer_handlers: the phone at syspath key is due for renewal */
void terminals_renew_due(const char *syspath, void *terminals);

/* account_handlers: the id or the state changed */
void terminals_account_changed(void *terminals);

/* bus_handlers, all but `resumed` (udev_watch_resumed) */
void terminals_bus_handlers(struct terminals *terminals, struct bus_handlers *out_handlers);
