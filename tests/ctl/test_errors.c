/* Failed calls → exit codes and messages, as scripts rely on them
 * (phonebindctl(1), EXIT STATUS). Faults tried: no bus socket, a refused
 * connection, no owner for the name, an activation that could not start
 * the daemon, a terminal gone, polkit or the bus policy saying no, a
 * release the registry did not confirm or one under way, a refused
 * account, reset-account of a configured account or of one not refused,
 * and daemon errors that are plain failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"

/* The exit code for r with the D-Bus error name (NULL: none set). */
static enum ctl_exit exit_for(int r, const char *name)
{
  sd_bus_error error = SD_BUS_ERROR_NULL;
  enum ctl_exit code;

  if (name)
    sd_bus_error_set(&error, name, "why");
  code = ctl_exit_for(r, &error);
  sd_bus_error_free(&error);
  return code;
}

static void test_exit_codes(void **state)
{
  static const struct {
    int r;
    const char *name;
    enum ctl_exit code;
  } cases[] = {
    {-ENOENT, NULL, CTL_EXIT_NOT_RUNNING},
    {-ECONNREFUSED, NULL, CTL_EXIT_NOT_RUNNING},
    {-EACCES, NULL, CTL_EXIT_FAILURE},
    {-ENOMEM, NULL, CTL_EXIT_FAILURE},
    {-EHOSTUNREACH, "org.freedesktop.DBus.Error.ServiceUnknown", CTL_EXIT_NOT_RUNNING},
    {-ENXIO, "org.freedesktop.DBus.Error.NameHasNoOwner", CTL_EXIT_NOT_RUNNING},
    {-EIO, "org.freedesktop.DBus.Error.Spawn.ChildExited", CTL_EXIT_NOT_RUNNING},
    {-EIO, "org.freedesktop.systemd1.NoSuchUnit", CTL_EXIT_NOT_RUNNING},
    {-EIO, "org.phonebind1.Error.NoSuchTerminal", CTL_EXIT_NO_SUCH_TERMINAL},
    {-EIO, "org.freedesktop.DBus.Error.UnknownObject", CTL_EXIT_NO_SUCH_TERMINAL},
    {-EACCES, "org.freedesktop.DBus.Error.AccessDenied", CTL_EXIT_NOT_AUTHORIZED},
    {-EACCES, "org.freedesktop.DBus.Error.InteractiveAuthorizationRequired",
     CTL_EXIT_NOT_AUTHORIZED},
    {-EIO, "org.phonebind1.Error.RegistryUnreachable", CTL_EXIT_FAILURE},
    {-EIO, "org.phonebind1.Error.NotOwner", CTL_EXIT_FAILURE},
    {-EIO, "org.phonebind1.Error.Unidentified", CTL_EXIT_FAILURE},
    {-EIO, "org.phonebind1.Error.ReleaseUnconfirmed", CTL_EXIT_RELEASE_PENDING},
    {-EIO, "org.phonebind1.Error.Busy", CTL_EXIT_RELEASE_PENDING},
    {-EIO, "org.phonebind1.Error.AccountRefused", CTL_EXIT_ACCOUNT_REFUSED},
    {-EIO, "org.phonebind1.Error.NotShadowAccount", CTL_EXIT_NOT_SHADOW_ACCOUNT},
    {-EIO, "org.phonebind1.Error.AccountNotRefused", CTL_EXIT_ACCOUNT_NOT_REFUSED},
    {-EIO, "org.phonebind1.Error.SomethingNew", CTL_EXIT_FAILURE},
    {-ETIMEDOUT, "org.freedesktop.DBus.Error.NoReply", CTL_EXIT_FAILURE},
    {-EIO, "org.freedesktop.DBus.Error.Spawn", CTL_EXIT_FAILURE}, /* not the Spawn.* family */
  };
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    enum ctl_exit code = exit_for(cases[i].r, cases[i].name);
    if (code != cases[i].code)
      fail_msg("case %zu (%s): exit %d, wanted %d", i, cases[i].name ? cases[i].name : "-", code,
               cases[i].code);
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
  check_message(-EIO, "org.phonebind1.Error.NotOwner", NULL, "the system bus",
                "org.phonebind1.Error.NotOwner"); /* no text: the name says it */
  /* phonebindctl's own words, with what happens next, whatever the daemon said */
  check_message(-EIO, "org.phonebind1.Error.ReleaseUnconfirmed", "daemon text", "the system bus",
                "the registry did not confirm the release; phonebindd repeats it until the "
                "registry answers (the phone shows pending/releasing meanwhile)");
  check_message(-EIO, "org.phonebind1.Error.Busy", NULL, "the system bus",
                "a release of this phone is already under way (a forget still waiting for the "
                "registry, or one it has not confirmed: pending/releasing)");
  check_message(-EIO, "org.phonebind1.Error.AccountRefused", "x", "the system bus",
                "the registry refused this PC's account; nothing was changed (see 'phonebindctl "
                "status')");
  check_message(-EIO, "org.phonebind1.Error.NotShadowAccount", "x", "the system bus",
                "the account is configured, not a shadow account: its token is the "
                "administrator's to replace (a valid token in its token file, then reload "
                "phonebindd)");
  check_message(-EIO, "org.phonebind1.Error.AccountNotRefused", "x", "the system bus",
                "the registry has not refused the account; nothing to reset");
  check_message(-EACCES, "org.freedesktop.DBus.Error.AccessDenied",
                "not authorized for org.phonebind1.manage", "the system bus",
                "not authorized for org.phonebind1.manage");
  check_message(-EPIPE, NULL, NULL, "the system bus", "Broken pipe");
}

/* Each exit code means one thing: no two kinds of error share one, but
 * the two that both mean "a release is under way". */
static void test_codes_are_distinct(void **state)
{
  static const char *const names[] = {
    "org.phonebind1.Error.NoSuchTerminal",      "org.freedesktop.DBus.Error.AccessDenied",
    "org.phonebind1.Error.ReleaseUnconfirmed",  "org.phonebind1.Error.AccountRefused",
    "org.phonebind1.Error.NotShadowAccount",    "org.phonebind1.Error.AccountNotRefused",
    "org.phonebind1.Error.RegistryUnreachable",
  };
  enum ctl_exit seen[sizeof names / sizeof *names];
  (void)state;
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    seen[i] = exit_for(-EIO, names[i]);
    for (size_t j = 0; j < i; j++)
      if (seen[j] == seen[i])
        fail_msg("%s and %s share exit %d", names[j], names[i], seen[i]);
    if (seen[i] == CTL_EXIT_USAGE || seen[i] == CTL_EXIT_NOT_RUNNING || seen[i] == CTL_EXIT_OK)
      fail_msg("%s: exit %d is taken", names[i], seen[i]);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_exit_codes),
                                     cmocka_unit_test(test_messages),
                                     cmocka_unit_test(test_codes_are_distinct)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
