/* Retry delays: doubling from the initial delay, jitter of up to half
 * again, never above the cap, still jittered at the cap (PCs that failed
 * together must not retry in lockstep), and back to the start after a
 * reset. */
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
  } steps[] = {{0, 0.5}, {0, 1}, {0, 2}, {0.5, 5}, {0, 8}, {0, 7.5}, {0.99, 9.975}, {0.5, 8.75}};
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

/* Fault: PCs that lost the registry together retry together. Before the
 * fix every delay at the cap was exactly the cap, whatever the random
 * draw: a thousand PCs hit a recovering registry in the same instant. */
static void test_jitter_at_the_cap(void **state)
{
  struct backoff b;
  double low = 1e9, high = 0;
  (void)state;
  backoff_init(&b, 0.5, 10);
  for (int i = 0; i < 10; i++)
    backoff_next_delay(&b, 0);
  for (int i = 0; i < 100; i++) {
    double delay = backoff_next_delay(&b, i / 100.0);
    low = delay < low ? delay : low;
    high = delay > high ? delay : high;
  }
  assert_true(low >= 7.5 && high <= 10);
  assert_true(high - low > 2.4);
}

static void test_bad_parameters(void **state)
{
  struct backoff b;
  (void)state;
  backoff_init(&b, 0, 0); /* nonsense from a config file: sane defaults */
  assert_float_equal(backoff_next_delay(&b, 0.99), 0.5 * (0.75 + 0.99 / 4), 1e-9); /* at the cap */
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_sequence), cmocka_unit_test(test_many_failures_stay_capped),
    cmocka_unit_test(test_jitter_at_the_cap), cmocka_unit_test(test_bad_parameters)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
