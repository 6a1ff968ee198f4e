/* /org/phonebind1/terminal/<handle>, org.phonebind1.Terminal: one object
 * per attached phone, found through a fallback vtable and asked of the
 * handlers property by property. */
#include "bus_private.h"

#include "untrusted_text.h"
#include "xalloc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The view of the terminal a property is asked of. */
static bool view_of(struct bus *bus, const char *path, struct bus_terminal_view *out_view)
{
  const char *handle = bus_handle_of_path(path);

  return handle && bus->handlers.terminal(bus->handlers.userdata, handle, out_view);
}

static int find_terminal(sd_bus *b, const char *path, const char *iface, void *userdata,
                         void **found, sd_bus_error *error)
{
  struct bus_terminal_view view;

  (void)b, (void)iface, (void)error;
  if (!view_of(userdata, path, &view))
    return 0;
  *found = userdata; /* the getters look the terminal up by path */
  return 1;
}

static bool is_terminal_dir_or_above(const char *path)
{
  size_t length = strlen(path);

  if (strcmp(path, "/") == 0)
    return true;
  return strncmp(BUS_TERMINAL_PREFIX, path, length) == 0 &&
         (BUS_TERMINAL_PREFIX[length] == '\0' || BUS_TERMINAL_PREFIX[length] == '/');
}

static void collect_path(const char *handle, void *arg)
{
  char ***cursor = arg;

  *(*cursor)++ = bus_path_of_handle(handle);
}

static int enumerate_terminals(sd_bus *b, const char *prefix, void *userdata, char ***nodes,
                               sd_bus_error *error)
{
  struct bus *bus = userdata;
  char **paths, **cursor;

  (void)b, (void)error;
  /* sd-bus asks with the path being introspected. A terminal has no
   * children: listing all the others for it, only for sd-bus to filter
   * them out, made introspecting each of 1000 terminals O(n). */
  *nodes = NULL;
  if (!is_terminal_dir_or_above(prefix))
    return 0;
  paths = xcalloc(bus->handlers.terminal_count(bus->handlers.userdata) + 1, sizeof *paths);
  cursor = paths;
  bus->handlers.foreach_terminal(bus->handlers.userdata, collect_path, &cursor);
  *nodes = paths;
  return 0;
}

/* Strings from the phone's descriptors: D-Bus refuses invalid UTF-8 (the
 * whole GetAll would fail), and clients should not have to guard against
 * escape sequences. */
static int append_device_string(sd_bus_message *reply, const char *value)
{
  _cleanup_free_ char *shown = text_sanitize(value ? value : "");

  return sd_bus_message_append(reply, "s", shown);
}

/* hide-serials: a phone's serial says who owns it; unprivileged local
 * users see an empty string. */
static bool userdata_hides_serial(struct bus *bus)
{
  return bus->options.hide_serials && !bus_caller_is_root(bus);
}

static int prop_terminal(sd_bus *b, const char *path, const char *iface, const char *property,
                         sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
  struct bus_terminal_view view;

  (void)b, (void)iface, (void)error;
  if (!view_of(userdata, path, &view))
    return -ENOENT;
  if (strcmp(property, "Id") == 0)
    return sd_bus_message_append(reply, "s", view.handle);
  if (strcmp(property, "Vendor") == 0)
    return append_device_string(reply, view.vendor);
  if (strcmp(property, "Model") == 0)
    return append_device_string(reply, view.model);
  if (strcmp(property, "Serial") == 0)
    return append_device_string(reply, userdata_hides_serial(userdata) ? "" : view.serial);
  if (strcmp(property, "Decision") == 0)
    return sd_bus_message_append(reply, "s", view.decision);
  if (strcmp(property, "Reason") == 0)
    return sd_bus_message_append(reply, "s", view.reason);
  if (strcmp(property, "FirstSeen") == 0)
    return sd_bus_message_append(reply, "t", view.first_seen);
  if (strcmp(property, "LastSeen") == 0)
    return sd_bus_message_append(reply, "t", view.last_seen);
  return sd_bus_message_append(reply, "b", 1); /* Attached: objects exist while attached */
}

static const sd_bus_vtable terminal_vtable[] = {
  SD_BUS_VTABLE_START(0),
  SD_BUS_PROPERTY("Id", "s", prop_terminal, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  SD_BUS_PROPERTY("Vendor", "s", prop_terminal, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  SD_BUS_PROPERTY("Model", "s", prop_terminal, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  SD_BUS_PROPERTY("Serial", "s", prop_terminal, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  /* an object exists only while its phone is attached: never changes */
  SD_BUS_PROPERTY("Attached", "b", prop_terminal, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  SD_BUS_PROPERTY("Decision", "s", prop_terminal, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
  SD_BUS_PROPERTY("Reason", "s", prop_terminal, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
  SD_BUS_PROPERTY("FirstSeen", "t", prop_terminal, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  SD_BUS_PROPERTY("LastSeen", "t", prop_terminal, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
  SD_BUS_VTABLE_END,
};

int bus_terminals_export(struct bus *bus)
{
  int r = sd_bus_add_fallback_vtable(bus->bus, NULL, BUS_TERMINAL_PREFIX, BUS_TERMINAL_IFACE,
                                     terminal_vtable, find_terminal, bus);

  if (r >= 0)
    r = sd_bus_add_node_enumerator(bus->bus, NULL, BUS_TERMINAL_PREFIX, enumerate_terminals, bus);
  return r;
}
