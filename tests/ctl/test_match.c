/* Which terminal a TERMINAL argument names, and the order lists show. Faults tried: an ambiguous
 * prefix, an unknown one, the empty string, a path of no attached
 * terminal, an Id that is also the prefix of another (exact wins), a
 * prefix of the object path (not accepted: paths must be whole). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "match.h"

#define T(handle)                                                                                  \
  {                                                                                                \
    .path = (char *)"/org/phonebind1/terminal/" handle, .id = (char *)handle                       \
  }

static void test_match(void **state)
{
  const struct ctl_terminal t[] = {
    T("aa11bb22cc33dd44"), T("aa11ffff00001111"), T("bb00000000000000"), T("cc"), T("cc00"),
  };
  const size_t n = sizeof t / sizeof *t;
  (void)state;
  assert_int_equal(ctl_match_terminal(t, n, "aa11bb22cc33dd44"), 0);
  assert_int_equal(ctl_match_terminal(t, n, "/org/phonebind1/terminal/bb00000000000000"), 2);
  assert_int_equal(ctl_match_terminal(t, n, "aa11f"), 1);
  assert_int_equal(ctl_match_terminal(t, n, "b"), 2);
  assert_int_equal(ctl_match_terminal(t, n, "cc"), 3); /* exact beats being a prefix */
  assert_int_equal(ctl_match_terminal(t, n, "cc0"), 4);
  assert_int_equal(ctl_match_terminal(t, n, "aa11"), CTL_MATCH_AMBIGUOUS);
  assert_int_equal(ctl_match_terminal(t, n, "a"), CTL_MATCH_AMBIGUOUS);
  assert_int_equal(ctl_match_terminal(t, n, "dd"), CTL_MATCH_NONE);
  assert_int_equal(ctl_match_terminal(t, n, ""), CTL_MATCH_NONE);
  assert_int_equal(ctl_match_terminal(t, n, "AA11BB22"), CTL_MATCH_NONE); /* opaque: exact case */
  assert_int_equal(ctl_match_terminal(t, n, "/org/phonebind1/terminal/dd00"), CTL_MATCH_NONE);
  assert_int_equal(ctl_match_terminal(t, n, "/org/phonebind1/terminal/bb"), CTL_MATCH_NONE);
  assert_int_equal(ctl_match_terminal(t, 0, "aa"), CTL_MATCH_NONE);
}

static void test_sort(void **state)
{
  struct ctl_terminal t[] = {T("cc"), T("aa11ffff00001111"), T("bb00000000000000"),
                             T("aa11bb22cc33dd44")};
  (void)state;
  ctl_terminals_sort(t, 4);
  assert_string_equal(t[0].id, "aa11bb22cc33dd44");
  assert_string_equal(t[1].id, "aa11ffff00001111");
  assert_string_equal(t[2].id, "bb00000000000000");
  assert_string_equal(t[3].id, "cc");
  ctl_terminals_sort(t, 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_match), cmocka_unit_test(test_sort)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
