/* The daemon on the D-Bus system bus (org.phonebind1), with sd-bus driven
 * by the libevent loop. */
#pragma once

#include <event2/event.h>

struct bus;
struct daemon;
struct terminal;

/* Connects (DBUS_SYSTEM_BUS_ADDRESS or the system bus), exports the
 * objects and takes the name. 0 or -errno. */
int bus_open(struct daemon *daemon, struct bus **out_bus);
void bus_free(struct bus *bus);

/* All of these do nothing when bus is NULL. */
void bus_emit_attached(struct bus *bus, const struct terminal *terminal);
void bus_emit_detached(struct bus *bus, const struct terminal *terminal);
/* The Decision signal and PropertiesChanged for Decision and Reason. */
void bus_emit_decision(struct bus *bus, const struct terminal *terminal);
void bus_emit_account_changed(struct bus *bus);
void bus_emit_account_state(struct bus *bus);
void bus_emit_last_seen(struct bus *bus, const struct terminal *terminal);
