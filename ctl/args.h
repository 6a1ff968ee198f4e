/* phonebindctl's command line: pure parsing, tested by a table. */
#pragma once

#include "format.h"

#include <stdbool.h>
#include <stddef.h>

/* Exit codes scripts can rely on (phonebindctl(1), EXIT STATUS). */
enum ctl_exit {
  CTL_EXIT_OK = 0,
  CTL_EXIT_FAILURE = 1,
  CTL_EXIT_USAGE = 2,
  CTL_EXIT_NOT_RUNNING = 3,
  CTL_EXIT_NO_SUCH_TERMINAL = 4,
  CTL_EXIT_NOT_AUTHORIZED = 5,
  CTL_EXIT_RELEASE_PENDING = 6, /* under way, not confirmed yet: phonebindd repeats it */
  CTL_EXIT_ACCOUNT_REFUSED = 7,
  CTL_EXIT_NOT_SHADOW_ACCOUNT = 8,
  CTL_EXIT_ACCOUNT_NOT_REFUSED = 9,
};

enum ctl_command {
  CTL_LIST,
  CTL_INFO,
  CTL_MONITOR,
  CTL_FORGET,
  CTL_RETRY,
  CTL_STATUS,
  CTL_RESET_ACCOUNT,
  CTL_HELP,
  CTL_VERSION,
};

struct ctl_args {
  enum ctl_command command;
  const char *terminal;     /* info, forget, retry: handle, unique prefix or object path */
  const char *address;      /* --address; NULL: the system bus (DBUS_SYSTEM_BUS_ADDRESS) */
  struct ctl_format format; /* all but .color, which depends on the output */
};

/* Parses argv (GNU getopt: options may follow the command, and argv is
 * permuted). 0, or -EINVAL with a message for the user in error. */
int ctl_args_parse(int argc, char **argv, struct ctl_args *out_args, char *error,
                   size_t error_size);

extern const char ctl_usage[];
