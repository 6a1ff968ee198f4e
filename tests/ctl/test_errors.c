/* Failed calls → exit codes and messages, as scripts rely on them
 * (phonebindctl(1), EXIT STATUS). Faults tried: no bus socket, a refused
 * connection, no owner for the name, an activation that could not start
 * the daemon, a terminal gone, polkit or the bus policy saying no, and
 * daemon errors that are plain failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"

static void test_exit_codes(void **state)
{
  static const struct {
    int r;
    const char *name;
    enum ctl_exit code;
  } cases[] = {
    { -ENOENT, NULL, CTL_EXIT_NOT_RUNNING },
    { -ECONNREFUSED, NULL, CTL_EXIT_NOT_RUNNING },
    { -EACCES, NULL, CTL_EXIT_FAILURE },
    { -ENOMEM, NULL, CTL_EXIT_FAILURE },
    { -EHOSTUNREACH, "org.freedesktop.DBus.Error.ServiceUnknown", CTL_EXIT_NOT_RUNNING },
    { -ENXIO, "org.freedesktop.DBus.Error.NameHasNoOwner", CTL_EXIT_NOT_RUNNING },
    { -EIO, "org.freedesktop.DBus.Error.Spawn.ChildExited", CTL_EXIT_NOT_RUNNING },
    { -EIO, "org.freedesktop.systemd1.NoSuchUnit", CTL_EXIT_NOT_RUNNING },
    { -EIO, "org.phonebind1.Error.NoSuchTerminal", CTL_EXIT_NO_SUCH_TERMINAL },
    { -EIO, "org.freedesktop.DBus.Error.UnknownObject", CTL_EXIT_NO_SUCH_TERMINAL },
    { -EACCES, "org.freedesktop.DBus.Error.AccessDenied", CTL_EXIT_NOT_AUTHORIZED },
    { -EACCES, "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired",
      CTL_EXIT_NOT_AUTHORIZED },
    { -EIO, "org.phonebind1.Error.RegistryUnreachable", CTL_EXIT_FAILURE },
    { -EIO, "org.phonebind1.Error.NotOwner", CTL_EXIT_FAILURE },
    { -EIO, "org.phonebind1.Error.Busy", CTL_EXIT_FAILURE },
    { -ETIMEDOUT, "org.freedesktop.DBus.Error.NoReply", CTL_EXIT_FAILURE },
    { -EIO, "org.freedesktop.DBus.Error.Spawn", CTL_EXIT_FAILURE }, /* not the Spawn.* family */
  };
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    sd_bus_error error = SD_BUS_ERROR_NULL;
    enum ctl_exit code;
    if (cases[i].name)
      sd_bus_error_set(&error, cases[i].name, "why");
    code = ctl_exit_for(cases[i].r, &error);
    if (code != cases[i].code)
      fail_msg("case %zu (%s): exit %d, wanted %d", i, cases[i].name ? cases[i].name : "-", code,
               cases[i].code);
    sd_bus_error_free(&error);
  }
}

static void check_message(int r, const char *name, const char *text, const char *bus,
                          const char *want)
{
  sd_bus_error error = SD_BUS_ERROR_NULL;
  char *message;

  if (name)
    sd_bus_error_set(&error, name, text);
  message = ctl_error_message(r, &error, bus);
  assert_string_equal(message, want);
  free(message);
  sd_bus_error_free(&error);
}

static void test_messages(void **state)
{
  (void)state;
  check_message(-EHOSTUNREACH, "org.freedesktop.DBus.Error.ServiceUnknown", "The name ...",
                "the system bus",
                "phonebindd is not running (org.phonebind1 not on the system bus)");
  check_message(-ENOENT, NULL, NULL, "the bus at unix:path=/x",
                "phonebindd is not running (cannot connect to the bus at unix:path=/x: "
                "No such file or directory)");
  check_message(-EIO, "org.phonebind1.Error.RegistryUnreachable",
                "the registry could not confirm the release; nothing was changed", "the system bus",
                "the registry could not confirm the release; nothing was changed");
  check_message(-EIO, "org.phonebind1.Error.Busy", NULL, "the system bus",
                "org.phonebind1.Error.Busy"); /* no text: the name says it */
  check_message(-EPIPE, NULL, NULL, "the system bus", "Broken pipe");
}

int main(void)
{
  const struct CMUnitTest tests[] = { cmocka_unit_test(test_exit_codes),
                                      cmocka_unit_test(test_messages) };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
