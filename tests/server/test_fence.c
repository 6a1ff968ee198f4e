/* Phonebind-Seq values (a table): the header is a decimal number from 1 to
 * 2^64 − 1 in at most 20 digits; a sign, a space, an exponent, hex, zero,
 * or one past the largest is junk, which the registry answers 400 bad-seq.
 * (The fencing rules themselves are tried through the backend, in
 * test_backend_sqlite.c.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>

#include "fence.h"

static void test_parse_seq(void **state)
{
  static const struct {
    const char *text;
    int r;
    uint64_t seq;
  } cases[] = {
    {"1", 0, 1},
    {"42", 0, 42},
    {"007", 0, 7},
    {"18446744073709551615", 0, UINT64_MAX},
    {"18446744073709551614", 0, UINT64_MAX - 1},
    {"00000000000000000001", 0, 1},
    {"1700000000000000", 0, 1700000000000000},
    {"", -EINVAL, 0},
    {"0", -EINVAL, 0},
    {"00", -EINVAL, 0},
    {"-1", -EINVAL, 0},
    {"+1", -EINVAL, 0},
    {"1e3", -EINVAL, 0},
    {"0x10", -EINVAL, 0},
    {" 1", -EINVAL, 0},
    {"1 ", -EINVAL, 0},
    {"1 2", -EINVAL, 0},
    {"12a", -EINVAL, 0},
    {"1.0", -EINVAL, 0},
    {"18446744073709551616", -EINVAL, 0},
    {"18446744073709551620", -EINVAL, 0},
    {"99999999999999999999", -EINVAL, 0},
    {"000000000000000000001", -EINVAL, 0},
    {"184467440737095516150", -EINVAL, 0},
  };
  (void)state;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    uint64_t seq = 12345;
    int r = fence_parse_seq(cases[i].text, &seq);
    if (r != cases[i].r)
      fail_msg("\"%s\": %d, expected %d", cases[i].text, r, cases[i].r);
    if (r == 0 && seq != cases[i].seq)
      fail_msg("\"%s\": %llu", cases[i].text, (unsigned long long)seq);
    if (r < 0 && seq != 12345)
      fail_msg("\"%s\": output written on error", cases[i].text);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_parse_seq)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
