/* /org/phonebind1, org.phonebind1.Manager: its properties, ListTerminals,
 * and the privileged methods (Forget, Retry, ResetAccount), authorized
 * through polkit without blocking the loop, then handed to the handlers. */
#include "bus_private.h"

#include "polkit.h"
#include "version.h"
#include "xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MANAGE_ACTION "org.phonebind1.manage"
#define ERROR_PREFIX "org.phonebind1.Error."

static int get_string(sd_bus_message *reply, const char *value)
{
  return sd_bus_message_append(reply, "s", value ? value : "");
}

static int prop_version(sd_bus *b, const char *path, const char *iface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
  (void)b, (void)path, (void)iface, (void)property, (void)userdata, (void)error;
  return get_string(reply, PHONEBIND_VERSION);
}

/* Account, AccountState and RegistryUrl, by the property's name. */
static int prop_manager(sd_bus *b, const char *path, const char *iface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
  struct bus *bus = userdata;
  struct bus_manager_view view = {0};

  (void)b, (void)path, (void)iface, (void)error;
  bus->handlers.manager(bus->handlers.userdata, &view);
  if (strcmp(property, "RegistryUrl") == 0)
    return get_string(reply, view.registry_url);
  if (strcmp(property, "AccountState") == 0)
    return get_string(reply, view.account_state);
  return get_string(reply, view.account);
}

static void append_path(const char *handle, void *arg)
{
  _cleanup_free_ char *path = bus_path_of_handle(handle);

  sd_bus_message_append((sd_bus_message *)arg, "o", path);
}

static int method_list(sd_bus_message *request, void *userdata, sd_bus_error *error)
{
  struct bus *bus = userdata;
  sd_bus_message *reply = NULL;
  int r;

  (void)error;
  r = sd_bus_message_new_method_return(request, &reply);
  if (r >= 0)
    r = sd_bus_message_open_container(reply, 'a', "o");
  if (r >= 0)
    bus->handlers.foreach_terminal(bus->handlers.userdata, append_path, reply);
  if (r >= 0)
    r = sd_bus_message_close_container(reply);
  if (r >= 0)
    r = sd_bus_send(NULL, reply, NULL);
  sd_bus_message_unref(reply);
  return r < 0 ? r : 1;
}

enum privileged_method { METHOD_FORGET, METHOD_RETRY, METHOD_RESET_ACCOUNT };

/* A privileged call waiting for polkit, then (Forget) for the registry. */
struct pending_call {
  struct bus *bus;
  sd_bus_message *request;
  char *handle; /* the terminal's; NULL for ResetAccount */
  enum privileged_method method;
};

static void pending_reply(struct pending_call *call, const char *error_name, const char *message)
{
  if (error_name)
    sd_bus_reply_method_errorf(call->request, error_name, "%s", message);
  else
    sd_bus_reply_method_return(call->request, "");
  bus_arm(call->bus);
  sd_bus_message_unref(call->request);
  free(call->handle);
  free(call);
}

/* The daemon's errors, by errno, as the D-Bus errors of docs/dbus-api.md. */
static const struct {
  int error;
  const char *name, *message;
} errors[] = {
  {-EHOSTUNREACH, ERROR_PREFIX "RegistryUnreachable",
   "the registry could not be reached; nothing was changed"},
  {-EACCES, ERROR_PREFIX "AccountRefused",
   "the registry refused this PC's account; nothing was changed"},
  {-ETIMEDOUT, ERROR_PREFIX "ReleaseUnconfirmed",
   "the registry did not confirm the release; it is repeated until it does (pending/releasing)"},
  {-EPERM, ERROR_PREFIX "NotOwner", "the phone is bound to another client"},
  {-ENODEV, ERROR_PREFIX "NoSuchTerminal", "the phone was detached"},
  {-EBUSY, ERROR_PREFIX "Busy", "a release of this phone is under way"},
  {-ENOKEY, ERROR_PREFIX "Unidentified", "the phone has no identifier to release"},
  {-EOPNOTSUPP, ERROR_PREFIX "NotShadowAccount",
   "the account is configured; its token is the administrator's to replace"},
  {-EALREADY, ERROR_PREFIX "AccountNotRefused",
   "the registry has not refused the account; nothing to reset"},
};

