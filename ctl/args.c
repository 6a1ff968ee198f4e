/* Command-line parsing; see args.h. */
#include "args.h"

#include <getopt.h>
#include <string.h>

const char ctl_usage[] =
  "Usage: phonebindctl [OPTION]... COMMAND [TERMINAL]\n"
  "Shows and manages what phonebindd decided about attached phones.\n\n"
  "Commands:\n"
  "  list             attached phones and their decisions\n"
  "  info TERMINAL    everything about one phone\n"
  "  monitor          attach, detach and decisions as they happen\n"
  "  forget TERMINAL  release the phone's binding (privileged)\n"
  "  retry TERMINAL   run the checks again (privileged)\n"
  "  status           whether phonebindd runs, its account and registry\n\n"
  "TERMINAL is a terminal's Id, a unique prefix of it, or its object path.\n\n"
  "Options:\n"
  "  -j, --json       machine-readable output (one JSON document; monitor: one per line)\n"
  "      --full       show whole Ids in tables (tables shorten them to 8)\n"
  "      --redact     mask serials but their last 4 characters (for bug reports)\n"
  "      --address A  talk to the bus at A instead of the system bus\n"
  "  -h, --help       show this help\n"
  "  -V, --version    show the version\n\n"
  "Exit status: 0 ok, 1 failure, 2 usage, 3 phonebindd not running,\n"
  "4 no such terminal, 5 not authorized.\n";

static const struct {
  const char *name;
  enum ctl_command command;
  bool needs_terminal;
} commands[] = {
  {"list", CTL_LIST, false},     {"info", CTL_INFO, true},   {"monitor", CTL_MONITOR, false},
  {"forget", CTL_FORGET, true},  {"retry", CTL_RETRY, true}, {"status", CTL_STATUS, false},
};

int ctl_args_parse(int argc, char **argv, struct ctl_args *out_args, const char **out_error)
{
  static const struct option options[] = {
    {"json", no_argument, NULL, 'j'},    {"full", no_argument, NULL, 'f'},
    {"redact", no_argument, NULL, 'r'},  {"address", required_argument, NULL, 'a'},
    {"help", no_argument, NULL, 'h'},    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
  };
  int opt, rest;

  *out_args = (struct ctl_args){.command = CTL_STATUS};
  *out_error = NULL;
  optind = 1;
  opterr = 0;
  while ((opt = getopt_long(argc, argv, "+jhV", options, NULL)) != -1) {
    switch (opt) {
    case 'j':
      out_args->json = true;
      break;
    case 'f':
      out_args->full = true;
      break;
    case 'r':
      out_args->redact = true;
      break;
    case 'a':
      out_args->address = optarg;
      break;
    case 'h':
      out_args->command = CTL_HELP;
      return 0;
    case 'V':
      out_args->command = CTL_VERSION;
      return 0;
    default:
      *out_error = "unknown option";
      return -1;
    }
  }
  rest = argc - optind;
  if (rest == 0) {
    *out_error = "a command is needed";
    return -1;
  }
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
    if (strcmp(argv[optind], commands[i].name) != 0)
      continue;
    out_args->command = commands[i].command;
    if (rest != (commands[i].needs_terminal ? 2 : 1)) {
      *out_error = commands[i].needs_terminal ? "this command takes one TERMINAL"
                                              : "this command takes no argument";
      return -1;
    }
    out_args->terminal = commands[i].needs_terminal ? argv[optind + 1] : NULL;
    return 0;
  }
  *out_error = "unknown command";
  return -1;
}
