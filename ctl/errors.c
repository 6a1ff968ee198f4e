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

enum ctl_exit ctl_exit_for(int r, const sd_bus_error *error)
{
  if (!sd_bus_error_is_set(error))
    /* no bus socket, or nobody listening on it: no daemon either */
    return r == -ENOENT || r == -ECONNREFUSED ? CTL_EXIT_NOT_RUNNING : CTL_EXIT_FAILURE;
  if (is_not_running(error))
    return CTL_EXIT_NOT_RUNNING;
  /* UnknownObject: the terminal went away between finding it and asking */
  if (sd_bus_error_has_names(error, CTL_ERROR_NO_SUCH_TERMINAL, SD_BUS_ERROR_UNKNOWN_OBJECT))
    return CTL_EXIT_NO_SUCH_TERMINAL;
  if (sd_bus_error_has_names(error, SD_BUS_ERROR_ACCESS_DENIED,
                             SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED))
    return CTL_EXIT_NOT_AUTHORIZED;
  return CTL_EXIT_FAILURE;
}

char *ctl_error_message(int r, const sd_bus_error *error, const char *bus)
{
  if (ctl_exit_for(r, error) == CTL_EXIT_NOT_RUNNING) {
    if (sd_bus_error_is_set(error))
      return xasprintf("phonebindd is not running (org.phonebind1 not on %s)", bus);
    return xasprintf("phonebindd is not running (cannot connect to %s: %s)", bus, strerror(-r));
  }
  if (sd_bus_error_is_set(error))
    return xstrdup(error->message && *error->message ? error->message : error->name);
  return xstrdup(strerror(r < 0 ? -r : r));
}
