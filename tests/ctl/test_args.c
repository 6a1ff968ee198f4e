/* phonebindctl's argument parsing as a table, usage errors included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "args.h"

static void test_table(void **state)
{
  static const struct {
    const char *argv[6];
    int ok;
    enum ctl_command command;
    const char *terminal;
    bool json, full, redact;
  } cases[] = {
    {.argv = {"phonebindctl", "list"}, .command = CTL_LIST},
    {.argv = {"phonebindctl", "--json", "list"}, .command = CTL_LIST, .json = true},
    {.argv = {"phonebindctl", "-j", "--full", "--redact", "info", "ab12"}, .command = CTL_INFO,
     .terminal = "ab12", .json = true, .full = true, .redact = true},
    {.argv = {"phonebindctl", "forget", "/org/phonebind1/terminal/x"}, .command = CTL_FORGET,
     .terminal = "/org/phonebind1/terminal/x"},
    {.argv = {"phonebindctl", "retry", "ab"}, .command = CTL_RETRY, .terminal = "ab"},
    {.argv = {"phonebindctl", "monitor"}, .command = CTL_MONITOR},
    {.argv = {"phonebindctl", "status"}, .command = CTL_STATUS},
    {.argv = {"phonebindctl", "--help"}, .command = CTL_HELP},
    {.argv = {"phonebindctl", "-V"}, .command = CTL_VERSION},
    {.argv = {"phonebindctl"}, .ok = -1},
    {.argv = {"phonebindctl", "info"}, .ok = -1},
    {.argv = {"phonebindctl", "list", "extra"}, .ok = -1},
    {.argv = {"phonebindctl", "frobnicate"}, .ok = -1},
    {.argv = {"phonebindctl", "--bogus", "list"}, .ok = -1},
  };
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    struct ctl_args args;
    const char *error;
    int argc = 0;
    while (argc < 6 && cases[i].argv[argc])
      argc++;
    int r = ctl_args_parse(argc, (char **)cases[i].argv, &args, &error);
    if (r != cases[i].ok)
      fail_msg("case %zu: parse returned %d", i, r);
    if (r < 0) {
      assert_non_null(error);
      continue;
    }
    assert_int_equal(args.command, cases[i].command);
    if (cases[i].terminal)
      assert_string_equal(args.terminal, cases[i].terminal);
    assert_int_equal(args.json, cases[i].json);
    assert_int_equal(args.full, cases[i].full);
    assert_int_equal(args.redact, cases[i].redact);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_table)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
