/* The abuse limits' token buckets (server/rate_limit.c), on a clock the
 * test moves by hand. Tried: a burst beyond N per minute (denied, with
 * the seconds to wait); the refill; keys kept apart; a flood of new keys
 * that must neither grow the table nor make it forget a throttled key;
 * threads taking from one bucket at once (never more than granted). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "rate_limit.h"

static unsigned take(struct rate_limit *limit, const char *key, double now)
{
  return rate_limit_take(limit, key, strlen(key), now);
}

static void test_burst_then_denied(void **state)
{
  struct rate_limit *limit = rate_limit_new(60, 64); /* one a second, bursts of 60 */

  (void)state;
  for (int i = 0; i < 60; i++)
    assert_int_equal(take(limit, "10.0.0.1", 100.0), 0);
  assert_int_equal(take(limit, "10.0.0.1", 100.0), 1);
  assert_int_equal(take(limit, "10.0.0.1", 100.5), 1); /* half a token there */
  assert_int_equal(take(limit, "10.0.0.1", 101.0), 0);
  assert_int_equal(take(limit, "10.0.0.1", 101.0), 1);
  rate_limit_free(limit);
}

static void test_retry_after_is_the_wait_for_one_token(void **state)
{
  struct rate_limit *limit = rate_limit_new(6, 64); /* one every 10 s */

  (void)state;
  for (int i = 0; i < 6; i++)
    assert_int_equal(take(limit, "sa-1", 0.0), 0);
  assert_int_equal(take(limit, "sa-1", 0.0), 10);
  assert_int_equal(take(limit, "sa-1", 7.5), 3);
  assert_int_equal(take(limit, "sa-1", 10.0), 0);
  rate_limit_free(limit);
}

static void test_refills_to_the_burst_only(void **state)
{
  struct rate_limit *limit = rate_limit_new(60, 64);

  (void)state;
  assert_int_equal(take(limit, "k", 0.0), 0);
  /* an hour idle is a full bucket, not 3600 tokens */
  for (int i = 0; i < 60; i++)
    assert_int_equal(take(limit, "k", 3600.0), 0);
  assert_int_not_equal(take(limit, "k", 3600.0), 0);
  rate_limit_free(limit);
}

static void test_keys_apart(void **state)
{
  struct rate_limit *limit = rate_limit_new(2, 64);

  (void)state;
  assert_int_equal(take(limit, "a", 0.0), 0);
  assert_int_equal(take(limit, "a", 0.0), 0);
  assert_int_not_equal(take(limit, "a", 0.0), 0);
  assert_int_equal(take(limit, "b", 0.0), 0);
  assert_int_equal(take(limit, "ab", 0.0), 0);
  rate_limit_free(limit);
}

static void test_no_limit(void **state)
{
  (void)state;
  assert_null(rate_limit_new(0, 64));
  for (int i = 0; i < 1000; i++)
    assert_int_equal(take(NULL, "x", 0.0), 0);
}

/* 200000 distinct keys through a table of 1024: its size never changes
 * (there is nothing to grow), and the throttled key is still throttled
 * after the flood, for which the flood's own near-full buckets give way. */
static void test_flood_keeps_the_throttled(void **state)
{
  struct rate_limit *limit = rate_limit_new(3, 1024);
  char key[32];

  (void)state;
  for (int i = 0; i < 3; i++)
    assert_int_equal(take(limit, "attacker", 0.0), 0);
  assert_int_not_equal(take(limit, "attacker", 0.0), 0);
  for (int i = 0; i < 200000; i++) {
    snprintf(key, sizeof key, "flood-%d", i);
    assert_int_equal(take(limit, key, 0.0), 0);
  }
  assert_int_not_equal(take(limit, "attacker", 0.0), 0);
  rate_limit_free(limit);
}

struct race {
  struct rate_limit *limit;
  int granted;
};

static void *racer(void *arg)
{
  struct race *race = arg;

  for (int i = 0; i < 5000; i++)
    if (take(race->limit, "shared", 0.0) == 0)
      race->granted++;
  return NULL;
}

static void test_threads_share_one_bucket(void **state)
{
  struct race races[4];
  pthread_t threads[4];
  struct rate_limit *limit = rate_limit_new(1000, 64);
  int total = 0;

  (void)state;
  for (int i = 0; i < 4; i++) {
    races[i] = (struct race){.limit = limit};
    pthread_create(&threads[i], NULL, racer, &races[i]);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(threads[i], NULL);
    total += races[i].granted;
  }
  assert_int_equal(total, 1000);
  rate_limit_free(limit);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_burst_then_denied),
    cmocka_unit_test(test_retry_after_is_the_wait_for_one_token),
    cmocka_unit_test(test_refills_to_the_burst_only),
    cmocka_unit_test(test_keys_apart),
    cmocka_unit_test(test_no_limit),
    cmocka_unit_test(test_flood_keeps_the_throttled),
    cmocka_unit_test(test_threads_share_one_bucket),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
