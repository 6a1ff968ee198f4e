/* D-Bus calls of phonebindctl; see client.h. */
#include "client.h"

#include "xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NAME "org.phonebind1"
#define MANAGER_PATH "/org/phonebind1"
#define MANAGER "org.phonebind1.Manager"
#define TERMINAL "org.phonebind1.Terminal"
#define PROPERTIES "org.freedesktop.DBus.Properties"

int ctl_client_open(const char *address, sd_bus **out_bus)
{
  sd_bus *bus = NULL;
  int r;

  if (!address)
    return sd_bus_open_system(out_bus);
  r = sd_bus_new(&bus);
  if (r >= 0)
    r = sd_bus_set_address(bus, address);
  if (r >= 0)
    r = sd_bus_set_bus_client(bus, 1);
  if (r >= 0)
    r = sd_bus_start(bus);
  if (r < 0) {
    sd_bus_unref(bus);
    return r;
  }
  *out_bus = bus;
  return 0;
}

/* One {sv} entry of a GetAll answer into the terminal. */
static int read_property(sd_bus_message *reply, struct ctl_terminal *t)
{
  struct {
    const char *name;
    char **slot;
  } strings[] = {{"Id", &t->id},         {"Vendor", &t->vendor},     {"Model", &t->model},
                 {"Serial", &t->serial}, {"Decision", &t->decision}, {"Reason", &t->reason}};
  const char *name, *contents;
  char type;
  int r = sd_bus_message_read(reply, "s", &name);

  if (r >= 0)
    r = sd_bus_message_peek_type(reply, &type, &contents);
  if (r >= 0)
    r = sd_bus_message_enter_container(reply, 'v', contents);
  if (r < 0)
    return r;
  if (strcmp(contents, "s") == 0) {
    const char *value;
    r = sd_bus_message_read(reply, "s", &value);
    for (size_t i = 0; r >= 0 && i < sizeof strings / sizeof *strings; i++)
      if (strcmp(name, strings[i].name) == 0)
        *strings[i].slot = xstrdup(value);
  } else if (strcmp(contents, "b") == 0) {
    int value;
    r = sd_bus_message_read(reply, "b", &value);
    t->attached = value;
  } else if (strcmp(contents, "t") == 0) {
    uint64_t value;
    r = sd_bus_message_read(reply, "t", &value);
    if (strcmp(name, "FirstSeen") == 0)
      t->first_seen = value;
    else if (strcmp(name, "LastSeen") == 0)
      t->last_seen = value;
  } else {
    r = sd_bus_message_skip(reply, contents);
  }
  if (r >= 0)
    r = sd_bus_message_exit_container(reply);
  return r;
}

static void fill_missing(struct ctl_terminal *t)
{
  char **fields[] = {&t->id, &t->vendor, &t->model, &t->serial, &t->decision, &t->reason};

  for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
    if (!*fields[i])
      *fields[i] = xstrdup("");
}

static int get_terminal(sd_bus *bus, const char *path, struct ctl_terminal *t, sd_bus_error *error)
{
  sd_bus_message *reply = NULL;
  int r = sd_bus_call_method(bus, NAME, path, PROPERTIES, "GetAll", error, &reply, "s", TERMINAL);

  *t = (struct ctl_terminal){.path = xstrdup(path)};
  if (r >= 0)
    r = sd_bus_message_enter_container(reply, 'a', "{sv}");
  while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
    r = read_property(reply, t);
    if (r >= 0)
      r = sd_bus_message_exit_container(reply);
  }
  sd_bus_message_unref(reply);
  fill_missing(t);
  return r < 0 ? r : 0;
}

int ctl_client_list(sd_bus *bus, struct ctl_terminal **out_terminals, int *out_count,
                    sd_bus_error *error)
{
  sd_bus_message *reply = NULL;
  struct ctl_terminal *terminals = NULL;
  const char *path;
  int count = 0, r;

  r = sd_bus_call_method(bus, NAME, MANAGER_PATH, MANAGER, "ListTerminals", error, &reply, "");
  if (r >= 0)
    r = sd_bus_message_enter_container(reply, 'a', "o");
  while (r >= 0 && (r = sd_bus_message_read(reply, "o", &path)) > 0) {
    terminals = xrealloc(terminals, (size_t)(count + 1) * sizeof *terminals);
    r = get_terminal(bus, path, &terminals[count++], error);
  }
  sd_bus_message_unref(reply);
  if (r < 0) {
    for (int i = 0; i < count; i++)
      ctl_terminal_clear(&terminals[i]);
    free(terminals);
    return r;
  }
  *out_terminals = terminals;
  *out_count = count;
  return 0;
}

