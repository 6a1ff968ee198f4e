/* Untrusted text and identifiers as shown: measuring, redacting and
 * shortening (neutralising is tests/lib/test_untrusted_text.c). Faults
 * tried: invalid UTF-8 in a width, multi-byte characters at a cut, serials
 * too short to redact, ids that share a long prefix or are prefixes of
 * each other. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "redact.h"
#include "text.h"

static void check_string(char *got, const char *want)
{
  assert_string_equal(got, want);
  free(got);
}

static void test_width(void **state)
{
  (void)state;
  assert_non_null(setlocale(LC_CTYPE, "C.UTF-8"));
  assert_int_equal(ctl_text_width(""), 0);
  assert_int_equal(ctl_text_width("Pixel 7"), 7);
  assert_int_equal(ctl_text_width("\xc3\xa9t\xc3\xa9"), 3);        /* été */
  assert_int_equal(ctl_text_width("\xe5\xb0\x8f\xe7\xb1\xb3"), 4); /* 小米: two wide */
  assert_int_equal(ctl_text_width("a\xff"
                                  "b"),
                   3); /* an invalid byte counts one */
  setlocale(LC_CTYPE, "C");
}

static void test_redact(void **state)
{
  (void)state;
  check_string(ctl_redact("R58M41ABCDE", 4), "*******BCDE");
  check_string(ctl_redact("12345", 4), "*2345");
  check_string(ctl_redact("ABCD", 4), "****"); /* showing all would not redact */
  check_string(ctl_redact("AB", 4), "**");
  check_string(ctl_redact("", 4), "");
  /* characters, not bytes: the kept tail is whole, the mask one '*' each */
  check_string(ctl_redact("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 4),
               "*\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
  check_string(ctl_redact("sa-0123456789abcdef", 4), "***************cdef");
}

static void test_shorten(void **state)
{
  (void)state;
  check_string(ctl_shorten("0123456789abcdef", 8), "01234567");
  check_string(ctl_shorten("0123", 8), "0123");
  check_string(ctl_shorten("", 8), "");
  check_string(ctl_shorten("0123456789abcdef", 0), "0123456789abcdef"); /* 0: all of it */
  check_string(ctl_shorten("\xc3\xa9\xc3\xa9\xc3\xa9", 2), "\xc3\xa9\xc3\xa9");
}

static void test_unique_prefix(void **state)
{
  const char *distinct[] = {"0123456789abcdef", "fedcba9876543210"};
  const char *close[] = {"aa11bb22cc33dd44", "aa11bb22cc0000ff", "0000000000000000"};
  const char *nested[] = {"abcdefghij", "abcdefghijkl"};
  const char *utf8[] = {"aaaaaaaa\xc3\xa9x", "aaaaaaaa\xc3\xa8x"};
  (void)state;
  assert_int_equal(ctl_unique_prefix_len(NULL, 0, 8), 8);
  assert_int_equal(ctl_unique_prefix_len(distinct, 1, 8), 8);
  assert_int_equal(ctl_unique_prefix_len(distinct, 2, 8), 8);
  assert_int_equal(ctl_unique_prefix_len(close, 3, 8), 11); /* differ at character 11 */
  assert_int_equal(ctl_unique_prefix_len(nested, 2, 8), 11);
  /* differing inside the 9th character's bytes: 9 characters tell them apart */
  assert_int_equal(ctl_unique_prefix_len(utf8, 2, 8), 9);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_width),
    cmocka_unit_test(test_redact),
    cmocka_unit_test(test_shorten),
    cmocka_unit_test(test_unique_prefix),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
