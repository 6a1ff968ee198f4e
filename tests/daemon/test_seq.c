/* The Phonebind-Seq counter: strictly growing, at least the wall clock,
 * above a stale answer's number once raised, and never reusing a number
 * after a restart, even when the clock went back meanwhile (the
 * reservation kept in a real store file). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "seq.h"
#include "store.h"

static const uint8_t key[32] = {4};

static void test_grows_and_follows_the_clock(void **state)
{
  struct seq_counter c;
  (void)state;
  seq_counter_init(&c, NULL);
  assert_int_equal(seq_counter_next(&c, 1000), 1000);
  assert_int_equal(seq_counter_next(&c, 1000), 1001); /* same microsecond */
  assert_int_equal(seq_counter_next(&c, 900), 1002);  /* clock went back */
  assert_int_equal(seq_counter_next(&c, 5000), 5000);
  seq_counter_raise(&c, 9000);
  assert_int_equal(seq_counter_next(&c, 5001), 9001);
  seq_counter_raise(&c, 10); /* an old number changes nothing */
  assert_int_equal(seq_counter_next(&c, 5002), 9002);
}

/* Fault: a daemon restarted with its clock set back would send numbers
 * the registry already saw, and its requests would be refused as stale. */
static void test_restart_never_reuses(void **state)
{
  char dir[] = "/tmp/phonebind-seq-XXXXXX", path[64], cmd[96];
  struct store *store;
  struct seq_counter c;
  uint64_t before;
  (void)state;
  assert_non_null(mkdtemp(dir));
  snprintf(path, sizeof path, "%s/store.db", dir);
  assert_int_equal(store_open(path, key, sizeof key, &store), 0);
  seq_counter_init(&c, store);
  seq_counter_next(&c, 2000000000000000ull);
  before = seq_counter_next(&c, 2000000000000000ull);
  store_close(store);

  assert_int_equal(store_open(path, key, sizeof key, &store), 0);
  seq_counter_init(&c, store);
  assert_true(seq_counter_next(&c, 1000) > before); /* the clock says 1970 */
  store_close(store);
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  assert_int_equal(system(cmd), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_grows_and_follows_the_clock),
                                     cmocka_unit_test(test_restart_never_reuses)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