int ctl_client_status(sd_bus *bus, struct ctl_status *out_status, sd_bus_error *error)
{
  struct ctl_terminal *terminals = NULL;
  int count = 0;
  int r = sd_bus_get_property_string(bus, NAME, MANAGER_PATH, MANAGER, "Version", error,
                                     &out_status->version);

  if (r >= 0)
    r = sd_bus_get_property_string(bus, NAME, MANAGER_PATH, MANAGER, "Account", error,
                                   &out_status->account);
  if (r >= 0)
    r = sd_bus_get_property_string(bus, NAME, MANAGER_PATH, MANAGER, "RegistryUrl", error,
                                   &out_status->registry);
  if (r >= 0)
    r = ctl_client_list(bus, &terminals, &count, error);
  for (int i = 0; i < count; i++)
    ctl_terminal_clear(&terminals[i]);
  free(terminals);
  out_status->attached = count;
  return r < 0 ? r : 0;
}

void ctl_status_clear(struct ctl_status *status)
{
  free(status->version);
  free(status->account);
  free(status->registry);
  *status = (struct ctl_status){0};
}

int ctl_client_manage(sd_bus *bus, const char *method, const char *path, sd_bus_error *error)
{
  return sd_bus_call_method(bus, NAME, MANAGER_PATH, MANAGER, method, error, NULL, "o", path);
}

static const char *handle_of(const char *path)
{
  const char *slash = strrchr(path, '/');

  return slash ? slash + 1 : path;
}

static int on_signal(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
  const struct ctl_format *format = userdata;
  const char *member = sd_bus_message_get_member(message), *path = "", *decision = "",
             *reason = "";
  bool json = format->json;
  _cleanup_free_ char *id = NULL;

  (void)error;
  if (sd_bus_message_read(message, "o", &path) < 0)
    return 0;
  if (strcmp(member, "Decision") == 0 && sd_bus_message_read(message, "ss", &decision, &reason) < 0)
    return 0;
  id = ctl_short_id(handle_of(path), json || format->full);
  if (json) {
    json_t *event = json_pack("{s:s, s:s, s:I}", "event", member, "id", handle_of(path), "time",
                              (json_int_t)time(NULL));
    if (*decision) {
      json_object_set_new(event, "decision", json_string(decision));
      json_object_set_new(event, "reason", json_string(reason));
    }
    json_dumpf(event, stdout, JSON_COMPACT);
    json_decref(event);
    putchar('\n');
  } else if (*decision) {
    printf("%-8s  decision  %s (%s)\n", id, decision, reason);
  } else {
    printf("%-8s  %s\n", id, strcmp(member, "TerminalAttached") == 0 ? "attached" : "detached");
  }
  fflush(stdout);
  return 0;
}

int ctl_client_monitor(sd_bus *bus, const struct ctl_format *format)
{
  int r = sd_bus_match_signal(bus, NULL, NAME, MANAGER_PATH, MANAGER, NULL, on_signal,
                              (void *)format);

  if (r < 0)
    return r;
  for (;;) {
    r = sd_bus_process(bus, NULL);
    if (r < 0)
      return r;
    if (r > 0)
      continue;
    r = sd_bus_wait(bus, UINT64_MAX);
    if (r < 0 && r != -EINTR)
      return r;
  }
}

enum ctl_exit ctl_exit_for(int r, const sd_bus_error *error)
{
  if (sd_bus_error_has_names(error, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
    return CTL_EXIT_NOT_RUNNING;
  if (sd_bus_error_has_name(error, "org.phonebind1.Error.NoSuchTerminal"))
    return CTL_EXIT_NO_SUCH_TERMINAL;
  if (sd_bus_error_has_names(error, SD_BUS_ERROR_ACCESS_DENIED, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED))
    return CTL_EXIT_NOT_AUTHORIZED;
  if (r == -ENOENT || r == -ECONNREFUSED)
    return CTL_EXIT_NOT_RUNNING; /* no bus at all */
  return CTL_EXIT_FAILURE;
}
