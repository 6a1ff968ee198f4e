/* The bound-terminal filter: never a false "not bound" (which would let a
 * second client bind a phone), filled as sized or far beyond, and few
 * false "maybe"s. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "bound_filter.h"
#include "hash.h"

static void hash_of(unsigned n, const char *kind, uint8_t out[HASH_SHA256_LEN])
{
  char text[64];

  snprintf(text, sizeof text, "%s-%u", kind, n);
  hash_sha256(text, strlen(text), out);
}

static unsigned false_maybes(const struct bound_filter *filter, unsigned tries)
{
  uint8_t hash[HASH_SHA256_LEN];
  unsigned count = 0;

  for (unsigned i = 0; i < tries; i++) {
    hash_of(i, "absent", hash);
    count += bound_filter_may_contain(filter, hash);
  }
  return count;
}

static void fill_and_check_all_present(struct bound_filter *filter, unsigned count)
{
  uint8_t hash[HASH_SHA256_LEN];

  for (unsigned i = 0; i < count; i++) {
    hash_of(i, "bound", hash);
    bound_filter_add(filter, hash);
  }
  for (unsigned i = 0; i < count; i++) {
    hash_of(i, "bound", hash);
    assert_true(bound_filter_may_contain(filter, hash));
  }
}

static void test_as_sized(void **state)
{
  struct bound_filter *filter = bound_filter_new(50000);
  (void)state;
  assert_int_equal(false_maybes(filter, 1000), 0); /* empty: all certain */
  fill_and_check_all_present(filter, 50000);
  assert_true(false_maybes(filter, 50000) < 50000 * 3 / 100);
  bound_filter_free(filter);
}

/* Far past its first size it grows instead of filling up: still no miss,
 * and false "maybe"s stay near 1% per layer (5 layers here). */
static void test_grows_past_its_size(void **state)
{
  struct bound_filter *filter = bound_filter_new(0);
  (void)state;
  fill_and_check_all_present(filter, 100000);
  assert_true(false_maybes(filter, 50000) < 50000 * 8 / 100);
  bound_filter_free(filter);
}

int main(void)
{
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_as_sized),
                                     cmocka_unit_test(test_grows_past_its_size)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
