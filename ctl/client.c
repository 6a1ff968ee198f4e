/* D-Bus calls of phonebindctl; see client.h. */
#include "client.h"

#include "xalloc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DBUS_NAME "org.freedesktop.DBus"
#define DBUS_PATH "/org/freedesktop/DBus"
#define PROPERTIES_IFACE "org.freedesktop.DBus.Properties"

int ctl_client_open(const char *address, sd_bus **out_bus)
{
  sd_bus *bus = NULL;
  int r;

  if (!address) {
    r = sd_bus_open_system(&bus);
  } else {
    r = sd_bus_new(&bus);
    if (r >= 0)
      r = sd_bus_set_address(bus, address);
    if (r >= 0)
      r = sd_bus_set_bus_client(bus, 1);
    if (r >= 0)
      r = sd_bus_start(bus);
  }
  if (r >= 0)
    r = sd_bus_set_allow_interactive_authorization(bus, isatty(STDIN_FILENO));
  if (r < 0) {
    sd_bus_unref(bus);
    return r;
  }
  *out_bus = bus;
  return 0;
}

/* Where GetAll puts a property: type 's' fills a char *, 'b' a bool,
 * 't' a uint64_t; other properties are skipped. */
struct property_slot {
  const char *name;
  char type;
  void *slot;
};

static int read_variant(sd_bus_message *reply, const struct property_slot *slot,
                        const char *contents)
{
  if (!slot || contents[0] != slot->type || contents[1] != '\0')
    return sd_bus_message_skip(reply, contents);
  if (slot->type == 's') {
    const char *value;
    int r = sd_bus_message_read(reply, "s", &value);
    if (r >= 0) {
      free(*(char **)slot->slot);
      *(char **)slot->slot = xstrdup(value);
    }
    return r;
  }
  if (slot->type == 'b') {
    int value, r = sd_bus_message_read(reply, "b", &value);
    if (r >= 0)
      *(bool *)slot->slot = value;
    return r;
  }
  return sd_bus_message_read(reply, "t", (uint64_t *)slot->slot);
}

static int read_properties(sd_bus_message *reply, const struct property_slot *slots, size_t n)
{
  int r = sd_bus_message_enter_container(reply, 'a', "{sv}");

  while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
    const struct property_slot *slot = NULL;
    const char *name, *contents;

    r = sd_bus_message_read(reply, "s", &name);
    for (size_t i = 0; r >= 0 && i < n; i++)
      if (strcmp(name, slots[i].name) == 0)
        slot = &slots[i];
    if (r >= 0)
      r = sd_bus_message_peek_type(reply, NULL, &contents);
    if (r >= 0)
      r = sd_bus_message_enter_container(reply, 'v', contents);
    if (r >= 0)
      r = read_variant(reply, slot, contents);
    if (r >= 0)
      r = sd_bus_message_exit_container(reply);
    if (r >= 0)
      r = sd_bus_message_exit_container(reply);
  }
  return r;
}

static int get_all(sd_bus *bus, const char *destination, const char *path, const char *iface,
                   const struct property_slot *slots, size_t n, sd_bus_error *error)
{
  sd_bus_message *reply = NULL;
  int r = sd_bus_call_method(bus, destination, path, PROPERTIES_IFACE, "GetAll", error, &reply, "s",
                             iface);

  if (r >= 0)
    r = read_properties(reply, slots, n);
  sd_bus_message_unref(reply);
  return r < 0 ? r : 0;
}

/* Properties the daemon did not send read as empty strings, not NULL. */
static void fill_missing_strings(char **const fields[], size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!*fields[i])
      *fields[i] = xstrdup("");
}

static int get_terminal(sd_bus *bus, const char *destination, const char *path,
                        struct ctl_terminal *t, sd_bus_error *error)
{
  const struct property_slot slots[] = {
    {"Id", 's', &t->id},
    {"Vendor", 's', &t->vendor},
    {"Model", 's', &t->model},
    {"Serial", 's', &t->serial},
    {"Attached", 'b', &t->attached},
    {"Decision", 's', &t->decision},
    {"Reason", 's', &t->reason},
    {"FirstSeen", 't', &t->first_seen},
    {"LastSeen", 't', &t->last_seen},
  };
  char **const strings[] = {&t->id, &t->vendor, &t->model, &t->serial, &t->decision, &t->reason};
  int r;

  *t = (struct ctl_terminal){.path = xstrdup(path)};
  r =
    get_all(bus, destination, path, CTL_TERMINAL_IFACE, slots, sizeof slots / sizeof *slots, error);
  fill_missing_strings(strings, sizeof strings / sizeof *strings);
  return r;
}

/* ListTerminals, its reply entered: read the paths with "o". */
static int call_list_terminals(sd_bus *bus, const char *destination, sd_bus_message **out_reply,
                               sd_bus_error *error)
{
  int r = sd_bus_call_method(bus, destination, CTL_MANAGER_PATH, CTL_MANAGER_IFACE, "ListTerminals",
                             error, out_reply, "");

  return r < 0 ? r : sd_bus_message_enter_container(*out_reply, 'a', "o");
}