static void reply_errno(struct pending_call *call, int error)
{
  for (size_t i = 0; i < sizeof errors / sizeof *errors; i++)
    if (errors[i].error == error) {
      pending_reply(call, errors[i].name, errors[i].message);
      return;
    }
  pending_reply(call, error ? SD_BUS_ERROR_FAILED : NULL, "failed");
}

static void on_done(int error, void *call)
{
  reply_errno(call, error);
}

static void run_authorized(struct pending_call *call)
{
  const struct bus_handlers *handlers = &call->bus->handlers;

  if (call->method == METHOD_RESET_ACCOUNT)
    reply_errno(call, handlers->reset_account(handlers->userdata));
  else if (call->method == METHOD_FORGET)
    handlers->forget(handlers->userdata, call->handle, on_done, call);
  else
    reply_errno(call, handlers->retry(handlers->userdata, call->handle));
}

static void on_authorized(enum polkit_answer answer, void *userdata)
{
  struct pending_call *call = userdata;

  if (answer == POLKIT_NEEDS_INTERACTION)
    pending_reply(call, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
                  "org.phonebind1.manage needs authentication; call again allowing "
                  "interactive authorization");
  else if (answer != POLKIT_ALLOWED)
    pending_reply(call, SD_BUS_ERROR_ACCESS_DENIED, "not authorized for org.phonebind1.manage");
  else
    run_authorized(call);
}

static int check_then_run(sd_bus_message *request, struct bus *bus, enum privileged_method method,
                          const char *handle)
{
  struct pending_call *call = xcalloc(1, sizeof *call);
  int r;

  *call = (struct pending_call){.bus = bus,
                                .request = sd_bus_message_ref(request),
                                .handle = handle ? xstrdup(handle) : NULL,
                                .method = method};
  r = polkit_check(bus->bus, request, MANAGE_ACTION, on_authorized, call);
  if (r < 0)
    pending_reply(call, SD_BUS_ERROR_ACCESS_DENIED, "cannot check authorization");
  return 1; /* answered later, from on_authorized */
}

/* Forget and Retry: a terminal that exists now (it may go before polkit
 * answers: the handler says so then). */
static int terminal_method(sd_bus_message *request, struct bus *bus, enum privileged_method method,
                           sd_bus_error *error)
{
  struct bus_terminal_view view;
  const char *path, *handle;
  int r = sd_bus_message_read(request, "o", &path);

  if (r < 0)
    return r;
  handle = bus_handle_of_path(path);
  if (!handle || !bus->handlers.terminal(bus->handlers.userdata, handle, &view))
    return sd_bus_error_setf(error, ERROR_PREFIX "NoSuchTerminal", "no terminal %s", path);
  return check_then_run(request, bus, method, handle);
}

static int method_forget(sd_bus_message *request, void *userdata, sd_bus_error *error)
{
  return terminal_method(request, userdata, METHOD_FORGET, error);
}

static int method_retry(sd_bus_message *request, void *userdata, sd_bus_error *error)
{
  return terminal_method(request, userdata, METHOD_RETRY, error);
}

static int method_reset_account(sd_bus_message *request, void *userdata, sd_bus_error *error)
{
  (void)error;
  return check_then_run(request, userdata, METHOD_RESET_ACCOUNT, NULL);
}

static const sd_bus_vtable manager_vtable[] = {
  SD_BUS_VTABLE_START(0),
  SD_BUS_PROPERTY("Version", "s", prop_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  SD_BUS_PROPERTY("Account", "s", prop_manager, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
  SD_BUS_PROPERTY("AccountState", "s", prop_manager, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
  SD_BUS_PROPERTY("RegistryUrl", "s", prop_manager, 0, SD_BUS_VTABLE_PROPERTY_CONST),
  SD_BUS_METHOD("ListTerminals", "", "ao", method_list, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD("Forget", "o", "", method_forget, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD("Retry", "o", "", method_retry, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_METHOD("ResetAccount", "", "", method_reset_account, SD_BUS_VTABLE_UNPRIVILEGED),
  SD_BUS_SIGNAL("TerminalAttached", "o", 0),
  SD_BUS_SIGNAL("TerminalDetached", "o", 0),
  SD_BUS_SIGNAL("Decision", "oss", 0),
  SD_BUS_VTABLE_END,
};

int bus_manager_export(struct bus *bus)
{
  return sd_bus_add_object_vtable(bus->bus, NULL, BUS_MANAGER_PATH, BUS_MANAGER_IFACE,
                                  manager_vtable, bus);
}
