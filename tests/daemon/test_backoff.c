/* Retry delays: doubling from the initial delay, jitter of up to half
 * again, never above the cap, and back to the start after a reset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "backoff.h"

static void test_sequence(void **state)
{
  static const struct {
    double random_unit, expect;
  } steps[] = {{0, 0.5}, {0, 1}, {0, 2}, {0.5, 5}, {0, 8}, {0, 10}, {0.99, 10}, {0, 10}};
  struct backoff b;
  (void)state;
  backoff_init(&b, 0.5, 10);
  for (size_t i = 0; i < sizeof steps / sizeof *steps; i++)
    assert_float_equal(backoff_next_delay(&b, steps[i].random_unit), steps[i].expect, 1e-9);
  backoff_reset(&b);
  assert_float_equal(backoff_next_delay(&b, 0.99), 0.5 * 1.495, 1e-9);
}

static void test_many_failures_stay_capped(void **state)
{
  struct backoff b;
  (void)state;
  backoff_init(&b, 0.5, 10);
  for (int i = 0; i < 10000; i++)
    assert_true(backoff_next_delay(&b, 0.999) <= 10.0);
}

static void test_bad_parameters(void **state)
{
  struct backoff b;
  (void)state;
  backoff_init(&b, 0, 0); /* nonsense from a config file: sane defaults */
  assert_float_equal(backoff_next_delay(&b, 0), 0.5, 1e-9);
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_sequence),
                                     cmocka_unit_test(test_many_failures_stay_capped),
                                     cmocka_unit_test(test_bad_parameters)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
