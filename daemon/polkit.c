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
};

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
  free(check);
  return 0;
}

static bool caller_is_root(sd_bus_message *request)
{
  sd_bus_creds *creds = NULL;
  uid_t euid = 1;
  bool root;

  if (sd_bus_query_sender_creds(request, SD_BUS_CREDS_EUID | SD_BUS_CREDS_AUGMENT, &creds) < 0)
    return false;
  root = sd_bus_creds_get_euid(creds, &euid) >= 0 && euid == 0;
  sd_bus_creds_unref(creds);
  return root;
}

int polkit_check(sd_bus *bus, sd_bus_message *request, const char *action, polkit_done_fn done,
                 void *userdata)
{
  struct check *check;
  int r;

  if (caller_is_root(request)) {
    done(POLKIT_ALLOWED, userdata);
    return 0;
  }
  check = xmalloc(sizeof *check);
  *check = (struct check){
    .done = done,
    .userdata = userdata,
    .interactive = sd_bus_message_get_allow_interactive_authorization(request) > 0,
  };
  r = sd_bus_call_method_async(
    bus, NULL, "org.freedesktop.PolicyKit1", "/org/freedesktop/PolicyKit1/Authority",
    "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization", on_reply, check,
    "(sa{sv})sa{ss}us", "system-bus-name", 1, "name", "s", sd_bus_message_get_sender(request),
    action, 0, check->interactive ? POLKIT_ALLOW_USER_INTERACTION : 0u, "");
  if (r < 0)
    free(check);
  return r;
}
