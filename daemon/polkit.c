/* polkit CheckAuthorization, asynchronous; see polkit.h. */
#include "polkit.h"

#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <stdlib.h>

/* CheckAuthorizationFlags: let polkit ask the user (auth_admin_keep),
 * only when the caller said it can wait for that. */
#define POLKIT_ALLOW_USER_INTERACTION 1u

struct check {
  polkit_done_fn done;
  void *userdata;
  bool interactive; /* the caller allowed polkit to ask the user */
  char *sender, *action;
};

static void check_free(struct check *check);

static int on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
  struct check *check = userdata;
  const sd_bus_error *error = sd_bus_message_get_error(reply);
  enum polkit_answer answer = POLKIT_DENIED;
  int authorized = 0, challenge = 0;

  (void)ret_error;
  if (error)
    log_warn("polkit: %s; denying", error->message ? error->message : error->name);
  else if (sd_bus_message_enter_container(reply, 'r', "bba{ss}") < 0 ||
           sd_bus_message_read(reply, "bb", &authorized, &challenge) < 0)
    log_warn("polkit: malformed answer; denying");
  else if (authorized)
    answer = POLKIT_ALLOWED;
  else if (challenge && !check->interactive)
    answer = POLKIT_NEEDS_INTERACTION;
  check->done(answer, check->userdata);
  check_free(check);
  return 0;
}

static int ask_polkit(sd_bus *bus, struct check *check)
{
  return sd_bus_call_method_async(
    bus, NULL, "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
    "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization", on_reply, check,
    "(sa{sv})sa{ss}us", "system-bus-name", 1, "name", "s", check->sender, check->action, 0,
    check->interactive ? POLKIT_ALLOW_USER_INTERACTION : 0u, "");
}

static void check_free(struct check *check)
{
  free(check->sender);
  free(check->action);
  free(check);
}

/* The bus driver's word on the caller's uid: root is allowed at once,
 * anyone else is polkit's to judge. */
static int on_uid(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
  struct check *check = userdata;
  uint32_t uid = 1;

  (void)ret_error;
  if (!sd_bus_message_is_method_error(reply, NULL) && sd_bus_message_read(reply, "u", &uid) >= 0 &&
      uid == 0) {
    check->done(POLKIT_ALLOWED, check->userdata);
    check_free(check);
    return 0;
  }
  if (ask_polkit(sd_bus_message_get_bus(reply), check) < 0) {
    log_warn("polkit: cannot ask; denying");
    check->done(POLKIT_DENIED, check->userdata);
    check_free(check);
  }
  return 0;
}

/* Both steps asynchronous: sd_bus_query_sender_creds would ask the bus
 * driver for the uid synchronously, with the whole loop waiting. */
int polkit_check(sd_bus *bus, sd_bus_message *request, const char *action, polkit_done_fn done,
                 void *userdata)
{
  struct check *check = xmalloc(sizeof *check);
  int r;

  *check = (struct check){
    .done = done,
    .userdata = userdata,
    .interactive = sd_bus_message_get_allow_interactive_authorization(request) > 0,
    .sender = xstrdup(sd_bus_message_get_sender(request)),
    .action = xstrdup(action),
  };
  r = sd_bus_call_method_async(bus, NULL, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                               "org.freedesktop.DBus", "GetConnectionUnixUser", on_uid, check, "s",
                               check->sender);
  if (r < 0)
    check_free(check);
  return r;
}
