/* phonebindctl's argument parsing as a table: every command, options
 * before and after it, and the usage errors with the words they print.
 * Faults tried: unknown commands and options, missing and extra
 * arguments, an option given a value it does not take, an empty address. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "args.h"

#define MAX_ARGS 8

struct args_case {
  const char *argv[MAX_ARGS];
  enum ctl_command command;
  const char *terminal, *address;
  bool json, redact;
  enum ctl_ids ids;
  const char *error; /* a usage error containing this, or NULL */
};

static const struct args_case cases[] = {
  {.argv = {"list"}, .command = CTL_LIST},
  {.argv = {"--json", "list"}, .command = CTL_LIST, .json = true},
  {.argv = {"list", "--json"}, .command = CTL_LIST, .json = true},
  {.argv = {"-j", "--full", "--redact", "info", "ab12"},
   .command = CTL_INFO,
   .terminal = "ab12",
   .json = true,
   .redact = true,
   .ids = CTL_IDS_FULL},
  {.argv = {"info", "ab12", "-sr"},
   .command = CTL_INFO,
   .terminal = "ab12",
   .redact = true,
   .ids = CTL_IDS_SHORT},
  {.argv = {"--short", "--full", "list"}, .command = CTL_LIST, .ids = CTL_IDS_FULL},
  {.argv = {"forget", "/org/phonebind1/terminal/x"},
   .command = CTL_FORGET,
   .terminal = "/org/phonebind1/terminal/x"},
  {.argv = {"retry", "ab"}, .command = CTL_RETRY, .terminal = "ab"},
  {.argv = {"monitor", "--json"}, .command = CTL_MONITOR, .json = true},
  {.argv = {"status"}, .command = CTL_STATUS},
  {.argv = {"reset-account"}, .command = CTL_RESET_ACCOUNT},
  {.argv = {"reset-account", "--json"}, .command = CTL_RESET_ACCOUNT, .json = true},
  {.argv = {"--address", "unix:path=/tmp/b", "status"},
   .command = CTL_STATUS,
   .address = "unix:path=/tmp/b"},
  {.argv = {"--address=unix:path=/tmp/b", "--system", "status"}, .command = CTL_STATUS},
  {.argv = {"--system", "--address=unix:path=/x", "list"},
   .command = CTL_LIST,
   .address = "unix:path=/x"},
  {.argv = {"--", "info", "-weird"}, .command = CTL_INFO, .terminal = "-weird"},
  {.argv = {"--help"}, .command = CTL_HELP},
  {.argv = {"list", "-h"}, .command = CTL_HELP},
  {.argv = {"-V"}, .command = CTL_VERSION},
  {.argv = {"--version", "frobnicate"}, .command = CTL_VERSION},
  {.argv = {NULL}, .error = "no command given"},
  {.argv = {"info"}, .error = "'info' takes one TERMINAL"},
  {.argv = {"forget", "a", "b"}, .error = "'forget' takes one TERMINAL"},
  {.argv = {"list", "extra"}, .error = "'list' takes no argument"},
  {.argv = {"reset-account", "ab"}, .error = "'reset-account' takes no argument"},
  {.argv = {"reset"}, .error = "unknown command 'reset'"},
  {.argv = {"frobnicate"}, .error = "unknown command 'frobnicate'"},
  {.argv = {"LIST"}, .error = "unknown command 'LIST'"},
  {.argv = {"--bogus", "list"}, .error = "unrecognized option '--bogus'"},
  {.argv = {"list", "-x"}, .error = "invalid option '-x'"},
  {.argv = {"--json=yes", "list"}, .error = "option '--json=yes' takes no argument"},
  {.argv = {"list", "--address"}, .error = "option '--address' needs an argument"},
  {.argv = {"--address=", "list"}, .error = "--address needs a D-Bus address"},
};

static void run_case(const struct args_case *c, size_t index)
{
  char *argv[MAX_ARGS + 2] = {(char *)"phonebindctl"}, error[160];
  struct ctl_args args;
  int argc = 1, r;

  /* a writable copy: GNU getopt permutes argv */
  while (argc <= MAX_ARGS && c->argv[argc - 1]) {
    argv[argc] = (char *)c->argv[argc - 1];
    argc++;
  }
  r = ctl_args_parse(argc, argv, &args, error, sizeof error);
  if (c->error) {
    if (r != -EINVAL || !strstr(error, c->error))
      fail_msg("case %zu: wanted error \"%s\", got %d \"%s\"", index, c->error, r, error);
    return;
  }
  if (r != 0)
    fail_msg("case %zu: parse failed: %s", index, error);
  assert_int_equal(args.command, c->command);
  if (c->terminal)
    assert_string_equal(args.terminal, c->terminal);
  else if (c->command != CTL_HELP && c->command != CTL_VERSION)
    assert_null(args.terminal);
  if (c->address)
    assert_string_equal(args.address, c->address);
  else
    assert_null(args.address);
  assert_int_equal(args.format.json, c->json);
  assert_int_equal(args.format.redact, c->redact);
  assert_int_equal(args.format.ids, c->ids);
  assert_false(args.format.color);
}

static void test_table(void **state)
{
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    run_case(&cases[i], i);
}

/* The help names every command and every exit code the man page promises. */
static void test_usage_mentions_everything(void **state)
{
  static const char *const words[] = {"list",
                                      "info",
                                      "monitor",
                                      "forget",
                                      "retry",
                                      "status",
                                      "reset-account",
                                      "--json",
                                      "--short",
                                      "--full",
                                      "--redact",
                                      "--system",
                                      "--address",
                                      "3 phonebindd not running",
                                      "5 not authorized",
                                      "6 release under way",
                                      "7 account refused",
                                      "8 not a shadow account",
                                      "9 account not refused"};
  (void)state;
  for (size_t i = 0; i < sizeof words / sizeof *words; i++)
    if (!strstr(ctl_usage, words[i]))
      fail_msg("usage does not mention %s", words[i]);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_table),
    cmocka_unit_test(test_usage_mentions_everything),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
