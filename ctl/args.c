/* Command-line parsing; see args.h. */
#include "args.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char ctl_usage[] =
  "Usage: phonebindctl [OPTION]... COMMAND [TERMINAL]\n"
  "Shows and manages what phonebindd decided about attached phones.\n\n"
  "Commands:\n"
  "  list             attached phones and their decisions\n"
  "  info TERMINAL    everything about one phone\n"
  "  monitor          attach, detach and decisions as they happen, until interrupted\n"
  "  forget TERMINAL  release the phone's binding (privileged)\n"
  "  retry TERMINAL   run the checks again (privileged)\n"
  "  status           whether phonebindd runs; version, account and its state, registry\n"
  "  reset-account    replace a shadow account the registry refused (privileged)\n\n"
  "TERMINAL is a terminal's Id, a unique prefix of it, or its object path.\n\n"
  "Options:\n"
  "  -j, --json         JSON output (one document; monitor: one object per line)\n"
  "  -s, --short        shorten Ids everywhere (tables and monitor do by default)\n"
  "      --full         show whole Ids everywhere\n"
  "  -r, --redact       mask serials and the account but their last 4 characters\n"
  "      --system       talk to phonebindd on the system bus (default)\n"
  "      --address ADDR talk to the bus at ADDR instead\n"
  "  -h, --help         show this help\n"
  "  -V, --version      show the version\n\n"
  "Exit status: 0 ok, 1 failure, 2 usage, 3 phonebindd not running,\n"
  "4 no such terminal, 5 not authorized, 6 release under way (not confirmed yet;\n"
  "phonebindd repeats it), 7 account refused by the registry,\n"
  "8 not a shadow account, 9 account not refused (nothing to reset).\n";

enum {
  OPT_FULL = 0x100,
  OPT_SYSTEM,
  OPT_ADDRESS,
};

static const struct {
  const char *name;
  enum ctl_command command;
  bool needs_terminal;
} commands[] = {
  {"list", CTL_LIST, false},
  {"info", CTL_INFO, true},
  {"monitor", CTL_MONITOR, false},
  {"forget", CTL_FORGET, true},
  {"retry", CTL_RETRY, true},
  {"status", CTL_STATUS, false},
  {"reset-account", CTL_RESET_ACCOUNT, false},
};

__attribute__((format(printf, 3, 4))) static int usage_error(char *error, size_t size,
                                                             const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(error, size, fmt, ap);
  va_end(ap);
  return -EINVAL;
}

/* The message for what getopt refused (opterr is off: we word it). For a
 * long option the culprit is argv[optind - 1]; for a short one, optopt. */
static int option_error(int argc, char **argv, char *error, size_t size)
{
  const char *arg = optind > 0 && optind - 1 < argc ? argv[optind - 1] : "";

  if (strncmp(arg, "--", 2) != 0) {
    char option[3] = {'-', (char)optopt, '\0'};
    return usage_error(error, size, "invalid option '%s'", option);
  }
  if (optopt == 0)
    return usage_error(error, size, "unrecognized option '%s'", arg);
  if (strchr(arg, '='))
    return usage_error(error, size, "option '%s' takes no argument", arg);
  return usage_error(error, size, "option '%s' needs an argument", arg);
}

int ctl_args_parse(int argc, char **argv, struct ctl_args *out_args, char *error, size_t error_size)
{
  static const struct option options[] = {
    {"json", no_argument, NULL, 'j'},
    {"short", no_argument, NULL, 's'},
    {"full", no_argument, NULL, OPT_FULL},
    {"redact", no_argument, NULL, 'r'},
    {"system", no_argument, NULL, OPT_SYSTEM},
    {"address", required_argument, NULL, OPT_ADDRESS},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
  };
  int opt, rest;

  *out_args = (struct ctl_args){.command = CTL_STATUS};
  error[0] = '\0';
  optind = 0; /* 0, not 1: makes glibc forget the previous parse (tests parse many) */
  opterr = 0;
  while ((opt = getopt_long(argc, argv, "jsrhV", options, NULL)) != -1) {
    switch (opt) {
    case 'j':
      out_args->format.json = true;
      break;
    case 's':
      out_args->format.ids = CTL_IDS_SHORT;
      break;
    case OPT_FULL:
      out_args->format.ids = CTL_IDS_FULL;
      break;
    case 'r':
      out_args->format.redact = true;
      break;
    case OPT_SYSTEM:
      out_args->address = NULL;
      break;
    case OPT_ADDRESS:
      if (!*optarg)
        return usage_error(error, error_size, "--address needs a D-Bus address");
      out_args->address = optarg;
      break;
    case 'h':
      out_args->command = CTL_HELP;
      return 0;
    case 'V':
      out_args->command = CTL_VERSION;
      return 0;
    default:
      return option_error(argc, argv, error, error_size);
    }
  }
  rest = argc - optind;
  if (rest == 0)
    return usage_error(error, error_size, "no command given");
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
    if (strcmp(argv[optind], commands[i].name) != 0)
      continue;
    out_args->command = commands[i].command;
    if (rest != (commands[i].needs_terminal ? 2 : 1))
      return usage_error(error, error_size,
                         commands[i].needs_terminal ? "'%s' takes one TERMINAL"
                                                    : "'%s' takes no argument",
                         commands[i].name);
    out_args->terminal = commands[i].needs_terminal ? argv[optind + 1] : NULL;
    return 0;
  }
  return usage_error(error, error_size, "unknown command '%s'", argv[optind]);
}
