/* Exit codes and messages for failures; see errors.h. */
#include "errors.h"

#include "xalloc.h"

#include <errno.h>
#include <string.h>

/* Errors a bus gives when the name has no owner and nothing can start it:
 * no activation file (ServiceUnknown), activation that failed (Spawn.*,
 * or systemd refusing the unit). */
static bool is_not_running(const sd_bus_error *error)
{
  return sd_bus_error_has_names(error, SD_BUS_ERROR_SERVICE_UNKNOWN,
                                SD_BUS_ERROR_NAME_HAS_NO_OWNER) ||
         (error->name && (strncmp(error->name, "org.freedesktop.DBus.Error.Spawn.", 33) == 0 ||
                          strncmp(error->name, "org.freedesktop.systemd1.", 25) == 0));
}

/* Errors with an exit code of their own (phonebindctl(1), EXIT STATUS),
 * and for some the words phonebindctl uses instead of the daemon's. */
static const struct {
  const char *name;
  enum ctl_exit code;
  const char *message; /* NULL: the daemon's text */
} known[] = {
  /* UnknownObject: the terminal went away between finding it and asking */
  {CTL_ERROR_NO_SUCH_TERMINAL, CTL_EXIT_NO_SUCH_TERMINAL, NULL},
  {SD_BUS_ERROR_UNKNOWN_OBJECT, CTL_EXIT_NO_SUCH_TERMINAL, NULL},
  {SD_BUS_ERROR_ACCESS_DENIED, CTL_EXIT_NOT_AUTHORIZED, NULL},
  {SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED, CTL_EXIT_NOT_AUTHORIZED, NULL},
  {CTL_ERROR_RELEASE_UNCONFIRMED, CTL_EXIT_RELEASE_PENDING,
   "the registry did not confirm the release; phonebindd repeats it until the registry "
   "answers (the phone shows pending/releasing meanwhile)"},
  {CTL_ERROR_BUSY, CTL_EXIT_RELEASE_PENDING,
   "a release of this phone is already under way (a forget still waiting for the registry, or "
   "one it has not confirmed: pending/releasing)"},
  {CTL_ERROR_ACCOUNT_REFUSED, CTL_EXIT_ACCOUNT_REFUSED,
   "the registry refused this PC's account; nothing was changed (see 'phonebindctl status')"},
  {CTL_ERROR_NOT_SHADOW_ACCOUNT, CTL_EXIT_NOT_SHADOW_ACCOUNT,
   "the account is configured, not a shadow account: its token is the administrator's to "
   "replace (a valid token in its token file, then reload phonebindd)"},
  {CTL_ERROR_ACCOUNT_NOT_REFUSED, CTL_EXIT_ACCOUNT_NOT_REFUSED,
   "the registry has not refused the account; nothing to reset"},
};

static int known_index(const sd_bus_error *error)
{
  for (size_t i = 0; i < sizeof known / sizeof *known; i++)
    if (sd_bus_error_has_name(error, known[i].name))
      return (int)i;
  return -1;
}

enum ctl_exit ctl_exit_for(int r, const sd_bus_error *error)
{
  int i;

  if (!sd_bus_error_is_set(error))
    /* no bus socket, or nobody listening on it: no daemon either */
    return r == -ENOENT || r == -ECONNREFUSED ? CTL_EXIT_NOT_RUNNING : CTL_EXIT_FAILURE;
  if (is_not_running(error))
    return CTL_EXIT_NOT_RUNNING;
  i = known_index(error);
  return i >= 0 ? known[i].code : CTL_EXIT_FAILURE;
}

char *ctl_error_message(int r, const sd_bus_error *error, const char *bus)
{
  int i;

  if (ctl_exit_for(r, error) == CTL_EXIT_NOT_RUNNING) {
    if (sd_bus_error_is_set(error))
      return xasprintf("phonebindd is not running (org.phonebind1 not on %s)", bus);
    return xasprintf("phonebindd is not running (cannot connect to %s: %s)", bus, strerror(-r));
  }
  if (!sd_bus_error_is_set(error))
    return xstrdup(strerror(r < 0 ? -r : r));
  i = known_index(error);
  if (i >= 0 && known[i].message)
    return xstrdup(known[i].message);
  return xstrdup(error->message && *error->message ? error->message : error->name);
}
