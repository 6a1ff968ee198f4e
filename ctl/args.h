/* phonebindctl's command line: pure parsing, tested by a table. */
#pragma once

#include <stdbool.h>

/* Exit codes scripts can rely on (phonebindctl(1)). */
enum ctl_exit {
  CTL_EXIT_OK = 0,
  CTL_EXIT_FAILURE = 1,
  CTL_EXIT_USAGE = 2,
  CTL_EXIT_NOT_RUNNING = 3,
  CTL_EXIT_NO_SUCH_TERMINAL = 4,
  CTL_EXIT_NOT_AUTHORIZED = 5,
};

enum ctl_command {
  CTL_LIST,
  CTL_INFO,
  CTL_MONITOR,
  CTL_FORGET,
  CTL_RETRY,
  CTL_STATUS,
  CTL_HELP,
  CTL_VERSION,
};

struct ctl_args {
  enum ctl_command command;
  const char *terminal; /* info, forget, retry: handle, prefix or object path */
  const char *address;  /* --address, else the system bus */
  bool json, full, redact;
};

/* 0, or -1 with a message for the user in *out_error (static text). */
int ctl_args_parse(int argc, char **argv, struct ctl_args *out_args, const char **out_error);

extern const char ctl_usage[];