static int list_terminals(sd_bus *bus, const char *destination, struct ctl_terminal **out,
                          size_t *out_count, sd_bus_error *error)
{
  sd_bus_message *reply = NULL;
  struct ctl_terminal *terminals = NULL;
  size_t count = 0;
  const char *path;
  int r = call_list_terminals(bus, destination, &reply, error);

  while (r >= 0 && (r = sd_bus_message_read(reply, "o", &path)) > 0) {
    terminals = xrealloc(terminals, (count + 1) * sizeof *terminals);
    r = get_terminal(bus, destination, path, &terminals[count], error);
    if (r < 0 && sd_bus_error_has_name(error, SD_BUS_ERROR_UNKNOWN_OBJECT)) {
      /* detached since ListTerminals answered: not attached any more */
      ctl_terminal_clear(&terminals[count]);
      sd_bus_error_free(error);
      r = 0;
      continue;
    }
    count++;
  }
  sd_bus_message_unref(reply);
  if (r < 0) {
    ctl_terminals_free(terminals, count);
    return r;
  }
  ctl_terminals_sort(terminals, count);
  *out = terminals;
  *out_count = count;
  return 0;
}

int ctl_client_list(sd_bus *bus, struct ctl_terminal **out_terminals, size_t *out_count,
                    sd_bus_error *error)
{
  return list_terminals(bus, CTL_BUS_NAME, out_terminals, out_count, error);
}

/* How many terminals ListTerminals names; status needs no more of them. */
static int count_terminals(sd_bus *bus, const char *destination, size_t *out_count,
                           sd_bus_error *error)
{
  sd_bus_message *reply = NULL;
  const char *path;
  int r = call_list_terminals(bus, destination, &reply, error);

  *out_count = 0;
  while (r >= 0 && (r = sd_bus_message_read(reply, "o", &path)) > 0)
    (*out_count)++;
  sd_bus_message_unref(reply);
  return r;
}

static int is_activatable(sd_bus *bus, bool *out, sd_bus_error *error)
{
  sd_bus_message *reply = NULL;
  const char *name;
  int r = sd_bus_call_method(bus, DBUS_NAME, DBUS_PATH, DBUS_NAME, "ListActivatableNames", error,
                             &reply, "");

  *out = false;
  if (r >= 0)
    r = sd_bus_message_enter_container(reply, 'a', "s");
  while (r >= 0 && (r = sd_bus_message_read(reply, "s", &name)) > 0)
    if (strcmp(name, CTL_BUS_NAME) == 0)
      *out = true;
  sd_bus_message_unref(reply);
  return r;
}

int ctl_client_status(sd_bus *bus, struct ctl_status *out, sd_bus_error *error)
{
  const struct property_slot slots[] = {
    {"Version", 's', &out->version},
    {"Account", 's', &out->account},
    {"AccountState", 's', &out->account_state},
    {"RegistryUrl", 's', &out->registry},
  };
  char **const strings[] = {&out->version, &out->account, &out->account_state, &out->registry};
  sd_bus_message *reply = NULL;
  const char *owner;
  int r;

  *out = (struct ctl_status){0};
  r = sd_bus_call_method(bus, DBUS_NAME, DBUS_PATH, DBUS_NAME, "GetNameOwner", error, &reply, "s",
                         CTL_BUS_NAME);
  if (r < 0 && sd_bus_error_has_name(error, SD_BUS_ERROR_NAME_HAS_NO_OWNER)) {
    sd_bus_error_free(error);
    /* a bus that will not say is a bus that will not activate it either */
    if (is_activatable(bus, &out->activatable, error) < 0)
      sd_bus_error_free(error);
    return 0;
  }
  if (r >= 0)
    r = sd_bus_message_read(reply, "s", &owner);
  /* Asking the unique name, not the well-known one, never activates. */
  if (r >= 0)
    r = get_all(bus, owner, CTL_MANAGER_PATH, CTL_MANAGER_IFACE, slots,
                sizeof slots / sizeof *slots, error);
  if (r >= 0)
    r = count_terminals(bus, owner, &out->attached, error);
  sd_bus_message_unref(reply);
  if (r < 0) {
    ctl_status_clear(out);
    return r;
  }
  out->running = true;
  fill_missing_strings(strings, sizeof strings / sizeof *strings);
  return 0;
}

int ctl_client_manage(sd_bus *bus, const char *method, const char *path, sd_bus_error *error)
{
  return sd_bus_call_method(bus, CTL_BUS_NAME, CTL_MANAGER_PATH, CTL_MANAGER_IFACE, method, error,
                            NULL, "o", path);
}

int ctl_client_reset_account(sd_bus *bus, sd_bus_error *error)
{
  return sd_bus_call_method(bus, CTL_BUS_NAME, CTL_MANAGER_PATH, CTL_MANAGER_IFACE, "ResetAccount",
                            error, NULL, "");
}
