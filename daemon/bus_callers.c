/* Who calls: root or not, for the properties hide-serials keeps from
 * others. A property getter answers at once, so the bus driver is asked
 * synchronously (GetConnectionUnixUser), once per client connection; the
 * answer is kept until NameOwnerChanged says the connection is gone, and
 * the cache stays as small as the clients connected. */
#include "bus_private.h"

#include "log.h"
#include "strmap.h"

#include <stdint.h>
#include <string.h>

static int on_name_owner_changed(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
  struct bus *bus = userdata;
  const char *name, *old_owner, *new_owner;

  (void)error;
  if (sd_bus_message_read(message, "sss", &name, &old_owner, &new_owner) >= 0 && name[0] == ':' &&
      new_owner[0] == '\0')
    strmap_remove(bus->caller_uids, name);
  return 0;
}

int bus_callers_watch(struct bus *bus)
{
  bus->caller_uids = strmap_new();
  return sd_bus_match_signal_async(bus->bus, NULL, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                   "org.freedesktop.DBus", "NameOwnerChanged",
                                   on_name_owner_changed, NULL, bus);
}

void bus_callers_free(struct bus *bus)
{
  strmap_free(bus->caller_uids);
  bus->caller_uids = NULL;
}

static int64_t ask_uid(struct bus *bus, const char *sender)
{
  sd_bus_error error = SD_BUS_ERROR_NULL;
  sd_bus_message *reply = NULL;
  uint32_t uid = 0;
  int r = sd_bus_call_method(bus->bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                             "org.freedesktop.DBus", "GetConnectionUnixUser", &error, &reply, "s",
                             sender);

  if (r >= 0)
    r = sd_bus_message_read(reply, "u", &uid);
  if (r < 0)
    log_debug("cannot learn the uid of %s: %s", sender, error.message ? error.message : "");
  sd_bus_error_free(&error);
  sd_bus_message_unref(reply);
  return r < 0 ? -1 : (int64_t)uid;
}

bool bus_caller_is_root(struct bus *bus)
{
  sd_bus_message *message = sd_bus_get_current_message(bus->bus);
  const char *sender = message ? sd_bus_message_get_sender(message) : NULL;
  uintptr_t known;
  int64_t uid;

  if (!sender || !bus->caller_uids)
    return false;
  known = (uintptr_t)strmap_get(bus->caller_uids, sender);
  if (known)
    return known == 1; /* stored as uid + 1 */
  uid = ask_uid(bus, sender);
  if (uid < 0)
    return false;
  strmap_put(bus->caller_uids, sender, (void *)(uintptr_t)(uid + 1));
  return uid == 0;
}
